package spotauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

const (
	testClientID     = "abc123"
	testClientSecret = "s3cr3t"
	testRedirect     = "http://127.0.0.1:43117/callback"
	testBasic        = "Basic YWJjMTIzOnMzY3IzdA==" // from Spotify's documentation
	testVerifier     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tokenCall is one request received by a tokenServer.
type tokenCall struct {
	Auth        string
	ContentType string
	Form        url.Values
}

// tokenServer is an httptest server for /api/token whose handler the test
// chooses; it records every request.
type tokenServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []tokenCall
}

func newTokenServer(t *testing.T, h func(w http.ResponseWriter, call tokenCall, n int)) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/token" || r.Method != http.MethodPost {
			t.Errorf("request %s %s; want POST /api/token", r.Method, r.URL.Path)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		call := tokenCall{Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Form: r.PostForm}
		ts.mu.Lock()
		ts.calls = append(ts.calls, call)
		n := len(ts.calls)
		ts.mu.Unlock()
		h(w, call, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) Calls() []tokenCall {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]tokenCall(nil), ts.calls...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// steppingClock is a spotauth.Clock whose Now returns t0, t0+1m, t0+2m,
// ... on successive calls, so that a test can tell the send time from any
// later reading. Its AfterFunc is the system's: the tests using it start
// no source.
type steppingClock struct {
	mu sync.Mutex
	n  int
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return t0.Add(time.Duration(c.n-1) * time.Minute)
}

func (c *steppingClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

func testConfig(ts *tokenServer) *spotauth.Config {
	return &spotauth.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		RedirectURL:  testRedirect,
		AccountsURL:  ts.URL,
		HTTPClient:   ts.Client(),
		Retry:        spotauth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
		Clock:        &steppingClock{},
	}
}

// checkForm compares a request form with want exactly: no missing and no
// extra field.
func checkForm(t *testing.T, call string, got url.Values, want url.Values) {
	t.Helper()
	for k, v := range want {
		if g := got[k]; len(g) != 1 || g[0] != v[0] {
			t.Errorf("%s: form %s = %q; want %q", call, k, g, v[0])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: form has %s = %q; want no such field", call, k, got[k])
		}
	}
}

func TestExchange(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		opts     []spotauth.AuthCodeOption
		wantAuth string
		wantForm url.Values
		wantPKCE bool
	}{
		{
			name:     "confidential client sends Basic",
			secret:   testClientSecret,
			wantAuth: testBasic,
			wantForm: url.Values{"grant_type": {"authorization_code"}, "code": {"AQBcode"}, "redirect_uri": {testRedirect}},
		},
		{
			name:     "PKCE sends client_id and verifier, no Basic",
			opts:     []spotauth.AuthCodeOption{spotauth.VerifierOption(testVerifier)},
			wantForm: url.Values{"grant_type": {"authorization_code"}, "code": {"AQBcode"}, "redirect_uri": {testRedirect}, "client_id": {testClientID}, "code_verifier": {testVerifier}},
			wantPKCE: true,
		},
		{
			name:     "PKCE with a secret configured still sends no secret",
			secret:   testClientSecret,
			opts:     []spotauth.AuthCodeOption{spotauth.VerifierOption(testVerifier)},
			wantForm: url.Values{"grant_type": {"authorization_code"}, "code": {"AQBcode"}, "redirect_uri": {testRedirect}, "client_id": {testClientID}, "code_verifier": {testVerifier}},
			wantPKCE: true,
		},
		{
			name:     "redirect URL option with dynamic port",
			secret:   testClientSecret,
			opts:     []spotauth.AuthCodeOption{spotauth.RedirectURLOption("http://127.0.0.1:5555/callback"), spotauth.ShowDialog},
			wantAuth: testBasic,
			wantForm: url.Values{"grant_type": {"authorization_code"}, "code": {"AQBcode"}, "redirect_uri": {"http://127.0.0.1:5555/callback"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
				writeJSON(w, 200, `{"access_token":"BQDaccess","token_type":"Bearer","expires_in":3600,"refresh_token":"AQCrefresh"}`)
			})
			cfg := testConfig(ts)
			cfg.ClientSecret = tt.secret
			tok, err := cfg.Exchange(context.Background(), "AQBcode", tt.opts...)
			if err != nil {
				t.Fatalf("Exchange() gave error %v; want token", err)
			}
			calls := ts.Calls()
			if len(calls) != 1 {
				t.Fatalf("Exchange() sent %d requests; want 1", len(calls))
			}
			c := calls[0]
			if c.Auth != tt.wantAuth {
				t.Errorf("Exchange() Authorization = %q; want %q", c.Auth, tt.wantAuth)
			}
			if c.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("Exchange() Content-Type = %q; want application/x-www-form-urlencoded", c.ContentType)
			}
			checkForm(t, "Exchange()", c.Form, tt.wantForm)
			want := spotauth.Token{
				AccessToken: "BQDaccess", TokenType: "Bearer", RefreshToken: "AQCrefresh",
				Expiry: t0.Add(time.Hour), PKCE: tt.wantPKCE, AuthorizedAt: t0,
			}
			if tok.AccessToken != want.AccessToken || tok.TokenType != want.TokenType || tok.RefreshToken != want.RefreshToken ||
				!tok.Expiry.Equal(want.Expiry) || tok.PKCE != want.PKCE || !tok.AuthorizedAt.Equal(want.AuthorizedAt) {
				t.Errorf("Exchange() = %+v; want %+v (expiry from the send time)", *tok, want)
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
		writeJSON(w, 200, `{"access_token":"BQFapp","token_type":"Bearer","expires_in":3600}`)
	})
	cfg := testConfig(ts)
	tok, err := cfg.ClientCredentials(context.Background())
	if err != nil {
		t.Fatalf("ClientCredentials() gave error %v", err)
	}
	c := ts.Calls()[0]
	if c.Auth != testBasic {
		t.Errorf("ClientCredentials() Authorization = %q; want %q", c.Auth, testBasic)
	}
	checkForm(t, "ClientCredentials()", c.Form, url.Values{"grant_type": {"client_credentials"}})
	if tok.AccessToken != "BQFapp" || tok.RefreshToken != "" || tok.Scope.Len() != 0 || !tok.Expiry.Equal(t0.Add(time.Hour)) ||
		tok.PKCE || !tok.AuthorizedAt.IsZero() {
		t.Errorf("ClientCredentials() = %+v; want BQFapp, no refresh token, no scope, expiry t0+1h", *tok)
	}
}

