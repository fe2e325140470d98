package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/atomicfile"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

type accountsServerOptions struct {
	IO *IOStreams

	Host          string
	Port          int
	EnvFile       string
	ClientID      string
	ClientSecret  string
	RedirectURIs  []string
	TokenLifetime time.Duration
	AutoApprove   bool
	// ready, if set, receives the server's URL once it listens (tests).
	ready func(url string)
	// idleTimeout, if positive, replaces the server's idle timeout (tests).
	idleTimeout time.Duration
}

// defaultAccountsServerPort is where accounts-server listens by default:
// fixed, so that the settings it prints stay valid across restarts, and
// away from the ports of web tutorials (8080, 8888) and of login.
const defaultAccountsServerPort = 8374

func newAccountsServerCmd(f *Factory, runF func(context.Context, *accountsServerOptions) error) *cobra.Command {
	opts := &accountsServerOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "accounts-server",
		Short: "Run a fake Spotify Accounts service and Web API until interrupted",
		Long: `Run spotauthtest, spotauth's fake Accounts service (/authorize, /api/token) and
Web API (/v1/me), until interrupted, so that any client in any language can be
tested offline. It listens on 127.0.0.1:` + strconv.Itoa(defaultAccountsServerPort) + ` (--port 0: a free port) and prints
its URL and the registered app as export lines on stdout, for a shell to eval
or source (--env-file also writes them to a file), and how to use it on stderr.

The registered app is a public client (PKCE, no secret) unless --client-secret
is given.`,
		Example: `  spotauth accounts-server --auto-approve
  # in another terminal, paste the export lines it printed, then:
  spotauth login --scope read

  spotauth accounts-server --port 0 --env-file fake.env   # then, elsewhere: . ./fake.env`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.TokenLifetime < 0 {
				return usageErrorf("Pass a positive duration, e.g. --token-lifetime 2m.", "invalid --token-lifetime %v", opts.TokenLifetime)
			}
			if opts.Port < 0 || opts.Port > 65535 {
				return usageErrorf("Pass a port between 1 and 65535, or 0 for a free one.", "invalid --port %d", opts.Port)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			return runAccountsServer(ctx, opts)
		},
	}
	// The settings of spotauth's other commands (--profile, --store, ...)
	// do not apply here: its help shows its own flags alone.
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.InheritedFlags().VisitAll(func(fl *pflag.Flag) { fl.Hidden = true })
		c.Root().HelpFunc()(c, args)
	})
	fl := cmd.Flags()
	fl.StringVar(&opts.Host, "host", "127.0.0.1", "address to listen on")
	fl.IntVar(&opts.Port, "port", defaultAccountsServerPort, "port to listen on (0: a free port)")
	fl.StringVar(&opts.EnvFile, "env-file", "", "also write the export lines to this file (mode 0600), for a shell to source")
	fl.StringVar(&opts.ClientID, "client-id", spotauthtest.DefaultClientID, "client ID of the registered app")
	fl.StringVar(&opts.ClientSecret, "client-secret", "", "client secret of the registered app (default none: a public, PKCE-only app)")
	fl.StringArrayVar(&opts.RedirectURIs, "redirect-uri", []string{spotauthtest.DefaultRedirectURI}, "registered redirect URI (repeatable)")
	fl.DurationVar(&opts.TokenLifetime, "token-lifetime", 0, "access-token lifetime (default 1h, Spotify's)")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "approve at once instead of showing the consent page")
	fl.SortFlags = false
	return cmd
}

// accountsServerApp is the name the consent page shows for the app.
const accountsServerApp = "spotauth walkthrough"

