package spotauth

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// setEnv sets tekore's four variables to env's values ("" for those env
// lacks, which ConfigFromEnv treats as unset), then env's other variables,
// so that the process environment does not leak into a test.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{EnvClientID, EnvClientSecret, EnvRedirectURI, EnvUserRefresh} {
		t.Setenv(k, env[k])
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    appSettings
		wantErr bool
	}{
		{"all", map[string]string{
			"SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret",
			"SPOTIFY_REDIRECT_URI": "http://127.0.0.1/callback", "SPOTIFY_USER_REFRESH": "AQC",
		}, appSettings{"id", "secret", "http://127.0.0.1/callback", "AQC"}, false},
		{"client id only (PKCE)", map[string]string{"SPOTIFY_CLIENT_ID": "id"}, appSettings{ClientID: "id"}, false},
		{"refresh token without secret (PKCE)", map[string]string{"SPOTIFY_CLIENT_ID": "env-id", "SPOTIFY_REDIRECT_URI": "https://example.com/cb", "SPOTIFY_USER_REFRESH": "AQCenv"},
			appSettings{ClientID: "env-id", RedirectURL: "https://example.com/cb", RefreshToken: "AQCenv"}, false},
		{"trimmed", map[string]string{"SPOTIFY_CLIENT_ID": " id\n", "SPOTIFY_CLIENT_SECRET": "\tsecret ", "SPOTIFY_USER_REFRESH": " \n"}, appSettings{ClientID: "id", ClientSecret: "secret"}, false},
		{"spotipy names are not read", map[string]string{"SPOTIPY_CLIENT_ID": "id"}, appSettings{}, true},
		{"missing client id", map[string]string{"SPOTIFY_CLIENT_SECRET": "secret"}, appSettings{}, true},
		{"empty client id", map[string]string{"SPOTIFY_CLIENT_ID": "  "}, appSettings{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			c, tok, err := ConfigFromEnv()
			if err != nil {
				if !tt.wantErr || c != nil || tok != nil {
					t.Fatalf("ConfigFromEnv() with %v = %v, %v, %v; want %#v", tt.env, c, tok, err, tt.want)
				}
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "SPOTIFY_CLIENT_ID") {
					t.Errorf("error = %q; want ErrInvalidConfig naming SPOTIFY_CLIENT_ID", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the secret", err)
				}
				return
			}
			// settingsOf checks the shape: the Config holds the client
			// ID, secret and redirect URI only (Spotify's Accounts
			// service, no scopes, no HTTP client); the token holds the
			// refresh token only, never Valid, PKCE without a secret, and
			// is nil without a refresh token.
			got, serr := settingsOf(c, tok)
			if tt.wantErr || serr != nil || got != tt.want {
				t.Fatalf("ConfigFromEnv() with %v = %#v (%v), error %v; want %#v, error %v", tt.env, got, serr, err, tt.want, tt.wantErr)
			}
			if (tok != nil) != (tt.want.RefreshToken != "") {
				t.Errorf("ConfigFromEnv() token = %v; want one exactly when SPOTIFY_USER_REFRESH is set", tok)
			}
		})
	}
}

// TestConfigFromEnvRedaction: a Config and the token that ConfigFromEnv returns
// show no secret in any fmt verb or slog handler.
func TestConfigFromEnvRedaction(t *testing.T) {
	setEnv(t, map[string]string{
		"SPOTIFY_CLIENT_ID": "my-client", "SPOTIFY_CLIENT_SECRET": "SECRETclient0123456789abcdef",
		"SPOTIFY_REDIRECT_URI": "http://127.0.0.1/cb", "SPOTIFY_USER_REFRESH": "AQCrefreshSECRET0123456789abcdef",
	})
	c, tok, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	leaks := func(s string) bool {
		return strings.Contains(s, "SECRETclient") || strings.Contains(s, "refreshSECRET")
	}
	for _, v := range []any{*c, c, []Config{*c}, struct{ C Config }{*c}, map[string]*Config{"k": c}, tok, *tok, []any{c, tok}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%20.4s"} {
			if out := fmt.Sprintf(verb, v); leaks(out) {
				t.Errorf("Sprintf(%q, %T) = %q; shows a secret", verb, v, out)
			}
		}
	}
	// No character of the client secret: unlike a token's prefix, its
	// first characters are part of the secret.
	want := `spotauth.Config{ClientID: "my-client", ClientSecret: [redacted], RedirectURL: "http://127.0.0.1/cb", AccountsURL: "https://accounts.spotify.com"}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, c); got != want {
			t.Errorf("Sprintf(%q, config) = %s; want %s", verb, got, want)
		}
	}
	if got := fmt.Sprint(Config{}); !strings.Contains(got, `ClientSecret: ""`) {
		t.Errorf("Sprint(Config{}) = %s; want an empty secret shown as empty", got)
	}
	if got := fmt.Sprintf("%v", tok); !strings.Contains(got, "RefreshToken:set") {
		t.Errorf("Sprintf(%%v, token) = %s; want RefreshToken:set", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "c", *c, "p", c, "t", tok)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "c", *c, "p", c, "t", tok)
	if leaks(buf.String()) || !strings.Contains(buf.String(), "my-client") {
		t.Errorf("slog output = %s; want the client ID and no secret", buf.String())
	}
}
