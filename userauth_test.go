package spotauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
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
				want["code_challenge"] = spotauth.S256Challenge(ua.Verifier)
				if !verifierRE.MatchString(ua.Verifier) {
					t.Errorf("NewUserAuth(true).Verifier = %d characters; want 43 base64url characters (valid by RFC 7636)", len(ua.Verifier))
				}
			} else if ua.Verifier != "" {
				t.Errorf("NewUserAuth(false).Verifier = %q; want empty", ua.Verifier)
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("NewUserAuth(%t).URL %s = %q; want %q", pkce, k, got, v)
				}
			}
			if len(q) != len(want) {
				t.Errorf("NewUserAuth(%t).URL has %d parameters %v; want %d", pkce, len(q), q, len(want))
			}
			if len(ua.State) != 43 || (ua.Verifier != "") != pkce || ua.RedirectURL != testRedirect || ua.Config != cfg {
				t.Errorf("NewUserAuth(%t) = state %q, PKCE %t, redirect %q, config %p; want 43-char state, %t, %q, %p",
					pkce, ua.State, ua.Verifier != "", ua.RedirectURL, ua.Config, pkce, testRedirect, cfg)
			}
			ua2, _ := cfg.NewUserAuth(pkce)
			if ua2.State == ua.State || (pkce && ua2.Verifier == ua.Verifier) {
				t.Errorf("two NewUserAuth(%t) share a state or verifier", pkce)
			}
		})
	}
}

// verifierRE matches what GenerateVerifier returns: 32 random bytes,
// base64url without padding, within RFC 7636's alphabet and length.
var verifierRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestNewUserAuthVerifierOption(t *testing.T) {
	cfg := testConfig(okTokenServer(t))
	ua, err := cfg.NewUserAuth(true, spotauth.VerifierOption(testVerifier))
	if err != nil || ua.Verifier != testVerifier {
		t.Fatalf("NewUserAuth(true, VerifierOption(v)) = %v, %v; want the attempt to use v", ua, err)
	}
	if q, _ := url.Parse(ua.URL); q.Query().Get("code_challenge") != spotauth.S256Challenge(testVerifier) {
		t.Errorf("URL code_challenge = %q; want S256Challenge(v)", q.Query().Get("code_challenge"))
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
		{"invalid verifier", nil, true, []spotauth.AuthCodeOption{spotauth.VerifierOption("too-short")}, spotauth.ErrInvalidConfig},
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

// TestUserAuthExchange: Exchange checks, in order, that the redirect
// parses, that its state is the attempt's (also for an error redirect, which
// anyone can forge), then the error and the code, before one exchange.
func TestUserAuthExchange(t *testing.T) {
	tests := []struct {
		name      string
		redirect  string // %s is replaced by the attempt's state
		want      error  // nil for success
		wantCalls int
	}{
		{"success", "http://127.0.0.1:43117/callback?code=AQBcode&state=%s", nil, 1},
		{"success, pasted query", "?code=AQBcode&state=%s", nil, 1},
		{"access denied", "http://127.0.0.1:43117/callback?error=access_denied&state=%s", spotauth.ErrAccessDenied, 0},
		{"denied with description", "?error=access_denied&error_description=no&state=%s", spotauth.ErrAccessDenied, 0},
		{"state checked before error", "?error=access_denied&state=forged", spotauth.ErrStateMismatch, 0},
		{"error redirect without state", "?error=access_denied", spotauth.ErrStateMismatch, 0},
		{"server error", "?error=server_error&state=%s", spotauth.ErrServerError, 0},
		{"state mismatch", "?code=AQBcode&state=forged", spotauth.ErrStateMismatch, 0},
		{"state missing", "?code=AQBcode", spotauth.ErrStateMismatch, 0},
		{"state prefix", "?code=AQBcode&state=%s" + "x", spotauth.ErrStateMismatch, 0},
		{"code missing", "?state=%s", spotauth.ErrMissingCode, 0},
		{"code empty", "?code=&state=%s", spotauth.ErrMissingCode, 0},
		{"code missing, state forged", "?state=forged", spotauth.ErrStateMismatch, 0},
		{"state repeated", "?code=AQBcode&state=%s&state=%[1]s", spotauth.ErrMalformedRedirect, 0},
		{"code repeated", "?code=a&code=b&state=%s", spotauth.ErrMalformedRedirect, 0},
		{"malformed, state forged", "?code=a&code=b&state=forged", spotauth.ErrMalformedRedirect, 0},
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
				tok, err := ua.Exchange(context.Background(), redirect)
				if tt.want == nil {
					if err != nil || tok.AccessToken != "BQDaccess" || tok.PKCE != pkce {
						t.Fatalf("Exchange(%q) = %v, %v; want token with PKCE=%t", redirect, tok, err, pkce)
					}
				} else if !errors.Is(err, tt.want) || tok != nil {
					t.Fatalf("Exchange(%q) = %v, %v; want %v", redirect, tok, err, tt.want)
				}
				for _, other := range []error{spotauth.ErrMalformedRedirect, spotauth.ErrStateMismatch, spotauth.ErrAccessDenied, spotauth.ErrMissingCode} {
					if other != tt.want && errors.Is(err, other) {
						t.Errorf("Exchange(%q) = %v; matches %v too", redirect, err, other)
					}
				}
				calls := ts.Calls()
				if len(calls) != tt.wantCalls {
					t.Fatalf("Exchange(%q) sent %d token requests; want %d", redirect, len(calls), tt.wantCalls)
				}
				if tt.wantCalls == 1 {
					f := calls[0].Form
					if f.Get("code") != "AQBcode" || f.Get("redirect_uri") != testRedirect {
						t.Errorf("exchange form = %v; want code AQBcode and redirect_uri %s", f, testRedirect)
					}
					if pkce && (f.Get("code_verifier") != ua.Verifier || calls[0].Auth != "") {
						t.Errorf("PKCE exchange sent verifier %q, auth %q; want the attempt's verifier and no Authorization", f.Get("code_verifier"), calls[0].Auth)
					}
					if !pkce && (f.Has("code_verifier") || calls[0].Auth != testBasic) {
						t.Errorf("exchange sent verifier %q, auth %q; want none and Basic", f.Get("code_verifier"), calls[0].Auth)
					}
				}
				if tt.want != nil {
					// A redirect that did not lead to an exchange leaves
					// the attempt open for the genuine one.
					if _, err := ua.Exchange(context.Background(), "?code=AQBcode&state="+ua.State); err != nil {
						t.Errorf("Exchange(genuine) after Exchange(%q) = %v; want success", redirect, err)
					}
				}
			})
		}
	}
}

