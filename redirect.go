package spotauth

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spotauth/spotauth/internal/wire"
)

// redirect holds what a redirect from /authorize says: code and state
// after consent, an error (and state) after a refusal.
type redirect struct {
	code, state string
	err         *AuthorizeError // nil unless the redirect has an error
}

// redirectParams are the parameters that must appear at most once.
var redirectParams = [...]string{"code", "state", "error", "error_description"}

// hasScheme reports whether s starts like an absolute URI with an
// authority: a scheme (a letter, then letters, digits, '+', '.' or '-')
// followed by "://".
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'):
		case i > 0 && c == ':':
			return strings.HasPrefix(s[i:], "://")
		default:
			return false
		}
	}
	return false
}

// ParseRedirect returns the code and state of the redirect URL the browser
// landed on, or of what a user pastes of it (the URL, its path and query, or
// the query alone). It does not check the state: [UserAuth.Exchange] does. An
// error redirect gives its state and an [*AuthorizeError]; one without code
// its state and [ErrMissingCode]; a URL that does not parse, or repeats a
// parameter, an error wrapping [ErrMalformedRedirect] that never repeats the
// URL.
func ParseRedirect(rawURL string) (code, state string, err error) {
	r, err := parseRedirect(rawURL)
	switch {
	case err != nil:
		return "", "", err
	case r.err != nil:
		return "", r.state, r.err
	case r.code == "":
		return "", r.state, ErrMissingCode
	}
	return r.code, r.state, nil
}

// ParseCode returns the code of a redirect URL, as [ParseRedirect] does. It is
// tekore's parse_code_from_url.
func ParseCode(rawURL string) (string, error) {
	code, _, err := ParseRedirect(rawURL)
	return code, err
}

// ParseState returns the state of a redirect URL, also of an error redirect;
// only a malformed URL is an error. It is tekore's parse_state_from_url.
func ParseState(rawURL string) (string, error) {
	r, err := parseRedirect(rawURL)
	if err != nil {
		return "", err
	}
	return r.state, nil
}

func parseRedirect(rawURL string) (*redirect, error) {
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, malformed("empty")
	}
	var query string
	if hasScheme(s) {
		u, err := url.Parse(s)
		if err != nil {
			err = bareURLError(err)
			return nil, malformed("cannot parse the URL: " + err.Error())
		}
		query = u.RawQuery
	} else {
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		if i := strings.IndexByte(s, '?'); i >= 0 {
			query = s[i+1:]
		} else if strings.Contains(s, "=") {
			query = s
		} else {
			return nil, malformed("no query: want a URL like http://127.0.0.1:PORT/callback?code=...&state=...")
		}
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return nil, malformed("cannot parse the query: " + err.Error())
	}
	for _, name := range redirectParams {
		if n := len(v[name]); n > 1 {
			return nil, malformed(fmt.Sprintf("parameter %q appears %d times, want once", name, n))
		}
	}
	r := &redirect{code: v.Get("code"), state: v.Get("state")}
	if e := v.Get("error"); e != "" {
		// Anyone can craft a redirect URL, and its text may end up on a
		// terminal: keep one short line without control characters.
		r.err = &AuthorizeError{Code: wire.SanitizeField(e, nil), Description: wire.SanitizeField(v.Get("error_description"), nil)}
	}
	return r, nil
}

// malformed returns an error wrapping ErrMalformedRedirect that says why,
// without the URL's content.
func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformedRedirect, reason)
}
