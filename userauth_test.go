package spotauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/spotauth/spotauth"
)

func okTokenServer(t *testing.T) *tokenServer {
	return newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
		writeJSON(w, 200, `{"access_token":"BQDaccess","token_type":"Bearer","expires_in":3600,"refresh_token":"AQCrefresh"}`)
	})
}

func TestNewUserAuthURL(t *testing.T) {
	for _, pkce := range []bool{true, false} {
		t.Run(fmt.Sprintf("pkce=%t", pkce), func(t *testing.T) {
			cfg := testConfig(okTokenServer(t))
			ua, err := cfg.NewUserAuth(pkce, spotauth.ShowDialog)
			if err != nil {
				t.Fatalf("NewUserAuth(%t) gave error %v", pkce, err)
			}
			u, err := url.Parse(ua.URL)
			if err != nil {
				t.Fatalf("NewUserAuth(%t).URL = %q; not a URL: %v", pkce, ua.URL, err)
			}
			q := u.Query()
			want := map[string]string{
				"client_id": testClientID, "response_type": "code", "redirect_uri": testRedirect,
				"state": ua.State, "show_dialog": "true",
			}
			if pkce {
				want["code_challenge_method"] = "S256"
				want["code_challenge"] = spotauth.S256Challenge(ua.Verifier())
				if err := spotauth.ValidateVerifier(ua.Verifier()); err != nil || len(ua.Verifier()) != 43 {
					t.Errorf("NewUserAuth(true).Verifier() = %d characters, %v; want 43, valid", len(ua.Verifier()), err)
				}
			} else if ua.Verifier() != "" {
				t.Errorf("NewUserAuth(false).Verifier() = %q; want empty", ua.Verifier())
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("NewUserAuth(%t).URL %s = %q; want %q", pkce, k, got, v)
				}
			}
			if len(q) != len(want) {
				t.Errorf("NewUserAuth(%t).URL has %d parameters %v; want %d", pkce, len(q), q, len(want))
			}
			if len(ua.State) != 43 || ua.PKCE() != pkce || ua.RedirectURL() != testRedirect {
				t.Errorf("NewUserAuth(%t) = state %q, PKCE %t, redirect %q; want 43-char state, %t, %q", pkce, ua.State, ua.PKCE(), ua.RedirectURL(), pkce, testRedirect)
			}
			ua2, _ := cfg.NewUserAuth(pkce)
			if ua2.State == ua.State || (pkce && ua2.Verifier() == ua.Verifier()) {
				t.Errorf("two NewUserAuth(%t) share a state or verifier", pkce)
			}
		})
	}
}

func TestNewUserAuthErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*spotauth.Config)
		pkce bool
		opts []spotauth.AuthCodeOption
		want error
	}{
		{"no client ID", func(c *spotauth.Config) { c.ClientID = "" }, true, nil, spotauth.ErrInvalidConfig},
		{"no secret without PKCE", func(c *spotauth.Config) { c.ClientSecret = "" }, false, nil, spotauth.ErrInvalidConfig},
		{"localhost redirect", func(c *spotauth.Config) { c.RedirectURL = "http://localhost:8888/callback" }, true, nil, spotauth.ErrInvalidRedirectURI},
		{"no redirect", func(c *spotauth.Config) { c.RedirectURL = "" }, true, nil, spotauth.ErrInvalidRedirectURI},
		{"insecure redirect option", nil, true, []spotauth.AuthCodeOption{spotauth.RedirectURLOption("http://example.com/cb")}, spotauth.ErrInvalidRedirectURI},
		{"invalid verifier", nil, true, []spotauth.AuthCodeOption{spotauth.VerifierOption("too-short")}, spotauth.ErrInvalidVerifier},
		{"challenge without PKCE", nil, false, []spotauth.AuthCodeOption{spotauth.S256ChallengeOption(testVerifier)}, spotauth.ErrInvalidConfig},
		{"verifier without PKCE", nil, false, []spotauth.AuthCodeOption{spotauth.VerifierOption(testVerifier)}, spotauth.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(okTokenServer(t))
			if tt.edit != nil {
				tt.edit(cfg)
			}
			ua, err := cfg.NewUserAuth(tt.pkce, tt.opts...)
			if !errors.Is(err, tt.want) || ua != nil {
				t.Errorf("NewUserAuth(%t) = %v, %v; want nil, %v", tt.pkce, ua, err, tt.want)
			}
		})
	}
}

