package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
)

type loginOptions struct {
	IO         *IOStreams
	Env        LookupEnv // SSH_CONNECTION, SSH_CLIENT, USER and BROWSER
	Browser    Browser   // nil: the system browser
	HTTPClient *http.Client
	Now        func() time.Time
	Settings   func() (*settings, error)
	OpenStore  storeOpener

	Scopes       []string
	PKCE         bool
	ShowDialog   bool
	NoBrowser    bool
	Timeout      time.Duration
	RedirectPort int
}

func newLoginCmd(f *Factory, runF func(context.Context, *loginOptions) error) *cobra.Command {
	opts := &loginOptions{
		IO:         f.IO,
		Env:        f.Env,
		Browser:    f.browser(),
		HTTPClient: f.httpClient(),
		Now:        f.clock(),
		Settings:   f.Settings,
		OpenStore:  f.openStore,
	}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to Spotify in the browser and store the token",
		Long: `Log in to Spotify in the browser and store the token of the profile.

spotauth opens the authorization page in the browser (honouring $BROWSER) and
always prints its URL. It listens on the redirect URI's loopback address
(127.0.0.1 or [::1], never localhost), on its port, or on a free port when the
URI has none: register http://127.0.0.1/callback without a port in the app's
settings. At the same time it accepts the URL the browser ended on, pasted on
standard input: over SSH (SSH_CONNECTION set), with --no-browser, or when no
browser opens, it prints the ssh -L line that forwards the port, and with a
redirect URI that is not a loopback one (https://..., myapp://...) pasting is
the way to finish. Requests that are not this login's redirect (an old tab, a
forged state) are answered and ignored.

PKCE is used when there is no client secret, or with --pkce.`,
		Example: `  spotauth login --scope read
  spotauth login --scope user-read-private,playlist-read-private --no-browser
  spotauth login --profile work --client-id abc123 --redirect-port 8888`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Timeout <= 0 {
				return usageErrorf("Pass a positive duration such as --timeout 5m.", "invalid --timeout %v", opts.Timeout)
			}
			if opts.RedirectPort < 0 || opts.RedirectPort > 65535 {
				return usageErrorf("Pass a port between 1 and 65535.", "invalid --redirect-port %d", opts.RedirectPort)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			return runLogin(ctx, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Scopes, "scope", "s", nil, "scopes to request: names or presets (read, write, every), space- or comma-separated; repeatable")
	fl.BoolVar(&opts.PKCE, "pkce", false, "use PKCE even though a client secret is configured")
	fl.BoolVar(&opts.ShowDialog, "show-dialog", false, "show Spotify's consent dialog even if the app was approved before")
	fl.BoolVar(&opts.NoBrowser, "no-browser", false, "do not open a browser; print the URL and accept the pasted redirect URL")
	fl.DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "how long to wait for the browser")
	fl.IntVar(&opts.RedirectPort, "redirect-port", 0, "listen on this port when the redirect URI has none (it must match the app's registration)")
	return cmd
}

func runLogin(ctx context.Context, opts *loginOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	cfg, err := newConfig(s, opts.HTTPClient, opts.Now)
	if err != nil {
		return err
	}
	scopes, err := parseScopeArgs(opts.Scopes)
	if err != nil {
		return err
	}
	if port, err := spotauth.RedirectPort(s.RedirectURI); err == nil && opts.RedirectPort != 0 && port != 0 && port != opts.RedirectPort {
		return usageErrorf("Drop --redirect-port, or use a redirect URI without a port.",
			"--redirect-port %d conflicts with the port of the redirect URI %s", opts.RedirectPort, s.RedirectURI)
	}
	st, err := opts.OpenStore(s, userToken)
	if err != nil {
		return err
	}

	io := opts.IO
	io.Printf("Logging in to Spotify (profile %s).\n", s.Profile)
	if opts.NoBrowser {
		io.Printf("Not opening a browser (--no-browser).\n")
	}
	lo := &login.Options{
		Scopes:       scopes,
		PKCE:         opts.PKCE,
		ShowDialog:   opts.ShowDialog,
		RedirectPort: opts.RedirectPort,
		Timeout:      opts.Timeout,
		NoBrowser:    opts.NoBrowser,
		Out:          io.ErrOut,
		In:           io.In,
		Getenv:       opts.Env.get,
	}
	if opts.Browser != nil {
		lo.Browser = opts.Browser.Browse
	}
	tok, err := login.Run(ctx, cfg, lo)
	if err != nil {
		return loginError(ctx, err, s, scopes, opts.Timeout)
	}
	if err := boundedStoreOp(ctx, func(ctx context.Context) error { return st.Save(ctx, tok) }); err != nil {
		return withHint(wrapf(storeFailed("save", err), "could not store the token"),
			"Check the token store (%s) and run spotauth login again.", storeDesc(s))
	}

	acct, _ := fetchMe(ctx, opts.HTTPClient, s.APIURL, tok.AccessToken)
	if acct != nil {
		_ = saveAccount(s, acct)
		io.Printf("Logged in to Spotify as %s (profile %s).\n", acct.describe(), s.Profile)
	} else {
		_ = removeAccount(s)
		io.Printf("Logged in to Spotify (profile %s).\n", s.Profile)
	}
	io.Printf("  Scopes:  %s\n", scopesText(tok.Scope))
	io.Printf("  Expires: %s (refreshed automatically by spotauth token)\n", describeTime(tok.Expiry, opts.Now()))
	if tok.PKCE {
		io.Printf("  Flow:    authorization code with PKCE\n")
	} else {
		io.Printf("  Flow:    authorization code with client secret\n")
	}
	return nil
}

