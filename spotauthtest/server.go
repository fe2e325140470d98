package spotauthtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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

// User is the test user who consents at /authorize and whom /v1/me describes.
type User struct {
	ID          string
	DisplayName string
	Email       string // shown by /v1/me with the user-read-email scope
	Country     string // shown by /v1/me with the user-read-private scope
	Product     string // "premium", "free"...; shown with user-read-private
}

// AuthorizeRequest is a valid request to GET /authorize, as given to
// [Server.Decide].
type AuthorizeRequest struct {
	ClientID      string
	RedirectURI   string // the exact string sent
	State         string
	Scopes        []string // requested, deduplicated, in request order
	CodeChallenge string   // empty without PKCE
	ShowDialog    bool

	hasState bool
}

// DefaultLogLimit is the number of entries [Server.TokenLog] keeps when
// [Server.LogLimit] is zero.
const DefaultLogLimit = 10000

// Server is a fake Accounts service and a fake Web API (/v1/me).
//
// Create it with [NewServer], or with [NewUnstartedServer], set fields, and
// call [Server.Start]. The configuration fields are read by Start; to change
// them on a running server, use [Server.Update].
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
	// with an --addr flag sets it. Close closes it.
	Listener net.Listener

	// Fields below may be set before Start, or at any time through the
	// methods that guard them ([Server.Update]).

	// Clock is the server's time; nil means the system clock. Set it before
	// Start; move it at any time with its methods.
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
	// parameter spotauthtest_consent=approve or =deny, which decides at
	// once, without the consent page, whatever AutoApprove, Deny and Decide
	// say.
	Decide func(AuthorizeRequest) bool
	// Refresh is the refresh mode.
	Refresh RefreshMode
	// Lifetimes; zero means Spotify's: code 10 min, access token 3600 s,
	// refresh token 6 months from authorization.
	//
	// expires_in is the access-token lifetime in whole seconds, rounded up
	// (a 1.5 s lifetime gives expires_in 2, and the token dies after 1.5 s).
	// A zero RefreshTokenLifetime means six calendar months
	// (authorization time .AddDate(0, 6, 0)).
	CodeLifetime, AccessTokenLifetime, RefreshTokenLifetime time.Duration
	// LogLimit is how many entries [Server.TokenLog] keeps (the newest);
	// zero means [DefaultLogLimit], negative disables the log.
	LogLimit int

	initOnce sync.Once
	st       *state
	cfg      atomic.Pointer[config]

	mu      sync.Mutex // guards the fields below, and Update's writes
	started bool
	closed  bool
	srv     *http.Server
	client  *http.Client
	closing chan struct{} // closed by Close: handlers stop waiting
	hijacks sync.WaitGroup

	connMu     sync.Mutex        // guards fresh
	fresh      map[net.Conn]bool // connections that have not sent a request yet
	freshCount atomic.Int64      // len(fresh), read without the lock

	lastBasic atomic.Pointer[basicCache] // the last Authorization: Basic value decoded
}

// config is the snapshot of the configuration fields that handlers read.
type config struct {
	user                   User
	autoApprove, deny      bool
	decide                 func(AuthorizeRequest) bool
	refresh                RefreshMode
	codeLife, accessLife   time.Duration
	refreshLife            time.Duration
	expiresIn              int64
	defaultRefreshLifetime bool
}

// state is everything the server remembers.
type state struct {
	apps     atomic.Pointer[map[string]*app]
	appsMu   sync.Mutex // serializes AddApp
	codes    *shardedMap[*codeEntry]
	access   *shardedMap[*accessEntry]
	refresh  *shardedMap[*grant]
	consents *shardedMap[*consentEntry]

	grantsMu sync.Mutex
	grants   []*grant

	accessEpoch  atomic.Int64
	refreshEpoch atomic.Int64

	stats  counters
	log    requestLog
	faults faultState
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

func (s *Server) init() {
	s.initOnce.Do(func() {
		st := &state{
			codes:    newShardedMap[*codeEntry](),
			access:   newShardedMap[*accessEntry](),
			refresh:  newShardedMap[*grant](),
			consents: newShardedMap[*consentEntry](),
		}
		st.apps.Store(&map[string]*app{})
		s.st = st
	})
}

// snapshot copies the configuration fields for the handlers; s.mu held.
func (s *Server) snapshot() {
	c := &config{
		user:        s.User,
		autoApprove: s.AutoApprove,
		deny:        s.Deny,
		decide:      s.Decide,
		refresh:     s.Refresh,
		codeLife:    s.CodeLifetime,
		accessLife:  s.AccessTokenLifetime,
		refreshLife: s.RefreshTokenLifetime,
	}
	if c.user == (User{}) {
		c.user = DefaultUser
	}
	if c.codeLife <= 0 {
		c.codeLife = 10 * time.Minute
	}
	if c.accessLife <= 0 {
		c.accessLife = time.Hour
	}
	if c.refreshLife <= 0 {
		c.defaultRefreshLifetime = true
	}
	c.expiresIn = int64((c.accessLife + time.Second - 1) / time.Second)
	s.cfg.Store(c)
	n := s.LogLimit
	if n == 0 {
		n = DefaultLogLimit
	}
	s.st.log.setLimit(n)
}

// prepare readies the handlers without listening; s.mu held.
func (s *Server) prepare() {
	s.init()
	if s.ClientID != "" {
		if _, ok := (*s.st.apps.Load())[s.ClientID]; !ok {
			var uris []string
			if s.RedirectURI != "" {
				uris = []string{s.RedirectURI}
			}
			err := s.AddApp(App{ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURIs: uris})
			if err != nil {
				panic(err.Error()) // "spotauthtest: ... (app ...)"
			}
		}
	}
	s.snapshot()
	if s.closing == nil {
		s.closing = make(chan struct{})
	}
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
	s.prepare()
	if s.Listener == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic("spotauthtest: failed to listen on a port: " + err.Error())
		}
		s.Listener = l
	}
	s.URL = "http://" + urlHost(s.Listener.Addr())
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnState:         s.connState,
	}
	s.started = true
	srv, l := s.srv, s.Listener
	go func() { _ = srv.Serve(l) }()
}

