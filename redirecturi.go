package spotauth

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spotauth/spotauth/internal/redact"
	"github.com/spotauth/spotauth/internal/wire"
)

// ValidateRedirectURI checks uri against Spotify's rules for redirect URIs:
// https, a custom scheme such as myapp://callback, or http on a loopback IP
// literal (http://127.0.0.1:PORT/... or http://[::1]:PORT/...); never the host
// localhost, never a fragment. The error wraps [ErrInvalidRedirectURI] and
// says what to change.
func ValidateRedirectURI(uri string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRedirectURI}, args...)...)
	}
	if uri == "" {
		return bad("empty; register one such as http://127.0.0.1/callback")
	}
	if strings.TrimSpace(uri) != uri {
		return bad("leading or trailing space; Spotify compares redirect URIs byte for byte")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return bad("not a URL: %v", bareURLError(err))
	}
	if u.Scheme == "" {
		return bad("%q has no scheme; write an absolute URI such as https://example.com/callback or http://127.0.0.1/callback", shownURI(uri))
	}
	if u.Fragment != "" || strings.Contains(uri, "#") {
		return bad("%q has a fragment (#...); remove it", shownURI(uri))
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "localhost." {
		return bad("%q uses localhost, which Spotify refuses whatever the scheme; use the loopback IP literal instead, http://127.0.0.1:PORT/... (or http://[::1]:PORT/...)", shownURI(uri))
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return bad("%q has no host; write one such as https://example.com/callback", shownURI(uri))
		}
	case "http":
		if !isLoopbackHost(u.Host) {
			return bad("%q uses http on a host other than a loopback IP literal; use https, or http://127.0.0.1:PORT/... for a local listener", shownURI(uri))
		}
	}
	if u.User != nil {
		return bad("%q has user information (user@); remove it", shownURI(uri))
	}
	if strings.HasSuffix(u.Host, ":") {
		return bad("%q has an empty port after ':'; remove the ':' or give a port", shownURI(uri))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("%q has port %s; want 1 to 65535", shownURI(uri), p)
		}
	}
	return nil
}

// uriSecrets returns the patterns shownURI redacts: the password of a
// URI's user information, and a code parameter with its value. They are
// compiled on first use, since only error messages need them, and
// compiling them at init would slow every process start.
var uriSecrets = sync.OnceValues(func() (password, code *regexp.Regexp) {
	return regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)[^/?#@]*@`),
		regexp.MustCompile(`([?&]code=)([^&#]*)`)
})

// shownURI returns uri as an error message may show it: the password of
// its user information and the value of a code parameter redacted, and
// token parameters too. A redirect URI holds none of them, but the URL a
// browser landed on, passed by mistake, holds a live code.
func shownURI(uri string) string {
	uriPassword, uriCode := uriSecrets()
	uri = uriPassword.ReplaceAllString(uri, "${1}[redacted]@")
	uri = uriCode.ReplaceAllStringFunc(uri, func(m string) string {
		name, value, _ := strings.Cut(m, "=")
		return name + "=" + redact.Secret(value)
	})
	return wire.Redact(uri, nil)
}

// bareURLError returns the cause of a url.Parse error without the
// *url.Error around it, whose text repeats the whole URL: for a redirect,
// its authorization code.
func bareURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isLoopbackHost reports whether hostport (u.Host) is 127.0.0.1 or [::1],
// with or without a port, written exactly so.
func isLoopbackHost(hostport string) bool {
	h := hostport
	if strings.HasPrefix(h, "[") {
		end := strings.Index(h, "]")
		if end < 0 {
			return false
		}
		return h[:end+1] == "[::1]" && (end+1 == len(h) || h[end+1] == ':')
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return h == "127.0.0.1"
}

// isLoopbackRedirect reports whether uri is an http URI on a loopback IP
// literal (127.0.0.1 or [::1]), with or without a port: one a local
// listener can receive, and whose port Spotify lets vary when it was
// registered without one.
func isLoopbackRedirect(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Scheme == "http" && isLoopbackHost(u.Host)
}

// splitAuthority returns the index range [start, end) of uri's authority
// (host[:port]) for a URI with "//".
func splitAuthority(uri string) (start, end int, ok bool) {
	i := strings.Index(uri, "://")
	if i < 0 {
		return 0, 0, false
	}
	start = i + 3
	end = len(uri)
	if j := strings.IndexAny(uri[start:], "/?#"); j >= 0 {
		end = start + j
	}
	return start, end, true
}

// WithRedirectPort returns a loopback redirect URI registered without a port,
// such as http://127.0.0.1/callback, with port inserted, keeping everything
// else byte for byte (Spotify compares all but the port exactly). Send the
// result to /authorize and the exchange ([RedirectURLOption]). A URI that has
// another port, or is not a loopback redirect, is an error wrapping
// [ErrInvalidRedirectURI].
func WithRedirectPort(uri string, port int) (string, error) {
	if port < 1 || port > 65535 {
		return "", fmt.Errorf("%w: port %d, want 1 to 65535", ErrInvalidRedirectURI, port)
	}
	if err := ValidateRedirectURI(uri); err != nil {
		return "", err
	}
	if !isLoopbackRedirect(uri) {
		return "", fmt.Errorf("%w: %q is not a loopback redirect (http://127.0.0.1/... or http://[::1]/...); only those take a listener's port", ErrInvalidRedirectURI, shownURI(uri))
	}
	start, end, ok := splitAuthority(uri)
	if !ok {
		return "", fmt.Errorf("%w: %q has no authority", ErrInvalidRedirectURI, shownURI(uri))
	}
	authority := uri[start:end]
	host, p := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.HasSuffix(authority, "]") {
		host, p = authority[:i], authority[i+1:]
	}
	want := strconv.Itoa(port)
	switch {
	case p == want:
		return uri, nil
	case p != "":
		return "", fmt.Errorf("%w: %q already has port %s, not %d; register it without a port to use any port", ErrInvalidRedirectURI, shownURI(uri), p, port)
	}
	return uri[:start] + host + ":" + want + uri[end:], nil
}

// RedirectPort returns the port of a loopback redirect URI, 0 if it has none;
// a URI that is not a valid loopback redirect is an error.
func RedirectPort(uri string) (int, error) {
	if err := ValidateRedirectURI(uri); err != nil {
		return 0, err
	}
	if !isLoopbackRedirect(uri) {
		return 0, fmt.Errorf("%w: %q is not a loopback redirect (http://127.0.0.1/... or http://[::1]/...)", ErrInvalidRedirectURI, shownURI(uri))
	}
	u, _ := url.Parse(uri)
	if u.Port() == "" {
		return 0, nil
	}
	return strconv.Atoi(u.Port())
}
