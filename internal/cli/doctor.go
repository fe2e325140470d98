package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type doctorOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Settings   func() (*settings, error)
	Env        LookupEnv   // SPOTAUTH_STORE_KEY
	OpenStore  storeOpener // for whether the token is encrypted

	Offline bool
}

func newDoctorCmd(f *Factory, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{IO: f.IO, HTTPClient: f.httpClient(), Settings: f.Settings, Env: f.Env, OpenStore: f.openStore}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration and say what to change",
		Long: `Check what users get wrong: the client ID, the redirect URI (localhost, http on
a non-loopback host, port and path), a client secret where PKCE is meant, the
permissions of the config file and token files, and whether the Accounts
service is reachable and knows the client ID and redirect URI. Each problem
comes with what to change. Exits 6 when a check fails.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "skip the check that contacts the Accounts service")
	return cmd
}

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	var fs []finding
	add := func(level, what, fix string) { fs = append(fs, finding{level: level, what: what, fix: fix}) }

	// Client ID.
	if s.ClientID == "" {
		add(levelFail, "no client ID", fmt.Sprintf("Pass --client-id, set %s, or add %s = ... to %s (the ID is on your app's page at https://developer.spotify.com/dashboard).",
			spotauth.EnvClientID, spotauth.EnvClientID, configFilePathHint(s)))
	} else {
		add(levelOK, fmt.Sprintf("client ID %s (from %s)", s.ClientID, s.source["client-id"]), "")
	}

	// Client secret.
	if s.ClientSecret != "" {
		add(levelWarn, fmt.Sprintf("a client secret is configured (from %s): login uses the secret flow, not PKCE", s.source["client-secret"]),
			fmt.Sprintf("For a command-line or desktop app, PKCE needs no secret: unset %s (or pass --pkce to login). Keep the secret only for spotauth token --client-credentials, and never ship it.", spotauth.EnvClientSecret))
	} else {
		add(levelOK, "no client secret: login uses PKCE", "")
	}

	// Redirect URI.
	rd, rerr := parseLoopbackRedirect(s.RedirectURI)
	switch {
	case rerr != nil:
		_, hint := classify(rerr)
		add(levelFail, fmt.Sprintf("redirect URI %s (from %s): %v", s.RedirectURI, s.source["redirect-uri"], rerr), hint)
	case rd.port != 0:
		add(levelOK, fmt.Sprintf("redirect URI %s (fixed port %d, from %s)", s.RedirectURI, rd.port, s.source["redirect-uri"]), "")
		add(levelWarn, fmt.Sprintf("login needs port %d free on %s", rd.port, rd.host),
			fmt.Sprintf("Register %s without a port (http://%s%s) so spotauth can pick a free one.", s.RedirectURI, hostForURL(rd.host), rd.path()))
	default:
		add(levelOK, fmt.Sprintf("redirect URI %s (any port, from %s)", s.RedirectURI, s.source["redirect-uri"]), "")
	}
	if rd != nil && (rd.u.Path == "" || rd.u.Path == "/") {
		add(levelWarn, "the redirect URI has no path", "A path such as /callback is clearer; register http://127.0.0.1/callback and use it.")
	}

	// Files.
	if s.ConfigFile != "" {
		fs = append(fs, checkFileMode(s.ConfigFile, "config file", s.ClientSecret != "" && strings.HasPrefix(s.source["client-secret"], "config"))...)
	}
	loc, lerr := parseStore(s.Store, s.ConfigDir)
	switch {
	case lerr != nil:
		_, hint := classify(lerr)
		add(levelFail, fmt.Sprintf("token store %q: %v", s.Store, lerr), hint)
	case loc.kind == "file":
		fs = append(fs, checkDirMode(loc.dir)...)
		for _, kind := range []tokenKind{userToken, appToken} {
			name := tokenFile(loc.dir, s.Profile, kind)
			if _, err := os.Stat(name); err == nil {
				fs = append(fs, checkFileMode(name, string(kind)+" token file", true)...)
			}
		}
	default:
		add(levelOK, "token store "+loc.String(), "")
	}
	fs = append(fs, checkEncryption(ctx, s, opts.Env, opts.OpenStore))

	// Accounts service.
	if !opts.Offline && s.ClientID != "" && rerr == nil {
		fs = append(fs, checkAccounts(ctx, opts.HTTPClient, s))
	} else if !opts.Offline {
		fs = append(fs, reachable(ctx, opts.HTTPClient, s))
	}

	failed := 0
	out := opts.IO.Out
	for _, x := range fs {
		fmt.Fprintf(out, "[%-4s] %s\n", x.level, x.what)
		if x.fix != "" && x.level != levelOK {
			for _, line := range strings.Split(x.fix, "\n") {
				fmt.Fprintf(out, "       %s\n", line)
			}
		}
		if x.level == levelFail {
			failed++
		}
	}
	if failed > 0 {
		return withHint(&configError{fmt.Errorf("spotauth: doctor found %d problem(s)", failed)}, "Change what the FAIL lines say, then run spotauth doctor again.")
	}
	fmt.Fprintln(out, "No problems found.")
	return nil
}

func checkDirMode(dir string) []finding {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []finding{{level: levelOK, what: "token directory " + dir + " (created at first login)"}}
	}
	if err != nil {
		return []finding{{levelFail, fmt.Sprintf("token directory %s: %v", dir, err), "Make it readable by you: chmod 700 " + dir, err}}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return []finding{{level: levelWarn, what: fmt.Sprintf("token directory %s is accessible to others (mode %v)", dir, fi.Mode().Perm()), fix: "Run: chmod 700 " + dir}}
	}
	return []finding{{level: levelOK, what: "token directory " + dir}}
}

func checkFileMode(name, what string, secret bool) []finding {
	fi, err := os.Stat(name)
	if err != nil {
		return []finding{{levelFail, fmt.Sprintf("%s %s: %v", what, name, err), "Create it or point spotauth elsewhere.", err}}
	}
	fh, err := os.Open(name)
	if err != nil {
		return []finding{{levelFail, fmt.Sprintf("%s %s is unreadable: %v", what, name, err), "Run: chmod 600 " + name + " (as its owner)", err}}
	}
	fh.Close()
	if secret && fi.Mode().Perm()&0o077 != 0 {
		return []finding{{levelFail, fmt.Sprintf("%s %s holds secrets and is readable by others (mode %v)", what, name, fi.Mode().Perm()), "Run: chmod 600 " + name,
			&configError{fmt.Errorf("spotauth: %s %s is readable by others", what, name)}}}
	}
	return []finding{{level: levelOK, what: fmt.Sprintf("%s %s (mode %v)", what, name, fi.Mode().Perm())}}
}
