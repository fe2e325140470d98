package spotauthtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default app registered by [NewServer].
const (
	DefaultClientID     = "spotauthtest-client"
	DefaultClientSecret = "spotauthtest-secret"
	DefaultRedirectURI  = "http://127.0.0.1/callback"
)

// DefaultUser is the consenting test user when [Server.User] is zero.
var DefaultUser = User{
	ID:          "spotauthtest-user",
	DisplayName: "Test User",
	Email:       "test-user@example.com",
	Country:     "SE",
	Product:     "premium",
}

// User is the test user who consents at /authorize and whom /v1/me describes.
type User struct {
	ID          string
	DisplayName string
	Email       string // shown by /v1/me with the user-read-email scope
	Country     string // shown by /v1/me with the user-read-private scope
	Product     string // "premium", "free"...; shown with user-read-private
}

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

// String returns "stable" or "rotate".
func (m RefreshMode) String() string {
	switch m {
	case RefreshStable:
		return "stable"
	case RefreshRotate:
		return "rotate"
	}
	return fmt.Sprintf("RefreshMode(%d)", int(m))
}

// Server is a fake Accounts service and a fake Web API (/v1/me and the
// few endpoints [Server.FailWebAPI] lists).
//
// Create it with [NewServer], or with [NewUnstartedServer], set fields, and
// call [Server.Start]. To change the configuration fields of a running
// server, use [Server.Update].
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", without a trailing slash.
	URL string
	// ClientID, ClientSecret and RedirectURI describe the default app,
	// registered by Start unless ClientID is empty. An empty ClientSecret
	// makes it a public (PKCE-only) client.
	ClientID     string
	ClientSecret string
	RedirectURI  string

	// Listener, if set before Start, is where the server listens; nil means
	// a new listener on 127.0.0.1:0. A command such as an accounts server
	// with a --port flag sets it. Close closes it.
	Listener net.Listener

	// HTTPServer, if set before Start, is the server that serves the
	// fake, for its timeouts and limits; Start sets its Handler. Nil means
	// one with a ReadHeaderTimeout of 10 s. A command that serves the
	// fake to other programs sets one with every timeout.
	HTTPServer *http.Server

	// The fields below may be set before Start, or at any time through
	// [Server.Update].

	// Clock is the server's time; nil means the system clock.
	Clock *Clock

	// User is the consenting test user; the zero value means [DefaultUser].
	User User
	// AutoApprove makes GET /authorize redirect at once with the decision
	// of Deny instead of serving the consent page.
	AutoApprove bool
	// Deny makes automatic consent a denial (error=access_denied).
	Deny bool
	// Decide, if non-nil, makes the automatic consent decision per request
	// instead of Deny: true approves. A request may also carry the extra
	// parameter spotauthtest_consent=approve or =deny ([ConsentParam]),
	// which decides at once, without the consent page, whatever
	// AutoApprove, Deny and Decide say.
	Decide func(AuthorizeRequest) bool
	// Refresh is the refresh mode.
	Refresh RefreshMode
	// Playlists are the test user's playlists, newest first, which
	// GET /v1/me/playlists lists and POST /v1/users/{user_id}/playlists
	// adds to; nil means a copy of [DefaultPlaylists].
	Playlists []Playlist
	// NoActiveDevice makes PUT /v1/me/player/pause answer 404 with reason
	// NO_ACTIVE_DEVICE, as Spotify does when no device plays.
	NoActiveDevice bool
	// Lifetimes; zero means Spotify's: code 10 min, access token 3600 s,
	// refresh token six calendar months from the authorization
	// (.AddDate(0, 6, 0)). expires_in is the access-token lifetime in whole
	// seconds, rounded up: a 1.5 s lifetime gives expires_in 2, and the
	// token dies after 1.5 s.
	CodeLifetime, AccessTokenLifetime, RefreshTokenLifetime time.Duration

	mu       sync.Mutex // guards the configuration fields once started, and all below
	prepared bool       // the default app is registered
	started  bool
	closed   bool
	hs       *httptest.Server
	client   *http.Client
	closing  chan struct{} // closed by Close: injected delays end
	hijacks  sync.WaitGroup
	stats    Stats // TokenRequests also numbers token requests
	log      []LogEntry
	faults   faults

	state // what the server remembers: apps, codes, grants, tokens
}

// NewServer starts a server with the default app registered.
func NewServer() *Server {
	s := NewUnstartedServer()
	s.Start()
	return s
}

// NewUnstartedServer returns a server to configure before [Server.Start],
// with the default app's fields set and the default user.
func NewUnstartedServer() *Server {
	return &Server{
		ClientID:     DefaultClientID,
		ClientSecret: DefaultClientSecret,
		RedirectURI:  DefaultRedirectURI,
		User:         DefaultUser,
	}
}

// initLocked makes the server's state on first use; s.mu held.
func (s *Server) initLocked() {
	if s.apps == nil {
		s.apps = make(map[string]*app)
		s.closing = make(chan struct{})
		s.stats = newStats()
	}
}

