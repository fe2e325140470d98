package cli

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth/spotauthtest"
)

type accountsServerOptions struct {
	IO *IOStreams

	Addr          string
	ClientID      string
	ClientSecret  string
	RedirectURIs  []string
	TokenLifetime time.Duration
	AutoApprove   bool
	// ready, if set, receives the server's URL once it listens (tests).
	ready func(url string)
}

func newAccountsServerCmd(f *Factory, runF func(context.Context, *accountsServerOptions) error) *cobra.Command {
	opts := &accountsServerOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "accounts-server",
		Short: "Run a fake Spotify Accounts service and Web API until interrupted",
		Long: `Run spotauthtest, spotauth's fake Accounts service (/authorize, /api/token) and
Web API (/v1/me), until interrupted, so that any client in any language can be
tested offline. It prints its URL and the registered app as environment
assignments on stdout, and how to use it on stderr.`,
		Example: `  spotauth accounts-server --addr 127.0.0.1:8090 --auto-approve
  # in another terminal:
  export SPOTAUTH_ACCOUNTS_URL=http://127.0.0.1:8090 SPOTAUTH_API_URL=http://127.0.0.1:8090
  SPOTIFY_CLIENT_ID=spotauthtest-client spotauth login`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.TokenLifetime < 0 {
				return usageErrorf("Pass a positive duration, e.g. --token-lifetime 2m.", "invalid --token-lifetime %v", opts.TokenLifetime)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			return runAccountsServer(ctx, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "address to listen on (port 0: a free port)")
	fl.StringVar(&opts.ClientID, "client-id", spotauthtest.DefaultClientID, "client ID of the registered app")
	fl.StringVar(&opts.ClientSecret, "client-secret", spotauthtest.DefaultClientSecret, "client secret of the registered app (\"\" for a public, PKCE-only app)")
	fl.StringArrayVar(&opts.RedirectURIs, "redirect-uri", []string{spotauthtest.DefaultRedirectURI}, "registered redirect URI (repeatable)")
	fl.DurationVar(&opts.TokenLifetime, "token-lifetime", 0, "access-token lifetime (default 1h, Spotify's)")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "approve at once instead of showing the consent page")
	return cmd
}

func runAccountsServer(ctx context.Context, opts *accountsServerOptions) error {
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return withHint(fmt.Errorf("spotauth: cannot listen on %s: %w", opts.Addr, err), "Choose another --addr, e.g. 127.0.0.1:0 for a free port.")
	}
	srv := spotauthtest.NewUnstartedServer()
	if err := configureFake(srv, ln, opts); err != nil {
		ln.Close()
		return err
	}
	srv.Start()
	defer srv.Close()

	out := opts.IO.Out
	fmt.Fprintf(out, "SPOTAUTH_ACCOUNTS_URL=%s\n", srv.URL)
	fmt.Fprintf(out, "SPOTAUTH_API_URL=%s\n", srv.URL)
	fmt.Fprintf(out, "SPOTIFY_CLIENT_ID=%s\n", opts.ClientID)
	if opts.ClientSecret != "" {
		fmt.Fprintf(out, "SPOTIFY_CLIENT_SECRET=%s\n", opts.ClientSecret)
	}
	fmt.Fprintf(out, "SPOTIFY_REDIRECT_URI=%s\n", opts.RedirectURIs[0])
	io := opts.IO
	io.Printf("spotauthtest fake Accounts service and Web API listening on %s\n", srv.URL)
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		io.Printf("warning: %s is not a loopback address: other machines can reach this fake service and get its tokens.\n", opts.Addr)
	}
	io.Printf("Registered app: client ID %s, %s, redirect URIs %v\n", opts.ClientID,
		map[bool]string{true: "confidential (has a secret)", false: "public (PKCE only)"}[opts.ClientSecret != ""], opts.RedirectURIs)
	if opts.AutoApprove {
		io.Printf("Consent is approved automatically.\n")
	} else {
		io.Printf("Consent page: Approve (#approve) or Deny (#deny) in the browser.\n")
	}
	io.Printf("In another terminal: export the lines above (e.g. eval) and run spotauth login.\nPress Ctrl-C to stop.\n")
	if opts.ready != nil {
		opts.ready(srv.URL)
	}
	<-ctx.Done()
	io.Printf("Stopping.\n")
	return nil
}

// configureFake sets up the accounts-server's fake before Start: it
// listens on ln and registers one app with every redirect URI. An app the
// fake refuses is a usage error: its settings are the command's flags.
func configureFake(srv *spotauthtest.Server, ln net.Listener, opts *accountsServerOptions) error {
	srv.Listener = ln
	srv.ClientID = "" // no default app: register ours with all its URIs
	srv.AutoApprove = opts.AutoApprove
	srv.AccessTokenLifetime = opts.TokenLifetime
	err := srv.AddApp(spotauthtest.App{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RedirectURIs: opts.RedirectURIs})
	if err != nil {
		return withHint(&usageError{fmt.Errorf("spotauth: accounts-server: %w", err)},
			"Use --client-id without braces or spaces, and redirect URIs by Spotify's rules (https, or http://127.0.0.1[:port]/path; never localhost).")
	}
	return nil
}
