package login_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

// What would stop the user at an error page, or fail the exchange after
// they approved, is a *CheckError before the browser opens: an unknown
// client ID (PKCE or not), a wrong secret, an unregistered redirect URI, a
// scope the app may not request, an unreachable Accounts service.
func TestRunCheckBeforeTheBrowser(t *testing.T) {
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}
	tests := []struct {
		name      string
		configure func(t *testing.T, cfg *spotauth.Config, srv *spotauthtest.Server)
		scopes    spotauth.Scopes
		want      error
		wantMsg   string
		tokenErr  bool
	}{
		{
			name:      "unknown client ID, PKCE",
			configure: func(_ *testing.T, cfg *spotauth.Config, _ *spotauthtest.Server) { cfg.ClientID = "nobody" },
			want:      spotauth.ErrInvalidClient, wantMsg: `does not know client ID "nobody"`,
		},
		{
			name: "unknown client ID, secret",
			configure: func(_ *testing.T, cfg *spotauth.Config, _ *spotauthtest.Server) {
				cfg.ClientID, cfg.ClientSecret = "nobody", "whatever"
			},
			want: spotauth.ErrInvalidClient, wantMsg: `does not know client ID "nobody"`,
		},
		{
			name: "wrong secret",
			configure: func(_ *testing.T, cfg *spotauth.Config, _ *spotauthtest.Server) {
				cfg.ClientSecret = "wrong-secret"
			},
			want: spotauth.ErrInvalidClient, wantMsg: "refused the client secret", tokenErr: true,
		},
		{
			name: "unregistered redirect URI",
			configure: func(_ *testing.T, cfg *spotauth.Config, _ *spotauthtest.Server) {
				cfg.RedirectURL = "http://127.0.0.1/elsewhere"
			},
			want: spotauth.ErrInvalidRedirectURI, wantMsg: "is not registered",
		},
		{
			name:   "scope the app may not request",
			scopes: spotauth.NewScopes(spotauth.ScopeSOAManagePartner),
			want:   spotauth.ErrInvalidScope, wantMsg: "refused a scope",
		},
		{
			name: "unreachable Accounts service",
			configure: func(t *testing.T, cfg *spotauth.Config, _ *spotauthtest.Server) {
				cfg.AccountsURL = closedPort(t)
			},
			wantMsg: "unreachable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tt.configure != nil {
				tt.configure(t, f.cfg, f.srv)
			}
			opened := false
			tok, err := login.Run(background, f.cfg, &login.Options{
				Scopes: tt.scopes, Out: f.out,
				Browser: func(string) error { opened = true; return nil },
			})
			var ce *login.CheckError
			if tok != nil || !errors.As(err, &ce) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Run = %v, %v; want a *CheckError matching %v", tok, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || strings.Count(err.Error(), "spotauth:") != 1 {
				t.Errorf("error %q; want it to contain %q, and \"spotauth:\" once", err, tt.wantMsg)
			}
			var te *spotauth.TokenError
			if errors.As(err, &te) != tt.tokenErr {
				t.Errorf("error %v is a *TokenError: %v; want %v", err, !tt.tokenErr, tt.tokenErr)
			}
			if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), "state=") {
				t.Errorf("error %q shows the secret or the authorization URL", err)
			}
			if opened || f.out.String() != "" {
				t.Errorf("Run opened the browser (%v) or wrote %q; want neither", opened, f.out)
			}
			if st := f.srv.Stats(); st.Consents != 0 || st.Grants[spotauthtest.GrantAuthorizationCode] != 0 {
				t.Errorf("consents %d, code exchanges %d; want 0", st.Consents, st.Grants[spotauthtest.GrantAuthorizationCode])
			}
			f.noLeaks()
		})
	}
}

// An Accounts service that answers the check with something other than
// Spotify's error pages (a server error, a page of its own) does not stop
// the login: only a known refusal does.
func TestRunCheckLetsUnknownAnswersThrough(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.ClientSecret = f.srv.ClientSecret
	f.srv.FailGrant(spotauthtest.GrantClientCredentials, 1, spotauthtest.Fault{Kind: spotauthtest.FaultServerError})
	f.cfg.Retry.MaxAttempts = 1
	u := &user{t: t, srv: f.srv}
	tok, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out})
	if err != nil || !tok.Valid() {
		t.Fatalf("Run after a 500 to the secret check = %v, %v; want a token", tok, err)
	}
	if n := f.srv.Stats().Grants[spotauthtest.GrantClientCredentials]; n != 1 {
		t.Errorf("client-credentials requests = %d; want 1", n)
	}
	f.noLeaks()
}

