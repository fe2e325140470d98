// Package wire holds the HTTP wire code of spotauth's token requests: form
// encoding, size-limited reads, strict decoding of Spotify's token and
// error JSON, Retry-After parsing and waiting, and sanitized body excerpts.
//
// It knows nothing about grants or retries; the root package adds those.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxBody is the most bytes of a response body that are read.
const MaxBody = 1 << 20

// MaxExcerpt is the longest excerpt of a body kept in an [Error], in bytes.
const MaxExcerpt = 120

// maxField bounds the length of the error and error_description values kept.
const maxField = 200

// Request is one POST to a token endpoint.
type Request struct {
	// URL is the token endpoint.
	URL string
	// Form is the form body.
	Form url.Values
	// Authorization is the Authorization header's value; empty sends none.
	Authorization string
	// Secrets are values sent in this request (client secret, code,
	// verifier, refresh token, the Basic credential) that must not appear in
	// an error's excerpt or fields.
	Secrets []string
}

// Token is a decoded success response.
type Token struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	Scope        string
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64
}

// Error is an answer of the token endpoint that is not a token: Spotify's
// error JSON, or a response that could not be read as either.
type Error struct {
	StatusCode  int
	Code        string // "error", sanitized; "" when the body was not understood
	Description string // "error_description", sanitized
	RetryAfter  time.Duration
	Body        string // sanitized excerpt, at most MaxExcerpt bytes
	Reason      string // why the body was not understood; "" when Code != ""
}

// Error gives the status and Spotify's code and description, or the
// reason the body was not understood. It never holds the excerpt.
func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("token endpoint: %d: %s: %s", e.StatusCode, e.Code, e.Description)
	}
	return fmt.Sprintf("token endpoint: %d: %s", e.StatusCode, e.Reason)
}

// noRedirect keeps a token POST from being replayed to another URL: a
// redirect answer is returned as is, and reported as a bad response.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Do sends r with client (nil means http.DefaultClient) and decodes the
// answer. It returns a *Token, or an *Error for any HTTP answer that is not
// a token, or another error when no complete answer arrived (transport
// errors, a body cut short, ctx done). now is used for Retry-After dates.
func Do(ctx context.Context, client *http.Client, r *Request, now time.Time) (*Token, error) {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client // shallow copy: same transport, no redirects
	c.CheckRedirect = noRedirect

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, strings.NewReader(r.Form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if r.Authorization != "" {
		req.Header.Set("Authorization", r.Authorization)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, fmt.Errorf("reading the token response (status %d): %w", resp.StatusCode, err)
	}
	t, e := Decode(resp.StatusCode, resp.Header, body, r.Secrets, now)
	if e != nil {
		return nil, e // not a nil *Error in a non-nil error
	}
	return t, nil
}

// Decode decodes a token endpoint answer. It returns a *Token for a
// well-formed success, or an *Error otherwise; never both, never neither.
func Decode(status int, header http.Header, body []byte, secrets []string, now time.Time) (*Token, *Error) {
	var fields map[string]json.RawMessage
	fail := func(code, desc, reason string) *Error {
		// Tokens the server sent in a body that is still refused (a
		// malformed expires_in beside them, an error code too) must not
		// show either, whatever escapes spell their names in the JSON.
		secrets := withResponseSecrets(secrets, fields)
		e := &Error{
			StatusCode:  status,
			Code:        sanitizeField(code, secrets),
			Description: sanitizeField(desc, secrets),
			RetryAfter:  ParseRetryAfter(header.Get("Retry-After"), now),
			Body:        Excerpt(body, secrets),
			Reason:      reason,
		}
		if e.Code == "" && e.Reason == "" {
			e.Reason = "error field is empty"
		}
		return e
	}

	fields, err := decodeObject(body)
	if err != nil {
		return nil, fail("", "", describeBody(header, body, err))
	}
	code, codeErr := stringField(fields, "error")
	desc, _ := stringField(fields, "error_description")
	if status < 200 || status >= 300 {
		if codeErr != nil || code == "" {
			return nil, fail("", "", fmt.Sprintf("status %d without Spotify's error JSON", status))
		}
		return nil, fail(code, desc, "")
	}
	// A success status.
	if codeErr == nil && code != "" {
		// 200 with an error body: still an error, classified by its code.
		return nil, fail(code, desc, "")
	}
	if ct := header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return nil, fail("", "", fmt.Sprintf("Content-Type %q, want application/json", sanitizeField(ct, nil)))
	}
	t, reason := tokenFromFields(fields)
	if reason != "" {
		return nil, fail("", "", reason)
	}
	return t, nil
}

// withResponseSecrets returns secrets plus the string values of the
// credential fields of a decoded body, without modifying secrets.
func withResponseSecrets(secrets []string, fields map[string]json.RawMessage) []string {
	out := secrets
	for _, name := range [...]string{"access_token", "refresh_token"} {
		if v, err := stringField(fields, name); err == nil && v != "" {
			if len(out) == len(secrets) {
				out = slices.Clone(secrets)
			}
			out = append(out, v)
		}
	}
	return out
}

