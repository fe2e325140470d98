// Package spotauthtest provides a fake Spotify Accounts service, in the
// spirit of net/http/httptest, so that code using spotauth can be tested
// offline. It implements the server side independently of the client code.
package spotauthtest

import (
	"net/http"
	"time"

	"github.com/spotauth/spotauth"
)

// Default app registered by [NewServer].
const (
	DefaultClientID     = "spotauthtest-client"
	DefaultClientSecret = "spotauthtest-secret"
	DefaultRedirectURI  = "http://127.0.0.1/callback"
)

// RefreshMode says whether refreshes rotate the refresh token.
type RefreshMode int

const (
	// RefreshStable (Spotify today): refresh responses have no refresh_token
	// and the refresh token stays valid.
	RefreshStable RefreshMode = iota
	// RefreshRotate: each refresh returns a new refresh token and revokes
	// the old one at once.
	RefreshRotate
)

// App is a registered client.
type App struct {
	ClientID     string
	ClientSecret string   // empty: a public client, PKCE only
	RedirectURIs []string // validated by Spotify's rules
	OpenAccess   bool     // may be granted the Open Access scopes
}

// User is the test user who consents at /authorize and whom /v1/me describes.
type User struct {
	ID          string
	DisplayName string
	Email       string
	Country     string
	Product     string
}

// Server is a fake Accounts service and a fake Web API (/v1/me).
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", without a trailing slash.
	URL string
	// ClientID, ClientSecret and RedirectURI describe the default app.
	ClientID     string
	ClientSecret string
	RedirectURI  string

	// Fields below may be set before Start, or at any time through the
	// methods that guard them.

	// Clock is the server's time; nil means the system clock.
	Clock *Clock
	// User is the consenting test user.
	User User
	// AutoApprove makes GET /authorize redirect at once with the decision
	// of Deny instead of serving the consent page.
	AutoApprove bool
	// Deny makes automatic consent a denial (error=access_denied).
	Deny bool
	// Refresh is the refresh mode.
	Refresh RefreshMode
	// Lifetimes; zero means Spotify's: code 10 min, access token 3600 s,
	// refresh token 6 months from authorization.
	CodeLifetime, AccessTokenLifetime, RefreshTokenLifetime time.Duration
}

// NewServer starts a server with the default app registered.
func NewServer() *Server { panic("unimplemented") }

// NewUnstartedServer returns a server to configure before [Server.Start].
func NewUnstartedServer() *Server { panic("unimplemented") }

// Start starts a server from NewUnstartedServer.
func (s *Server) Start() { panic("unimplemented") }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { panic("unimplemented") }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { panic("unimplemented") }

// Endpoint returns the server's Accounts endpoint.
func (s *Server) Endpoint() spotauth.Endpoint { panic("unimplemented") }

// Clock is a controllable clock. The zero value starts at the time of first use.
type Clock struct{ _ struct{} }