func TestRefresh(t *testing.T) {
	authorized := t0.Add(-30 * 24 * time.Hour)
	tests := []struct {
		name        string
		pkce        bool
		resp        string
		wantAuth    string
		wantForm    url.Values
		wantRefresh string
	}{
		{
			name:        "confidential, stable: keeps the refresh token",
			resp:        `{"access_token":"BQEnew","token_type":"Bearer","expires_in":3600}`,
			wantAuth:    testBasic,
			wantForm:    url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"AQCold"}},
			wantRefresh: "AQCold",
		},
		{
			name:        "confidential, rotate: replaces the refresh token",
			resp:        `{"access_token":"BQEnew","token_type":"Bearer","expires_in":3600,"refresh_token":"AQCnew"}`,
			wantAuth:    testBasic,
			wantForm:    url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"AQCold"}},
			wantRefresh: "AQCnew",
		},
		{
			name:        "PKCE, stable: client_id in body, no Basic",
			pkce:        true,
			resp:        `{"access_token":"BQEnew","token_type":"Bearer","expires_in":3600,"refresh_token":""}`,
			wantForm:    url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"AQCold"}, "client_id": {testClientID}},
			wantRefresh: "AQCold",
		},
		{
			name:        "PKCE, rotate",
			pkce:        true,
			resp:        `{"access_token":"BQEnew","token_type":"Bearer","expires_in":3600,"refresh_token":"AQCnew"}`,
			wantForm:    url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"AQCold"}, "client_id": {testClientID}},
			wantRefresh: "AQCnew",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) { writeJSON(w, 200, tt.resp) })
			cfg := testConfig(ts)
			if tt.pkce {
				cfg.ClientSecret = "" // a public client can refresh a PKCE token
			}
			old := &spotauth.Token{AccessToken: "BQDold", TokenType: "Bearer", RefreshToken: "AQCold",
				Expiry: t0.Add(-time.Minute), PKCE: tt.pkce, AuthorizedAt: authorized}
			oldCopy := *old
			tok, err := cfg.Refresh(context.Background(), old)
			if err != nil {
				t.Fatalf("Refresh() gave error %v", err)
			}
			c := ts.Calls()[0]
			if c.Auth != tt.wantAuth {
				t.Errorf("Refresh() Authorization = %q; want %q", c.Auth, tt.wantAuth)
			}
			checkForm(t, "Refresh()", c.Form, tt.wantForm)
			if tok.AccessToken != "BQEnew" || tok.RefreshToken != tt.wantRefresh || tok.PKCE != tt.pkce ||
				!tok.AuthorizedAt.Equal(authorized) || !tok.Expiry.Equal(t0.Add(time.Hour)) {
				t.Errorf("Refresh() = %+v; want BQEnew, refresh %q, PKCE %t, AuthorizedAt kept, expiry t0+1h", *tok, tt.wantRefresh, tt.pkce)
			}
			if old.AccessToken != oldCopy.AccessToken || old.RefreshToken != oldCopy.RefreshToken || !old.Expiry.Equal(oldCopy.Expiry) {
				t.Errorf("Refresh() modified its argument: %+v; want %+v", *old, oldCopy)
			}
		})
	}
}

// TestOneAuthStylePerFlow checks that a refused request is never re-sent
// with another client-authentication style.
func TestOneAuthStylePerFlow(t *testing.T) {
	flows := map[string]func(context.Context, *spotauth.Config) error{
		"exchange": func(ctx context.Context, c *spotauth.Config) error { _, err := c.Exchange(ctx, "AQBcode"); return err },
		"exchange PKCE": func(ctx context.Context, c *spotauth.Config) error {
			_, err := c.Exchange(ctx, "AQBcode", spotauth.VerifierOption(testVerifier))
			return err
		},
		"client credentials": func(ctx context.Context, c *spotauth.Config) error { _, err := c.ClientCredentials(ctx); return err },
		"refresh": func(ctx context.Context, c *spotauth.Config) error {
			_, err := c.Refresh(ctx, &spotauth.Token{RefreshToken: "AQC"})
			return err
		},
		"refresh PKCE": func(ctx context.Context, c *spotauth.Config) error {
			_, err := c.Refresh(ctx, &spotauth.Token{RefreshToken: "AQC", PKCE: true})
			return err
		},
	}
	for name, flow := range flows {
		t.Run(name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
				writeJSON(w, 400, `{"error":"invalid_client","error_description":"Invalid client"}`)
			})
			err := flow(context.Background(), testConfig(ts))
			if !errors.Is(err, spotauth.ErrInvalidClient) {
				t.Errorf("%s = %v; want ErrInvalidClient", name, err)
			}
			if n := len(ts.Calls()); n != 1 {
				t.Errorf("%s sent %d requests; want 1 (no other auth style tried)", name, n)
			}
		})
	}
}

