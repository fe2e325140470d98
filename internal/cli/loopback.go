package cli

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spotauth/spotauth"
)

// loopbackRedirect is a redirect URI spotauth can receive itself:
// http://127.0.0.1[:port]/path or http://[::1][:port]/path, as doctor
// describes it (login leaves redirect URIs to the login package).
type loopbackRedirect struct {
	u    *url.URL
	host string // "127.0.0.1" or "::1"
	port int    // 0: none in the URI; Spotify then accepts any port
}

// registerHint says which redirect URI to register and pass.
const registerHint = "Register http://127.0.0.1/callback (no port: spotauth then picks a free one) in your app's settings at https://developer.spotify.com/dashboard\nand pass --redirect-uri http://127.0.0.1/callback (or set " + spotauth.EnvRedirectURI + ")."

// parseLoopbackRedirect checks raw by Spotify's rules
// ([spotauth.ValidateRedirectURI]), and that it is a loopback URI that
// spotauth login can listen on ([spotauth.RedirectPort]). Errors
// wrap [spotauth.ErrInvalidRedirectURI] and say what to change.
func parseLoopbackRedirect(raw string) (*loopbackRedirect, error) {
	if err := spotauth.ValidateRedirectURI(raw); err != nil {
		return nil, withHint(err, "%s", registerHint)
	}
	port, err := spotauth.RedirectPort(raw)
	if err != nil {
		return nil, withHint(fmt.Errorf("%w: %s is not an http://127.0.0.1 loopback URI that spotauth can listen on", spotauth.ErrInvalidRedirectURI, raw),
			"%s", registerHint)
	}
	u, err := url.Parse(raw)
	if err != nil { // not after ValidateRedirectURI
		return nil, withHint(fmt.Errorf("%w: %v", spotauth.ErrInvalidRedirectURI, err), "%s", registerHint)
	}
	return &loopbackRedirect{u: u, host: u.Hostname(), port: port}, nil
}

// path is the callback path, "/" when the URI has none.
func (r *loopbackRedirect) path() string {
	if r.u.Path == "" {
		return "/"
	}
	return r.u.Path
}

// hostForURL writes an IPv6 host in brackets, as URLs and ssh -L want it.
func hostForURL(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
