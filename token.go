package spotauth

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spotauth/spotauth/internal/redact"
	"golang.org/x/oauth2"
)

// refreshTokenLifetimeMonths is how long Spotify's refresh tokens live: 6
// calendar months from the user's authorization, whatever the refreshes.
const refreshTokenLifetimeMonths = 6

// Token is an access token with what Spotify returns beside it. No fmt verb or
// slog handler shows its secrets in full. Its JSON form uses Spotify's field
// names plus absolute "expires_at" and "authorized_at" times.
type Token struct {
	AccessToken  string    // sent as "Authorization: Bearer ..."
	TokenType    string    // "Bearer"
	Scope        Scopes    // the scopes granted; none for an app token
	Expiry       time.Time // zero: unknown, treated as never expiring
	RefreshToken string    // renews a user token; empty for an app token
	PKCE         bool      // from a PKCE login: refreshed with the client ID alone
	AuthorizedAt time.Time // when the user authorized the app; zero if unknown
}

// Valid reports whether t is non-nil, has an access token and has not expired
// (a zero Expiry never does). It applies no margin: sources and EnsureToken
// refresh ahead of time.
func (t *Token) Valid() bool { return t.validFor(time.Now(), 0) }

// validFor reports whether t is valid at now and stays so for more than d.
// The wall clock decides: Spotify's expiry is a wall-clock time, also
// across a laptop's sleep.
func (t *Token) validFor(now time.Time, d time.Duration) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || t.Expiry.Round(0).Sub(now.Round(0)) > d
}

// AuthorizationExpiry returns when the refresh token dies, after which the
// user must authorize again: AuthorizedAt plus 6 calendar months (zero if
// AuthorizedAt is).
func (t *Token) AuthorizationExpiry() time.Time {
	if t == nil || t.AuthorizedAt.IsZero() {
		return time.Time{}
	}
	return t.AuthorizedAt.AddDate(0, refreshTokenLifetimeMonths, 0)
}

// clone returns a copy of t (nil for nil). Scopes are immutable, so the
// copy shares nothing mutable with t.
func (t *Token) clone() *Token {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// OAuth2 converts t to a golang.org/x/oauth2 token, keeping the scopes, PKCE
// and AuthorizedAt in Extra so that [TokenFromOAuth2] gives t back.
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

// TokenFromOAuth2 converts a golang.org/x/oauth2 token, reading Extra as
// [Token.OAuth2] writes it ("scope" may also be a list).
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
	var all []Scope
	switch v := o.Extra("scope").(type) {
	case string:
		all = appendFields(all, v)
	case []string:
		for _, s := range v {
			all = appendFields(all, s)
		}
	case []any:
		for _, s := range v {
			if str, ok := s.(string); ok {
				all = appendFields(all, str)
			}
		}
	}
	t.Scope = NewScopes(all...)
	switch v := o.Extra("pkce").(type) {
	case bool:
		t.PKCE = v
	case string:
		t.PKCE = v == "true"
	}
	var secs int64
	switch v := o.Extra("authorized_at").(type) {
	case int64:
		secs = v
	case int:
		secs = int64(v)
	case float64:
		if v >= minUnixSeconds && v <= maxUnixSeconds {
			secs = int64(v)
		}
	case string:
		secs, _ = strconv.ParseInt(v, 10, 64)
	}
	if secs != 0 && secs >= minUnixSeconds && secs <= maxUnixSeconds {
		t.AuthorizedAt = time.Unix(secs, 0).UTC()
	}
	return t
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Round(0).Format(time.RFC3339)
}

// printable quotes s if it holds anything but plain printable characters.
func printable(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, " ,{}") {
		return s
	}
	return q
}

func goTime(t time.Time) string {
	if t.IsZero() {
		return "time.Time{}"
	}
	return fmt.Sprintf("time.Unix(%d, %d)", t.Unix(), t.Nanosecond())
}

// Format implements [fmt.Formatter] so that no verb shows a secret: %v gives
// spotauth.Token{AccessToken:BQDa…[redacted 120 chars], ..., RefreshToken:set,
// ...}.
func (t Token) Format(f fmt.State, verb rune) {
	str := fmt.Sprintf("spotauth.Token{AccessToken:%s, TokenType:%s, Scope:%q, Expiry:%s, RefreshToken:%s, PKCE:%t, AuthorizedAt:%s}",
		redact.Secret(t.AccessToken), printable(t.TokenType), t.Scope.String(), formatTime(t.Expiry),
		redact.SetOrUnset(t.RefreshToken), t.PKCE, formatTime(t.AuthorizedAt))
	goStr := fmt.Sprintf("spotauth.Token{AccessToken:%q, TokenType:%q, Scope:spotauth.NewScopes(%q), Expiry:%s, RefreshToken:%q, PKCE:%t, AuthorizedAt:%s}",
		redact.Secret(t.AccessToken), t.TokenType, t.Scope.String(), goTime(t.Expiry),
		redact.Secret(t.RefreshToken), t.PKCE, goTime(t.AuthorizedAt))
	redact.Format(f, verb, str, goStr)
}

// LogValue implements [slog.LogValuer] with the secrets redacted, also for a
// Token value. A Token inside another value that slog's JSON handler marshals
// is written in full: log the Token itself.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("access_token", redact.Secret(t.AccessToken)),
		slog.String("token_type", t.TokenType),
		slog.String("scope", t.Scope.String()),
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry.Round(0)))
	}
	attrs = append(attrs,
		slog.String("refresh_token", redact.SetOrUnset(t.RefreshToken)),
		slog.Bool("pkce", t.PKCE))
	if !t.AuthorizedAt.IsZero() {
		attrs = append(attrs, slog.Time("authorized_at", t.AuthorizedAt.Round(0)))
	}
	return slog.GroupValue(attrs...)
}