func tokenFromFields(fields map[string]json.RawMessage) (*Token, string) {
	var t Token
	var err error
	if t.AccessToken, err = stringField(fields, "access_token"); err != nil {
		return nil, err.Error()
	}
	if t.AccessToken == "" {
		return nil, "access_token is missing"
	}
	if t.TokenType, err = stringField(fields, "token_type"); err != nil {
		return nil, err.Error()
	}
	switch {
	case t.TokenType == "":
		t.TokenType = "Bearer"
	case strings.EqualFold(t.TokenType, "bearer"):
		t.TokenType = "Bearer"
	default:
		return nil, fmt.Sprintf("token_type %q, want Bearer", sanitizeField(t.TokenType, nil))
	}
	raw, ok := fields["expires_in"]
	if !ok || isNull(raw) {
		return nil, "expires_in is missing"
	}
	var f float64
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') || json.Unmarshal(raw, &f) != nil {
		return nil, "expires_in is not a number"
	}
	if f < 0 || math.IsNaN(f) || f > 100*365*24*3600 {
		return nil, "expires_in is out of range"
	}
	t.ExpiresIn = int64(f)
	if t.Scope, err = stringField(fields, "scope"); err != nil {
		return nil, err.Error()
	}
	if t.RefreshToken, err = stringField(fields, "refresh_token"); err != nil {
		return nil, err.Error()
	}
	return &t, ""
}

// decodeObject decodes body as one JSON object, nothing after it.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, err
	}
	if fields == nil { // "null"
		return nil, errors.New("body is null")
	}
	return fields, nil
}

// stringField returns a string member; missing and null give "".
func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is not a string", name)
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// describeBody says, in a few words, why body is not a JSON object.
func describeBody(header http.Header, body []byte, err error) string {
	trimmed := strings.TrimSpace(string(body))
	var typeErr *json.UnmarshalTypeError
	switch {
	case len(trimmed) == 0:
		return "empty body"
	case trimmed == "null":
		return "JSON null body, want an object"
	case strings.HasPrefix(trimmed, "<"):
		return "HTML or XML body, want JSON"
	case errors.As(err, &typeErr):
		return "JSON " + typeErr.Value + " body, want an object"
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "truncated JSON body"
	case strings.HasPrefix(trimmed, "{"):
		return "malformed JSON body"
	default:
		if ct := header.Get("Content-Type"); ct != "" && !isJSON(ct) {
			return fmt.Sprintf("%s body, want JSON", sanitizeField(ct, nil))
		}
		return "body is not JSON"
	}
}

// Sleep waits d, such as a Retry-After or a backoff between attempts, or
// until ctx is done, and then returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ParseRetryAfter parses a Retry-After header value: delay seconds or an
// HTTP date (RFC 9110 §10.2.3). Absent, malformed or past values give 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return math.MaxInt64
			}
			return 0
		}
		if n > uint64(math.MaxInt64/int64(time.Second)) {
			return math.MaxInt64
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return d.Round(time.Second)
	}
	return 0
}

// tokenValue matches the value of a credential field in JSON, form or
// header text, so that tokens the server put in a body it got wrong (an
// access_token beside a malformed expires_in) are not shown either. A
// value runs on through JSON escapes such as \u0042 or \/, but stops at
// an escaped quote, which ends a value in JSON nested in a JSON string.
var tokenValue = sync.OnceValue(func() *regexp.Regexp {
	// Compiled on first use: only error paths need it, and compiling it at
	// init would slow every process start.
	return regexp.MustCompile(`(?i)((?:access_token|refresh_token|client_secret|code_verifier)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?|bearer\s+)((?:\\[^"']|[^"'\\&\s,;}<])+)`)
})

// Redact replaces every secret (and its URL- and JSON-escaped forms) in s.
// Secrets shorter than 4 bytes are left alone: redacting them would mangle
// text without protecting anything.
func Redact(s string, secrets []string) string {
	// Longest first, so that a secret containing another is redacted whole.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, secret := range secrets {
		if len(secret) < 4 {
			continue
		}
		forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
		if b, err := json.Marshal(secret); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
		for _, f := range forms {
			s = strings.ReplaceAll(s, f, "[redacted]")
		}
	}
	return tokenValue().ReplaceAllString(s, "${1}[redacted]")
}

// clean makes s printable on one line: invalid UTF-8 replaced, line breaks
// and tabs turned into spaces, other control and format characters
// (including bidirectional overrides) removed, runs of spaces collapsed.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == ' ':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// truncate cuts s to at most n bytes on a rune boundary, marking a cut
// with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Excerpt returns a short, printable, redacted excerpt of body, at most
// [MaxExcerpt] bytes.
func Excerpt(body []byte, secrets []string) string {
	if len(body) > 4*MaxBody { // cannot happen through Do; bounds the work
		body = body[:4*MaxBody]
	}
	// Clean first so that control characters inside a secret cannot hide
	// it from redaction; redact before cutting so no secret is cut in two.
	return truncate(Redact(clean(string(body)), secrets), MaxExcerpt)
}

// SanitizeField makes untrusted text (such as an error_description from a
// redirect URL) safe to print: one line, no control or format characters,
// secrets redacted, at most 200 bytes.
func SanitizeField(s string, secrets []string) string { return sanitizeField(s, secrets) }

func sanitizeField(s string, secrets []string) string {
	return truncate(Redact(clean(s), secrets), maxField)
}
