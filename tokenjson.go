package spotauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

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
	Scope        json.RawMessage `json:"scope"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	ExpiresAt    json.RawMessage `json:"expires_at"`
	Expiry       json.RawMessage `json:"expiry"`
	PKCE         bool            `json:"pkce"`
	AuthorizedAt json.RawMessage `json:"authorized_at"`
}

// MarshalJSON encodes t with Spotify's field names, plus "expires_at" (Unix
// seconds, as in spotipy's cache files), "pkce" and "authorized_at".
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

// UnmarshalJSON decodes what MarshalJSON writes, Spotify's token response, a
// spotipy cache file, or golang.org/x/oauth2's JSON form. Errors never quote
// the input.
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
		RefreshToken: j.RefreshToken,
		PKCE:         j.PKCE,
	}
	var err error
	if t.Scope, err = jsonScopes(j.Scope); err != nil {
		return nil, fmt.Errorf("spotauth: token JSON: scope: %w", err)
	}
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

// jsonScopes reads a JSON string of scopes separated by spaces and/or
// commas (Spotify's form), or a JSON array of such strings (as some caches
// write them). Unknown scopes are kept.
func jsonScopes(raw json.RawMessage) (Scopes, error) {
	if !isJSONValue(raw) {
		return Scopes{}, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return NewScopes(appendFields(nil, str)...), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return Scopes{}, errors.New("want a string or an array of strings")
	}
	var all []Scope
	for _, item := range list {
		all = appendFields(all, item)
	}
	return NewScopes(all...), nil
}

func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
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
	return errors.New("spotauth: token JSON: malformed")
}
