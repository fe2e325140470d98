// Package cli implements the spotauth command-line tool: one file per
// command, with the streams, environment and browser injected so that
// every command runs in-process in tests.
package cli

import (
	"context"
	"errors"
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
// HTTP client.
func Run(ctx context.Context, args []string, f *Factory) int {
	root := newRootCmd(f, args)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	f.closeAll()
	if err != nil {
		if isCobraUsageError(err) {
			err = &cliError{code: ExitUsage, err: err, hint: "Run " + cmd.CommandPath() + " --help for usage."}
		}
		printError(f.IO, err)
		return exitCode(err)
	}
	return ExitOK
}

// isCobraUsageError recognizes cobra's own errors for unknown commands and
// wrong arguments, which are plain errors.
func isCobraUsageError(err error) bool {
	var ce *cliError
	if errors.As(err, &ce) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument", "flag needs an argument", "required flag", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

const rootLong = `spotauth logs you in to Spotify once and hands valid access tokens to scripts:

  spotauth login --scope read
  curl -H "Authorization: Bearer $(spotauth token)" https://api.spotify.com/v1/me

Configuration, highest precedence first:
  flags                  --client-id, --client-secret, --redirect-uri, --accounts-url,
                         --api-url, --profile, --store, --config, --config-section
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
		return &cliError{code: ExitUsage, err: err, hint: "Run " + c.CommandPath() + " --help for usage."}
	})
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
		{"accounts-server", func() *cobra.Command { return newAccountsServerCmd(f, nil) }},
		{"demo", func() *cobra.Command { return newDemoCmd(f, nil) }},
		{"version", func() *cobra.Command { return newVersionCmd(f) }},
	}
	for _, c := range commands {
		if len(args) > 0 && args[0] == c.name {
			root.AddCommand(c.make())
			root.CompletionOptions.DisableDefaultCmd = true
			return root
		}
	}
	for _, c := range commands {
		root.AddCommand(c.make())
	}
	return root
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("Run "+cmd.CommandPath()+" --help for usage.", "%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
