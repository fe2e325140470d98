package spotauthtest

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Errors returned by [Server.AddApp], matched with [errors.Is].
var (
	// ErrInvalidApp: the app's client ID is empty, malformed or already
	// registered, or an allowed scope is unknown.
	ErrInvalidApp = errors.New("spotauthtest: invalid app")
	// ErrInsecureRedirectURI: a redirect URI uses http on a host other than
	// the loopback IP literals 127.0.0.1 and [::1], or names localhost.
	ErrInsecureRedirectURI = errors.New("spotauthtest: insecure redirect URI")
	// ErrInvalidRedirectURI: a redirect URI is not an absolute URI without a
	// fragment.
	ErrInvalidRedirectURI = errors.New("spotauthtest: invalid redirect URI")
)

// App is a registered client, as on Spotify's developer dashboard.
//
// Its String and GoString methods never show ClientSecret.
type App struct {
	// Name is the app's name, shown on the consent page; empty means the
	// client ID.
	Name         string
	ClientID     string
	ClientSecret string   // empty: a public client, PKCE only
	RedirectURIs []string // validated by Spotify's rules
	OpenAccess   bool     // may be granted the Open Access scopes

	// AllowedScopes, when non-nil, restricts the scopes the app may request
	// to this list. Nil means the 19 standard scopes, plus the 5 Open
	// Access scopes when OpenAccess is set.
	AllowedScopes []string
}

// String describes the app without its secret.
func (a App) String() string {
	secret := "none"
	if a.ClientSecret != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("spotauthtest.App{Name: %q, ClientID: %q, ClientSecret: %s, RedirectURIs: %q, OpenAccess: %t}",
		a.Name, a.ClientID, secret, a.RedirectURIs, a.OpenAccess)
}

// GoString is String: %#v never shows the secret either.
func (a App) GoString() string { return a.String() }

// Standard scopes (19) and Open Access partner scopes (5), from Spotify's
// documentation. The fake keeps its own list: it must not share the
// client's idea of what is valid.
var (
	standardScopes = strings.Fields(`ugc-image-upload user-read-playback-state
		user-modify-playback-state user-read-currently-playing app-remote-control streaming
		playlist-read-private playlist-read-collaborative playlist-modify-private
		playlist-modify-public user-follow-modify user-follow-read user-read-playback-position
		user-top-read user-read-recently-played user-library-modify user-library-read
		user-read-email user-read-private`)
	openAccessScopes = strings.Fields(`user-soa-link user-soa-unlink soa-manage-entitlements
		soa-manage-partner soa-create-partner`)
)

// knownScope reports whether sc is a standard scope, or an Open Access one
// when openAccess is set.
func knownScope(sc string, openAccess bool) bool {
	return slices.Contains(standardScopes, sc) || openAccess && slices.Contains(openAccessScopes, sc)
}

// app is the server's validated form of an App.
type app struct {
	id, secret string
	name       string // shown on the consent page
	redirects  []string
	// anyPort holds the loopback URIs registered without a port, split
	// around where a port would go: "http://127.0.0.1" and "/callback".
	anyPort    [][2]string
	openAccess bool
	allowed    map[string]bool // nil: standard (+ Open Access)
}

func (a *app) allows(scope string) bool {
	if a.allowed != nil {
		return a.allowed[scope]
	}
	return knownScope(scope, a.openAccess)
}

