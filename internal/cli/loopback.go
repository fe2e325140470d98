package cli

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spotauth/spotauth"
)

// loopbackRedirect is a redirect URI spotauth can receive itself:
// http://127.0.0.1[:port]/path or http://[::1][:port]/path.
type loopbackRedirect struct {
	raw  string
	u    *url.URL
	host string // "127.0.0.1" or "::1"
	port int    // 0: none in the URI; Spotify then accepts any port
}

// parseLoopbackRedirect checks raw against the rules spotauth login needs
// (Spotify's loopback rules, plus http so the CLI can listen). Each error
// says what to change.
func parseLoopbackRedirect(raw string) (*loopbackRedirect, error) {
	fail := func(format string, args ...any) error {
		return withCode(ExitConfig, fmt.Errorf("%w: %s", spotauth.ErrInvalidRedirectURI, fmt.Sprintf(format, args...)),
			"Register http://127.0.0.1/callback (no port: spotauth then picks a free one) in your app's settings at https://developer.spotify.com/dashboard\nand pass --redirect-uri http://127.0.0.1/callback (or set %s).", envRedirectURI)
	}
	if err := spotauth.ValidateRedirectURI(raw); err != nil {
		return nil, withCode(ExitConfig, err, "Register http://127.0.0.1/callback (no port: spotauth then picks a free one) in your app's settings at https://developer.spotify.com/dashboard\nand pass --redirect-uri http://127.0.0.1/callback (or set %s).", envRedirectURI)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fail("%q is not a URL", raw)
	}
	host := u.Hostname()
	switch {
	case strings.EqualFold(host, "localhost"):
		return nil, fail("%s uses localhost, which Spotify refuses; use 127.0.0.1 instead", raw)
	case u.Scheme != "http":
		return nil, fail("%s is not an http://127.0.0.1 loopback URI that spotauth can listen on", raw)
	case host != "127.0.0.1" && host != "::1":
		return nil, fail("%s: spotauth listens only on 127.0.0.1 or [::1], not %q", raw, host)
	case u.User != nil || u.Fragment != "" || u.Opaque != "":
		return nil, fail("%s must not carry user info or a #fragment", raw)
	}
	r := &loopbackRedirect{raw: raw, u: u, host: host}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fail("%s has an invalid port", raw)
		}
		r.port = n
	}
	return r, nil
}

// path is the callback path, "/" when the URI has none.
func (r *loopbackRedirect) path() string {
	if r.u.Path == "" {
		return "/"
	}
	return r.u.Path
}

// withPort returns the URI with port set, otherwise unchanged byte for
// byte: the exact string sent to /authorize and with the code exchange.
func (r *loopbackRedirect) withPort(port int) (string, error) {
	return spotauth.WithRedirectPort(r.raw, port)
}

func hostForURL(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