// TestInputValidation checks that bad input fails before any request.
func TestInputValidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(c *spotauth.Config) error
		edit func(c *spotauth.Config)
		want error
	}{
		{"exchange without client ID", func(c *spotauth.Config) error { _, err := c.Exchange(ctx, "x"); return err },
			func(c *spotauth.Config) { c.ClientID = "" }, spotauth.ErrInvalidConfig},
		{"exchange without secret or verifier", func(c *spotauth.Config) error { _, err := c.Exchange(ctx, "x"); return err },
			func(c *spotauth.Config) { c.ClientSecret = "" }, spotauth.ErrInvalidConfig},
		{"exchange without redirect URL", func(c *spotauth.Config) error { _, err := c.Exchange(ctx, "x"); return err },
			func(c *spotauth.Config) { c.RedirectURL = "" }, spotauth.ErrInvalidConfig},
		{"exchange of an empty code", func(c *spotauth.Config) error { _, err := c.Exchange(ctx, ""); return err },
			nil, spotauth.ErrMissingCode},
		{"exchange with short verifier", func(c *spotauth.Config) error {
			_, err := c.Exchange(ctx, "x", spotauth.VerifierOption("short"))
			return err
		}, nil, spotauth.ErrInvalidConfig},
		{"exchange with verifier outside the alphabet", func(c *spotauth.Config) error {
			_, err := c.Exchange(ctx, "x", spotauth.VerifierOption(strings.Repeat("a", 42)+"+"))
			return err
		}, nil, spotauth.ErrInvalidConfig},
		{"client credentials without secret", func(c *spotauth.Config) error { _, err := c.ClientCredentials(ctx); return err },
			func(c *spotauth.Config) { c.ClientSecret = "" }, spotauth.ErrInvalidConfig},
		{"client credentials without client ID", func(c *spotauth.Config) error { _, err := c.ClientCredentials(ctx); return err },
			func(c *spotauth.Config) { c.ClientID = "" }, spotauth.ErrInvalidConfig},
		{"refresh of nil", func(c *spotauth.Config) error { _, err := c.Refresh(ctx, nil); return err },
			nil, spotauth.ErrNoRefreshToken},
		{"refresh without refresh token", func(c *spotauth.Config) error {
			_, err := c.Refresh(ctx, &spotauth.Token{AccessToken: "BQF"})
			return err
		}, nil, spotauth.ErrNoRefreshToken},
		{"refresh of a secret token without secret", func(c *spotauth.Config) error {
			_, err := c.Refresh(ctx, &spotauth.Token{RefreshToken: "AQC"})
			return err
		}, func(c *spotauth.Config) { c.ClientSecret = "" }, spotauth.ErrInvalidConfig},
		{"refresh without client ID", func(c *spotauth.Config) error {
			_, err := c.Refresh(ctx, &spotauth.Token{RefreshToken: "AQC", PKCE: true})
			return err
		}, func(c *spotauth.Config) { c.ClientID = "" }, spotauth.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
				writeJSON(w, 200, `{"access_token":"x","expires_in":3600}`)
			})
			cfg := testConfig(ts)
			if tt.edit != nil {
				tt.edit(cfg)
			}
			err := tt.call(cfg)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s = %v; want %v", tt.name, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "spotauth: ") {
				t.Errorf("%s error %q does not start with \"spotauth: \"", tt.name, err)
			}
			if n := len(ts.Calls()); n != 0 {
				t.Errorf("%s sent %d requests; want 0", tt.name, n)
			}
		})
	}
}

// TestSpotifyErrors checks that each error body of the spec matches its
// sentinels, for the grant that produces it.
func TestSpotifyErrors(t *testing.T) {
	tests := []struct {
		name    string
		grant   string
		status  int
		body    string
		want    []error
		notWant []error
	}{
		{"unsupported grant type", "client_credentials", 400, `{"error":"unsupported_grant_type","error_description":"grant_type parameter is missing"}`,
			[]error{spotauth.ErrUnsupportedGrantType}, []error{spotauth.ErrBadResponse}},
		{"invalid client", "client_credentials", 400, `{"error":"invalid_client","error_description":"Invalid client secret"}`,
			[]error{spotauth.ErrInvalidClient}, []error{spotauth.ErrInvalidGrant}},
		{"invalid code", "authorization_code", 400, `{"error":"invalid_grant","error_description":"Invalid authorization code"}`,
			[]error{spotauth.ErrInvalidGrant}, []error{spotauth.ErrReauthorize}},
		{"expired code", "authorization_code", 400, `{"error":"invalid_grant","error_description":"Authorization code expired"}`,
			[]error{spotauth.ErrInvalidGrant}, []error{spotauth.ErrReauthorize}},
		{"verifier required", "authorization_code", 400, `{"error":"invalid_request","error_description":"code_verifier required"}`,
			[]error{spotauth.ErrInvalidRequest}, []error{spotauth.ErrInvalidGrant}},
		{"revoked refresh token", "refresh_token", 400, `{"error":"invalid_grant","error_description":"Refresh token revoked"}`,
			[]error{spotauth.ErrInvalidGrant, spotauth.ErrReauthorize}, []error{spotauth.ErrServerError}},
		{"invalid refresh token, no description", "refresh_token", 400, `{"error":"invalid_grant"}`,
			[]error{spotauth.ErrInvalidGrant, spotauth.ErrReauthorize}, nil},
		{"invalid scope", "authorization_code", 400, `{"error":"invalid_scope"}`,
			[]error{spotauth.ErrInvalidScope}, nil},
		{"html page", "client_credentials", 400, `<html>oops</html>`,
			[]error{spotauth.ErrBadResponse}, []error{spotauth.ErrInvalidClient}},
		{"server error page", "authorization_code", 503, `<html>down</html>`,
			[]error{spotauth.ErrServerError, spotauth.ErrBadResponse}, []error{spotauth.ErrInvalidGrant}},
		{"server error JSON", "client_credentials", 500, `{"error":"server_error","error_description":"Internal server error"}`,
			[]error{spotauth.ErrServerError}, []error{spotauth.ErrBadResponse}},
		{"rate limited", "authorization_code", 429, `{"error":{"status":429,"message":"API rate limit exceeded"}}`,
			[]error{spotauth.ErrRateLimited}, []error{spotauth.ErrBadResponse}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
				if tt.status == 429 {
					w.Header().Set("Retry-After", "3600") // beyond MaxRetryAfter: returned at once
				}
				writeJSON(w, tt.status, tt.body)
			})
			cfg := testConfig(ts)
			cfg.Retry.MaxAttempts = 1
			var err error
			switch tt.grant {
			case "authorization_code":
				_, err = cfg.Exchange(context.Background(), "AQBcode")
			case "refresh_token":
				_, err = cfg.Refresh(context.Background(), &spotauth.Token{RefreshToken: "AQC"})
			default:
				_, err = cfg.ClientCredentials(context.Background())
			}
			var te *spotauth.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("%s error = %v; want *TokenError", tt.grant, err)
			}
			if te.Grant != tt.grant || te.StatusCode != tt.status {
				t.Errorf("TokenError grant, status = %q, %d; want %q, %d", te.Grant, te.StatusCode, tt.grant, tt.status)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("errors.Is(%v, %v) = false; want true", err, w)
				}
			}
			for _, w := range tt.notWant {
				if errors.Is(err, w) {
					t.Errorf("errors.Is(%v, %v) = true; want false", err, w)
				}
			}
		})
	}
}

