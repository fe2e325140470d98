package spotauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"
)

// UserAuth is one login attempt of the authorization-code flow, with or
// without PKCE, in the manner of tekore's UserAuth: it holds the URL to
// send the user to, the CSRF state, and for PKCE the code verifier.
//
// Send the user's browser to URL, then complete the attempt with the
// redirect: [UserAuth.RequestRedirect] with the whole URL the browser
// landed on, or [UserAuth.Request] with its code and state. An attempt
// exchanges a code at most once; start a new UserAuth for a new login.
//
// Its String, GoString, Format and LogValue never show the verifier.
// It is safe for concurrent use.
type UserAuth struct {
	// URL is the authorization URL to open in the user's browser.
	URL string
	// State is the CSRF state carried by URL (see [GenState]).
	State string

	// Secrets sit behind pointers, which fmt prints as addresses even when
	// a UserAuth value is printed field by field with %+v.
	cfg      *Config // a copy: later changes to the caller's Config do not apply
	redirect string  // the exact redirect_uri of URL, sent again at exchange
	verifier *string // nil without PKCE
	pkce     bool

	mu   sync.Mutex
	done bool // an exchange was attempted
}

// NewUserAuth starts a login attempt. With pkce it generates a code
// verifier (or uses the one given with [VerifierOption], which must be
// valid) and adds its S256 challenge to the URL; without, the exchange
// authenticates with c.ClientSecret, which must be set. The state is
// always generated with [GenState].
//
// opts apply to the URL ([ShowDialog], [ScopesOption],
// [RedirectURLOption]). The redirect URI must pass [ValidateRedirectURI].
// Without pkce, a [S256ChallengeOption] or [VerifierOption] is an error
// wrapping [ErrInvalidConfig]: the code would be bound to a challenge the
// exchange does not answer.
func (c *Config) NewUserAuth(pkce bool, opts ...AuthCodeOption) (*UserAuth, error) {
	if err := c.requireClient(GrantAuthorizationCode, !pkce); err != nil {
		return nil, err
	}
	p := collect(opts)
	if !pkce && (p.challenge != "" || p.verifier != "") {
		// The code would be bound to a challenge that the secret-based
		// exchange never answers: it would fail with invalid_request.
		return nil, fmt.Errorf("%w: a PKCE challenge or verifier option without pkce; call NewUserAuth(true, ...)", ErrInvalidConfig)
	}
	redirect := c.redirectURL(&p)
	if err := ValidateRedirectURI(redirect); err != nil {
		return nil, err
	}
	cfg := *c
	ua := &UserAuth{State: GenState(), cfg: &cfg, redirect: redirect, pkce: pkce}
	urlOpts := append([]AuthCodeOption{}, opts...)
	urlOpts = append(urlOpts, RedirectURLOption(redirect))
	if pkce {
		v := p.verifier
		if v == "" {
			v = GenerateVerifier()
		} else if err := ValidateVerifier(v); err != nil {
			return nil, err
		}
		ua.verifier = &v
		urlOpts = append(urlOpts, S256ChallengeOption(v))
	}
	ua.URL = ua.cfg.AuthCodeURL(ua.State, urlOpts...)
	return ua, nil
}

// Verifier returns the PKCE code verifier, "" without PKCE. It is a
// secret until the exchange is done: do not log it.
func (a *UserAuth) Verifier() string {
	if a.verifier == nil {
		return ""
	}
	return *a.verifier
}

// PKCE reports whether the attempt uses PKCE.
func (a *UserAuth) PKCE() bool { return a.pkce }

// RedirectURL returns the exact redirect URI carried by URL and sent again
// with the exchange.
func (a *UserAuth) RedirectURL() string { return a.redirect }

// Request completes the attempt with the code and state of the redirect,
// in the order Spotify's callback handling requires:
//  1. state is compared, in constant time, with [UserAuth.State]; a
//     mismatch fails with [ErrStateMismatch] and the code is never
//     exchanged (the attempt stays open for the genuine redirect);
//  2. an empty code fails with [ErrMissingCode];
//  3. the code is exchanged at once ([Config.Exchange]).
//
// A second exchange fails with [ErrAuthCompleted], whatever the first
// one's outcome: codes are single-use.
func (a *UserAuth) Request(ctx context.Context, code, state string) (*Token, error) {
	if a.cfg == nil || a.State == "" {
		return nil, fmt.Errorf("%w: a UserAuth must come from Config.NewUserAuth", ErrInvalidConfig)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(a.State)) != 1 {
		return nil, fmt.Errorf("%w: the redirect's state is not the one this login sent; the code was not exchanged", ErrStateMismatch)
	}
	if code == "" {
		return nil, ErrMissingCode
	}
	a.mu.Lock()
	if a.done {
		a.mu.Unlock()
		return nil, ErrAuthCompleted
	}
	a.done = true
	a.mu.Unlock()

	opts := []AuthCodeOption{RedirectURLOption(a.redirect)}
	if a.pkce {
		opts = append(opts, VerifierOption(*a.verifier))
	}
	return a.cfg.Exchange(ctx, code, opts...)
}

// RequestRedirect completes the attempt with the URL the browser was
// redirected to (or a pasted query; see [ParseRedirect]), in the order
// Spotify's callback handling requires:
//  1. an error parameter fails with an [*AuthorizeError] carrying it
//     (matching [ErrAccessDenied] for error=access_denied);
//  2. then as [UserAuth.Request]: state, then code, then the exchange.
//
// A malformed URL fails with a [*MalformedRedirectError], a repeated
// parameter with a [*RepeatedParameterError], before any of these steps.
func (a *UserAuth) RequestRedirect(ctx context.Context, redirectURL string) (*Token, error) {
	r, err := ParseRedirect(redirectURL)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return a.Request(ctx, r.Code, r.State)
}

// String describes the attempt without its verifier.
func (a *UserAuth) String() string {
	if a == nil {
		return "spotauth.UserAuth(nil)"
	}
	v := `""`
	if a.verifier != nil {
		v = "[redacted]"
	}
	return fmt.Sprintf("spotauth.UserAuth{URL: %q, State: %q, PKCE: %t, Verifier: %s}", a.URL, a.State, a.pkce, v)
}

// GoString is String, for %#v.
func (a *UserAuth) GoString() string { return a.String() }

// Format prints String for every verb, so that no verb shows the verifier.
func (a *UserAuth) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, a.String(), a.GoString())
}

// LogValue implements [slog.LogValuer] without the verifier.
func (a *UserAuth) LogValue() slog.Value {
	if a == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("url", a.URL),
		slog.String("state", a.State),
		slog.Bool("pkce", a.pkce),
	)
}
