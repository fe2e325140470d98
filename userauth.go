package spotauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"

	"github.com/spotauth/spotauth/internal/redact"
)

// UserAuth is one login attempt of the authorization-code flow, with or
// without PKCE, like tekore's UserAuth: send the user's browser to URL, then
// call [UserAuth.Exchange] with the URL it was redirected to. A web server can
// keep State, RedirectURL and Verifier (a secret, which no fmt verb or slog
// handler shows) between requests and restore the attempt as &UserAuth{Config:
// cfg, State: ..., RedirectURL: ..., Verifier: ...}. Do not modify a UserAuth
// in use.
type UserAuth struct {
	Config      *Config
	URL         string // the authorization URL to open in the user's browser
	State       string // the CSRF state URL carries
	RedirectURL string // the exact redirect URI URL carries, sent again with the exchange
	Verifier    string // the PKCE code verifier; empty without PKCE

	mu   sync.Mutex
	done bool // an exchange was attempted
}

// NewUserAuth starts a login attempt. With pkce it generates a code verifier
// (or takes a valid one from [VerifierOption]) and adds its challenge to the
// URL; without, the exchange uses c.ClientSecret. The state comes from
// [GenerateState]. opts apply to the URL; the redirect URI must pass
// [ValidateRedirectURI].
func (c *Config) NewUserAuth(pkce bool, opts ...AuthCodeOption) (*UserAuth, error) {
	if err := c.requireClient(grantAuthorizationCode, !pkce); err != nil {
		return nil, err
	}
	p := collect(opts)
	if !pkce && (p.challenge != "" || p.verifier != "") {
		return nil, fmt.Errorf("%w: a PKCE challenge or verifier option without pkce; call NewUserAuth(true, ...)", ErrInvalidConfig)
	}
	a := &UserAuth{Config: c, State: GenerateState(), RedirectURL: c.redirectURL(&p)}
	if err := ValidateRedirectURI(a.RedirectURL); err != nil {
		return nil, err
	}
	urlOpts := append(append([]AuthCodeOption{}, opts...), RedirectURLOption(a.RedirectURL))
	if pkce {
		a.Verifier = p.verifier
		if a.Verifier == "" {
			a.Verifier = GenerateVerifier()
		} else if err := validateVerifier(a.Verifier); err != nil {
			return nil, err
		}
		urlOpts = append(urlOpts, S256ChallengeOption(a.Verifier))
	}
	a.URL = c.AuthCodeURL(a.State, urlOpts...)
	return a, nil
}

// Exchange completes the attempt with the URL the browser was redirected to
// (or a pasted query; see [ParseRedirect]). In the order Spotify's callback
// handling requires: a malformed URL is an error wrapping
// [ErrMalformedRedirect]; a state other than a.State (compared in constant
// time) fails with [ErrStateMismatch] and leaves the attempt open for the
// genuine redirect, also when the forgery is an error redirect; an error
// redirect gives an [*AuthorizeError] (matching [ErrAccessDenied] for a
// refusal), a redirect without code [ErrMissingCode]; then the code is
// exchanged at once. A second exchange fails with [ErrAuthCompleted]: codes
// are single-use.
func (a *UserAuth) Exchange(ctx context.Context, redirectURL string) (*Token, error) {
	if a.Config == nil || a.State == "" {
		return nil, fmt.Errorf("%w: a UserAuth needs a Config and a State", ErrInvalidConfig)
	}
	r, err := parseRedirect(redirectURL)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(r.state), []byte(a.State)) != 1 {
		return nil, fmt.Errorf("%w: the redirect's state is not the one this login sent; the code was not exchanged", ErrStateMismatch)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.code == "" {
		return nil, ErrMissingCode
	}
	a.mu.Lock()
	done := a.done
	a.done = true
	a.mu.Unlock()
	if done {
		return nil, ErrAuthCompleted
	}
	opts := []AuthCodeOption{RedirectURLOption(a.RedirectURL)}
	if a.Verifier != "" {
		opts = append(opts, VerifierOption(a.Verifier))
	}
	return a.Config.Exchange(ctx, r.code, opts...)
}

// Format implements [fmt.Formatter] without the verifier.
func (a *UserAuth) Format(f fmt.State, verb rune) {
	s := "spotauth.UserAuth(nil)"
	if a != nil {
		s = fmt.Sprintf("spotauth.UserAuth{URL: %q, State: %q, RedirectURL: %q, Verifier: %s}",
			a.URL, a.State, a.RedirectURL, redactedSecret(a.Verifier))
	}
	redact.Format(f, verb, s, s)
}

// LogValue implements [slog.LogValuer] without the verifier.
func (a *UserAuth) LogValue() slog.Value {
	if a == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("url", a.URL),
		slog.String("state", a.State),
		slog.Bool("pkce", a.Verifier != ""),
	)
}
