package spotauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultExpiryMargin is the margin [Token.IsExpiring] uses: a token that
// expires within it should be refreshed before use. Spotify and tekore use 60 s.
const DefaultExpiryMargin = 60 * time.Second

// RefreshTokenLifetimeMonths is how long Spotify's refresh tokens live: 6
// calendar months from the user's authorization, whatever the refreshes.
// See [Token.AuthorizationExpiry].
const RefreshTokenLifetimeMonths = 6

// Token is an access token with the information Spotify returns beside it.
//
// Its String, GoString and Format methods and its slog LogValue never show the
// access or refresh token in full. Its JSON form uses Spotify's field names
// plus absolute "expires_at" and "authorized_at" times.
type Token struct {
	// AccessToken authorizes Web API requests as "Authorization: Bearer ...".
	AccessToken string
	// TokenType is "Bearer".
	TokenType string
	// Scope holds the scopes Spotify granted. Empty for client-credentials tokens.
	Scope Scopes
	// Expiry is when the access token expires. The zero value means unknown,
	// which is treated as never expiring, as in golang.org/x/oauth2.
	Expiry time.Time
	// RefreshToken renews a user token. Empty for client-credentials tokens.
	RefreshToken string
	// PKCE reports that the token came from a PKCE authorization, so its
	// refresh is authenticated with the client ID alone, without a secret.
	PKCE bool
	// AuthorizedAt is when the user authorized the app. Spotify's refresh
	// tokens die 6 months after it, whatever the refreshes. Zero if unknown.
	AuthorizedAt time.Time
}

// Valid reports whether t is non-nil, has an access token and has not
// expired. A token whose Expiry is zero never expires. Valid applies no
// margin; use [Token.IsExpiring] to refresh ahead of time.
func (t *Token) Valid() bool { return t.ValidAt(time.Now()) }

// ValidAt is [Token.Valid] at the time now, for callers with their own clock.
func (t *Token) ValidAt(now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Before(t.Expiry.Round(0)))
}

// ExpiresIn returns the time left until Expiry: negative once expired, the
// largest Duration when Expiry is zero (never expires), and 0 for a nil t.
func (t *Token) ExpiresIn() time.Duration { return t.ExpiresInAt(time.Now()) }

// ExpiresInAt is [Token.ExpiresIn] at the time now.
func (t *Token) ExpiresInAt(now time.Time) time.Duration {
	if t == nil {
		return 0
	}
	if t.Expiry.IsZero() {
		return time.Duration(math.MaxInt64)
	}
	// Round(0) drops the monotonic reading: wall time is what Spotify's
	// expiry means, also across a laptop's sleep.
	return t.Expiry.Round(0).Sub(now.Round(0))
}

// IsExpiring reports whether t expires within [DefaultExpiryMargin] (or has
// expired), so that it should be refreshed before use. A token with a zero
// Expiry never is; a nil token always is.
func (t *Token) IsExpiring() bool { return t.ExpiresWithinAt(time.Now(), DefaultExpiryMargin) }

// IsExpiringAt is [Token.IsExpiring] at the time now.
func (t *Token) IsExpiringAt(now time.Time) bool {
	return t.ExpiresWithinAt(now, DefaultExpiryMargin)
}

// ExpiresWithin reports whether less than d is left until Expiry. With d
// left exactly it reports false, as golang.org/x/oauth2 does for its expiry
// delta. A token with a zero Expiry never expires; a nil token always does.
func (t *Token) ExpiresWithin(d time.Duration) bool { return t.ExpiresWithinAt(time.Now(), d) }

// ExpiresWithinAt is [Token.ExpiresWithin] at the time now.
func (t *Token) ExpiresWithinAt(now time.Time, d time.Duration) bool {
	if t == nil {
		return true
	}
	if t.Expiry.IsZero() {
		return false
	}
	return t.ExpiresInAt(now) < d
}

// AuthorizationExpiry returns when the refresh token dies: AuthorizedAt plus
// [RefreshTokenLifetimeMonths] calendar months (computed with
// [time.Time.AddDate], so 31 August gives 3 March, or 2 March in a leap
// year). After it, refreshes fail with invalid_grant and the user must
// authorize again. It returns the zero time when AuthorizedAt is unknown or
// t is nil.
func (t *Token) AuthorizationExpiry() time.Time {
	if t == nil || t.AuthorizedAt.IsZero() {
		return time.Time{}
	}
	return t.AuthorizedAt.AddDate(0, RefreshTokenLifetimeMonths, 0)
}

