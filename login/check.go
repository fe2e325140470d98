package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
)

// checkTimeout bounds the requests of check, which run before the user is
// asked anything.
const checkTimeout = 30 * time.Second

// Check makes the checks that [Run] makes before it opens the browser,
// for a login with cfg and opts (nil means the zero Options): without a
// browser, a listener or a user, it finds what would otherwise stop the
// user at an error page of the Accounts service or fail the exchange after
// they approved. It returns nil or a [*CheckError] (see there for what it
// finds), or an error of cfg itself, such as one wrapping
// [spotauth.ErrInvalidConfig] or [spotauth.ErrInvalidRedirectURI].
//
// It asks the Accounts service about the authorization URL the login
// would open, with cfg.RedirectURL (DefaultRedirectURL if empty) as it is
// registered (with opts.RedirectPort if it has no port), and, unless the login uses PKCE (opts.PKCE, or no client
// secret), sends a client-credentials request that checks the client
// secret. Neither issues a code or records a consent. A tool such as a
// "doctor" command calls it to check a configuration before any login.
func Check(ctx context.Context, cfg *spotauth.Config, opts *Options) error {
	if cfg == nil {
		return fmt.Errorf("%w: login.Check needs a Config", spotauth.ErrInvalidConfig)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	redirect := cfg.RedirectURL
	if redirect == "" {
		redirect = DefaultRedirectURL
	}
	if port, err := spotauth.RedirectPort(redirect); err == nil && port == 0 && o.RedirectPort != 0 {
		// The port Run would listen on, which the app may have registered.
		if withPort, err := spotauth.WithRedirectPort(redirect, o.RedirectPort); err == nil {
			redirect = withPort
		}
	}
	authOpts := []spotauth.AuthCodeOption{spotauth.RedirectURLOption(redirect)}
	if o.Scopes.Len() > 0 {
		authOpts = append(authOpts, spotauth.ScopesOption(o.Scopes))
	}
	pkce := o.PKCE || cfg.ClientSecret == ""
	ua, err := cfg.NewUserAuth(pkce, authOpts...)
	if err != nil {
		return err
	}
	return check(ctx, cfg, ua.URL, redirect, pkce)
}

// check finds, before the browser opens, what would otherwise stop the
// user at an error page of the Accounts service or fail the exchange after
// they approved: an unknown client ID, an unregistered or insecure
// redirect URI, a scope the app may not request, an unreachable service,
// and, when the login uses the client secret, a wrong secret.
//
// The first three come from the Accounts service's answer to the very
// authorization URL the browser will open, without its response_type:
// Spotify checks the client, the redirect URI and the scopes and answers
// with an error page (HTTP 400, text such as "INVALID_CLIENT: Invalid
// client") before it looks at response_type, so no code is issued and no
// consent is recorded, even by a fake service that approves at once. An
// answer that is not one of those pages (a redirect, a login page, another
// error) lets the login go on.
//
// The secret is checked with a client-credentials request, the one grant
// that authenticates a client without a user. A PKCE login has no secret
// to check: the token endpoint authenticates a public client only through
// a code, so the check of its client ID is the one of /authorize.
func check(ctx context.Context, cfg *spotauth.Config, authURL, redirect string, pkce bool) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := checkAuthorize(ctx, cfg, authURL, redirect); err != nil {
		return err
	}
	if pkce {
		return nil
	}
	_, err := cfg.ClientCredentials(ctx)
	var te *spotauth.TokenError
	switch {
	case err == nil:
	case errors.Is(err, spotauth.ErrInvalidClient):
		return &CheckError{Reason: fmt.Sprintf("the Accounts service refused the client secret of client ID %q (%s)", cfg.ClientID, oneLine(err)), Err: err}
	case !errors.As(err, &te) && ctx.Err() == nil:
		return &CheckError{Reason: "the Accounts service is unreachable: " + strings.TrimPrefix(err.Error(), "spotauth: "), Err: err}
	}
	// A 5xx or 429 says nothing about the client: the login goes on.
	return nil
}

// checkAuthorize sends authURL without response_type and looks for the
// error pages Spotify shows instead of redirecting. redirect is the
// configured redirect URI, which the messages name.
func checkAuthorize(ctx context.Context, cfg *spotauth.Config, authURL, redirect string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil // NewUserAuth made it; nothing to check
	}
	var kept []string
	for _, p := range strings.Split(u.RawQuery, "&") {
		if !strings.HasPrefix(p, "response_type=") {
			kept = append(kept, p)
		}
	}
	u.RawQuery = strings.Join(kept, "&")
	hc := http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return &CheckError{Reason: "no answer from the Accounts service at " + u.Scheme + "://" + u.Host, Err: context.Cause(ctx)}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return &CheckError{Reason: fmt.Sprintf("the Accounts service at %s://%s is unreachable: %v", u.Scheme, u.Host, err), Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		return nil
	}
	text := string(body)
	switch {
	case strings.Contains(text, "INVALID_CLIENT: Invalid client"), strings.Contains(text, "Missing required parameter: client_id"):
		return &CheckError{Reason: fmt.Sprintf("the Accounts service does not know client ID %q", cfg.ClientID), Err: spotauth.ErrInvalidClient}
	case strings.Contains(text, "INVALID_CLIENT: Invalid redirect URI"):
		return &CheckError{Reason: fmt.Sprintf("the redirect URI %s is not registered for client ID %q", redirect, cfg.ClientID), Err: spotauth.ErrInvalidRedirectURI}
	case strings.Contains(text, "INVALID_CLIENT: Insecure redirect URI"):
		return &CheckError{Reason: fmt.Sprintf("the Accounts service calls the redirect URI %s insecure", redirect), Err: spotauth.ErrInvalidRedirectURI}
	case strings.Contains(text, "Illegal scope"):
		return &CheckError{Reason: fmt.Sprintf("the Accounts service refused a scope of %q for client ID %q", u.Query().Get("scope"), cfg.ClientID), Err: spotauth.ErrInvalidScope}
	}
	return nil
}