func TestGrantedScopes(t *testing.T) {
	old := spotauth.NewScopes(spotauth.ScopeUserReadEmail)
	tests := []struct {
		name string
		resp string
		want spotauth.Scopes
	}{
		{"scopes granted", `{"access_token":"x","token_type":"Bearer","expires_in":3600,"scope":"user-read-private playlist-read-private"}`,
			spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopePlaylistReadPrivate)},
		{"unknown scope kept", `{"access_token":"x","token_type":"Bearer","expires_in":3600,"scope":"user-read-private future-scope"}`,
			spotauth.NewScopes(spotauth.ScopeUserReadPrivate, "future-scope")},
		{"scope missing keeps the old ones", `{"access_token":"x","token_type":"Bearer","expires_in":3600}`, old},
		{"scope empty keeps the old ones", `{"access_token":"x","token_type":"Bearer","expires_in":3600,"scope":""}`, old},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) { writeJSON(w, 200, tt.resp) })
			tok, err := testConfig(ts).Refresh(context.Background(), &spotauth.Token{RefreshToken: "AQC", Scope: old})
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Scope.Equal(tt.want) {
				t.Errorf("Refresh() scope = %q; want %q", tok.Scope, tt.want)
			}
		})
	}
	ts := newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
		writeJSON(w, 200, `{"access_token":"x","token_type":"Bearer","expires_in":3600,"scope":""}`)
	})
	tok, err := testConfig(ts).Exchange(context.Background(), "AQBcode")
	if err != nil || tok.Scope.Len() != 0 {
		t.Errorf("Exchange() with scope \"\" = %v, %v; want no scopes", tok, err)
	}
}

func BenchmarkAuthCodeURL(b *testing.B) {
	cfg := spotauth.Config{ClientID: testClientID, RedirectURL: testRedirect,
		Scopes: spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopePlaylistReadPrivate)}
	opt := spotauth.S256ChallengeOption(testVerifier)
	b.ReportAllocs()
	for b.Loop() {
		cfg.AuthCodeURL("Zk3qstate", opt)
	}
}

