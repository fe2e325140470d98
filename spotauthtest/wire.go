package spotauthtest

import (
	crand "crypto/rand"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Token prefixes, as Spotify's (clients must not parse tokens).
const (
	prefixAccess  = "BQ"
	prefixRefresh = "AQ"
	prefixCode    = "AQ"
	prefixConsent = "CS"
)

// rngPool holds ChaCha8 generators, each seeded with 32 bytes from
// crypto/rand: a cryptographically strong stream without a system call per
// token.
var rngPool = sync.Pool{New: func() any {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic("spotauthtest: crypto/rand: " + err.Error())
	}
	return rand.NewChaCha8(seed)
}}

// newToken returns prefix followed by 32 random bytes in base64url without
// padding (43 characters): 256 bits of entropy, URL-safe.
func newToken(prefix string) string {
	var raw [32]byte
	r := rngPool.Get().(*rand.ChaCha8)
	_, _ = r.Read(raw[:])
	rngPool.Put(r)
	var out [2 + 43]byte
	copy(out[:2], prefix)
	base64.RawURLEncoding.Encode(out[2:], raw[:])
	return string(out[:])
}

// Header values shared by every response; net/http never modifies them.
var (
	hdrJSON    = []string{"application/json"}
	hdrText    = []string{"text/plain; charset=utf-8"}
	hdrHTML    = []string{"text/html; charset=utf-8"}
	hdrNoStore = []string{"no-store"}
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD. Unlike
// encoding/json it leaves <, > and & alone, as Spotify does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendOAuthError appends {"error":code,"error_description":desc} (RFC
// 6749 §5.2); an empty desc is left out.
func appendOAuthError(b []byte, code, desc string) []byte {
	b = append(b, `{"error":`...)
	b = appendJSONString(b, code)
	if desc != "" {
		b = append(b, `,"error_description":`...)
		b = appendJSONString(b, desc)
	}
	return append(b, '}')
}

// appendAPIError appends the Web API's {"error":{"status":..,"message":..}}.
func appendAPIError(b []byte, status int, msg string) []byte {
	b = append(b, `{"error":{"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	return append(b, `}}`...)
}

// writeBody writes a complete response with the given content type.
func writeBody(w http.ResponseWriter, status int, ctype []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = ctype
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText writes a text/plain error page, as Spotify's /authorize does.
func writeText(w http.ResponseWriter, status int, text string) {
	writeBody(w, status, hdrText, []byte(text))
}

// writeAPIError writes a Web API error.
func writeAPIError(w http.ResponseWriter, status int, msg string) {
	b := getBuf()
	*b = appendAPIError((*b)[:0], status, msg)
	writeBody(w, status, hdrJSON, *b)
	putBuf(b)
}