// Clone returns a copy of t (nil for nil). Scopes are immutable, so the
// copy shares nothing mutable with t.
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// tokenJSON is the JSON form of a Token. Output fields follow Spotify's
// token response and spotipy's cache file ("expires_at" in Unix seconds).
type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	Scope        Scopes `json:"scope"`
	ExpiresIn    *int64 `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresAt    *int64 `json:"expires_at,omitempty"`
	PKCE         bool   `json:"pkce,omitempty"`
	AuthorizedAt *int64 `json:"authorized_at,omitempty"`
}

// tokenJSONIn is what UnmarshalJSON reads: number-or-string times, and
// x/oauth2's "expiry" as a fallback.
type tokenJSONIn struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	Scope        Scopes          `json:"scope"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	ExpiresAt    json.RawMessage `json:"expires_at"`
	Expiry       json.RawMessage `json:"expiry"`
	PKCE         bool            `json:"pkce"`
	AuthorizedAt json.RawMessage `json:"authorized_at"`
}

// MarshalJSON encodes t with Spotify's field names (access_token,
// token_type, scope as a space-separated string, expires_in in seconds left
// at the time of the call, never negative, and refresh_token unless empty)
// plus "expires_at" in Unix seconds, the field spotipy's cache files use, so
// that spotipy reads the file; then "pkce" when true and "authorized_at" in
// Unix seconds when known. expires_in and expires_at are left out when
// Expiry is zero. Times are floored to the second.
func (t Token) MarshalJSON() ([]byte, error) { return t.marshalJSONAt(time.Now()) }

func (t Token) marshalJSONAt(now time.Time) ([]byte, error) {
	j := tokenJSON{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		Scope:        t.Scope,
		RefreshToken: t.RefreshToken,
		PKCE:         t.PKCE,
	}
	if !t.Expiry.IsZero() {
		at := t.Expiry.Unix()
		in := max(at-now.Unix(), 0)
		j.ExpiresAt, j.ExpiresIn = &at, &in
	}
	if !t.AuthorizedAt.IsZero() {
		at := t.AuthorizedAt.Unix()
		j.AuthorizedAt = &at
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form [Token.MarshalJSON] writes, Spotify's token
// response, a spotipy cache file, and golang.org/x/oauth2's JSON form of a
// token. The expiry comes from, in order of preference: "expires_at" (Unix
// seconds, or an RFC 3339 string), "expiry" (RFC 3339, x/oauth2's field),
// "expires_in" (seconds from now). Times are floored to the second and
// returned in UTC. Unknown scopes are kept; unknown fields are ignored.
// Errors never quote the input.
func (t *Token) UnmarshalJSON(data []byte) error {
	if string(trimJSONSpace(data)) == "null" {
		return nil
	}
	tok, err := tokenFromJSON(data, time.Now())
	if err != nil {
		return err
	}
	*t = *tok
	return nil
}

// tokenFromJSON decodes a token as [Token.UnmarshalJSON] does, counting a
// relative expires_in from now.
func tokenFromJSON(data []byte, now time.Time) (*Token, error) {
	var j tokenJSONIn
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, sanitizeJSONError(err)
	}
	t := &Token{
		AccessToken:  j.AccessToken,
		TokenType:    j.TokenType,
		Scope:        j.Scope,
		RefreshToken: j.RefreshToken,
		PKCE:         j.PKCE,
	}
	var err error
	switch {
	case isJSONValue(j.ExpiresAt):
		if t.Expiry, err = jsonTime(j.ExpiresAt); err != nil {
			return nil, fmt.Errorf("spotauth: token JSON: expires_at: %w", err)
		}
	case isJSONValue(j.Expiry):
		if t.Expiry, err = jsonTime(j.Expiry); err != nil {
			return nil, fmt.Errorf("spotauth: token JSON: expiry: %w", err)
		}
	case isJSONValue(j.ExpiresIn):
		secs, err := jsonSeconds(j.ExpiresIn)
		if err != nil {
			return nil, fmt.Errorf("spotauth: token JSON: expires_in: %w", err)
		}
		t.Expiry = time.Unix(now.Unix()+secs, 0).UTC()
	}
	if isJSONValue(j.AuthorizedAt) {
		if t.AuthorizedAt, err = jsonTime(j.AuthorizedAt); err != nil {
			return nil, fmt.Errorf("spotauth: token JSON: authorized_at: %w", err)
		}
	}
	return t, nil
}

// isJSONValue reports whether raw holds a value other than null.
func isJSONValue(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// maxUnixSeconds bounds accepted times to the years 0001-9999, where
// RFC 3339 and Unix seconds both work.
const (
	minUnixSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxUnixSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

// jsonSeconds reads a JSON number (or a string holding one) of seconds,
// floored to an integer.
func jsonSeconds(raw json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, errors.New("want a number")
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if i < minUnixSeconds || i > maxUnixSeconds {
			return 0, errors.New("out of range")
		}
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f < minUnixSeconds || f > maxUnixSeconds {
		return 0, errors.New("out of range")
	}
	return int64(math.Floor(f)), nil
}

// jsonTime reads Unix seconds (a number) or an RFC 3339 string, floored to
// the second, in UTC.
func jsonTime(raw json.RawMessage) (time.Time, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, errors.New("malformed string")
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return time.Time{}, errors.New("want Unix seconds or an RFC 3339 time")
			}
			if u := tm.Unix(); u < minUnixSeconds || u > maxUnixSeconds {
				return time.Time{}, errors.New("out of range")
			}
			return time.Unix(tm.Unix(), 0).UTC(), nil
		}
	}
	secs, err := jsonSeconds(raw)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(secs, 0).UTC(), nil
}

