package spotauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spotauth/spotauth"
)

func exampleToken() *spotauth.Token {
	return &spotauth.Token{
		AccessToken:  "BQDexampleAccessTokenThatIsLongAndSecret0123456789",
		TokenType:    "Bearer",
		Scope:        spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
		Expiry:       time.Date(2030, 1, 2, 15, 4, 5, 0, time.UTC),
		RefreshToken: "AQCexampleRefreshTokenThatIsLongAndSecret0123456789",
		PKCE:         true,
		AuthorizedAt: time.Date(2029, 12, 2, 15, 0, 0, 0, time.UTC),
	}
}

// Printing a token, however it is done, never shows its secrets.
func ExampleToken_Format() {
	tok := exampleToken()
	fmt.Println(tok)
	fmt.Printf("%+v\n", *tok)
	// Output:
	// spotauth.Token{AccessToken:BQDe…[redacted 50 chars], TokenType:Bearer, Scope:"user-read-private", Expiry:2030-01-02T15:04:05Z, RefreshToken:set, PKCE:true, AuthorizedAt:2029-12-02T15:00:00Z}
	// spotauth.Token{AccessToken:BQDe…[redacted 50 chars], TokenType:Bearer, Scope:"user-read-private", Expiry:2030-01-02T15:04:05Z, RefreshToken:set, PKCE:true, AuthorizedAt:2029-12-02T15:00:00Z}
}

func ExampleToken_LogValue() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
	}))
	log.Info("refreshed", "token", exampleToken())
	// Output:
	// level=INFO msg=refreshed token.access_token="BQDe…[redacted 50 chars]" token.token_type=Bearer token.scope=user-read-private token.expiry=2030-01-02T15:04:05.000Z token.refresh_token=set token.pkce=true token.authorized_at=2029-12-02T15:00:00.000Z
}

// A token's JSON form is Spotify's, plus absolute times; spotipy reads it
// as a cache file.
func ExampleToken_UnmarshalJSON() {
	var tok spotauth.Token
	err := json.Unmarshal([]byte(`{
		"access_token": "BQD...",
		"token_type": "Bearer",
		"scope": "user-read-private playlist-read-private",
		"expires_in": 3600,
		"expires_at": 1893596645,
		"refresh_token": "AQC..."
	}`), &tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Expiry, tok.Scope)
	b, _ := json.Marshal(spotauth.Token{TokenType: "Bearer", PKCE: true, AuthorizedAt: time.Unix(1893596645, 0)})
	fmt.Println(string(b))
	// Output:
	// 2030-01-02 15:04:05 +0000 UTC playlist-read-private user-read-private
	// {"access_token":"","token_type":"Bearer","scope":"","pkce":true,"authorized_at":1893596645}
}

func ExampleToken_AuthorizationExpiry() {
	tok := exampleToken()
	now := time.Date(2030, 5, 20, 0, 0, 0, 0, time.UTC)
	left := tok.AuthorizationExpiry().Sub(now)
	fmt.Println("log in again before", tok.AuthorizationExpiry().Format(time.DateOnly))
	fmt.Println("days left:", int(left.Hours()/24))
	// Output:
	// log in again before 2030-06-02
	// days left: 13
}

// Valid applies no margin: a RefreshingSource or EnsureToken refreshes
// ahead of time. A zero Expiry never expires, as in golang.org/x/oauth2.
func ExampleToken_Valid() {
	for _, tok := range []*spotauth.Token{
		{AccessToken: "BQD", Expiry: time.Now().Add(10 * time.Minute)},
		{AccessToken: "BQD", Expiry: time.Now().Add(-time.Second)},
		{AccessToken: "BQD"},
		{RefreshToken: "AQC"}, // refresh-only, as from ConfigFromEnv
		nil,
	} {
		fmt.Println(tok.Valid())
	}
	// Output:
	// true
	// false
	// true
	// false
	// false
}