// Check is the check of Run on its own: no browser, no listener, no
// consent and no code; the secret is checked (with a client-credentials
// request) only when the login would use it.
func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		configure func(cfg *spotauth.Config, srv *spotauthtest.Server)
		opts      *login.Options
		want      error // nil: Check succeeds
		wantCC    int   // client-credentials requests
	}{
		{name: "PKCE client"},
		{name: "secret", configure: func(cfg *spotauth.Config, srv *spotauthtest.Server) { cfg.ClientSecret = srv.ClientSecret }, wantCC: 1},
		{name: "wrong secret", configure: func(cfg *spotauth.Config, _ *spotauthtest.Server) { cfg.ClientSecret = "wrong-secret" },
			want: spotauth.ErrInvalidClient, wantCC: 1},
		{name: "wrong secret, PKCE login", configure: func(cfg *spotauth.Config, _ *spotauthtest.Server) { cfg.ClientSecret = "wrong-secret" },
			opts: &login.Options{PKCE: true}},
		{name: "unknown client", configure: func(cfg *spotauth.Config, _ *spotauthtest.Server) { cfg.ClientID = "nobody" }, want: spotauth.ErrInvalidClient},
		{name: "unregistered redirect URI", configure: func(cfg *spotauth.Config, _ *spotauthtest.Server) { cfg.RedirectURL = "http://127.0.0.1/elsewhere" },
			want: spotauth.ErrInvalidRedirectURI},
		{name: "redirect port registered", configure: func(cfg *spotauth.Config, srv *spotauthtest.Server) {
			srv.AddApp(spotauthtest.App{ClientID: "fixed-port", RedirectURIs: []string{"http://127.0.0.1:8888/callback"}})
			cfg.ClientID, cfg.RedirectURL = "fixed-port", "http://127.0.0.1/callback"
		}, opts: &login.Options{RedirectPort: 8888}},
		{name: "redirect port not registered", configure: func(cfg *spotauth.Config, srv *spotauthtest.Server) {
			srv.AddApp(spotauthtest.App{ClientID: "fixed-port", RedirectURIs: []string{"http://127.0.0.1:8888/callback"}})
			cfg.ClientID, cfg.RedirectURL = "fixed-port", "http://127.0.0.1/callback"
		}, want: spotauth.ErrInvalidRedirectURI},
		{name: "scope the app may not request", opts: &login.Options{Scopes: spotauth.NewScopes(spotauth.ScopeSOAManagePartner)}, want: spotauth.ErrInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tt.configure != nil {
				tt.configure(f.cfg, f.srv)
			}
			err := login.Check(background, f.cfg, tt.opts)
			var ce *login.CheckError
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("Check = %v; want nil", err)
			case tt.want != nil && (!errors.As(err, &ce) || !errors.Is(err, tt.want)):
				t.Errorf("Check = %v; want a *CheckError matching %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "wrong-secret") {
				t.Errorf("Check's error %q shows the secret", err)
			}
			st := f.srv.Stats()
			if n := st.Grants[spotauthtest.GrantClientCredentials]; n != tt.wantCC {
				t.Errorf("client-credentials requests = %d; want %d", n, tt.wantCC)
			}
			if st.Consents != 0 || st.Grants[spotauthtest.GrantAuthorizationCode] != 0 {
				t.Errorf("consents %d, code exchanges %d; want 0", st.Consents, st.Grants[spotauthtest.GrantAuthorizationCode])
			}
			f.noLeaks()
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		err = login.Check(background, &spotauth.Config{ClientID: "x", AccountsURL: closed}, nil)
		var ce *login.CheckError
		var ne net.Error
		if !errors.As(err, &ce) || !errors.As(err, &ne) {
			t.Errorf("Check against a closed port = %v; want a *CheckError wrapping a net.Error", err)
		}
	})
	if err := login.Check(background, nil, nil); !errors.Is(err, spotauth.ErrInvalidConfig) {
		t.Errorf("Check(nil Config) = %v; want ErrInvalidConfig", err)
	}
}