// loginError says what ended a login without a token, and what to do.
func loginError(ctx context.Context, err error, s *settings, scopes spotauth.Scopes, timeout time.Duration) error {
	var (
		we *login.WaitError
		le *login.ListenError
		ce *login.CheckError
		ae *spotauth.AuthorizeError
	)
	switch {
	case errors.As(err, &we) && we.StateMismatches > 0:
		ended := fmt.Sprintf("no genuine one came within %v", timeout)
		if !errors.Is(err, login.ErrTimeout) {
			ended = "the login was interrupted before the genuine one"
		}
		return withHint(&findingError{fmt.Sprintf("the redirect's state does not match this login (an old tab or a forged request), and %s; nothing was stored", ended), err},
			"Close old login tabs and run %s again.", loginLine(s, scopes))
	case errors.As(err, &we) && errors.Is(err, login.ErrTimeout):
		return withHint(&findingError{fmt.Sprintf("no redirect from the browser within %v; nothing was stored", timeout), err},
			"Run spotauth login again and approve within the time, or pass a longer --timeout.\nCheck that the app's redirect URI matches %s.", s.RedirectURI)
	case errors.As(err, &we):
		return withHint(&findingError{fmt.Sprintf("login interrupted; nothing was stored: %v", interruption(ctx)), err}, "Run spotauth login again.")
	case errors.As(err, &le):
		host, port, _ := net.SplitHostPort(le.Addr)
		if errors.Is(err, login.ErrPortBusy) {
			return withHint(&findingError{fmt.Sprintf("port %s on %s is busy", port, host), err},
				"Stop the program using it, or register another redirect URI (e.g. http://127.0.0.1/callback without a port)\nand pass it with --redirect-uri or --redirect-port.")
		}
		return withHint(err, "Check that %s is usable on this machine.", host)
	case errors.As(err, &ce):
		return checkError(ce, s, scopes).asError()
	case errors.As(err, &ae) && ae.Code == "access_denied":
		return withHint(wrapf(err, "authorization denied in the browser; nothing was stored"),
			"To log in, run %s and choose Agree (or Approve).", loginLine(s, scopes))
	case errors.As(err, &ae):
		return withHint(wrapf(err, "the Accounts service refused the authorization (%s); nothing was stored", ae.Code),
			"Check the app's settings and scopes (spotauth doctor), then run %s.", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrInvalidRedirectURI):
		return withHint(err, "%s", registerHint)
	case errors.As(err, new(*spotauth.TokenError)), exitCode(err) == ExitNetwork:
		return withHint(err, "%s", exchangeHint(err, s))
	}
	return err
}

// checkError is what login found wrong before opening the browser, as
// doctor reports it.
func checkError(ce *login.CheckError, s *settings, scopes spotauth.Scopes) finding {
	switch {
	case errors.Is(ce, spotauth.ErrInvalidClient) && errors.As(ce, new(*spotauth.TokenError)):
		return finding{levelFail, fmt.Sprintf("Accounts service %s refused the client secret of client ID %s", s.AccountsURL, s.ClientID),
			"Check the client secret (--client-secret, " + spotauth.EnvClientSecret + ", the config file), or unset it to log in with PKCE.", ce}
	case errors.Is(ce, spotauth.ErrInvalidClient):
		f := unknownClient(s)
		f.err = ce
		return f
	case errors.Is(ce, spotauth.ErrInvalidRedirectURI):
		f := unregisteredRedirect(s)
		f.err = ce
		return f
	case errors.Is(ce, spotauth.ErrInvalidScope):
		return finding{levelFail, fmt.Sprintf("Accounts service %s refused the scopes %s for client ID %s", s.AccountsURL, scopes, s.ClientID),
			"Request only scopes the app may use (spotauth scopes lists them); the Open Access scopes need Spotify's partner program.", ce}
	}
	return unreachable(s, ce.Err)
}