// sanitizeJSONError turns an encoding/json error into one that names the
// problem and its place but quotes none of the input.
func sanitizeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("spotauth: token JSON: syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Errorf("spotauth: token JSON: field %q has the wrong type", te.Field)
		}
		return errors.New("spotauth: token JSON: not a JSON object")
	case strings.Contains(err.Error(), "unexpected end"):
		return errors.New("spotauth: token JSON: unexpected end of input")
	}
	// Errors of Scopes.UnmarshalJSON quote nothing either.
	if strings.HasPrefix(err.Error(), "spotauth: ") {
		return fmt.Errorf("spotauth: token JSON: %s", strings.TrimPrefix(err.Error(), "spotauth: "))
	}
	return errors.New("spotauth: token JSON: malformed")
}

// OAuth2 converts t to a golang.org/x/oauth2 token, with the granted scopes
// in Extra("scope") as a space-separated string (as in Spotify's response),
// and "pkce" and "authorized_at" (Unix seconds) in Extra when set, so that
// [TokenFromOAuth2] gives t back. It returns nil for a nil t.
func (t *Token) OAuth2() *oauth2.Token {
	if t == nil {
		return nil
	}
	o := &oauth2.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
	}
	extra := map[string]any{"scope": t.Scope.String()}
	if t.PKCE {
		extra["pkce"] = true
	}
	if !t.AuthorizedAt.IsZero() {
		extra["authorized_at"] = t.AuthorizedAt.Unix()
	}
	return o.WithExtra(extra)
}

// TokenFromOAuth2 converts a golang.org/x/oauth2 token, reading the granted
// scopes from Extra("scope") (a space-separated string, as in Spotify's
// response, or a list of strings) and "pkce" and "authorized_at" as
// [Token.OAuth2] writes them. It returns nil for a nil o.
func TokenFromOAuth2(o *oauth2.Token) *Token {
	if o == nil {
		return nil
	}
	t := &Token{
		AccessToken:  o.AccessToken,
		TokenType:    o.TokenType,
		RefreshToken: o.RefreshToken,
		Expiry:       o.Expiry,
	}
	switch v := o.Extra("scope").(type) {
	case string:
		t.Scope = ParseScopesLenient(v)
	case []string:
		var all []Scope
		for _, s := range v {
			all = appendFields(all, s)
		}
		t.Scope = NewScopes(all...)
	case []any:
		var all []Scope
		for _, s := range v {
			if str, ok := s.(string); ok {
				all = appendFields(all, str)
			}
		}
		t.Scope = NewScopes(all...)
	}
	switch v := o.Extra("pkce").(type) {
	case bool:
		t.PKCE = v
	case string:
		t.PKCE = v == "true"
	}
	switch v := o.Extra("authorized_at").(type) {
	case int64:
		t.AuthorizedAt = time.Unix(v, 0).UTC()
	case int:
		t.AuthorizedAt = time.Unix(int64(v), 0).UTC()
	case float64:
		if v >= minUnixSeconds && v <= maxUnixSeconds {
			t.AuthorizedAt = time.Unix(int64(v), 0).UTC()
		}
	case string:
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && i >= minUnixSeconds && i <= maxUnixSeconds {
			t.AuthorizedAt = time.Unix(i, 0).UTC()
		}
	}
	return t
}

