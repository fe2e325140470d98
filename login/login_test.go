package login_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

// A login with the browser: PKCE without a secret, the secret flow with
// one, and PKCE by choice with one. The token is the fake's, the browser
// gets the success page, one code is exchanged, and the client secret is
// checked before the browser opens only when the login uses it.
func TestRunBrowser(t *testing.T) {
	tests := []struct {
		name     string
		secret   bool
		pkce     bool
		wantPKCE bool
		wantAuth spotauthtest.AuthStyle
		wantCC   int
	}{
		{"pkce", false, false, true, spotauthtest.AuthPublic, 0},
		{"secret", true, false, false, spotauthtest.AuthBasic, 1},
		{"pkce with a secret", true, true, true, spotauthtest.AuthPublic, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tt.secret {
				f.cfg.ClientSecret = f.srv.ClientSecret
			}
			u := &user{t: t, srv: f.srv}
			tok, err := login.Run(background, f.cfg, &login.Options{
				Scopes:  spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserReadEmail),
				PKCE:    tt.pkce,
				Browser: u.Browse,
				Out:     f.out,
			})
			if err != nil {
				t.Fatalf("Run: %v\nOut:\n%s", err, f.out)
			}
			if !tok.Valid() || tok.RefreshToken == "" || tok.PKCE != tt.wantPKCE {
				t.Errorf("Run token = %v; want a valid user token with PKCE %v", tok, tt.wantPKCE)
			}
			if got := tok.Scope.String(); got != "user-read-email user-read-private" {
				t.Errorf("token scopes = %q; want the two requested", got)
			}
			if p := u.lastPage(); p.status != http.StatusOK || p.title() != "Logged in" || !strings.Contains(p.body, "close this tab") {
				t.Errorf("browser page = %d %q; want 200 Logged in", p.status, p.title())
			}
			st := f.srv.Stats()
			if got := st.GrantsSucceeded[spotauthtest.GrantAuthorizationCode]; got != 1 {
				t.Errorf("codes exchanged = %d; want 1", got)
			}
			if got := st.Grants[spotauthtest.GrantClientCredentials]; got != tt.wantCC {
				t.Errorf("client-credentials checks = %d; want %d", got, tt.wantCC)
			}
			if st.Consents != 1 {
				t.Errorf("consents = %d; want 1: the check before the browser must not decide consent", st.Consents)
			}
			for _, e := range f.srv.TokenLog() {
				if e.Grant == spotauthtest.GrantAuthorizationCode && e.Auth != tt.wantAuth {
					t.Errorf("code exchange authenticated with %q; want %q", e.Auth, tt.wantAuth)
				}
			}
			out := f.out.String()
			if !strings.Contains(out, f.srv.URL+"/authorize?") || !strings.Contains(out, "Waiting for the browser to return to http://127.0.0.1:") {
				t.Errorf("Out = %q; want the URL and the redirect waited for", out)
			}
			if strings.Contains(out, "ssh -L") {
				t.Errorf("Out = %q; want no ssh hint when a local browser opened", out)
			}
			f.noLeaks()
		})
	}
}

// A refusal in the browser, with the right state, ends the login with an
// *AuthorizeError matching ErrAccessDenied; nothing is exchanged.
func TestRunDenied(t *testing.T) {
	f := newFixture(t, nil)
	u := &user{t: t, srv: f.srv, deny: true}
	tok, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out})
	var ae *spotauth.AuthorizeError
	if tok != nil || !errors.Is(err, spotauth.ErrAccessDenied) || !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Fatalf("Run with a denial = %v, %v; want an *AuthorizeError matching ErrAccessDenied", tok, err)
	}
	if p := u.lastPage(); p.status != http.StatusForbidden || p.title() != "Login failed" || !strings.Contains(p.body, "You denied access") {
		t.Errorf("browser page = %d %q; want 403 Login failed saying access was denied", p.status, p.title())
	}
	if n := f.srv.Stats().Grants[spotauthtest.GrantAuthorizationCode]; n != 0 {
		t.Errorf("code exchanges = %d; want 0", n)
	}
	f.noLeaks()
}

// The code exchange fails after the user approved: the error is the token
// endpoint's, and the browser is told.
func TestRunExchangeFails(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.FailGrant(spotauthtest.GrantAuthorizationCode, 1, spotauthtest.Fault{Kind: spotauthtest.FaultError, Code: "invalid_grant", Description: "Invalid authorization code"})
	u := &user{t: t, srv: f.srv}
	tok, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out})
	var te *spotauth.TokenError
	if tok != nil || !errors.Is(err, spotauth.ErrInvalidGrant) || !errors.As(err, &te) {
		t.Fatalf("Run = %v, %v; want a *TokenError matching ErrInvalidGrant", tok, err)
	}
	if strings.Count(err.Error(), "spotauth:") != 1 {
		t.Errorf("error %q; want \"spotauth:\" once", err)
	}
	if p := u.lastPage(); p.status != http.StatusBadGateway || p.title() != "Login failed" || !strings.Contains(p.body, "Invalid authorization code") {
		t.Errorf("browser page = %d %q; want 502 Login failed with the reason", p.status, p.body)
	}
	f.noLeaks()
}

// Options that contradict each other or the Config fail before anything
// listens or is sent.
func TestRunInvalidOptions(t *testing.T) {
	tests := []struct {
		name     string
		redirect string
		opts     login.Options
		want     error
	}{
		{"port out of range", "", login.Options{RedirectPort: 70000}, spotauth.ErrInvalidConfig},
		{"port conflicts with the URI's", "http://127.0.0.1:1234/callback", login.Options{RedirectPort: 4321}, spotauth.ErrInvalidConfig},
		{"port with a non-loopback URI", "https://example.com/callback", login.Options{RedirectPort: 4321, In: strings.NewReader("")}, spotauth.ErrInvalidConfig},
		{"paste-only without In", "https://example.com/callback", login.Options{}, spotauth.ErrInvalidConfig},
		{"localhost", "http://localhost/callback", login.Options{}, spotauth.ErrInvalidRedirectURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tt.redirect != "" {
				f.cfg.RedirectURL = tt.redirect
			}
			opened := false
			tt.opts.Browser = func(string) error { opened = true; return nil }
			tt.opts.Out = f.out
			tok, err := login.Run(background, f.cfg, &tt.opts)
			if tok != nil || !errors.Is(err, tt.want) {
				t.Errorf("Run = %v, %v; want an error matching %v", tok, err, tt.want)
			}
			if opened || f.out.String() != "" || f.srv.Stats().AuthorizeRequests != 0 {
				t.Errorf("Run opened a browser (%v), wrote %q or sent a request; want nothing", opened, f.out)
			}
			f.noLeaks()
		})
	}
	if _, err := login.Run(background, nil, nil); !errors.Is(err, spotauth.ErrInvalidConfig) {
		t.Errorf("Run(nil Config) = %v; want ErrInvalidConfig", err)
	}
}

// An empty RedirectURL means DefaultRedirectURL, on a free port.
func TestRunDefaultRedirect(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.RedirectURL = ""
	u := &user{t: t, srv: f.srv}
	if _, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := redirectParam(t, u.urls[0]); !strings.HasPrefix(got, "http://127.0.0.1:") || !strings.HasSuffix(got, "/callback") {
		t.Errorf("redirect_uri = %q; want DefaultRedirectURL with a port", got)
	}
	f.noLeaks()
}