func runAccountsServer(ctx context.Context, opts *accountsServerOptions) error {
	// The app is checked first: a bad one is a usage error even when the
	// port is busy.
	srv := spotauthtest.NewUnstartedServer()
	if err := configureFake(srv, opts); err != nil {
		return err
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(&login.ListenError{Addr: addr, Err: err}, login.ErrPortBusy) {
			return withHint(fmt.Errorf("spotauth: accounts-server: port %d on %s is busy: another program (another accounts-server?) listens on it", opts.Port, opts.Host),
				"Stop that program, or pass --port 0 for a free port.")
		}
		return withHint(fmt.Errorf("spotauth: accounts-server: cannot listen on %s: %w", addr, err), "Choose another --host, or --port 0 for a free port.")
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	lines := envLines(srv.URL, opts)
	if opts.EnvFile != "" {
		if err := atomicfile.WriteFile(opts.EnvFile, []byte(lines), 0o600); err != nil {
			return withHint(fmt.Errorf("spotauth: accounts-server: could not write --env-file: %w", err), "Check the path of --env-file.")
		}
	}
	fmt.Fprint(opts.IO.Out, lines)
	io := opts.IO
	io.Printf("spotauthtest fake Accounts service and Web API listening on %s\n", srv.URL)
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		io.Printf("warning: %s is not a loopback address: other machines can reach this fake service and get its tokens.\n", opts.Host)
	}
	io.Printf("Registered app %q: client ID %s, %s, redirect URIs %v\n", accountsServerApp, opts.ClientID,
		map[bool]string{true: "confidential (has a secret)", false: "public (PKCE only)"}[opts.ClientSecret != ""], opts.RedirectURIs)
	if opts.AutoApprove {
		io.Printf("Consent is approved automatically.\n")
	} else {
		io.Printf("Consent page: Agree (#approve) or Cancel (#deny) in the browser.\n")
	}
	if opts.EnvFile != "" {
		io.Printf("In another terminal: . %s (or paste the lines above), then run spotauth login.\nPress Ctrl-C to stop.\n", shellQuote(opts.EnvFile))
	} else {
		io.Printf("In another terminal: paste the lines above, then run spotauth login.\nPress Ctrl-C to stop.\n")
	}
	if opts.ready != nil {
		opts.ready(srv.URL)
	}
	<-ctx.Done()
	io.Printf("Stopping.\n")
	return nil
}

// envLines are the settings that point spotauth (or any client) at the
// fake, as lines a POSIX shell can eval or source. SPOTIFY_REDIRECT_URI
// comes last: readers of a running server's output stop after it. A public
// app's lines unset SPOTIFY_CLIENT_SECRET, so that a secret left from
// another app does not turn logins into the secret flow.
func envLines(url string, opts *accountsServerOptions) string {
	var b strings.Builder
	export := func(k, v string) { fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v)) }
	export(envAccountsURL, url)
	export(envAPIURL, url)
	export(spotauth.EnvClientID, opts.ClientID)
	if opts.ClientSecret != "" {
		export(spotauth.EnvClientSecret, opts.ClientSecret)
	} else {
		fmt.Fprintf(&b, "unset %s\n", spotauth.EnvClientSecret)
	}
	export(spotauth.EnvRedirectURI, opts.RedirectURIs[0])
	return b.String()
}

// configureFake sets up the accounts-server's fake before it listens: it
// registers one app with every redirect URI. An app the fake refuses is a
// usage error: its settings are the command's flags.
func configureFake(srv *spotauthtest.Server, opts *accountsServerOptions) error {
	srv.HTTPServer = newHTTPServer()
	if opts.idleTimeout > 0 {
		srv.HTTPServer.IdleTimeout = opts.idleTimeout
	}
	srv.ClientID = "" // no default app: register ours with all its URIs
	srv.AutoApprove = opts.AutoApprove
	srv.AccessTokenLifetime = opts.TokenLifetime
	err := srv.AddApp(spotauthtest.App{Name: accountsServerApp, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RedirectURIs: opts.RedirectURIs})
	if err != nil {
		return withHint(&usageError{fmt.Errorf("spotauth: accounts-server: %w", err)},
			"Use --client-id without braces or spaces, and redirect URIs by Spotify's rules (https, or http://127.0.0.1[:port]/path; never localhost).")
	}
	return nil
}
