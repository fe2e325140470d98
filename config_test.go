package spotauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spotauth/spotauth"
)

// TestAccountsURL: AccountsURL is a base URL; "" means Spotify's, and
// trailing slashes are dropped, for /authorize and /api/token alike.
func TestAccountsURL(t *testing.T) {
	var gotPath atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath.Store(r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"BQF","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	tests := []struct {
		base      string
		authorize string
		tokenPath string // "" when not requested
	}{
		{"", "https://accounts.spotify.com/authorize?", ""},
		{spotauth.SpotifyAccountsURL, "https://accounts.spotify.com/authorize?", ""},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/authorize?", ""},
		{"https://proxy.example/spotify//", "https://proxy.example/spotify/authorize?", ""},
		{srv.URL, srv.URL + "/authorize?", "/api/token"},
		{srv.URL + "/spotify//", srv.URL + "/spotify/authorize?", "/spotify/api/token"},
	}
	for _, tt := range tests {
		cfg := spotauth.Config{ClientID: "id", ClientSecret: "secret", AccountsURL: tt.base, HTTPClient: srv.Client()}
		if got := cfg.AuthCodeURL("st"); !strings.HasPrefix(got, tt.authorize+"client_id=id&") {
			t.Errorf("Config{AccountsURL: %q}.AuthCodeURL() = %s; want it to start %sclient_id=id&", tt.base, got, tt.authorize)
		}
		if tt.tokenPath == "" {
			continue
		}
		if _, err := cfg.ClientCredentials(context.Background()); err != nil {
			t.Errorf("Config{AccountsURL: %q}.ClientCredentials() = %v", tt.base, err)
		}
		if got, _ := gotPath.Load().(string); got != tt.tokenPath {
			t.Errorf("Config{AccountsURL: %q} sent the token request to %q; want %q", tt.base, got, tt.tokenPath)
		}
	}
}

func TestAuthCodeURL(t *testing.T) {
	base := spotauth.Config{ClientID: "abc123", RedirectURL: "http://127.0.0.1:43117/callback"}
	const prefix = "https://accounts.spotify.com/authorize?client_id=abc123&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A43117%2Fcallback"
	tests := []struct {
		name  string
		cfg   spotauth.Config
		state string
		opts  []spotauth.AuthCodeOption
		want  string
	}{
		{"minimal", base, "st", nil, prefix + "&state=st"},
		{"show dialog", base, "st", []spotauth.AuthCodeOption{spotauth.ShowDialog}, prefix + "&state=st&show_dialog=true"},
		{"PKCE challenge (RFC 7636 vector)", base, "st", []spotauth.AuthCodeOption{spotauth.S256ChallengeOption(testVerifier)},
			prefix + "&state=st&code_challenge_method=S256&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		{"state escaped", base, "a b+c/=", nil, prefix + "&state=a%20b%2Bc%2F%3D"},
		{"empty state left out", base, "", nil, prefix},
		{"redirect option", base, "st", []spotauth.AuthCodeOption{spotauth.RedirectURLOption("myapp://cb")},
			"https://accounts.spotify.com/authorize?client_id=abc123&response_type=code&redirect_uri=myapp%3A%2F%2Fcb&state=st"},
		{"verifier option ignored", base, "st", []spotauth.AuthCodeOption{spotauth.VerifierOption(testVerifier), nil}, prefix + "&state=st"},
		{"accounts URL", spotauth.Config{ClientID: "id", AccountsURL: "http://127.0.0.1:1/"}, "st", nil,
			"http://127.0.0.1:1/authorize?client_id=id&response_type=code&state=st"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.AuthCodeURL(tt.state, tt.opts...); got != tt.want {
				t.Errorf("AuthCodeURL(%q) =\n%s\nwant\n%s", tt.state, got, tt.want)
			}
		})
	}
}

func TestAuthCodeURLScopes(t *testing.T) {
	cfg := spotauth.Config{ClientID: "abc123", RedirectURL: testRedirect,
		Scopes: spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopePlaylistReadPrivate)}
	got := cfg.AuthCodeURL("st")
	if !strings.Contains(got, "&scope=playlist-read-private%20user-read-private&") && !strings.HasSuffix(got, "&scope=playlist-read-private%20user-read-private") {
		t.Errorf("AuthCodeURL() = %s; want scope=playlist-read-private%%20user-read-private (spaces as %%20)", got)
	}
	if strings.Contains(got, "+") {
		t.Errorf("AuthCodeURL() = %s; want no '+' in it", got)
	}
	got = cfg.AuthCodeURL("st", spotauth.ScopesOption(spotauth.NewScopes(spotauth.ScopeStreaming)))
	if !strings.Contains(got, "&scope=streaming") || strings.Contains(got, "user-read-private") {
		t.Errorf("AuthCodeURL(ScopesOption(streaming)) = %s; want only scope=streaming", got)
	}
	got = cfg.AuthCodeURL("st", spotauth.ScopesOption(spotauth.Scopes{}))
	if strings.Contains(got, "scope=") {
		t.Errorf("AuthCodeURL(ScopesOption(empty)) = %s; want no scope parameter", got)
	}
	u, err := url.Parse(cfg.AuthCodeURL("st"))
	if err != nil {
		t.Fatal(err)
	}
	if s := u.Query().Get("scope"); s != "playlist-read-private user-read-private" {
		t.Errorf("AuthCodeURL() scope decodes to %q; want the space-separated scopes", s)
	}
}