// BenchmarkClientCredentials measures a whole token request over loopback.
func BenchmarkClientCredentials(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"access_token":"BQFapp","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	cfg := spotauth.Config{ClientID: testClientID, ClientSecret: testClientSecret,
		AccountsURL: srv.URL, HTTPClient: srv.Client()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cfg.ClientCredentials(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// End-to-end tests against spotauthtest, the fake Accounts service.

// newFake starts a fake with automatic consent and a stopped clock.
func newFake(t *testing.T, edit func(*spotauthtest.Server)) *spotauthtest.Server {
	t.Helper()
	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true
	srv.Clock = spotauthtest.NewClock(t0)
	if edit != nil {
		edit(srv)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func fakeConfig(srv *spotauthtest.Server) *spotauth.Config {
	return &spotauth.Config{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		RedirectURL:  srv.RedirectURI,
		AccountsURL:  srv.URL,
		HTTPClient:   srv.Client(),
		Retry:        spotauth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
		Clock:        fakeClock(srv),
	}
}

// fakeClock returns the fake's clock, which drives the library too.
func fakeClock(srv *spotauthtest.Server) spotauth.Clock { return srv.Clock }

// The fake's clock is a spotauth.Clock.
var _ spotauth.Clock = (*spotauthtest.Clock)(nil)

// TestFakeClockDrivesSource: one spotauthtest.Clock drives the fake's
// token lifetimes and a source's refreshes. Advancing it into the refresh
// window fires the source's timer, which refreshes once; the fake, on the
// same clock, issued the new token an hour later than the first.
func TestFakeClockDrivesSource(t *testing.T) {
	clock := spotauthtest.NewClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	srv := spotauthtest.NewUnstartedServer()
	srv.Clock = clock
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := fakeConfig(srv)
	tok, err := cfg.ClientCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Expiry, clock.Now().Add(time.Hour); !got.Equal(want) {
		t.Fatalf("Expiry = %v; want %v, an hour on the shared clock", got, want)
	}
	refreshed := make(chan *spotauth.Token, 4)
	src := cfg.AppSource(&spotauth.SourceOptions{Jitter: -1, OnRefresh: func(t *spotauth.Token) { refreshed <- t }})
	defer src.Close()
	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(56 * time.Minute) // into the 5-minute window: the timer fires
	var second *spotauth.Token
	for second == nil || second.AccessToken == first.AccessToken {
		select {
		case second = <-refreshed:
		case <-time.After(10 * time.Second):
			t.Fatal("no refresh after the shared clock reached the refresh window")
		}
	}
	if got, want := second.Expiry, clock.Now().Add(time.Hour); !got.Equal(want) {
		t.Errorf("refreshed Expiry = %v; want %v", got, want)
	}
	if got, err := src.Token(context.Background()); err != nil || got.AccessToken != second.AccessToken {
		t.Errorf("Token() = %v, %v; want the refreshed token", got, err)
	}
}

// browse plays the browser: GET authURL without following the redirect,
// and return the Location it redirects to.
func browse(t *testing.T, srv *spotauthtest.Server, authURL string) string {
	t.Helper()
	c := &http.Client{
		Transport:     srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /authorize = %d; want 302", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// me calls the fake Web API's /v1/me with tok and returns the status.
func me(t *testing.T, srv *spotauthtest.Server, tok *spotauth.Token) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /v1/me: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// login runs a whole browser login and returns the token.
func login(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, pkce bool, opts ...spotauth.AuthCodeOption) *spotauth.Token {
	t.Helper()
	ua, err := cfg.NewUserAuth(pkce, opts...)
	if err != nil {
		t.Fatalf("NewUserAuth(%t) = %v", pkce, err)
	}
	tok, err := ua.Exchange(context.Background(), browse(t, srv, ua.URL))
	if err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	return tok
}

func TestFakeAuthorizationCodeFlows(t *testing.T) {
	scopes := spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserReadEmail)
	tests := []struct {
		name   string
		pkce   bool
		public bool // the app has no secret
		port   int  // 0: the registered, portless URI
		opts   []spotauth.AuthCodeOption
	}{
		{name: "confidential"},
		{name: "confidential, dynamic port", port: 43117},
		{name: "PKCE", pkce: true},
		{name: "PKCE, public client, dynamic port", pkce: true, public: true, port: 50001},
		{name: "PKCE, show dialog and scopes", pkce: true, opts: []spotauth.AuthCodeOption{spotauth.ShowDialog, spotauth.ScopesOption(scopes)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, func(s *spotauthtest.Server) {
				if tt.public {
					s.ClientSecret = ""
				}
			})
			cfg := fakeConfig(srv)
			opts := tt.opts
			if tt.port != 0 {
				uri, err := spotauth.WithRedirectPort(cfg.RedirectURL, tt.port)
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, spotauth.RedirectURLOption(uri))
			}
			tok := login(t, srv, cfg, tt.pkce, opts...)
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.PKCE != tt.pkce ||
				!tok.Expiry.Equal(t0.Add(time.Hour)) || !tok.AuthorizedAt.Equal(t0) {
				t.Errorf("login = %v; want a Bearer token with refresh token, PKCE=%t, expiry t0+1h, authorized t0", tok, tt.pkce)
			}
			if tt.opts != nil && !tok.Scope.Equal(scopes) {
				t.Errorf("login scope = %q; want %q", tok.Scope, scopes)
			}
			if status, body := me(t, srv, tok); status != 200 || body["id"] == nil {
				t.Errorf("GET /v1/me = %d %v; want 200 with the user", status, body)
			}
			log := srv.TokenLog()
			wantAuth := spotauthtest.AuthBasic
			if tt.pkce {
				wantAuth = spotauthtest.AuthPublic
			}
			if len(log) != 1 || log[0].Grant != "authorization_code" || log[0].Auth != wantAuth {
				t.Errorf("token log = %+v; want one authorization_code request authenticated %q", log, wantAuth)
			}

			// Refresh with the same auth style, stable mode: same refresh token.
			srv.Clock.Advance(2 * time.Hour)
			nt, err := cfg.Refresh(context.Background(), tok)
			if err != nil {
				t.Fatalf("Refresh() = %v", err)
			}
			if nt.AccessToken == tok.AccessToken || nt.RefreshToken != tok.RefreshToken || nt.PKCE != tt.pkce ||
				!nt.AuthorizedAt.Equal(t0) || !nt.Expiry.Equal(t0.Add(3*time.Hour)) {
				t.Errorf("Refresh() = %v; want a new access token, the same refresh token, AuthorizedAt t0, expiry now+1h", nt)
			}
			if status, _ := me(t, srv, nt); status != 200 {
				t.Errorf("GET /v1/me with the refreshed token = %d; want 200", status)
			}
			if log := srv.TokenLog(); log[len(log)-1].Auth != wantAuth {
				t.Errorf("refresh authenticated %q; want %q", log[len(log)-1].Auth, wantAuth)
			}
		})
	}
}

func TestFakeRefreshModes(t *testing.T) {
	ctx := context.Background()
	for _, pkce := range []bool{false, true} {
		t.Run(fmt.Sprintf("stable/pkce=%t", pkce), func(t *testing.T) {
			srv := newFake(t, nil)
			cfg := fakeConfig(srv)
			tok := login(t, srv, cfg, pkce)
			for i := range 3 {
				nt, err := cfg.Refresh(ctx, tok) // the original token each time: it stays valid
				if err != nil || nt.RefreshToken != tok.RefreshToken {
					t.Fatalf("Refresh() #%d = %v, %v; want the same refresh token", i, nt, err)
				}
			}
			if got := srv.Stats().RefreshesSucceeded; got != 3 {
				t.Errorf("Stats().RefreshesSucceeded = %d; want 3", got)
			}
		})
		t.Run(fmt.Sprintf("rotate/pkce=%t", pkce), func(t *testing.T) {
			srv := newFake(t, func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate })
			cfg := fakeConfig(srv)
			tok := login(t, srv, cfg, pkce)
			nt, err := cfg.Refresh(ctx, tok)
			if err != nil || nt.RefreshToken == "" || nt.RefreshToken == tok.RefreshToken {
				t.Fatalf("Refresh() = %v, %v; want a new refresh token", nt, err)
			}
			if _, err := cfg.Refresh(ctx, nt); err != nil {
				t.Errorf("Refresh(rotated token) = %v; want success", err)
			}
			before := srv.Stats().TokenRequests
			_, err = cfg.Refresh(ctx, tok)
			var te *spotauth.TokenError
			if !errors.Is(err, spotauth.ErrReauthorize) || !errors.As(err, &te) || te.Description != "Refresh token revoked" {
				t.Errorf("Refresh(superseded token) = %v; want ErrReauthorize, Refresh token revoked", err)
			}
			if n := srv.Stats().TokenRequests - before; n != 1 {
				t.Errorf("Refresh(superseded token) sent %d requests; want 1 (invalid_grant is never retried)", n)
			}
		})
	}
}

func TestFakeReauthorize(t *testing.T) {
	tests := []struct {
		name     string
		kill     func(srv *spotauthtest.Server, tok *spotauth.Token)
		wantDesc string
	}{
		{"revoked grant", func(srv *spotauthtest.Server, tok *spotauth.Token) { srv.RevokeGrant(tok.RefreshToken) }, "Refresh token revoked"},
		{"expired refresh token", func(srv *spotauthtest.Server, tok *spotauth.Token) { srv.ExpireRefreshTokens() }, "Refresh token expired"},
		{"six months later", func(srv *spotauthtest.Server, tok *spotauth.Token) { srv.Clock.Advance(6*31*24*time.Hour + time.Hour) }, "Refresh token expired"},
		{"unknown refresh token", func(srv *spotauthtest.Server, tok *spotauth.Token) { tok.RefreshToken = "AQCnot-a-token" }, "Invalid refresh token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, nil)
			cfg := fakeConfig(srv)
			tok := login(t, srv, cfg, true)
			tt.kill(srv, tok)
			before := srv.Stats().TokenRequests
			_, err := cfg.Refresh(context.Background(), tok)
			var te *spotauth.TokenError
			if !errors.Is(err, spotauth.ErrReauthorize) || !errors.Is(err, spotauth.ErrInvalidGrant) || !errors.As(err, &te) || te.Description != tt.wantDesc {
				t.Errorf("Refresh() = %v; want ErrReauthorize with %q", err, tt.wantDesc)
			}
			if n := srv.Stats().TokenRequests - before; n != 1 {
				t.Errorf("Refresh() sent %d requests; want 1", n)
			}
		})
	}
}

func TestFakeClientCredentials(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, nil)
	cfg := fakeConfig(srv)
	tok, err := cfg.ClientCredentials(ctx)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken != "" || tok.Scope.Len() != 0 || !tok.Expiry.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ClientCredentials() = %v, %v; want an app token without refresh token or scope", tok, err)
	}
	if log := srv.TokenLog(); log[0].Auth != spotauthtest.AuthBasic {
		t.Errorf("ClientCredentials() authenticated %q; want basic", log[0].Auth)
	}
	tests := []struct {
		name     string
		edit     func(*spotauth.Config)
		wantDesc string
	}{
		{"wrong secret", func(c *spotauth.Config) { c.ClientSecret = "wrong" }, "Invalid client secret"},
		{"unknown client", func(c *spotauth.Config) { c.ClientID = "nobody" }, "Invalid client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeConfig(srv)
			tt.edit(c)
			before := srv.Stats().TokenRequests
			_, err := c.ClientCredentials(ctx)
			var te *spotauth.TokenError
			if !errors.Is(err, spotauth.ErrInvalidClient) || !errors.As(err, &te) || te.Description != tt.wantDesc {
				t.Errorf("ClientCredentials() = %v; want ErrInvalidClient, %q", err, tt.wantDesc)
			}
			if n := srv.Stats().TokenRequests - before; n != 1 {
				t.Errorf("ClientCredentials() sent %d requests; want 1", n)
			}
			if strings.Contains(err.Error(), c.ClientSecret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestFakeExchangeErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		pkce     bool
		run      func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error
		want     error
		wantDesc string
	}{
		{"wrong verifier", true, func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error {
			_, err := cfg.Exchange(ctx, code, spotauth.VerifierOption(spotauth.GenerateVerifier()))
			return err
		}, spotauth.ErrInvalidGrant, "code_verifier was incorrect"},
		{"PKCE code exchanged with the secret", true, func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error {
			_, err := cfg.Exchange(ctx, code)
			return err
		}, spotauth.ErrInvalidRequest, "code_verifier required"},
		{"expired code", true, func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error {
			srv.Clock.Advance(11 * time.Minute)
			_, err := ua.Exchange(ctx, "?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(ua.State))
			return err
		}, spotauth.ErrInvalidGrant, "Authorization code expired"},
		{"reused code", false, func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error {
			if _, err := ua.Exchange(ctx, "?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(ua.State)); err != nil {
				t.Fatalf("first exchange = %v", err)
			}
			_, err := cfg.Exchange(ctx, code)
			return err
		}, spotauth.ErrInvalidGrant, "Invalid authorization code"},
		{"other redirect URI", false, func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error {
			_, err := cfg.Exchange(ctx, code, spotauth.RedirectURLOption("http://127.0.0.1:9/callback"))
			return err
		}, spotauth.ErrInvalidGrant, "Invalid redirect URI"},
		{"wrong secret", false, func(t *testing.T, srv *spotauthtest.Server, cfg *spotauth.Config, ua *spotauth.UserAuth, code string) error {
			cfg.ClientSecret = "wrong"
			_, err := cfg.Exchange(ctx, code)
			return err
		}, spotauth.ErrInvalidClient, "Invalid client secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, nil)
			cfg := fakeConfig(srv)
			ua, err := cfg.NewUserAuth(tt.pkce)
			if err != nil {
				t.Fatal(err)
			}
			code, err := spotauth.ParseCode(browse(t, srv, ua.URL))
			if err != nil {
				t.Fatal(err)
			}
			err = tt.run(t, srv, cfg, ua, code)
			var te *spotauth.TokenError
			if !errors.Is(err, tt.want) || !errors.As(err, &te) || te.Description != tt.wantDesc || te.Grant != "authorization_code" {
				t.Errorf("exchange = %v; want %v with %q", err, tt.want, tt.wantDesc)
			}
			if errors.Is(err, spotauth.ErrReauthorize) {
				t.Errorf("exchange = %v; matches ErrReauthorize, which is for refreshes", err)
			}
		})
	}
}

func TestFakeAccessDenied(t *testing.T) {
	srv := newFake(t, func(s *spotauthtest.Server) { s.Deny = true })
	cfg := fakeConfig(srv)
	ua, err := cfg.NewUserAuth(true)
	if err != nil {
		t.Fatal(err)
	}
	redirect := browse(t, srv, ua.URL)
	_, err = ua.Exchange(context.Background(), redirect)
	var ae *spotauth.AuthorizeError
	if !errors.Is(err, spotauth.ErrAccessDenied) || !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("Exchange(%q) = %v; want *AuthorizeError access_denied", redirect, err)
	}
	if n := srv.Stats().TokenRequests; n != 0 {
		t.Errorf("denied login sent %d token requests; want 0", n)
	}
	// A forged redirect with the right code but another state never reaches the server.
	srv2 := newFake(t, nil)
	cfg2 := fakeConfig(srv2)
	ua2, _ := cfg2.NewUserAuth(true)
	code, _ := spotauth.ParseCode(browse(t, srv2, ua2.URL))
	forged := testRedirect + "?code=" + url.QueryEscape(code) + "&state=" + spotauth.GenerateState()
	if _, err := ua2.Exchange(context.Background(), forged); !errors.Is(err, spotauth.ErrStateMismatch) {
		t.Errorf("Exchange(forged state) = %v; want ErrStateMismatch", err)
	}
	if n := srv2.Stats().TokenRequests; n != 0 {
		t.Errorf("forged redirect sent %d token requests; want 0", n)
	}
}