// RedactSecret describes a secret without revealing it: "" for an empty
// one, "[redacted N chars]" for a short one, and for one of 24 characters or
// more its first 4 characters, which identify a token's kind (Spotify's
// access tokens start "BQ"), then "…[redacted N chars]".
func RedactSecret(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) >= 24:
		return printablePrefix(s[:4]) + "…" + redactWhole(s)
	}
	return redactWhole(s)
}

// redactWhole describes a secret by its length alone: "" for an empty
// one, "[redacted N chars]" otherwise.
func redactWhole(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("[redacted %d chars]", len(s))
}

// printablePrefix keeps only printable ASCII letters, digits, '-' and '_'.
func printablePrefix(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '?'
		}
	}
	return string(b)
}

func setOrUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Round(0).Format(time.RFC3339)
}

// String describes t without its secrets:
//
//	spotauth.Token{AccessToken:BQDa…[redacted 120 chars], TokenType:Bearer, Scope:"user-read-email", Expiry:2025-01-02T15:04:05Z, RefreshToken:set, PKCE:true, AuthorizedAt:unknown}
func (t Token) String() string {
	return fmt.Sprintf("spotauth.Token{AccessToken:%s, TokenType:%s, Scope:%q, Expiry:%s, RefreshToken:%s, PKCE:%t, AuthorizedAt:%s}",
		RedactSecret(t.AccessToken), printable(t.TokenType), t.Scope.String(), formatTime(t.Expiry),
		setOrUnset(t.RefreshToken), t.PKCE, formatTime(t.AuthorizedAt))
}

// printable quotes s if it holds anything but plain printable characters.
func printable(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, " ,{}") {
		return s
	}
	return q
}

// GoString describes t in Go syntax, without its secrets, for %#v.
func (t Token) GoString() string {
	return fmt.Sprintf("spotauth.Token{AccessToken:%q, TokenType:%q, Scope:spotauth.ParseScopesLenient(%q), Expiry:%s, RefreshToken:%q, PKCE:%t, AuthorizedAt:%s}",
		RedactSecret(t.AccessToken), t.TokenType, t.Scope.String(), goTime(t.Expiry),
		RedactSecret(t.RefreshToken), t.PKCE, goTime(t.AuthorizedAt))
}

func goTime(t time.Time) string {
	if t.IsZero() {
		return "time.Time{}"
	}
	return fmt.Sprintf("time.Unix(%d, %d)", t.Unix(), t.Nanosecond())
}

// Format implements [fmt.Formatter] so that no verb prints a secret: %#v
// gives [Token.GoString], %q the quoted [Token.String], and every other verb
// [Token.String].
func (t Token) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, t.String(), t.GoString())
}

// formatRedacted writes str (or goStr for %#v) for any verb, so that no
// verb falls through to fmt's printing of the raw fields.
func formatRedacted(f fmt.State, verb rune, str, goStr string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, goStr)
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(str))
	default:
		fmt.Fprint(f, str)
	}
}

// LogValue implements [slog.LogValuer]: a group with the token's type,
// scopes, expiry and authorization time, and the secrets redacted.
//
// The method has a value receiver so that a Token value, not only a
// pointer, is redacted (slog's JSON handler would otherwise marshal it
// with [Token.MarshalJSON], secrets included). slog reports a nil *Token as
// "LogValue panicked", without secrets; log a token's pointer only when it
// is known to be non-nil. Likewise, a Token inside another value that slog's
// JSON handler marshals is written with its secrets: log the Token itself.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("access_token", RedactSecret(t.AccessToken)),
		slog.String("token_type", t.TokenType),
		slog.String("scope", t.Scope.String()),
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry.Round(0)))
	}
	attrs = append(attrs,
		slog.String("refresh_token", setOrUnset(t.RefreshToken)),
		slog.Bool("pkce", t.PKCE))
	if !t.AuthorizedAt.IsZero() {
		attrs = append(attrs, slog.Time("authorized_at", t.AuthorizedAt.Round(0)))
	}
	return slog.GroupValue(attrs...)
}