func TestUserAuthAuthorizeError(t *testing.T) {
	ts := okTokenServer(t)
	cfg := testConfig(ts)
	ua, _ := cfg.NewUserAuth(true)
	ctx := context.Background()
	// A forged error redirect (another state) neither reports the refusal
	// nor ends the attempt.
	if _, err := ua.Exchange(ctx, "?error=access_denied&state=forged"); !errors.Is(err, spotauth.ErrStateMismatch) || errors.Is(err, spotauth.ErrAccessDenied) {
		t.Fatalf("Exchange(forged denial) = %v; want ErrStateMismatch only", err)
	}
	_, err := ua.Exchange(ctx, "?error=access_denied&error_description=no%20thanks&state="+ua.State)
	var ae *spotauth.AuthorizeError
	if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "no thanks" {
		t.Fatalf("Exchange(denied) = %v; want *AuthorizeError{access_denied, no thanks}", err)
	}
	// A refusal does not complete the attempt: the genuine redirect may follow.
	if _, err := ua.Exchange(ctx, "?code=AQBcode&state="+ua.State); err != nil {
		t.Errorf("Exchange() after an error redirect = %v; want success", err)
	}
	if n := len(ts.Calls()); n != 1 {
		t.Errorf("attempt sent %d exchanges; want 1", n)
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
	if _, err := ua.Exchange(ctx, "?code=AQBcode&state=forged"); !errors.Is(err, spotauth.ErrStateMismatch) {
		t.Fatalf("Exchange(forged state) = %v; want ErrStateMismatch", err)
	}
	if _, err := ua.Exchange(ctx, "http://127.0.0.1:43117/callback?code=AQBcode&state="+ua.State); !errors.Is(err, spotauth.ErrInvalidGrant) {
		t.Fatalf("Exchange() = %v; want ErrInvalidGrant from the server", err)
	}
	if _, err := ua.Exchange(ctx, "?code=AQBcode&state="+ua.State); !errors.Is(err, spotauth.ErrAuthCompleted) {
		t.Errorf("second Exchange() = %v; want ErrAuthCompleted", err)
	}
	if _, err := ua.Exchange(ctx, "?code=other&state="+ua.State); !errors.Is(err, spotauth.ErrAuthCompleted) {
		t.Errorf("Exchange(another code) after Exchange() = %v; want ErrAuthCompleted", err)
	}
	// Checks before the single-use rule still report their own errors.
	if _, err := ua.Exchange(ctx, "?code=other&state=forged"); !errors.Is(err, spotauth.ErrStateMismatch) {
		t.Errorf("Exchange(forged state) after completion = %v; want ErrStateMismatch", err)
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
			_, err := ua.Exchange(context.Background(), "?code=AQBcode&state="+ua.State)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, spotauth.ErrAuthCompleted):
				completed++
			default:
				t.Errorf("Exchange() = %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || completed != 7 || len(ts.Calls()) != 1 {
		t.Errorf("8 concurrent Exchanges: %d succeeded, %d ErrAuthCompleted, %d exchanges; want 1, 7, 1", ok, completed, len(ts.Calls()))
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
	if _, err := ua.Exchange(context.Background(), uri+"?code=AQBcode&state="+ua.State); err != nil {
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

// TestUserAuthRestored: a web server keeps State, RedirectURL and Verifier
// between two requests (perhaps on two replicas) and restores the attempt
// as a new UserAuth, which exchanges the code as the original would.
func TestUserAuthRestored(t *testing.T) {
	for _, pkce := range []bool{false, true} {
		t.Run(fmt.Sprintf("pkce=%t", pkce), func(t *testing.T) {
			ts := okTokenServer(t)
			cfg := testConfig(ts)
			uri, _ := spotauth.WithRedirectPort("http://127.0.0.1/callback", 5555)
			orig, err := cfg.NewUserAuth(pkce, spotauth.RedirectURLOption(uri))
			if err != nil {
				t.Fatal(err)
			}
			saved := []string{orig.State, orig.RedirectURL, orig.Verifier}
			ua := &spotauth.UserAuth{Config: cfg, State: saved[0], RedirectURL: saved[1], Verifier: saved[2]}
			ctx := context.Background()
			if _, err := ua.Exchange(ctx, "?code=AQBcode&state=forged"); !errors.Is(err, spotauth.ErrStateMismatch) {
				t.Errorf("restored Exchange(forged state) = %v; want ErrStateMismatch", err)
			}
			tok, err := ua.Exchange(ctx, uri+"?code=AQBcode&state="+saved[0])
			if err != nil || tok.PKCE != pkce {
				t.Fatalf("restored Exchange() = %v, %v; want a token with PKCE=%t", tok, err, pkce)
			}
			if _, err := ua.Exchange(ctx, "?code=AQBcode&state="+saved[0]); !errors.Is(err, spotauth.ErrAuthCompleted) {
				t.Errorf("restored Exchange() again = %v; want ErrAuthCompleted", err)
			}
			calls := ts.Calls()
			if len(calls) != 1 {
				t.Fatalf("restored attempt sent %d exchanges; want 1", len(calls))
			}
			f := calls[0].Form
			if f.Get("redirect_uri") != uri || f.Get("code_verifier") != orig.Verifier || (calls[0].Auth == "") != pkce {
				t.Errorf("restored exchange sent redirect_uri %q, verifier %q, auth %q; want %q, the original verifier, Basic only without PKCE",
					f.Get("redirect_uri"), f.Get("code_verifier"), calls[0].Auth, uri)
			}
		})
	}
}

func TestUserAuthZeroValue(t *testing.T) {
	var ua spotauth.UserAuth
	if _, err := ua.Exchange(context.Background(), "?code=code&state="); !errors.Is(err, spotauth.ErrInvalidConfig) {
		t.Errorf("UserAuth{}.Exchange() = %v; want ErrInvalidConfig", err)
	}
	// A restored attempt without its state is refused before the
	// redirect is read: an empty state would match a redirect without one.
	noState := &spotauth.UserAuth{Config: testConfig(okTokenServer(t))}
	if _, err := noState.Exchange(context.Background(), "?code=code"); !errors.Is(err, spotauth.ErrInvalidConfig) {
		t.Errorf("UserAuth{Config: cfg}.Exchange(no state) = %v; want ErrInvalidConfig", err)
	}
	if s := fmt.Sprint((*spotauth.UserAuth)(nil)); s != "spotauth.UserAuth(nil)" {
		t.Errorf("Sprint((*UserAuth)(nil)) = %q", s)
	}
}

func TestUserAuthRedaction(t *testing.T) {
	cfg := testConfig(okTokenServer(t))
	ua, err := cfg.NewUserAuth(true)
	if err != nil {
		t.Fatal(err)
	}
	v := ua.Verifier
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "attempt", ua)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("login", "attempt", ua)
	outs := map[string]string{
		"%v": fmt.Sprintf("%v", ua), "%+v": fmt.Sprintf("%+v", ua), "%#v": fmt.Sprintf("%#v", ua),
		"%s": fmt.Sprintf("%s", ua), "%q": fmt.Sprintf("%q", ua), "%x": fmt.Sprintf("%x", ua),
		"slog": logged.String(), "in struct": fmt.Sprintf("%+v %#v", struct{ A *spotauth.UserAuth }{ua}, struct{ A *spotauth.UserAuth }{ua}),
	}
	for name, out := range outs {
		if strings.Contains(out, v) || strings.Contains(out, testClientSecret) {
			t.Errorf("UserAuth printed with %s = %s; contains the verifier or secret", name, out)
		}
	}
	if got := fmt.Sprint(ua); !strings.Contains(got, "[redacted]") || !strings.Contains(got, ua.State) {
		t.Errorf("Sprint(UserAuth) = %s; want state shown and verifier [redacted]", got)
	}
}
