package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
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
	WithToken    bool
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

PKCE is used when there is no client secret, or with --pkce.

Logging in again on a profile replaces its login, and says so. The profile
remembers the client ID, redirect URI, Accounts and API URLs and store of its
login, so that its token refreshes without flags (pass --client-id to switch
apps); the client secret is never written, only where it came from.

--with-token imports an existing authorization instead of opening the
browser: it reads a refresh token from standard input, refreshes it once (with
the client secret if one is configured, else as a PKCE client) and stores the
result like a login. With SPOTIFY_USER_REFRESH set (tekore's variable), login
imports that token the same way; --with-token wins over it.`,
		Example: `  spotauth login --scope read
  spotauth login --scope user-read-private,playlist-read-private --no-browser
  spotauth login --profile work --client-id abc123 --redirect-port 8888
  spotauth login --with-token < refresh-token.txt`,
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
	fl.BoolVar(&opts.WithToken, "with-token", false, "read a refresh token from standard input and store it, without the browser ($"+spotauth.EnvUserRefresh+" does the same)")
	registerScopeCompletion(cmd, "scope")
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
	refresh, err := importedRefreshToken(opts)
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
	// The login replaces the token stored now, and no other login's.
	seen, _ := st.Load(ctx)
	if refresh != "" {
		io.Printf("Importing a refresh token (profile %s).\n", s.Profile)
	} else {
		io.Printf("Logging in to Spotify (profile %s).\n", s.Profile)
	}
	if seen != nil {
		who := "the existing login"
		if a := s.Saved.account(); a != nil {
			who = "the login of " + a.describe()
		}
		io.Printf("spotauth: replacing %s (profile %s, scopes %s)\n", who, s.Profile, scopesText(seen.Scope))
	}
	var tok *spotauth.Token
	again := loginLine(s, scopes)
	if refresh != "" {
		again = loginLine(s, spotauth.Scopes{}) + " --with-token"
		if tok, err = importToken(ctx, cfg, s, refresh); err != nil {
			return err
		}
	} else {
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
		if tok, err = login.Run(ctx, cfg, lo); err != nil {
			return loginError(ctx, err, s, scopes, opts.Timeout)
		}
	}
	if err := storeLogin(ctx, s, opts.HTTPClient, st, seen, tok, again); err != nil {
		return err
	}

	acct, _ := fetchMe(ctx, opts.HTTPClient, s.APIURL, tok.AccessToken)
	if err := saveProfile(s, tok, acct); err != nil {
		return withHint(wrapf(err, "the token is stored, but the profile file could not be written"),
			"Make %s writable and log in again; until then pass --client-id to refresh the token.", profileDir(s.ConfigDir))
	}
	if acct != nil {
		io.Printf("Logged in to Spotify as %s (profile %s).\n", acct.describe(), s.Profile)
	} else {
		io.Printf("Logged in to Spotify (profile %s).\n", s.Profile)
	}
	io.Printf("  Scopes:  %s\n", scopesText(tok.Scope))
	io.Printf("  Expires: %s (refreshed automatically by spotauth token)\n", describeTime(tok.Expiry, opts.Now()))
	switch {
	case refresh != "" && tok.PKCE:
		io.Printf("  Flow:    imported refresh token, refreshed with the client ID alone (PKCE)\n")
	case refresh != "":
		io.Printf("  Flow:    imported refresh token, refreshed with client secret\n")
	case tok.PKCE:
		io.Printf("  Flow:    authorization code with PKCE\n")
	default:
		io.Printf("  Flow:    authorization code with client secret\n")
	}
	return nil
}

// importedRefreshToken returns the refresh token to import instead of a
// browser login: standard input's with --with-token, else
// SPOTIFY_USER_REFRESH's; "" for a browser login. It never shows the
// token.
func importedRefreshToken(opts *loginOptions) (string, error) {
	var refresh, from string
	switch {
	case opts.WithToken:
		data, err := io.ReadAll(io.LimitReader(opts.IO.In, 64<<10))
		if err != nil {
			return "", wrapf(err, "--with-token: reading standard input")
		}
		refresh, from = strings.TrimSpace(string(data)), "standard input (--with-token)"
		if refresh == "" {
			return "", usageErrorf("Pipe the refresh token in: spotauth login --with-token < refresh-token.txt",
				"--with-token: standard input is empty; it must hold a refresh token")
		}
	case opts.Env.get(spotauth.EnvUserRefresh) != "":
		refresh, from = strings.TrimSpace(opts.Env.get(spotauth.EnvUserRefresh)), spotauth.EnvUserRefresh
	default:
		return "", nil
	}
	if strings.ContainsAny(refresh, " \t\r\n") {
		return "", usageErrorf("Give the refresh token alone.", "%s holds more than one word; it must hold a refresh token", from)
	}
	if len(opts.Scopes) > 0 || opts.PKCE || opts.ShowDialog || opts.NoBrowser || opts.RedirectPort != 0 {
		hint := "The token keeps the scopes of its authorization; drop the browser login's flags."
		if !opts.WithToken {
			hint += "\nTo log in in the browser instead, unset " + spotauth.EnvUserRefresh + "."
		}
		return "", usageErrorf(hint, "importing a refresh token from %s takes no --scope, --pkce, --show-dialog, --no-browser or --redirect-port", from)
	}
	return refresh, nil
}

// importToken refreshes an imported refresh token once, to learn its
// access token and scopes: with the client secret if one is configured,
// else as a PKCE (public) client. The refresh token is never shown.
func importToken(ctx context.Context, cfg *spotauth.Config, s *settings, refresh string) (*spotauth.Token, error) {
	t, err := cfg.Refresh(ctx, &spotauth.Token{RefreshToken: refresh, PKCE: cfg.ClientSecret == ""})
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, spotauth.ErrInvalidGrant):
		return nil, withHint(wrapf(err, "the Accounts service refused the refresh token (revoked, expired, or issued to another app); nothing was stored"),
			"Import a current refresh token of client ID %s, or log in in the browser: %s", s.ClientID, loginLine(s, spotauth.Scopes{}))
	case errors.Is(err, spotauth.ErrInvalidClient) && cfg.ClientSecret == "":
		return nil, withHint(wrapf(err, "the Accounts service refused to refresh the token without the client secret; nothing was stored"),
			"A token from a login with the client secret needs it: pass --client-secret or set %s.", spotauth.EnvClientSecret)
	}
	return nil, withHint(wrapf(err, "could not import the refresh token; nothing was stored"), "%s", exchangeHint(err, s))
}

// storeLogin saves tok, the token of a login of s that began when seen
// was stored (nil: none), under the store's lease. If another login of the
// profile stored its token meanwhile, it saves nothing and says who won
// and how to replace it (again, the command). A refresh meanwhile is not
// another login: it keeps the authorization time, and the refresh token
// unless Spotify rotates it.
func storeLogin(ctx context.Context, s *settings, hc *http.Client, st spotauth.TokenStore, seen, tok *spotauth.Token, again string) error {
	var other *spotauth.Token
	err := boundedStoreOp(ctx, func(ctx context.Context) error {
		ls, ok := st.(spotauth.LockingStore)
		if !ok {
			return st.Save(ctx, tok)
		}
		lease, err := lockStore(ctx, ls)
		if err != nil {
			return err
		}
		defer lease.Release(context.WithoutCancel(ctx))
		if cur, err := lease.Load(ctx); err == nil && !sameLogin(seen, cur) {
			other = cur
			return nil
		}
		return lease.Save(ctx, tok)
	})
	if err != nil {
		return withHint(wrapf(storeFailed("save", err), "could not store the token"),
			"Check the token store (%s) and run spotauth login again.", storeDesc(s))
	}
	if other != nil {
		who := "an account spotauth could not look up"
		if a, err := fetchMe(ctx, hc, s.APIURL, other.AccessToken); err == nil {
			who = a.describe()
		}
		return withHint(fmt.Errorf("spotauth: another login of profile %s finished first, as %s; this login was not stored", s.Profile, who),
			"To replace that login with a new one, run: %s", again)
	}
	return nil
}

// lockStore takes the store's lease, waiting again when another holder
// stored a token meanwhile.
func lockStore(ctx context.Context, ls spotauth.LockingStore) (spotauth.Lease, error) {
	for {
		lease, err := ls.Lock(ctx)
		if !isA[*spotauth.NewerTokenError](err) {
			return lease, err
		}
	}
}

// sameLogin reports whether cur, the stored token, is seen or seen
// refreshed. Token files keep the authorization time to the second: two
// logins authorized within the same second look like one.
func sameLogin(seen, cur *spotauth.Token) bool {
	if seen == nil {
		return false
	}
	return cur.RefreshToken == seen.RefreshToken || !cur.AuthorizedAt.IsZero() && cur.AuthorizedAt.Equal(seen.AuthorizedAt)
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