func TestFakeFaults(t *testing.T) {
	type outcome struct {
		ok       bool
		requests int
		is       error
	}
	tests := []struct {
		name  string
		fault spotauthtest.Fault
		n     int // faults queued
		cc    outcome
		code  outcome
	}{
		{"429 without Retry-After", spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: -1}, 1,
			outcome{true, 2, nil}, outcome{true, 2, nil}},
		{"429 with a long Retry-After", spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: time.Hour}, 1,
			outcome{false, 1, spotauth.ErrRateLimited}, outcome{false, 1, spotauth.ErrRateLimited}},
		{"503", spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable}, 1,
			outcome{true, 2, nil}, outcome{false, 1, spotauth.ErrServerError}},
		{"500 three times", spotauthtest.Fault{Kind: spotauthtest.FaultServerError}, 3,
			outcome{true, 4, nil}, outcome{false, 1, spotauth.ErrServerError}},
		{"500 always", spotauthtest.Fault{Kind: spotauthtest.FaultServerError}, 10,
			outcome{false, 4, spotauth.ErrServerError}, outcome{false, 1, spotauth.ErrServerError}},
		{"HTML 502 from a proxy", spotauthtest.Fault{Kind: spotauthtest.FaultHTML}, 1,
			outcome{true, 2, nil}, outcome{false, 1, spotauth.ErrServerError}},
		{"HTML 200", spotauthtest.Fault{Kind: spotauthtest.FaultHTML, Status: 200}, 1,
			outcome{false, 1, spotauth.ErrBadResponse}, outcome{false, 1, spotauth.ErrBadResponse}},
		{"malformed JSON", spotauthtest.Fault{Kind: spotauthtest.FaultMalformedJSON}, 1,
			outcome{false, 1, spotauth.ErrBadResponse}, outcome{false, 1, spotauth.ErrBadResponse}},
		{"wrong shape", spotauthtest.Fault{Kind: spotauthtest.FaultWrongShape}, 1,
			outcome{false, 1, spotauth.ErrBadResponse}, outcome{false, 1, spotauth.ErrBadResponse}},
		{"empty body", spotauthtest.Fault{Kind: spotauthtest.FaultEmptyBody}, 1,
			outcome{false, 1, spotauth.ErrBadResponse}, outcome{false, 1, spotauth.ErrBadResponse}},
		{"truncated", spotauthtest.Fault{Kind: spotauthtest.FaultTruncated}, 1,
			outcome{true, 2, nil}, outcome{false, 1, nil}},
		{"dropped connection", spotauthtest.Fault{Kind: spotauthtest.FaultDrop}, 1,
			outcome{true, 2, nil}, outcome{false, 1, nil}},
		{"invalid_grant", spotauthtest.Fault{Kind: spotauthtest.FaultError}, 1,
			outcome{false, 1, spotauth.ErrInvalidGrant}, outcome{false, 1, spotauth.ErrInvalidGrant}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name+"/client_credentials", func(t *testing.T) {
			srv := newFake(t, nil)
			srv.FailToken(tt.n, tt.fault)
			_, err := fakeConfig(srv).ClientCredentials(ctx)
			check(t, "ClientCredentials()", err, srv.Stats().TokenRequests, tt.cc.ok, tt.cc.requests, tt.cc.is, srv.ClientSecret)
		})
		t.Run(tt.name+"/refresh", func(t *testing.T) {
			srv := newFake(t, nil)
			cfg := fakeConfig(srv)
			_, refresh := srv.IssueUserToken(srv.ClientID, nil, true)
			srv.FailToken(tt.n, tt.fault)
			_, err := cfg.Refresh(ctx, &spotauth.Token{RefreshToken: refresh, PKCE: true})
			check(t, "Refresh()", err, srv.Stats().TokenRequests, tt.cc.ok, tt.cc.requests, tt.cc.is, refresh)
		})
		t.Run(tt.name+"/authorization_code", func(t *testing.T) {
			srv := newFake(t, nil)
			cfg := fakeConfig(srv)
			ua, _ := cfg.NewUserAuth(true)
			redirect := browse(t, srv, ua.URL)
			srv.FailToken(tt.n, tt.fault)
			_, err := ua.Exchange(ctx, redirect)
			code, _ := spotauth.ParseCode(redirect)
			check(t, "Exchange()", err, srv.Stats().TokenRequests, tt.code.ok, tt.code.requests, tt.code.is, ua.Verifier, code)
		})
	}
}

