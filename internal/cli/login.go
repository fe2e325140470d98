package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type loginOptions struct {
	IO         *IOStreams
	Env        LookupEnv // SSH_CONNECTION and USER, for the ssh -L line
	Browser    Browser
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
settings. Over SSH (SSH_CONNECTION set), with --no-browser, or when no browser
opens, you can also paste the URL the browser ended on; spotauth prints the
ssh -L line that forwards the port instead.

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
	rd, err := parseLoopbackRedirect(s.RedirectURI)
	if err != nil {
		return err
	}
	port := rd.port
	if opts.RedirectPort != 0 {
		if port != 0 && port != opts.RedirectPort {
			return usageErrorf("Drop --redirect-port, or use a redirect URI without a port.",
				"--redirect-port %d conflicts with the port of the redirect URI %s", opts.RedirectPort, s.RedirectURI)
		}
		port = opts.RedirectPort
	}
	st, err := opts.OpenStore(s, userToken)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(rd.host, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return withHint(fmt.Errorf("spotauth: port %d on %s is busy: %w", port, rd.host, err),
				"Stop the program using it, or register another redirect URI (e.g. http://127.0.0.1/callback without a port)\nand pass it with --redirect-uri or --redirect-port.")
		}
		return withHint(fmt.Errorf("spotauth: cannot listen for the redirect: %w", err), "Check that %s is usable on this machine.", rd.host)
	}
	actualPort := ln.Addr().(*net.TCPAddr).Port
	redirect, err := rd.withPort(actualPort)
	if err != nil {
		ln.Close()
		return withHint(err, "Use a redirect URI such as http://127.0.0.1/callback.")
	}

	usePKCE := opts.PKCE || cfg.ClientSecret == ""
	authOpts := []spotauth.AuthCodeOption{spotauth.ScopesOption(scopes), spotauth.RedirectURLOption(redirect)}
	if opts.ShowDialog {
		authOpts = append(authOpts, spotauth.ShowDialog)
	}
	ua, err := cfg.NewUserAuth(usePKCE, authOpts...)
	if err != nil {
		ln.Close()
		return err
	}
	authURL := ua.URL

	// Fail fast on what would leave the user at an error page: an unknown
	// client ID or an unregistered redirect URI (Spotify does not redirect
	// then), or an unreachable Accounts service.
	pre := *s
	pre.RedirectURI = redirect
	if fd := checkAccounts(ctx, opts.HTTPClient, &pre); fd.level == levelFail {
		ln.Close()
		return fd.asError()
	}

	results := make(chan redirectResult)
	done := make(chan struct{})
	cb := &callbackServer{path: rd.path(), results: results, done: done}
	stop := serveCallback(ln, cb)
	defer stop()
	defer close(done)

	io := opts.IO
	io.Printf("Open this URL in a browser to log in to Spotify (profile %s):\n\n  %s\n\n", s.Profile, authURL)
	ssh := opts.Env.get("SSH_CONNECTION") != ""
	pasting := false
	startPaste := func(reason string) {
		if pasting {
			return
		}
		pasting = true
		io.Printf("%s\n", reason)
		io.Printf("If the browser runs on another machine, forward the port first:\n  %s\n", sshLine(opts.Env, rd.host, actualPort))
		io.Printf("Or paste here the whole URL the browser ended on after approving (it may show an error page), then press Enter:\n")
		go readPasted(io.In, io.ErrOut, results, done)
	}
	browserErr := make(chan error, 1)
	switch {
	case opts.NoBrowser:
		startPaste("Not opening a browser (--no-browser).")
	case ssh:
		startPaste("This is an SSH session (SSH_CONNECTION is set), so no local browser is opened.")
	default:
		go func() { browserErr <- opts.Browser.Browse(authURL) }()
	}
	io.Printf("Waiting for the redirect to %s (up to %v) ...\n", redirect, opts.Timeout)

	timer := time.NewTimer(opts.Timeout)
	defer timer.Stop()
	var res redirectResult
wait:
	for {
		select {
		case res = <-results:
			break wait
		case err := <-browserErr:
			if err != nil {
				startPaste(fmt.Sprintf("Could not open a browser (%v); open the URL above yourself.", err))
			}
		case <-timer.C:
			return withHint(fmt.Errorf("spotauth: no redirect from the browser within %v; nothing was stored", opts.Timeout),
				"Run spotauth login again and approve within the time, or pass a longer --timeout.\nCheck that the app's redirect URI matches %s.", s.RedirectURI)
		case <-ctx.Done():
			return withHint(fmt.Errorf("spotauth: login interrupted; nothing was stored: %w", interruption(ctx)), "Run spotauth login again.")
		}
	}
	reply := func(err error) error {
		if res.reply != nil {
			res.reply <- err
		}
		return err
	}

	tok, err := ua.Exchange(ctx, res.raw)
	if err != nil {
		if exitCode(err) == ExitDenied { // the redirect itself said no, or is not one
			return reply(loginRedirectError(err, s, scopes))
		}
		return reply(withHint(fmt.Errorf("spotauth: could not exchange the code for a token: %w", err), "%s", exchangeHint(err, s)))
	}
	if usePKCE {
		tok.PKCE = true
	}
	if tok.AuthorizedAt.IsZero() {
		tok.AuthorizedAt = opts.Now()
	}
	if err := boundedStoreOp(ctx, func(ctx context.Context) error { return st.Save(ctx, tok) }); err != nil {
		return reply(withHint(fmt.Errorf("spotauth: could not store the token: %w", storeFailed("save", err)),
			"Check the token store (%s) and run spotauth login again.", storeDesc(s)))
	}
	_ = reply(nil)

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
	if usePKCE {
		io.Printf("  Flow:    authorization code with PKCE\n")
	} else {
		io.Printf("  Flow:    authorization code with client secret\n")
	}
	return nil
}

// sshLine is the port-forward command that lets a browser on the user's
// own machine reach the loopback listener on this (remote) one.
func sshLine(env LookupEnv, host string, port int) string {
	target := "user@host"
	if c := strings.Fields(env.get("SSH_CONNECTION")); len(c) == 4 {
		target = hostForURL(c[2])
		if u := env.get("USER"); u != "" {
			target = u + "@" + target
		}
	}
	return fmt.Sprintf("ssh -L %d:%s:%d %s", port, hostForURL(host), port, target)
}

// loginRedirectError says what went wrong with a redirect that refused the
// login or was not a usable one.
func loginRedirectError(err error, s *settings, scopes spotauth.Scopes) error {
	var ae *spotauth.AuthorizeError
	switch {
	case errors.As(err, &ae) && ae.Code == "access_denied":
		return withHint(fmt.Errorf("spotauth: authorization denied in the browser; nothing was stored: %w", err),
			"To log in, run %s and choose Agree (or Approve).", loginLine(s, scopes))
	case errors.As(err, &ae):
		return withHint(fmt.Errorf("spotauth: the Accounts service refused the authorization (%s); nothing was stored: %w", ae.Code, err),
			"Check the app's settings and scopes (spotauth doctor), then run %s.", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrStateMismatch):
		return withHint(fmt.Errorf("spotauth: the redirect's state does not match this login (an old tab or a forged request); nothing was stored: %w", err),
			"Close old login tabs and run %s again.", loginLine(s, scopes))
	}
	return withHint(fmt.Errorf("spotauth: unusable redirect; nothing was stored: %w", err),
		"Run %s again and let the browser finish, or paste the whole URL it ended on.", loginLine(s, scopes))
}