// prepareLocked also registers the default app, from the fields as they
// are on first use (Start, a request, or minting a token); s.mu held.
func (s *Server) prepareLocked() {
	s.initLocked()
	if s.prepared {
		return
	}
	s.prepared = true
	if s.ClientID == "" || s.apps[s.ClientID] != nil {
		return
	}
	var uris []string
	if s.RedirectURI != "" {
		uris = []string{s.RedirectURI}
	}
	if err := s.addAppLocked(App{ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURIs: uris}); err != nil {
		panic(err.Error()) // "spotauthtest: ... (app ...)"
	}
}

// lock locks s.mu and makes the state on first use; callers unlock.
func (s *Server) lock() {
	s.mu.Lock()
	s.initLocked()
}

// lockApps is lock, registering the default app on first use.
func (s *Server) lockApps() {
	s.mu.Lock()
	s.prepareLocked()
}

// Start starts a server from NewUnstartedServer. It panics if the server
// was already started or closed, or cannot listen.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("spotauthtest: Server already started")
	}
	if s.closed {
		panic("spotauthtest: Start after Close")
	}
	s.prepareLocked()
	if s.Listener == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic("spotauthtest: failed to listen on a port: " + err.Error())
		}
		s.Listener = l
	}
	s.URL = "http://" + urlHost(s.Listener.Addr())
	s.started = true
	// httptest serves the listener, and closes connections on Close.
	hs := s.HTTPServer
	if hs == nil {
		hs = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	}
	hs.Handler = http.HandlerFunc(s.serveHTTP)
	s.hs = &httptest.Server{Listener: s.Listener, Config: hs}
	s.hs.Start()
}

// urlHost returns the host:port to put in URLs for a listener's address:
// an unspecified address (0.0.0.0, ::) becomes the loopback one.
func urlHost(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// Close shuts the server down, waiting for requests in flight. Injected
// delays end at once. Close is safe on a zero or unstarted Server, and
// calling it again does nothing.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	hs, l, client, closing := s.hs, s.Listener, s.client, s.closing
	s.mu.Unlock()

	if closing != nil {
		close(closing)
	}
	if hs != nil {
		hs.Close()
	} else if l != nil {
		_ = l.Close()
	}
	s.hijacks.Wait()
	if client != nil {
		client.CloseIdleConnections()
	}
}

// Client returns an HTTP client for the server, keeping up to 256 idle
// connections so that parallel tests and benchmarks reuse them. It does
// not follow redirects, so that a test sees /authorize's 302 and its
// Location. Close closes its idle connections.
func (s *Server) Client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = &http.Client{
			Transport: &http.Transport{
				MaxIdleConns:        256,
				MaxIdleConnsPerHost: 256,
				IdleConnTimeout:     90 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return s.client
}

// Update runs f, which may change the configuration fields (Clock, User,
// AutoApprove, Deny, Decide, Refresh, Playlists, NoActiveDevice and the
// lifetimes), under the lock
// that requests read them with. Changing URL, Listener or the default
// app's fields has no effect once started. f must not call the server's
// methods.
func (s *Server) Update(f func(s *Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// String describes the server without secrets or tokens.
func (s *Server) String() string {
	if s == nil {
		return "spotauthtest.Server(nil)"
	}
	return fmt.Sprintf("spotauthtest.Server{URL: %q, ClientID: %q}", s.URL, s.ClientID)
}

// GoString is String: %#v shows no secret or token either.
func (s *Server) GoString() string { return s.String() }

// serveHTTP routes requests.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/token":
		s.serveToken(w, r)
	case "/authorize":
		s.serveAuthorize(w, r)
	case consentPath:
		s.serveConsent(w, r)
	case "/v1/me":
		s.serveMe(w, r)
	default:
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			s.serveWebAPI(w, r)
			return
		}
		writeText(w, http.StatusNotFound, "404 page not found")
	}
}

// oauthError is a token endpoint error body (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// apiError is a Web API error body: {"error":{"status":...,"message":...}}.
type apiError struct {
	Error struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func newAPIError(status int, msg string) apiError {
	var e apiError
	e.Error.Status, e.Error.Message = status, msg
	return e
}

// writeJSON writes v as compact JSON. Like Spotify, and unlike
// json.Marshal, it leaves <, > and & unescaped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("spotauthtest: " + err.Error()) // the fake's own types always encode
	}
	writeBody(w, status, "application/json", bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// writeBody writes a complete response with the given content type.
func writeBody(w http.ResponseWriter, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText writes a text/plain page, as Spotify's /authorize does for
// invalid requests.
func writeText(w http.ResponseWriter, status int, text string) {
	writeBody(w, status, "text/plain; charset=utf-8", []byte(text))
}

// writeAPIError writes a Web API error.
func writeAPIError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, newAPIError(status, msg))
}
