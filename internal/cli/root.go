// Package cli implements the spotauth command-line tool: one file per
// command, with the streams, environment and browser injected so that
// every command runs in-process in tests, and a file for each helper they
// share (exit codes in exit.go, settings in config.go, token stores in
// store.go, the login line, scope arguments, ...).
package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

// Main runs spotauth with args (without the program name) and returns the
// exit code. env is os.LookupEnv in the real process.
func Main(ctx context.Context, args []string, io *IOStreams, env LookupEnv) int {
	quietRedis()
	return Run(ctx, args, &Factory{IO: io, Env: env})
}

// Run is Main with a ready Factory, so tests can inject a Browser or an
// HTTP client. The exit code and the hint printed with an error come from
// [classify].
func Run(ctx context.Context, args []string, f *Factory) int {
	root := newRootCmd(f, args)
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	f.closeAll()
	code, hint := classify(err)
	if err != nil {
		printError(f.IO, err, hint)
	}
	return code
}

const rootLong = `spotauth logs you in to Spotify once and hands valid access tokens to scripts:

  spotauth login --scope read
  curl -H "Authorization: Bearer $(spotauth token)" https://api.spotify.com/v1/me

Configuration, highest precedence first:
  flags                  --client-id, --client-secret, --redirect-uri, --accounts-url,
                         --api-url, --profile, --store, --config, --config-section
  the profile's login    the client ID, redirect URI, Accounts and API URLs and store
                         a login saved for its profile (never the secret): a profile
                         keeps its app; pass --client-id to login to switch
  environment            SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_REDIRECT_URI,
                         SPOTAUTH_ACCOUNTS_URL, SPOTAUTH_API_URL, SPOTAUTH_PROFILE,
                         SPOTAUTH_STORE, SPOTAUTH_CONFIG_DIR
  config file            --config FILE (tekore-style INI, section --config-section,
                         default DEFAULT), else $SPOTAUTH_CONFIG_DIR/config.ini

Tokens live in a file store in $SPOTAUTH_CONFIG_DIR (default: the user config
directory + /spotauth), or where --store says: a directory, file:///dir, or
redis://host:port/db. One user token and one app token per profile.

Try it offline: spotauth demo, or spotauth accounts-server in one terminal and
login against it in another.

` + exitCodesHelp

// newRootCmd builds the command tree. When args name a command (and do
// not ask for help or completion of the root), only that command is built:
// "spotauth token" then starts a little faster, which matters to scripts
// that call it for every request.
func newRootCmd(f *Factory, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:           "spotauth",
		Short:         "Log in to Spotify from any terminal and hand valid tokens to scripts",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	f.root = root
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withHint(&usageError{err}, "Run %s --help for usage.", c.CommandPath())
	})
	// The root runs only to refuse an unknown command (it has no Args
	// check of cobra's that would call it one, by text) or to show help.
	root.Args = unknownCommand
	root.SuggestionsMinimumDistance = 2 // cobra's default for its own unknown-command error
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	pf := root.PersistentFlags()
	pf.StringVar(&f.flags.ClientID, "client-id", "", "Spotify app client ID ($"+spotauth.EnvClientID+")")
	pf.StringVar(&f.flags.ClientSecret, "client-secret", "", "Spotify app client secret; leave empty for PKCE ($"+spotauth.EnvClientSecret+")")
	pf.StringVar(&f.flags.RedirectURI, "redirect-uri", "", "loopback redirect URI registered for the app ($"+spotauth.EnvRedirectURI+", default "+defaultRedirectURI+")")
	pf.StringVar(&f.flags.ConfigFile, "config", "", "tekore-style INI config file (default $"+envConfigDir+"/"+configFileName+" if present)")
	pf.StringVar(&f.flags.ConfigSection, "config-section", "DEFAULT", "section of the config file")
	pf.StringVar(&f.flags.AccountsURL, "accounts-url", "", "Accounts service URL ($"+envAccountsURL+", default "+defaultAccountsURL+")")
	pf.StringVar(&f.flags.APIURL, "api-url", "", "Web API URL ($"+envAPIURL+", default "+defaultAPIURL+")")
	pf.StringVar(&f.flags.Profile, "profile", "", "profile name, for several accounts or apps ($"+envProfile+", default "+defaultProfile+")")
	pf.StringVar(&f.flags.Store, "store", "", "token store: a directory, file:///dir or redis://... ($"+envStore+")")
	pf.SortFlags = false
	_ = root.RegisterFlagCompletionFunc("profile", completeProfiles(f))

	commands := []struct {
		name string
		make func() *cobra.Command
	}{
		{"login", func() *cobra.Command { return newLoginCmd(f, nil) }},
		{"token", func() *cobra.Command { return newTokenCmd(f, nil) }},
		{"status", func() *cobra.Command { return newStatusCmd(f, nil) }},
		{"refresh", func() *cobra.Command { return newRefreshCmd(f, nil) }},
		{"logout", func() *cobra.Command { return newLogoutCmd(f, nil) }},
		{"scopes", func() *cobra.Command { return newScopesCmd(f, nil) }},
		{"doctor", func() *cobra.Command { return newDoctorCmd(f, nil) }},
		{"api", func() *cobra.Command { return newAPICmd(f, nil) }},
		{"accounts-server", func() *cobra.Command { return newAccountsServerCmd(f, nil) }},
		{"demo", func() *cobra.Command { return newDemoCmd(f, nil) }},
		{"version", func() *cobra.Command { return newVersionCmd(f) }},
	}
	built := false
	for _, c := range commands {
		if len(args) > 0 && args[0] == c.name {
			root.AddCommand(c.make())
			root.CompletionOptions.DisableDefaultCmd = true
			built = true
			break
		}
	}
	if !built {
		for _, c := range commands {
			root.AddCommand(c.make())
		}
		// --version, a flag of the root alone: off the path of a command.
		// Not cobra's Version: its template would link text/template's
		// execution, whose reflection keeps every method in the binary.
		showVersion := root.Flags().BoolP("version", "v", false, "print the version, as spotauth version does")
		root.RunE = func(cmd *cobra.Command, args []string) error {
			if *showVersion {
				_, err := io.WriteString(f.IO.Out, versionLine())
				return err
			}
			return cmd.Help()
		}
	}
	// Cobra adds these when it executes; adding them now lets
	// argumentsAreUsage reach their Args checks too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd(args...)
	argumentsAreUsage(root)
	return root
}

// unknownCommand is the root's Args check: any argument is a command
// spotauth does not have.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := "Run spotauth --help for the commands."
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = "Did you mean spotauth " + strings.Join(s, " or spotauth ") + "?\n" + hint
	}
	return withHint(&usageError{fmt.Errorf("spotauth: unknown command %q", args[0])}, "%s", hint)
}

// argumentsAreUsage makes the error of every command's Args check, its
// own or one of cobra's (cobra.NoArgs and the like, which return plain
// errors), a usage error.
func argumentsAreUsage(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			if err == nil || isA[*usageError](err) {
				return err
			}
			return withHint(&usageError{err}, "Run %s --help for usage.", c.CommandPath())
		}
	}
	for _, c := range cmd.Commands() {
		argumentsAreUsage(c)
	}
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("Run "+cmd.CommandPath()+" --help for usage.", "%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
