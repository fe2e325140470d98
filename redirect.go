package spotauth

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/spotauth/spotauth/internal/wire"
)

// Redirect holds the parameters of the redirect from /authorize: code and
// state after consent, error (and state) after a refusal.
//
// Its String, GoString, Format and LogValue show only the first characters
// of Code (see [RedactSecret]): a code is short-lived, but until it is
// exchanged it is worth a user's token to whoever reads a log.
type Redirect struct {
	// Code is the authorization code; empty on an error redirect.
	Code string
	// State is the state sent to /authorize, echoed back.
	State string
	// Error is the "error" parameter, such as "access_denied".
	Error string
	// ErrorDescription is the "error_description" parameter, if any.
	ErrorDescription string
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

// ParseRedirect parses the redirect URL the browser landed on, or what a
// user pastes of it:
//
//	http://127.0.0.1:43117/callback?code=AQB...&state=Zk3q...
//	/callback?code=AQB...&state=Zk3q...
//	?code=AQB...&state=Zk3q...
//	code=AQB...&state=Zk3q...
//
// Surrounding spaces and a fragment are ignored. It does not check state
// or require a code; [UserAuth.RequestRedirect] does, in Spotify's order.
//
// A parameter among code, state, error and error_description that appears
// more than once gives a [*RepeatedParameterError]; an unparsable URL or
// query a [*MalformedRedirectError]. Errors never repeat the URL, which
// carries the code.
func ParseRedirect(rawURL string) (*Redirect, error) {
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, &MalformedRedirectError{Reason: "empty"}
	}
	var query string
	if hasScheme(s) {
		u, err := url.Parse(s)
		if err != nil {
			err = bareURLError(err)
			return nil, &MalformedRedirectError{Reason: "cannot parse the URL: " + err.Error(), Err: err}
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
			return nil, &MalformedRedirectError{Reason: "no query: want a URL like http://127.0.0.1:PORT/callback?code=...&state=..."}
		}
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return nil, &MalformedRedirectError{Reason: "cannot parse the query: " + err.Error(), Err: err}
	}
	for _, name := range redirectParams {
		if n := len(v[name]); n > 1 {
			return nil, &RepeatedParameterError{Param: name, Count: n}
		}
	}
	return &Redirect{
		Code:             v.Get("code"),
		State:            v.Get("state"),
		Error:            v.Get("error"),
		ErrorDescription: v.Get("error_description"),
	}, nil
}

// Err returns the redirect's error as an [*AuthorizeError], or nil when it
// has none. The error's fields are sanitized (one line, no control
// characters, at most 200 bytes): anyone can craft a redirect URL, and
// its text may end up on a terminal.
func (r *Redirect) Err() error {
	if r.Error == "" {
		return nil
	}
	return &AuthorizeError{Code: wire.SanitizeField(r.Error, nil), Description: wire.SanitizeField(r.ErrorDescription, nil)}
}

// ParseCode returns the code of a redirect URL (or pasted query, as
// [ParseRedirect] accepts). An error redirect gives an [*AuthorizeError]
// (matching [ErrAccessDenied] for a refusal), a redirect without code
// [ErrMissingCode]. It does not check state: compare [ParseState]'s
// result with the state sent, or use [UserAuth].
func ParseCode(rawURL string) (string, error) {
	r, err := ParseRedirect(rawURL)
	if err != nil {
		return "", err
	}
	if err := r.Err(); err != nil {
		return "", err
	}
	if r.Code == "" {
		return "", ErrMissingCode
	}
	return r.Code, nil
}

// ParseState returns the state of a redirect URL (or pasted query, as
// [ParseRedirect] accepts), "" when it has none.
func ParseState(rawURL string) (string, error) {
	r, err := ParseRedirect(rawURL)
	if err != nil {
		return "", err
	}
	return r.State, nil
}

// String describes r with its code redacted:
//
//	spotauth.Redirect{Code:AQBx…[redacted 210 chars], State:"Zk3q...", Error:"", ErrorDescription:""}
func (r Redirect) String() string {
	return fmt.Sprintf("spotauth.Redirect{Code:%s, State:%q, Error:%q, ErrorDescription:%q}",
		RedactSecret(r.Code), r.State, r.Error, r.ErrorDescription)
}

// GoString describes r in Go syntax with its code redacted, for %#v.
func (r Redirect) GoString() string {
	return fmt.Sprintf("spotauth.Redirect{Code:%q, State:%q, Error:%q, ErrorDescription:%q}",
		RedactSecret(r.Code), r.State, r.Error, r.ErrorDescription)
}

// Format implements [fmt.Formatter] so that no verb prints the code in
// full: %#v gives [Redirect.GoString], %q the quoted [Redirect.String],
// and every other verb [Redirect.String].
func (r Redirect) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, r.String(), r.GoString())
}

// LogValue implements [slog.LogValuer] with the code redacted.
func (r Redirect) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("code", RedactSecret(r.Code)),
		slog.String("state", r.State),
		slog.String("error", r.Error),
		slog.String("error_description", r.ErrorDescription),
	)
}