// check compares a flow's outcome with the expected one, and checks that
// the error shows none of secrets in any format.
func check(t *testing.T, call string, err error, requests int, ok bool, wantRequests int, is error, secrets ...string) {
	t.Helper()
	if err != nil {
		for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, s := range secrets {
				if s != "" && strings.Contains(out, s) {
					t.Errorf("%s error %q contains a secret", call, out)
				}
			}
		}
	}
	if (err == nil) != ok {
		t.Errorf("%s = %v; want ok=%t", call, err, ok)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("%s = %v; want %v", call, err, is)
	}
	if requests != wantRequests {
		t.Errorf("%s sent %d requests; want %d", call, requests, wantRequests)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "spotauth: ") {
		t.Errorf("%s error %q lacks the spotauth: prefix", call, err)
	}
}

func TestFakeTimeout(t *testing.T) {
	srv := newFake(t, nil)
	srv.FailToken(5, spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fakeConfig(srv).ClientCredentials(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ClientCredentials(slow server) = %v; want context.DeadlineExceeded", err)
	}
	// Only the deadline can end the call before the fake's hour.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("ClientCredentials(slow server) returned after %v; want at the 100ms deadline, not after the server's delay", d)
	}
}

// TestFakeScopes checks the scope constants against the fake's own list of
// Spotify's scopes: every preset and the 19 standard scopes are granted as
// requested, the Open Access scopes only to a partner, and a scope Spotify
// removed is refused with its error page.
func TestFakeScopes(t *testing.T) {
	standard := spotauth.StandardScopes()
	every := spotauth.ReadScopes().Union(spotauth.WriteScopes())
	tests := []struct {
		name    string
		scopes  spotauth.Scopes
		partner bool
		refused bool
	}{
		{"ReadScopes", spotauth.ReadScopes(), false, false},
		{"WriteScopes", spotauth.WriteScopes(), false, false},
		{"ReadScopes and WriteScopes", every, false, false},
		{"19 standard", standard, false, false},
		{"Open Access, partner", spotauth.OpenAccessScopes(), true, false},
		{"Open Access, not a partner", spotauth.OpenAccessScopes(), false, true},
		{"removed scope", spotauth.NewScopes(spotauth.ScopeUserReadPrivate, "user-read-birthdate"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, nil)
			cfg := fakeConfig(srv)
			if tt.partner {
				if err := srv.AddApp(spotauthtest.App{ClientID: "partner", ClientSecret: "partner-secret", RedirectURIs: []string{srv.RedirectURI}, OpenAccess: true}); err != nil {
					t.Fatal(err)
				}
				cfg.ClientID, cfg.ClientSecret = "partner", "partner-secret"
			}
			ua, err := cfg.NewUserAuth(false, spotauth.ScopesOption(tt.scopes))
			if err != nil {
				t.Fatal(err)
			}
			landed, err := srv.Authorize(ua.URL, true)
			if tt.refused {
				if err == nil || !strings.Contains(err.Error(), "Illegal scope") {
					t.Errorf("fake /authorize with %v = %v, %v; want the Illegal scope page", tt.scopes, landed, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("fake /authorize with %v = %v; want a redirect", tt.scopes, err)
			}
			tok, err := ua.Exchange(context.Background(), landed.String())
			if err != nil {
				t.Fatalf("Exchange() = %v", err)
			}
			if !tok.Scope.Equal(tt.scopes) {
				t.Errorf("granted scopes = %v; want %v", tok.Scope, tt.scopes)
			}
			if missing := every.Difference(tok.Scope); tt.scopes.ContainsAll(every) != (missing.Len() == 0) || tok.Scope.ContainsAll(every) != (missing.Len() == 0) {
				t.Errorf("every.Difference(granted) = %v with %v granted", missing, tok.Scope)
			}
		})
	}
	if standard.Len() != 19 || spotauth.OpenAccessScopes().Len() != 5 {
		t.Errorf("StandardScopes().Len(), OpenAccessScopes().Len() = %d, %d; want 19, 5", standard.Len(), spotauth.OpenAccessScopes().Len())
	}
}