func TestUserAuthRequestRedirect(t *testing.T) {
	tests := []struct {
		name      string
		redirect  string // %s is replaced by the attempt's state
		want      error  // nil for success
		wantCalls int
	}{
		{"success", "http://127.0.0.1:43117/callback?code=AQBcode&state=%s", nil, 1},
		{"success, pasted query", "?code=AQBcode&state=%s", nil, 1},
		{"access denied", "http://127.0.0.1:43117/callback?error=access_denied&state=%s", spotauth.ErrAccessDenied, 0},
		{"error checked before state", "?error=access_denied&state=forged", spotauth.ErrAccessDenied, 0},
		{"state mismatch", "?code=AQBcode&state=forged", spotauth.ErrStateMismatch, 0},
		{"state missing", "?code=AQBcode", spotauth.ErrStateMismatch, 0},
		{"state prefix", "?code=AQBcode&state=%s" + "x", spotauth.ErrStateMismatch, 0},
		{"code missing", "?state=%s", spotauth.ErrMissingCode, 0},
		{"state repeated", "?code=AQBcode&state=%s&state=%[1]s", spotauth.ErrRepeatedParameter, 0},
		{"code repeated", "?code=a&code=b&state=%s", spotauth.ErrRepeatedParameter, 0},
		{"malformed", "http://[::1/cb?code=AQBcode&state=%s", spotauth.ErrMalformedRedirect, 0},
		{"malformed escape", "?code=%%zz&state=%s", spotauth.ErrMalformedRedirect, 0},
	}
	for _, tt := range tests {
		for _, pkce := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/pkce=%t", tt.name, pkce), func(t *testing.T) {
				ts := okTokenServer(t)
				cfg := testConfig(ts)
				ua, err := cfg.NewUserAuth(pkce)
				if err != nil {
					t.Fatal(err)
				}
				redirect := tt.redirect
				if strings.Contains(redirect, "%") {
					redirect = fmt.Sprintf(tt.redirect, ua.State)
				}
				tok, err := ua.RequestRedirect(context.Background(), redirect)
				if tt.want == nil {
					if err != nil || tok.AccessToken != "BQDaccess" || tok.PKCE != pkce {
						t.Fatalf("RequestRedirect(%q) = %v, %v; want token with PKCE=%t", redirect, tok, err, pkce)
					}
				} else if !errors.Is(err, tt.want) || tok != nil {
					t.Fatalf("RequestRedirect(%q) = %v, %v; want %v", redirect, tok, err, tt.want)
				}
				calls := ts.Calls()
				if len(calls) != tt.wantCalls {
					t.Fatalf("RequestRedirect(%q) sent %d token requests; want %d", redirect, len(calls), tt.wantCalls)
				}
				if tt.wantCalls == 1 {
					f := calls[0].Form
					if f.Get("code") != "AQBcode" || f.Get("redirect_uri") != testRedirect {
						t.Errorf("exchange form = %v; want code AQBcode and redirect_uri %s", f, testRedirect)
					}
					if pkce && (f.Get("code_verifier") != ua.Verifier() || calls[0].Auth != "") {
						t.Errorf("PKCE exchange sent verifier %q, auth %q; want the attempt's verifier and no Authorization", f.Get("code_verifier"), calls[0].Auth)
					}
					if !pkce && (f.Has("code_verifier") || calls[0].Auth != testBasic) {
						t.Errorf("exchange sent verifier %q, auth %q; want none and Basic", f.Get("code_verifier"), calls[0].Auth)
					}
				}
			})
		}
	}
}

func TestUserAuthAuthorizeError(t *testing.T) {
	cfg := testConfig(okTokenServer(t))
	ua, _ := cfg.NewUserAuth(true)
	_, err := ua.RequestRedirect(context.Background(), "?error=access_denied&error_description=no%20thanks&state="+ua.State)
	var ae *spotauth.AuthorizeError
	if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "no thanks" {
		t.Fatalf("RequestRedirect(denied) = %v; want *AuthorizeError{access_denied, no thanks}", err)
	}
	// A refusal does not complete the attempt: the genuine redirect may follow.
	if _, err := ua.Request(context.Background(), "AQBcode", ua.State); err != nil {
		t.Errorf("Request() after an error redirect = %v; want success", err)
	}
}

