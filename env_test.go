package spotauth

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func credTestLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestCredentialsFromLookup(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Credentials
		wantErr bool
	}{
		{"all", map[string]string{
			"SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret",
			"SPOTIFY_REDIRECT_URI": "http://127.0.0.1/callback", "SPOTIFY_USER_REFRESH": "AQC",
		}, Credentials{"id", "secret", "http://127.0.0.1/callback", "AQC"}, false},
		{"client id only (PKCE)", map[string]string{"SPOTIFY_CLIENT_ID": "id"}, Credentials{ClientID: "id"}, false},
		{"trimmed", map[string]string{"SPOTIFY_CLIENT_ID": " id\n", "SPOTIFY_CLIENT_SECRET": "\tsecret "}, Credentials{ClientID: "id", ClientSecret: "secret"}, false},
		{"spotipy names are not read", map[string]string{"SPOTIPY_CLIENT_ID": "id"}, Credentials{}, true},
		{"missing client id", map[string]string{"SPOTIFY_CLIENT_SECRET": "secret"}, Credentials{}, true},
		{"empty client id", map[string]string{"SPOTIFY_CLIENT_ID": "  "}, Credentials{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CredentialsFromLookup(credTestLookup(tt.env))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("CredentialsFromLookup(%v) = %#v, %v; want %#v, error %v", tt.env, got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrNoClientID) || !strings.Contains(err.Error(), "SPOTIFY_CLIENT_ID") {
					t.Errorf("error = %q; want ErrNoClientID naming SPOTIFY_CLIENT_ID", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the secret", err)
				}
			}
		})
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	t.Setenv("SPOTIFY_CLIENT_ID", "env-id")
	t.Setenv("SPOTIFY_CLIENT_SECRET", "")
	t.Setenv("SPOTIFY_REDIRECT_URI", "https://example.com/cb")
	t.Setenv("SPOTIFY_USER_REFRESH", "AQCenv")
	got, err := CredentialsFromEnv()
	want := Credentials{ClientID: "env-id", RedirectURI: "https://example.com/cb", RefreshToken: "AQCenv"}
	if err != nil || got != want {
		t.Errorf("CredentialsFromEnv() = %#v, %v; want %#v", got, err, want)
	}
	if got, err := CredentialsFromLookup(nil); err != nil || got != want {
		t.Errorf("CredentialsFromLookup(nil) = %#v, %v; want the environment's %#v", got, err, want)
	}
}

func TestCredentialsConfigAndToken(t *testing.T) {
	c := Credentials{"id", "secret", "http://127.0.0.1:8080/cb", "AQC"}
	cfg := c.Config()
	if cfg.ClientID != "id" || cfg.ClientSecret != "secret" || cfg.RedirectURL != "http://127.0.0.1:8080/cb" || cfg.HTTPClient != nil {
		t.Errorf("Config() = ClientID %q, RedirectURL %q; want the credentials' values", cfg.ClientID, cfg.RedirectURL)
	}
	if tok := c.Token(); tok == nil || tok.RefreshToken != "AQC" || tok.PKCE || tok.Valid() {
		t.Errorf("Token() = %v; want the refresh token, not PKCE, not valid", tok)
	}
	c.ClientSecret = ""
	if tok := c.Token(); !tok.PKCE {
		t.Errorf("Token() without a secret = %v; want PKCE", tok)
	}
	if (Credentials{ClientID: "id"}).Token() != nil {
		t.Errorf("Token() without a refresh token is not nil")
	}
}

func TestCredentialsRedaction(t *testing.T) {
	c := Credentials{ClientID: "my-client", ClientSecret: "SECRETclient0123456789abcdef", RedirectURI: "http://127.0.0.1/cb", RefreshToken: "AQCrefreshSECRET0123456789abcdef"}
	leaks := func(s string) bool {
		return strings.Contains(s, "SECRETclient") || strings.Contains(s, "refreshSECRET")
	}
	for _, v := range []any{c, &c, []Credentials{c}, struct{ C Credentials }{c}, map[string]*Credentials{"k": &c}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%20.4s"} {
			if out := fmt.Sprintf(verb, v); leaks(out) {
				t.Errorf("Sprintf(%q, %T) = %q; shows a secret", verb, v, out)
			}
		}
	}
	// No character of the client secret: unlike a token's prefix, its
	// first characters are part of the secret.
	if got, want := fmt.Sprintf("%#v", c), `spotauth.Credentials{ClientID:"my-client", ClientSecret:"[redacted 28 chars]", RedirectURI:"http://127.0.0.1/cb", RefreshToken:"AQCr…[redacted 32 chars]"}`; got != want {
		t.Errorf("Sprintf(%%#v) = %s; want %s", got, want)
	}
	if got, want := c.String(), `spotauth.Credentials{ClientID:my-client, ClientSecret:set, RedirectURI:"http://127.0.0.1/cb", RefreshToken:set}`; got != want {
		t.Errorf("String() = %s; want %s", got, want)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("creds", "c", c, "p", &c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("creds", "c", c)
	if leaks(buf.String()) || !strings.Contains(buf.String(), "my-client") {
		t.Errorf("slog output = %s; want the client ID and no secret", buf.String())
	}
}