// urlHost returns the host:port to put in URLs for a listener's address:
// an unspecified address (0.0.0.0, ::) becomes the loopback one.
func urlHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip := ta.IP
		switch {
		case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
			ip = net.IPv4(127, 0, 0, 1)
		case ip.IsUnspecified():
			ip = net.IPv6loopback
		}
		return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
	}
	return a.String()
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
	srv, l, client, closing, started := s.srv, s.Listener, s.client, s.closing, s.started
	s.mu.Unlock()

	if closing != nil {
		close(closing)
	}
	if client != nil {
		client.CloseIdleConnections()
	}
	if started {
		// Shutdown closes the listener and idle connections, then waits for
		// active ones. It would wait 5 s for connections that never sent a
		// request (the client's spare dials): close those first.
		_ = l.Close()
		s.connMu.Lock()
		for c := range s.fresh {
			_ = c.Close()
		}
		s.connMu.Unlock()
		_ = srv.Shutdown(context.Background())
	} else if l != nil {
		_ = l.Close()
	}
	s.hijacks.Wait()
	if client != nil {
		client.CloseIdleConnections()
	}
}

// connState tracks the connections that have not sent a request yet.
func (s *Server) connState(c net.Conn, cs http.ConnState) {
	switch cs {
	case http.StateNew:
		s.connMu.Lock()
		if s.fresh == nil {
			s.fresh = make(map[net.Conn]bool)
		}
		s.fresh[c] = true
		s.freshCount.Store(int64(len(s.fresh)))
		s.connMu.Unlock()
	case http.StateActive, http.StateClosed, http.StateHijacked:
		if s.freshCount.Load() == 0 {
			return // the common case on a busy keep-alive connection: no lock
		}
		s.connMu.Lock()
		delete(s.fresh, c)
		s.freshCount.Store(int64(len(s.fresh)))
		s.connMu.Unlock()
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
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConns:          256,
				MaxIdleConnsPerHost:   256,
				IdleConnTimeout:       90 * time.Second,
				ResponseHeaderTimeout: time.Minute,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return s.client
}

// Update runs f, which may change the configuration fields (User,
// AutoApprove, Deny, Decide, Refresh, the lifetimes and LogLimit), and
// makes the running server use them. Concurrent requests see either the
// old or the new configuration. Changing URL, Listener, Clock or the
// default app's fields has no effect once started.
func (s *Server) Update(f func(s *Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
	if s.cfg.Load() != nil {
		s.snapshot() // else Start, or the first use, takes the snapshot
	}
}

// SetRefreshMode sets the refresh mode of a running server.
func (s *Server) SetRefreshMode(m RefreshMode) { s.Update(func(s *Server) { s.Refresh = m }) }

// conf returns the configuration snapshot, making one if Start has not.
func (s *Server) conf() *config {
	if c := s.cfg.Load(); c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prepare()
	return s.cfg.Load()
}

// now returns the server's time.
func (s *Server) now() time.Time { return s.Clock.Now() }

// String describes the server without secrets or tokens.
func (s *Server) String() string {
	if s == nil {
		return "spotauthtest.Server(nil)"
	}
	return fmt.Sprintf("spotauthtest.Server{URL: %q, ClientID: %q}", s.URL, s.ClientID)
}

// GoString is String: %#v shows no secret or token either.
func (s *Server) GoString() string { return s.String() }

// Format implements fmt.Formatter so that every verb prints
// [Server.String], never the client secret or the tokens held.
func (s *Server) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// AddApp registers an app, checking its redirect URIs by Spotify's rules:
// https, custom schemes, or http on the loopback IP literals 127.0.0.1 and
// [::1]; never localhost, never a fragment. A loopback URI registered
// without a port matches any port at /authorize. AddApp may be called
// before or after Start. Errors match [ErrInvalidApp],
// [ErrInsecureRedirectURI] or [ErrInvalidRedirectURI].
func (s *Server) AddApp(a App) error {
	s.init()
	ap, err := newApp(a)
	if err != nil {
		return err
	}
	st := s.st
	st.appsMu.Lock()
	defer st.appsMu.Unlock()
	old := *st.apps.Load()
	if _, dup := old[a.ClientID]; dup {
		return fmt.Errorf("%w: client ID %q already registered", ErrInvalidApp, a.ClientID)
	}
	apps := make(map[string]*app, len(old)+1)
	for k, v := range old {
		apps[k] = v
	}
	apps[a.ClientID] = ap
	st.apps.Store(&apps)
	return nil
}

func (s *Server) app(clientID string) *app {
	return (*s.st.apps.Load())[clientID]
}

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
		writeText(w, http.StatusNotFound, "404 page not found")
	}
}
