package spotauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	tokTestAccess  = "BQDaccessSECRETvalue-0123456789abcdefghijklmnopqrstuvwxyz"
	tokTestRefresh = "AQCrefreshSECRETvalue-0123456789abcdefghijklmnopqrstuvwxyz"
)

var tokTestNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func tokTestToken() *Token {
	return &Token{
		AccessToken:  tokTestAccess,
		TokenType:    "Bearer",
		Scope:        NewScopes(ScopeUserReadPrivate, ScopeUserReadEmail),
		Expiry:       tokTestNow.Add(time.Hour),
		RefreshToken: tokTestRefresh,
		PKCE:         true,
		AuthorizedAt: tokTestNow.Add(-24 * time.Hour),
	}
}

func tokTestEqual(a, b *Token) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.AccessToken == b.AccessToken && a.TokenType == b.TokenType && a.Scope.Equal(b.Scope) &&
		a.Expiry.Equal(b.Expiry) && a.RefreshToken == b.RefreshToken && a.PKCE == b.PKCE &&
		a.AuthorizedAt.Equal(b.AuthorizedAt)
}

// TestTokenExpiry follows x/oauth2's TestTokenExpiry: the edges at the
// delta asked for (d, d±1ns). validFor(now, d) holds while more than d is
// left; Valid is validFor at time.Now with no margin.
func TestTokenExpiry(t *testing.T) {
	now := tokTestNow
	const d = minRefreshWindow
	tests := []struct {
		name      string
		tok       *Token
		valid     bool // validFor(now, 0)
		validForD bool // validFor(now, d)
	}{
		{"nil", nil, false, false},
		{"no access token", &Token{Expiry: now.Add(time.Hour)}, false, false},
		{"no access token, zero expiry", &Token{RefreshToken: "r"}, false, false},
		{"zero expiry never expires", &Token{AccessToken: "x"}, true, true},
		{"an hour left", &Token{AccessToken: "x", Expiry: now.Add(time.Hour)}, true, true},
		{"delta+1ns", &Token{AccessToken: "x", Expiry: now.Add(d + 1)}, true, true},
		{"delta exactly", &Token{AccessToken: "x", Expiry: now.Add(d)}, true, false},
		{"delta-1ns", &Token{AccessToken: "x", Expiry: now.Add(d - 1)}, true, false},
		{"1ns left", &Token{AccessToken: "x", Expiry: now.Add(1)}, true, false},
		{"expiry now", &Token{AccessToken: "x", Expiry: now}, false, false},
		{"expired", &Token{AccessToken: "x", Expiry: now.Add(-time.Minute)}, false, false},
		{"far past", &Token{AccessToken: "x", Expiry: time.Unix(0, 0)}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tok.validFor(now, 0); got != tt.valid {
				t.Errorf("validFor(now, 0) = %v; want %v", got, tt.valid)
			}
			if got := tt.tok.validFor(now, d); got != tt.validForD {
				t.Errorf("validFor(now, %v) = %v; want %v", d, got, tt.validForD)
			}
		})
	}
	// The wall clock decides: a monotonic reading on either side is
	// ignored, so a laptop's sleep does not keep a token alive.
	start := time.Now()
	tok := &Token{AccessToken: "x", Expiry: start.Add(time.Hour)}
	if !tok.validFor(start, 59*time.Minute) || tok.validFor(start, time.Hour) {
		t.Errorf("validFor with monotonic readings: 59m, 1h = %v, %v; want true, false", tok.validFor(start, 59*time.Minute), tok.validFor(start, time.Hour))
	}
	if wallLater := start.Round(0).Add(2 * time.Hour); tok.validFor(wallLater, 0) {
		t.Errorf("validFor(2h later by the wall clock) = true; want false")
	}
	// Valid is validFor at time.Now, without a margin.
	tok = &Token{AccessToken: "x", Expiry: time.Now().Add(30 * time.Second)}
	if !tok.Valid() || !tok.validFor(time.Now(), 20*time.Second) || tok.validFor(time.Now(), time.Minute) {
		t.Errorf("token with 30 s left: Valid, validFor(now, 20s), validFor(now, 1m) = %v, %v, %v; want true, true, false",
			tok.Valid(), tok.validFor(time.Now(), 20*time.Second), tok.validFor(time.Now(), time.Minute))
	}
	if (&Token{AccessToken: "x", Expiry: time.Now().Add(-time.Nanosecond)}).Valid() || (*Token)(nil).Valid() {
		t.Errorf("Valid() of an expired or nil token = true; want false")
	}
	if !(&Token{AccessToken: "x"}).Valid() {
		t.Errorf("Valid() with a zero Expiry = false; want true (never expires, as in x/oauth2)")
	}
}