func TestBasicAuth(t *testing.T) {
	tests := []struct {
		id, secret, want string
	}{
		{"abc123", "s3cr3t", "Basic YWJjMTIzOnMzY3IzdA=="}, // Spotify's documented example
		{"", "", "Basic Og=="},
		// Standard base64 keeps '+' and '/', where Python spotify's
		// build_auth_token (urlsafe_b64encode) would give '-' and '_'.
		{"i", "\xfb\xff", "Basic aTr7/w=="},
		{"id>", "?", "Basic aWQ+Oj8="},
	}
	for _, tt := range tests {
		got := spotauth.BasicAuth(tt.id, tt.secret)
		if got != tt.want {
			t.Errorf("BasicAuth(%q, %q) = %q; want %q", tt.id, tt.secret, got, tt.want)
		}
		dec, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, "Basic "))
		if err != nil || string(dec) != tt.id+":"+tt.secret {
			t.Errorf("BasicAuth(%q, %q) decodes to %q, %v; want %q", tt.id, tt.secret, dec, err, tt.id+":"+tt.secret)
		}
	}
}

func TestS256Challenge(t *testing.T) {
	// RFC 7636 Appendix B.
	if got, want := spotauth.S256Challenge(testVerifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; got != want {
		t.Errorf("S256Challenge(%q) = %q; want %q", testVerifier, got, want)
	}
	for range 20 {
		c := spotauth.S256Challenge(spotauth.GenerateVerifier())
		if len(c) != 43 || strings.ContainsAny(c, "=+/") {
			t.Errorf("S256Challenge(...) = %q; want 43 base64url characters without padding", c)
		}
	}
}

// TestConfigRedaction checks every way of printing a Config.
func TestConfigRedaction(t *testing.T) {
	const secret = "very-secret-value-42"
	cfg := spotauth.Config{ClientID: "abc123", ClientSecret: secret, RedirectURL: testRedirect}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "ptr", &cfg)
	var logJSON bytes.Buffer
	slog.New(slog.NewJSONHandler(&logJSON, nil)).Info("config", "cfg", cfg)
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", cfg),
		"%+v":       fmt.Sprintf("%+v", cfg),
		"%#v":       fmt.Sprintf("%#v", cfg),
		"%s":        fmt.Sprintf("%s", cfg),
		"%q":        fmt.Sprintf("%q", cfg),
		"%x":        fmt.Sprintf("%x", cfg),
		"&%+v":      fmt.Sprintf("%+v", &cfg),
		"&%#v":      fmt.Sprintf("%#v", &cfg),
		"in slice":  fmt.Sprintf("%+v", []spotauth.Config{cfg}),
		"slog":      logged.String(),
		"slog json": logJSON.String(),
		// The documented way to hold a Config in an unexported field.
		"unexported *Config field": fmt.Sprintf("%+v %#v", struct{ c *spotauth.Config }{&cfg}, struct{ c *spotauth.Config }{&cfg}),
		"exported Config field":    fmt.Sprintf("%+v %#v", struct{ C spotauth.Config }{cfg}, struct{ C spotauth.Config }{cfg}),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("Config printed with %s = %s; contains the secret", name, out)
		}
		if name != "%x" && name != "unexported *Config field" && !strings.Contains(out, "abc123") {
			t.Errorf("Config printed with %s = %s; want the client ID shown", name, out)
		}
	}
	if got := fmt.Sprint(cfg); !strings.Contains(got, "[redacted]") {
		t.Errorf("Sprint(Config) = %s; want [redacted] for the secret", got)
	}
	empty := spotauth.Config{ClientID: "x"}
	if got := fmt.Sprint(empty); strings.Contains(got, "[redacted]") {
		t.Errorf("Sprint(Config{}) = %s; want no [redacted] for an empty secret", got)
	}
	// encoding/json (slog's JSON handler) leaves the secret out.
	if b, err := json.Marshal(cfg); err != nil || strings.Contains(string(b), secret) || !strings.Contains(string(b), "abc123") {
		t.Errorf("json.Marshal(Config) = %s, %v; want the client ID and no secret", b, err)
	}
}