func ExampleToken_OAuth2() {
	o := exampleToken().OAuth2() // for clients built on golang.org/x/oauth2
	fmt.Println(o.TokenType, o.Extra("scope"))
	back := spotauth.TokenFromOAuth2(o)
	fmt.Println(back.Scope, back.PKCE)
	// Output:
	// Bearer user-read-private
	// user-read-private true
}

// An app's settings come from tekore's environment variables, with the
// user's refresh token if SPOTIFY_USER_REFRESH is set.
func ExampleConfigFromEnv() {
	for k, v := range map[string]string{
		"SPOTIFY_CLIENT_ID":     "0123456789abcdef",
		"SPOTIFY_CLIENT_SECRET": "", // a public (PKCE) client
		"SPOTIFY_REDIRECT_URI":  "http://127.0.0.1/callback",
		"SPOTIFY_USER_REFRESH":  "AQC-refresh",
	} {
		old, set := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() {
			if set {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	cfg, tok, err := spotauth.ConfigFromEnv()
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg)
	fmt.Println(tok.RefreshToken != "", tok.PKCE, tok.Valid()) // ready for cfg.Refresh
	// Output:
	// spotauth.Config{ClientID: "0123456789abcdef", ClientSecret: "", RedirectURL: "http://127.0.0.1/callback", AccountsURL: "https://accounts.spotify.com"}
	// true true false
}

// A tekore config file works unchanged, and one written here works in tekore.
func ExampleWriteConfigFile() {
	dir, err := os.MkdirTemp("", "spotauth-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := dir + "/tekore.cfg"
	cfg := &spotauth.Config{ClientID: "0123456789abcdef", ClientSecret: "secret", RedirectURL: "http://127.0.0.1/callback"}
	if err := spotauth.WriteConfigFile(path, "", cfg, nil); err != nil {
		panic(err)
	}
	// Later, after a login, store the user's refresh token too.
	if err := spotauth.WriteConfigFile(path, "", cfg, &spotauth.Token{RefreshToken: "AQC-refresh"}); err != nil {
		panic(err)
	}
	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	back, tok, err := spotauth.ReadConfigFile(path, "")
	fmt.Println(back.ClientID, tok.RefreshToken == "AQC-refresh", err)
	// Output:
	// [DEFAULT]
	// SPOTIFY_CLIENT_ID = 0123456789abcdef
	// SPOTIFY_CLIENT_SECRET = secret
	// SPOTIFY_REDIRECT_URI = http://127.0.0.1/callback
	// SPOTIFY_USER_REFRESH = AQC-refresh
	// 0123456789abcdef true <nil>
}

// A tekore config file with one section per app: every section inherits
// the keys of [DEFAULT], and "" selects [DEFAULT] itself.
func ExampleReadConfigFile() {
	dir, err := os.MkdirTemp("", "spotauth-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := dir + "/tekore.cfg"
	err = os.WriteFile(path, []byte(`[DEFAULT]
SPOTIFY_REDIRECT_URI = http://127.0.0.1/callback

[work]
SPOTIFY_CLIENT_ID = 0123456789abcdef
SPOTIFY_CLIENT_SECRET = fedcba9876543210
`), 0o600)
	if err != nil {
		panic(err)
	}
	// No SPOTIFY_USER_REFRESH: no token.
	c, tok, err := spotauth.ReadConfigFile(path, "work")
	fmt.Println(c, tok, err)
	// [DEFAULT] has no client ID, and there is no section [home].
	_, _, err = spotauth.ReadConfigFile(path, "")
	fmt.Println(errors.Is(err, spotauth.ErrInvalidConfig))
	_, _, err = spotauth.ReadConfigFile(path, "home")
	fmt.Println(errors.Is(err, spotauth.ErrInvalidConfig))
	// Output:
	// spotauth.Config{ClientID: "0123456789abcdef", ClientSecret: [redacted], RedirectURL: "http://127.0.0.1/callback", AccountsURL: "https://accounts.spotify.com"} <nil> <nil>
	// true
	// true
}