func TestTokenAuthorizationExpiry(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"unknown", time.Time{}, time.Time{}},
		{"plain", time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)},
		{"year wrap", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"31 August normalises", time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"leap year", time.Date(2027, 8, 31, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := &Token{AuthorizedAt: tt.at}
			if got := tok.AuthorizationExpiry(); !got.Equal(tt.want) {
				t.Errorf("AuthorizationExpiry() with AuthorizedAt %v = %v; want %v", tt.at, got, tt.want)
			}
		})
	}
	if got := (*Token)(nil).AuthorizationExpiry(); !got.IsZero() {
		t.Errorf("nil.AuthorizationExpiry() = %v; want zero", got)
	}
}

func TestTokenClone(t *testing.T) {
	a := tokTestToken()
	b := a.clone()
	b.AccessToken = "other"
	b.Scope = b.Scope.Union(NewScopes("other"))
	if a.AccessToken != tokTestAccess || a.Scope.Contains("other") || !tokTestEqual(a.clone(), a) || (*Token)(nil).clone() != nil {
		t.Errorf("clone shares state or loses fields")
	}
}

func TestTokenMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		tok  Token
		want string
	}{
		{"full", *tokTestToken(),
			`{"access_token":"` + tokTestAccess + `","token_type":"Bearer","scope":"user-read-email user-read-private","expires_in":3600,"refresh_token":"` + tokTestRefresh + `","expires_at":1772604367,"pkce":true,"authorized_at":1772514367}`},
		{"client credentials", Token{AccessToken: "BQF", TokenType: "Bearer", Expiry: tokTestNow.Add(3599500 * time.Millisecond)},
			`{"access_token":"BQF","token_type":"Bearer","scope":"","expires_in":3599,"expires_at":1772604366}`},
		{"expired gives expires_in 0", Token{AccessToken: "x", Expiry: tokTestNow.Add(-time.Hour)},
			`{"access_token":"x","token_type":"","scope":"","expires_in":0,"expires_at":1772597167}`},
		{"no expiry", Token{AccessToken: "x"}, `{"access_token":"x","token_type":"","scope":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tok.marshalJSONAt(tokTestNow)
			if err != nil || string(got) != tt.want {
				t.Errorf("marshalJSONAt(now) = %s, %v;\nwant %s", got, err, tt.want)
			}
		})
	}
	// json.Marshal finds the method on values and pointers alike.
	for _, v := range []any{*tokTestToken(), tokTestToken(), struct{ T Token }{*tokTestToken()}} {
		b, err := json.Marshal(v)
		if err != nil || !bytes.Contains(b, []byte(`"expires_at":1772604367`)) {
			t.Errorf("json.Marshal(%T) = %s, %v; want expires_at", v, b, err)
		}
	}
	if b, _ := json.Marshal((*Token)(nil)); string(b) != "null" {
		t.Errorf("json.Marshal(nil *Token) = %s; want null", b)
	}
}

func TestTokenUnmarshalJSON(t *testing.T) {
	now := tokTestNow
	exp := now.Add(time.Hour)
	tests := []struct {
		name string
		in   string
		want *Token
	}{
		{"Spotify authorization_code response",
			`{"access_token":"BQD","token_type":"Bearer","scope":"user-read-private playlist-read-private","expires_in":3600,"refresh_token":"AQC"}`,
			&Token{AccessToken: "BQD", TokenType: "Bearer", Scope: NewScopes(ScopeUserReadPrivate, ScopePlaylistReadPrivate), Expiry: exp, RefreshToken: "AQC"}},
		{"Spotify client_credentials response", `{"access_token":"BQF","token_type":"Bearer","expires_in":3600}`,
			&Token{AccessToken: "BQF", TokenType: "Bearer", Expiry: exp}},
		{"empty scope", `{"access_token":"a","scope":"","expires_in":10}`, &Token{AccessToken: "a", Expiry: now.Add(10 * time.Second)}},
		{"spotipy cache file",
			`{"access_token": "BQD", "token_type": "Bearer", "expires_in": 3600, "scope": "user-library-read", "expires_at": 1772604000, "refresh_token": "AQC"}`,
			&Token{AccessToken: "BQD", TokenType: "Bearer", Scope: NewScopes(ScopeUserLibraryRead), Expiry: time.Unix(1772604000, 0), RefreshToken: "AQC"}},
		{"expires_at wins over expires_in", `{"access_token":"a","expires_in":5,"expires_at":1772604367}`, &Token{AccessToken: "a", Expiry: exp}},
		{"expires_at RFC 3339", `{"access_token":"a","expires_at":"2026-03-04T06:06:07Z"}`, &Token{AccessToken: "a", Expiry: exp}},
		{"expires_at RFC 3339 with offset and fraction", `{"access_token":"a","expires_at":"2026-03-04T07:06:07.9+01:00"}`, &Token{AccessToken: "a", Expiry: exp}},
		{"expires_at float floored", `{"access_token":"a","expires_at":1772604367.99}`, &Token{AccessToken: "a", Expiry: exp}},
		{"expires_at numeric string", `{"access_token":"a","expires_at":"1772604367"}`, &Token{AccessToken: "a", Expiry: exp}},
		{"x/oauth2 JSON", `{"access_token":"a","token_type":"Bearer","refresh_token":"r","expiry":"2026-03-04T06:06:07.123456789Z","expires_in":3600}`,
			&Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r", Expiry: exp}},
		{"expires_in as string", `{"access_token":"a","expires_in":"3600"}`, &Token{AccessToken: "a", Expiry: exp}},
		{"nulls", `{"access_token":"a","expires_at":null,"expires_in":null,"scope":null,"authorized_at":null}`, &Token{AccessToken: "a"}},
		{"scope as array", `{"access_token":"a","scope":["user-top-read","future-scope"]}`, &Token{AccessToken: "a", Scope: NewScopes(ScopeUserTopRead, "future-scope")}},
		{"pkce and authorized_at", `{"access_token":"a","pkce":true,"authorized_at":1772514367}`, &Token{AccessToken: "a", PKCE: true, AuthorizedAt: now.Add(-24 * time.Hour)}},
		{"authorized_at RFC 3339", `{"authorized_at":"2026-03-03T05:06:07Z"}`, &Token{AuthorizedAt: now.Add(-24 * time.Hour)}},
		{"unknown fields ignored", `{"access_token":"a","foo":{"bar":[1,2]}}`, &Token{AccessToken: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokenFromJSON([]byte(tt.in), now)
			if err != nil || !tokTestEqual(got, tt.want) {
				t.Errorf("tokenFromJSON(%s) = %v, %v;\nwant %v", tt.in, got, err, tt.want)
			}
		})
	}
	// UnmarshalJSON counts expires_in from the real clock.
	var tok Token
	if err := json.Unmarshal([]byte(`{"access_token":"a","expires_in":3600}`), &tok); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.Expiry); d < 3598*time.Second || d > 3600*time.Second {
		t.Errorf("after json.Unmarshal with expires_in 3600, time until Expiry = %v; want about 1h", d)
	}
	keep := *tokTestToken()
	if err := json.Unmarshal([]byte("null"), &keep); err != nil || keep.AccessToken != tokTestAccess {
		t.Errorf("json.Unmarshal(null) changed the token or failed: %v", err)
	}
}

// TestJSONScopes: a token's "scope" is a string of scopes separated by
// spaces and/or commas (Spotify's form), or an array of such strings (as
// some caches write it); unknown scopes are kept.
func TestJSONScopes(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{`"b a"`, "a b"},
		{`"b,a"`, "a b"},
		{`" b ,, a\tc "`, "a b c"},
		{`""`, ""},
		{` ["b", "a c", "a"] `, "a b c"},
		{`["b,c"]`, "b c"},
		{`[]`, ""},
		{`null`, ""},
		{``, ""},
		{`"future-scope"`, "future-scope"},
	}
	for _, tt := range tests {
		got, err := jsonScopes(json.RawMessage(tt.in))
		if err != nil || got.String() != tt.want {
			t.Errorf("jsonScopes(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`1`, `{}`, `[1]`, `true`, `["a", 2]`} {
		if got, err := jsonScopes(json.RawMessage(bad)); err == nil || got.Len() != 0 {
			t.Errorf("jsonScopes(%s) = %q, %v; want an error", bad, got, err)
		}
	}
}

func TestTokenUnmarshalJSONErrors(t *testing.T) {
	secret := "SECRETVALUE123"
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"truncated", `{"access_token":"` + secret},
		{"not an object", `["` + secret + `"]`},
		{"string", `"` + secret + `"`},
		{"bare token", `{"access_token":` + secret + `}`},
		{"access_token number", `{"access_token":12345,"refresh_token":"` + secret + `"}`},
		{"refresh_token object", `{"refresh_token":{"x":"` + secret + `"}}`},
		{"expires_at bool", `{"access_token":"` + secret + `","expires_at":true}`},
		{"expires_at bad string", `{"access_token":"` + secret + `","expires_at":"tomorrow ` + secret + `"}`},
		{"expires_at huge", `{"expires_at":1e300}`},
		{"expires_at year 10000", `{"expires_at":"10000-01-01T00:00:00Z"}`},
		{"expires_in huge", `{"expires_in":99999999999999999999}`},
		{"expires_in object", `{"expires_in":{}}`},
		{"authorized_at array", `{"authorized_at":[]}`},
		{"pkce string", `{"pkce":"` + secret + `"}`},
		{"scope number", `{"scope":7}`},
		{"html", `<html>` + secret + `</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tok Token
			err := tok.UnmarshalJSON([]byte(tt.in))
			if err == nil || !strings.HasPrefix(err.Error(), "spotauth: token JSON: ") {
				t.Fatalf("UnmarshalJSON(%s) = %v; want a spotauth error", tt.in, err)
			}
			// json.Unmarshal checks the syntax itself first; its errors
			// name at most one character.
			err2 := json.Unmarshal([]byte(tt.in), &tok)
			for _, e := range []error{err, err2} {
				if e == nil {
					t.Fatalf("json.Unmarshal(%s) = nil error; want one", tt.in)
				}
				if strings.Contains(e.Error(), "SECRET") || strings.Contains(e.Error(), "123") {
					t.Errorf("error %q for %s quotes the input", e, tt.in)
				}
			}
		})
	}
}

func TestTokenJSONRoundTrip(t *testing.T) {
	tests := []*Token{
		tokTestToken(),
		{AccessToken: "a"},
		{AccessToken: "a", Expiry: time.Unix(1, 0)},
		{RefreshToken: "r", PKCE: true},
		{AccessToken: "a", Scope: NewScopes("future-scope"), AuthorizedAt: tokTestNow},
	}
	for i, want := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			b, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			var got Token
			if err := json.Unmarshal(b, &got); err != nil || !tokTestEqual(&got, want) {
				t.Errorf("round trip of %v via %s = %v, %v", want, b, &got, err)
			}
		})
	}
	// Expiry is floored to the second.
	tok := &Token{AccessToken: "a", Expiry: tokTestNow.Add(1500 * time.Millisecond)}
	b, _ := json.Marshal(tok)
	var got Token
	_ = json.Unmarshal(b, &got)
	if want := tokTestNow.Add(time.Second); !got.Expiry.Equal(want) {
		t.Errorf("round trip of Expiry %v = %v; want %v", tok.Expiry, got.Expiry, want)
	}
}

func TestTokenOAuth2(t *testing.T) {
	tok := tokTestToken()
	o := tok.OAuth2()
	if o.AccessToken != tok.AccessToken || o.RefreshToken != tok.RefreshToken || o.TokenType != "Bearer" || !o.Expiry.Equal(tok.Expiry) {
		t.Errorf("OAuth2() = %+v; fields differ from %v", o, tok)
	}
	if got := o.Extra("scope"); got != "user-read-email user-read-private" {
		t.Errorf("OAuth2().Extra(scope) = %v; want the space-separated scopes", got)
	}
	if back := TokenFromOAuth2(o); !tokTestEqual(back, tok) {
		t.Errorf("TokenFromOAuth2(OAuth2()) = %v; want %v", back, tok)
	}
	if (*Token)(nil).OAuth2() != nil || TokenFromOAuth2(nil) != nil {
		t.Errorf("nil conversions not nil")
	}
	// Tokens from x/oauth2's own exchange carry Extra as a map from JSON or
	// as url.Values from a form response.
	extras := []struct {
		name  string
		extra any
		want  string
	}{
		{"json", map[string]any{"scope": "user-top-read streaming"}, "streaming user-top-read"},
		{"form", url.Values{"scope": {"user-top-read"}}, "user-top-read"},
		{"list", map[string]any{"scope": []any{"user-top-read", 3, "streaming"}}, "streaming user-top-read"},
		{"strings", map[string]any{"scope": []string{"a b", "c"}}, "a b c"},
		{"none", map[string]any{}, ""},
	}
	for _, tt := range extras {
		t.Run(tt.name, func(t *testing.T) {
			o := (&oauth2.Token{AccessToken: "x"}).WithExtra(tt.extra)
			if got := TokenFromOAuth2(o).Scope.String(); got != tt.want {
				t.Errorf("TokenFromOAuth2(extra %v).Scope = %q; want %q", tt.extra, got, tt.want)
			}
		})
	}
	o = (&oauth2.Token{}).WithExtra(map[string]any{"pkce": "true", "authorized_at": float64(1772514367)})
	if got := TokenFromOAuth2(o); !got.PKCE || !got.AuthorizedAt.Equal(tokTestNow.Add(-24*time.Hour)) {
		t.Errorf("TokenFromOAuth2 with JSON-typed extras = %v", got)
	}
}

// tokTestLeaks reports whether out shows a secret of the test token.
func tokTestLeaks(out string) bool {
	for _, s := range []string{tokTestAccess, tokTestRefresh, "SECRET", "short-secret"} {
		if strings.Contains(out, s) {
			return true
		}
	}
	return false
}

func TestTokenRedaction(t *testing.T) {
	tok := tokTestToken()
	short := &Token{AccessToken: "short-secret", RefreshToken: "short-secret"}
	type wrapper struct {
		Name string
		Tok  Token
		Ptr  *Token
	}
	values := map[string]any{
		"Token":     *tok,
		"*Token":    tok,
		"short":     short,
		"struct":    wrapper{"w", *tok, tok},
		"*struct":   &wrapper{"w", *tok, tok},
		"slice":     []Token{*tok},
		"ptr slice": []*Token{tok, nil},
		"map":       map[string]*Token{"k": tok},
		"any slice": []any{tok, *tok},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10v", "%-40s", "%.3s", "% x", "%#x"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if tokTestLeaks(out) {
				t.Errorf("Sprintf(%q, %s) = %q; shows a secret", verb, name, out)
			}
		}
		if out := fmt.Sprint(v) + fmt.Sprintln(v) + fmt.Errorf("wrapped: %v", v).Error(); tokTestLeaks(out) {
			t.Errorf("Sprint/Sprintln/Errorf(%s) = %q; shows a secret", name, out)
		}
	}
	if out := fmt.Sprintf("%v", (*Token)(nil)); out != "<nil>" {
		t.Errorf("Sprintf(%%v, nil *Token) = %q; want <nil>", out)
	}
	want := "spotauth.Token{AccessToken:BQDa…[redacted 57 chars], TokenType:Bearer, Scope:\"user-read-email user-read-private\", Expiry:2026-03-04T06:06:07Z, RefreshToken:set, PKCE:true, AuthorizedAt:2026-03-03T05:06:07Z}"
	for _, verb := range []string{"%v", "%+v", "%s"} {
		if got := fmt.Sprintf(verb, tok); got != want {
			t.Errorf("Sprintf(%q) = %q;\nwant %q", verb, got, want)
		}
	}
	if got := fmt.Sprint(*tok); got != want {
		t.Errorf("Sprint(Token value) = %q;\nwant %q", got, want)
	}
	if got := fmt.Sprintf("%q", tok); got != fmt.Sprintf("%q", want) {
		t.Errorf("%%q = %s; want the quoted %%v form", got)
	}
	if got := fmt.Sprintf("%#v", tok); !strings.HasPrefix(got, `spotauth.Token{AccessToken:"BQDa…[redacted 57 chars]", TokenType:"Bearer"`) {
		t.Errorf("%%#v = %s; want Go syntax", got)
	}
	if got := fmt.Sprint(short); !strings.Contains(got, "AccessToken:[redacted 12 chars]") {
		t.Errorf("Sprint(short) = %s; want no prefix shown", got)
	}
	if got := fmt.Sprint(Token{}); !strings.Contains(got, "Expiry:unknown") || !strings.Contains(got, "RefreshToken:unset") {
		t.Errorf("Sprint(Token{}) = %s", got)
	}
}

func TestTokenLogValue(t *testing.T) {
	tok := tokTestToken()
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	} {
		t.Run(h.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h.new(&buf))
			log.Info("got token", "token", tok, "value", *tok, slog.Any("any", tok), "config",
				&Config{ClientID: "id", ClientSecret: "SECRETclient"})
			log.With("token", tok).Info("with")
			log.Info("group", slog.Group("g", "t", tok))
			log.Info("nil", "token", (*Token)(nil))
			out := buf.String()
			if tokTestLeaks(out) {
				t.Errorf("slog output shows a secret:\n%s", out)
			}
			for _, want := range []string{"user-read-email user-read-private", "refresh_token", "2026-03-04T06:06:07", "ClientID"} {
				if !strings.Contains(out, want) {
					t.Errorf("slog output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "t", tok)
	var rec struct {
		T map[string]any `json:"t"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.T["token_type"] != "Bearer" || rec.T["pkce"] != true || rec.T["refresh_token"] != "set" {
		t.Errorf("JSON log group = %v; want token_type, pkce and refresh_token set", rec.T)
	}
}

func FuzzTokenJSON(f *testing.F) {
	f.Add([]byte(`{"access_token":"BQD","token_type":"Bearer","scope":"user-read-private","expires_in":3600,"refresh_token":"AQC"}`))
	f.Add([]byte(`{"access_token":"a","expires_at":1772604367,"pkce":true,"authorized_at":"2026-03-03T05:06:07Z"}`))
	f.Add([]byte(`{"expiry":"2026-03-04T06:06:07.5Z","scope":["a","b"]}`))
	f.Add([]byte(`{"expires_at":-62135596800}`))
	f.Add([]byte(`{"expires_in":-5}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"access_token":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := tokenFromJSON(data, tokTestNow)
		if err != nil {
			// Errors never quote the input, which holds the tokens.
			for _, m := range fuzzJSONString.FindAllSubmatch(data, -1) {
				if v := string(m[1]); !fuzzTokenFieldNames[v] && strings.Contains(err.Error(), v) {
					t.Fatalf("tokenFromJSON(%s) = %v; quotes %q from the input", data, err, v)
				}
			}
			return
		}
		for _, secret := range []string{got.AccessToken, got.RefreshToken} {
			if len(secret) < 24 || strings.Contains(got.TokenType+got.Scope.String(), secret) {
				continue
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				if out := fmt.Sprintf(verb, got); strings.Contains(out, secret) {
					t.Fatalf("Sprintf(%q, token) = %s; shows a token", verb, out)
				}
			}
		}
		b, err := got.marshalJSONAt(tokTestNow)
		if err != nil {
			t.Fatalf("marshal of %v = %v", got, err)
		}
		again, err := tokenFromJSON(b, tokTestNow)
		if err != nil || !tokTestEqual(again, got) {
			t.Fatalf("round trip of %v via %s = %v, %v", got, b, again, err)
		}
	})
}

// fuzzJSONString matches JSON strings of 9 bytes or more without escapes.
var fuzzJSONString = regexp.MustCompile(`"([^"\\]{9,})"`)

// fuzzTokenFieldNames are the names errors may give.
var fuzzTokenFieldNames = map[string]bool{
	"access_token": true, "token_type": true, "expires_in": true, "refresh_token": true,
	"expires_at": true, "authorized_at": true,
}

func BenchmarkTokenMarshalJSON(b *testing.B) {
	b.ReportAllocs()
	tok := tokTestToken()
	for b.Loop() {
		if _, err := json.Marshal(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenUnmarshalJSON(b *testing.B) {
	b.ReportAllocs()
	data, _ := json.Marshal(tokTestToken())
	for b.Loop() {
		var tok Token
		if err := json.Unmarshal(data, &tok); err != nil {
			b.Fatal(err)
		}
	}
}