// grantable returns scopes in order without duplicates, or the first one
// the app may not be granted.
func (a *app) grantable(scopes []string) (out []string, illegal string) {
	for _, sc := range scopes {
		if !a.allows(sc) {
			return nil, sc
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, ""
}

// AddApp registers an app, checking its redirect URIs by Spotify's rules:
// https, custom schemes, or http on the loopback IP literals 127.0.0.1 and
// [::1]; never localhost, never a fragment. A loopback URI registered
// without a port matches any port at /authorize. AddApp may be called
// before or after Start. Errors match [ErrInvalidApp],
// [ErrInsecureRedirectURI] or [ErrInvalidRedirectURI].
func (s *Server) AddApp(a App) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	return s.addAppLocked(a)
}

func (s *Server) addAppLocked(a App) error {
	ap, err := newApp(a)
	if err != nil {
		return err
	}
	if s.apps[a.ClientID] != nil {
		return fmt.Errorf("%w: client ID %q already registered", ErrInvalidApp, a.ClientID)
	}
	s.apps[a.ClientID] = ap
	return nil
}

func newApp(a App) (*app, error) {
	if a.ClientID == "" {
		return nil, fmt.Errorf("%w: empty client ID", ErrInvalidApp)
	}
	for _, c := range a.ClientID {
		if c == ':' || c <= ' ' || c == 0x7f {
			return nil, fmt.Errorf("%w: client ID %q has a colon, space or control character", ErrInvalidApp, a.ClientID)
		}
	}
	ap := &app{id: a.ClientID, secret: a.ClientSecret, name: cmp.Or(a.Name, a.ClientID), openAccess: a.OpenAccess}
	for _, raw := range a.RedirectURIs {
		if err := checkRegisteredRedirect(raw); err != nil {
			return nil, fmt.Errorf("%w (app %q)", err, a.ClientID)
		}
		ap.redirects = append(ap.redirects, raw)
		for _, host := range []string{"http://127.0.0.1", "http://[::1]"} {
			if rest, ok := strings.CutPrefix(raw, host); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
				ap.anyPort = append(ap.anyPort, [2]string{host, rest})
			}
		}
	}
	if a.AllowedScopes != nil {
		ap.allowed = make(map[string]bool, len(a.AllowedScopes))
		for _, sc := range a.AllowedScopes {
			if !knownScope(sc, a.OpenAccess) {
				return nil, fmt.Errorf("%w: app %q: allowed scope %q is unknown, or Open Access without OpenAccess",
					ErrInvalidApp, a.ClientID, sc)
			}
			ap.allowed[sc] = true
		}
	}
	return ap, nil
}

// checkRegisteredRedirect applies Spotify's registration rules.
func checkRegisteredRedirect(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w %q: not a URI", ErrInvalidRedirectURI, raw)
	}
	switch {
	case u.Scheme == "":
		return fmt.Errorf("%w %q: not absolute (no scheme)", ErrInvalidRedirectURI, raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%w %q: has a fragment", ErrInvalidRedirectURI, raw)
	case insecureRedirect(raw):
		return fmt.Errorf("%w %q: use https, or http on 127.0.0.1 or [::1] (never localhost)", ErrInsecureRedirectURI, raw)
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host == "":
		return fmt.Errorf("%w %q: no host", ErrInvalidRedirectURI, raw)
	}
	return nil
}

// insecureRedirect reports whether raw breaks Spotify's security rules:
// http on anything but the loopback IP literals 127.0.0.1 and [::1], or the
// host localhost whatever the scheme. An unparsable URI is not "insecure";
// it simply matches nothing.
func insecureRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	return strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") ||
		u.Scheme == "http" && host != "127.0.0.1" && host != "::1"
}

// matchRedirect implements the fake's matching algorithm (spec §5): byte
// equality with a registered URI, or a registered portless loopback URI
// with a port of 1 to 5 digits, 1 to 65535, added.
func (a *app) matchRedirect(raw string) bool {
	if slices.Contains(a.redirects, raw) {
		return true
	}
	for _, hp := range a.anyPort {
		rest, ok := strings.CutPrefix(raw, hp[0]+":")
		if !ok {
			continue
		}
		port, ok := strings.CutSuffix(rest, hp[1])
		if n, err := strconv.Atoi(port); ok && err == nil && n >= 1 && n <= 65535 &&
			len(port) <= 5 && strings.Trim(port, "0123456789") == "" {
			return true
		}
	}
	return false
}