func TestUserAuthCompletesOnce(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
		if n == 1 {
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"Invalid authorization code"}`)
			return
		}
		writeJSON(w, 200, `{"access_token":"BQDaccess","token_type":"Bearer","expires_in":3600}`)
	})
	cfg := testConfig(ts)
	ua, _ := cfg.NewUserAuth(true)
	ctx := context.Background()
	if _, err := ua.Request(ctx, "AQBcode", "forged"); !errors.Is(err, spotauth.ErrStateMismatch) {
		t.Fatalf("Request(forged state) = %v; want ErrStateMismatch", err)
	}
	if _, err := ua.Request(ctx, "AQBcode", ua.State); !errors.Is(err, spotauth.ErrInvalidGrant) {
		t.Fatalf("Request() = %v; want ErrInvalidGrant from the server", err)
	}
	if _, err := ua.Request(ctx, "AQBcode", ua.State); !errors.Is(err, spotauth.ErrAuthCompleted) {
		t.Errorf("second Request() = %v; want ErrAuthCompleted", err)
	}
	if _, err := ua.RequestRedirect(ctx, "?code=other&state="+ua.State); !errors.Is(err, spotauth.ErrAuthCompleted) {
		t.Errorf("RequestRedirect() after Request() = %v; want ErrAuthCompleted", err)
	}
	if n := len(ts.Calls()); n != 1 {
		t.Errorf("attempt sent %d exchanges; want 1", n)
	}
}

func TestUserAuthConcurrentRequests(t *testing.T) {
	ts := okTokenServer(t)
	cfg := testConfig(ts)
	ua, _ := cfg.NewUserAuth(true)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, completed := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := ua.Request(context.Background(), "AQBcode", ua.State)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, spotauth.ErrAuthCompleted):
				completed++
			default:
				t.Errorf("Request() = %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || completed != 7 || len(ts.Calls()) != 1 {
		t.Errorf("8 concurrent Requests: %d succeeded, %d ErrAuthCompleted, %d exchanges; want 1, 7, 1", ok, completed, len(ts.Calls()))
	}
}

func TestUserAuthKeepsItsRedirectURL(t *testing.T) {
	ts := okTokenServer(t)
	cfg := testConfig(ts)
	uri, err := spotauth.WithRedirectPort("http://127.0.0.1/callback", 5555)
	if err != nil {
		t.Fatal(err)
	}
	ua, err := cfg.NewUserAuth(true, spotauth.RedirectURLOption(uri))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RedirectURL = "https://changed.example/cb" // must not affect the attempt
	cfg.ClientID = "changed"
	if _, err := ua.Request(context.Background(), "AQBcode", ua.State); err != nil {
		t.Fatal(err)
	}
	f := ts.Calls()[0].Form
	if f.Get("redirect_uri") != uri || f.Get("client_id") != testClientID {
		t.Errorf("exchange sent redirect_uri %q, client_id %q; want %q, %q (those of the URL)", f.Get("redirect_uri"), f.Get("client_id"), uri, testClientID)
	}
	if q, _ := url.Parse(ua.URL); q.Query().Get("redirect_uri") != uri {
		t.Errorf("URL redirect_uri = %q; want %q", q.Query().Get("redirect_uri"), uri)
	}
}

func TestUserAuthZeroValue(t *testing.T) {
	var ua spotauth.UserAuth
	if _, err := ua.Request(context.Background(), "code", ""); !errors.Is(err, spotauth.ErrInvalidConfig) {
		t.Errorf("UserAuth{}.Request() = %v; want ErrInvalidConfig", err)
	}
	if s := (*spotauth.UserAuth)(nil).String(); s != "spotauth.UserAuth(nil)" {
		t.Errorf("(*UserAuth)(nil).String() = %q", s)
	}
}

func TestUserAuthRedaction(t *testing.T) {
	cfg := testConfig(okTokenServer(t))
	ua, err := cfg.NewUserAuth(true)
	if err != nil {
		t.Fatal(err)
	}
	v := ua.Verifier()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "attempt", ua)
	outs := map[string]string{
		"%v": fmt.Sprintf("%v", ua), "%+v": fmt.Sprintf("%+v", ua), "%#v": fmt.Sprintf("%#v", ua),
		"%s": fmt.Sprintf("%s", ua), "%q": fmt.Sprintf("%q", ua), "String": ua.String(),
		"slog": logged.String(), "in struct": fmt.Sprintf("%+v", struct{ A *spotauth.UserAuth }{ua}),
	}
	for name, out := range outs {
		if strings.Contains(out, v) || strings.Contains(out, testClientSecret) {
			t.Errorf("UserAuth printed with %s = %s; contains the verifier or secret", name, out)
		}
	}
	if !strings.Contains(ua.String(), "[redacted]") || !strings.Contains(ua.String(), ua.State) {
		t.Errorf("UserAuth.String() = %s; want state shown and verifier [redacted]", ua.String())
	}
}
