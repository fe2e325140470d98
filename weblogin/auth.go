package weblogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
)

// Defaults of [Options].
const (
	DefaultMaxUsers      = 10000
	DefaultSessionMaxAge = 30 * 24 * time.Hour
	DefaultLoginMaxAge   = 10 * time.Minute // Spotify's code lifetime
	DefaultLoginPath     = "/login"
	DefaultCookieName    = "spotauth"
	// SpotifyAPIURL is the base URL of Spotify's Web API.
	SpotifyAPIURL = "https://api.spotify.com"
	// CSRFField is the name of the form field that carries the CSRF token
	// of a logout; see [CSRFToken].
	CSRFField = "csrf_token"
)

// Options configure an [Auth]. Store and Keys are required; the zero value
// of every other field means its default.
type Options struct {
	// Store returns the token store of a user, keyed by Spotify user ID
	// (as given; see [StoreKey] for a name any store accepts). Auth calls
	// it when a user logs in or out and when a user's entry is not
	// cached, and closes each store it got (if it is an io.Closer) once
	// done with it: when the entry leaves the cache, or at the end of the
	// login or logout. Return a new store at each call, or one whose Close
	// does nothing. Replicas must share the stores: Redis, or files on
	// one host; [MemoryStores] are for a single process.
	Store func(userID string) (spotauth.TokenStore, error)
	// Keys are the secrets that seal the cookies, at least [MinKeySize]
	// random bytes each (see [GenerateKey] and [ParseKeys]). The first
	// seals; all open: to rotate, put a new key first and drop the old one
	// after SessionMaxAge. Replicas share the same keys.
	Keys [][]byte

	// APIURL is the Web API's base URL, where the callback learns the
	// user's ID (GET /v1/me); "" means [SpotifyAPIURL]. Tests use a
	// spotauthtest server's URL.
	APIURL string
	// HTTPClient sends Web API requests: /v1/me at login and, wrapped,
	// those of [Client]. nil means http.DefaultClient.
	HTTPClient *http.Client

	// LoginPath is where [Auth.RequireUser] sends browsers to log in;
	// "" means [DefaultLoginPath]. Mount [Auth.Login] there.
	LoginPath string
	// LogoutRedirect is where a logout sends the browser when the form
	// has no valid "next" field; "" means "/".
	LogoutRedirect string
	// ForgetOnLogout makes a logout delete the user's stored token, which
	// ends every session of that user on every replica (other replicas
	// notice at their next refresh); otherwise only the browser's session
	// ends.
	ForgetOnLogout bool
	// SessionMaxAge is how long a session lasts; 0 means
	// [DefaultSessionMaxAge].
	SessionMaxAge time.Duration
	// CookieName names the session cookie, and with "-login" the cookie of
	// a login in progress; "" means [DefaultCookieName]. On https the name
	// gets the "__Host-" prefix, which browsers only accept from a secure
	// origin, for the whole host. Give apps sharing a host different names.
	CookieName string

	// MaxUsers bounds the active users whose token sources are kept;
	// 0 means [DefaultMaxUsers]. The least recently seen is closed first
	// and reloaded from its store when it comes back.
	MaxUsers int
	// Source is the template of every user's [spotauth.SourceOptions]
	// (RefreshWindow, Jitter, RefreshTimeout); Auth sets Store, OnDemand
	// (an idle user costs no timer, goroutine or request), OnRefresh and
	// OnError.
	Source spotauth.SourceOptions
	// OnRefresh and OnError, if set, are called as SourceOptions' are,
	// with the user's ID.
	OnRefresh func(userID string, t *spotauth.Token)
	OnError   func(userID string, err error)

	// Error writes the answer to a request that failed: status is the HTTP
	// status and err says why (it never holds a secret). nil writes err's
	// text as text/plain.
	Error func(w http.ResponseWriter, r *http.Request, status int, err error)
}

// Auth is "Log in with Spotify" for a net/http server: login, callback
// and logout handlers, middleware that requires a logged-in user or scopes,
// and each user's token, refreshed once per expiry across replicas, through
// [Client] and [TokenSource]. It is safe for concurrent use. Create it with
// [New] and Close it when the server stops.
//
// The login flow, with PKCE:
//
//  1. [Auth.Login] seals a state and code verifier in a short-lived login
//     cookie and redirects the browser to Spotify's consent page.
//  2. Spotify redirects the browser to the callback ([Auth.Callback]), on
//     any replica: it opens the login cookie, checks the state (in
//     constant time), exchanges the code, learns the user's Spotify ID from
//     /v1/me, saves the token in the user's store and starts a session with
//     a new session ID.
//  3. [Auth.RequireUser] opens the session cookie, finds the user's token
//     source in a bounded cache (or creates one on the user's store) and
//     gets a valid token: on the hot path an AES-GCM open, a map lookup and
//     an atomic load, and no store access.
//  4. [Auth.Logout] (POST, with [CSRFToken]) ends the session, and with
//     [Options.ForgetOnLogout] deletes the stored token.
type Auth struct {
	cfg  *spotauth.Config
	opts Options
	seal *sealer

	users                  *cache
	apiURL                 string
	loginPath              string
	logoutRedirect         string
	secure                 bool
	sessionName, loginName string
	sessionMaxAge          time.Duration
}

// New returns an Auth for the app cfg, whose RedirectURL is the absolute URL
// at which [Auth.Callback] is mounted (https, or http on 127.0.0.1 for
// development: see [spotauth.ValidateRedirectURI]); a secure cookie is used
// when it is https. cfg.Scopes are requested at every login. cfg must not
// be modified afterwards.
func New(cfg *spotauth.Config, opts Options) (*Auth, error) {
	if cfg == nil || cfg.ClientID == "" {
		return nil, fmt.Errorf("%w: web login needs a Config with a client ID", spotauth.ErrInvalidConfig)
	}
	if err := spotauth.ValidateRedirectURI(cfg.RedirectURL); err != nil {
		return nil, err
	}
	if opts.Store == nil {
		return nil, fmt.Errorf("%w: web login needs Options.Store, the token store of each user", spotauth.ErrInvalidConfig)
	}
	seal, err := newSealer(opts.Keys)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", spotauth.ErrInvalidConfig, err)
	}
	a := &Auth{
		cfg:            cfg,
		opts:           opts,
		seal:           seal,
		apiURL:         strings.TrimRight(opts.APIURL, "/"),
		loginPath:      opts.LoginPath,
		logoutRedirect: opts.LogoutRedirect,
		secure:         strings.HasPrefix(strings.ToLower(cfg.RedirectURL), "https://"),
		sessionMaxAge:  opts.SessionMaxAge,
	}
	if a.apiURL == "" {
		a.apiURL = SpotifyAPIURL
	}
	if a.loginPath == "" {
		a.loginPath = DefaultLoginPath
	}
	if _, ok := localPath(a.loginPath); !ok {
		return nil, fmt.Errorf("%w: LoginPath %q is not a local path", spotauth.ErrInvalidConfig, a.loginPath)
	}
	if a.logoutRedirect == "" {
		a.logoutRedirect = "/"
	}
	if a.sessionMaxAge <= 0 {
		a.sessionMaxAge = DefaultSessionMaxAge
	}
	name := opts.CookieName
	if name == "" {
		name = DefaultCookieName
	}
	if a.secure {
		name = "__Host-" + name
	}
	a.sessionName, a.loginName = name, name+"-login"
	maxUsers := opts.MaxUsers
	if maxUsers <= 0 {
		maxUsers = DefaultMaxUsers
	}
	a.users = newCache(maxUsers, a.openUser)
	return a, nil
}

// Close closes every user's token source (a refresh in flight is completed
// and saved first) and store, and waits until the requests in progress
// have released them: call it once the server has stopped (see
// [http.Server.Shutdown]). Later requests fail with a 503.
func (a *Auth) Close() error {
	a.users.close()
	return nil
}

// ActiveUsers returns the number of users whose token sources are cached.
func (a *Auth) ActiveUsers() int { return a.users.len() }

func (a *Auth) now() time.Time {
	if a.cfg.Clock != nil {
		return a.cfg.Clock.Now()
	}
	return time.Now()
}

func (a *Auth) httpClient() *http.Client {
	if a.opts.HTTPClient != nil {
		return a.opts.HTTPClient
	}
	return http.DefaultClient
}

// openUser returns a new entry for user id: its store, and an on-demand
// source whose token is loaded from the store at first use.
func (a *Auth) openUser(id string) (*user, error) {
	store, err := a.opts.Store(id)
	if err != nil {
		return nil, fmt.Errorf("spotauth: web login: open the token store of a user: %w", err)
	}
	opts := a.opts.Source
	opts.Store = store
	opts.OnDemand = true
	opts.OnRefresh, opts.OnError = nil, nil
	if f := a.opts.OnRefresh; f != nil {
		opts.OnRefresh = func(t *spotauth.Token) { f(id, t) }
	}
	if f := a.opts.OnError; f != nil {
		opts.OnError = func(err error) { f(id, err) }
	}
	u := &user{id: id, store: store}
	u.src = a.cfg.UserSource(nil, &opts)
	u.client = u.src.Client(a.opts.HTTPClient)
	return u, nil
}

// errStale: the store holds an older authorization than the session's.
var errStale = errors.New("spotauth: web login: the stored token is older than the session")

// activeUser returns the pinned entry of the session's user and a valid
// token. An entry whose token predates the session's login (made on
// another replica) is replaced by one loaded from the store.
func (a *Auth) activeUser(ctx context.Context, s *session) (*user, *spotauth.Token, error) {
	u, err := a.users.get(s.uid)
	if err != nil {
		return nil, nil, err
	}
	tok, err := u.src.Token(ctx)
	if err == nil && olderThan(tok.AuthorizedAt, s.authAt) {
		// Logged in again on another replica: load the new token.
		a.users.unpin(u)
		nu, oerr := a.openUser(u.id)
		if oerr != nil {
			return nil, nil, oerr
		}
		if u, err = a.users.put(nu); err != nil {
			return nil, nil, err
		}
		if tok, err = u.src.Token(ctx); err == nil && olderThan(tok.AuthorizedAt, s.authAt) {
			err = errStale
		}
	}
	if err != nil {
		a.users.unpin(u)
		return nil, nil, err
	}
	return u, tok, nil
}

// olderThan reports whether a token authorized at t is older than the
// authorization at authAt (Unix nanoseconds; 0: unknown). A store that
// keeps whole seconds (the file store's JSON) gives a t without
// nanoseconds: it is older only if its second is.
func olderThan(t time.Time, authAt int64) bool {
	if t.IsZero() || authAt == 0 {
		return false
	}
	if t.Nanosecond() == 0 {
		return t.Unix() < authAt/int64(time.Second)
	}
	return t.UnixNano() < authAt
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// loggedOut reports whether err, from a user's source, means that the user
// must log in again (rather than that the store or Spotify failed).
func loggedOut(err error) bool {
	return errors.Is(err, spotauth.ErrReauthorize) || errors.Is(err, spotauth.ErrTokenNotFound) ||
		errors.Is(err, errStale)
}

// fail answers a failed request with status.
func (a *Auth) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if a.opts.Error != nil {
		a.opts.Error(w, r, status, err)
		return
	}
	http.Error(w, err.Error(), status)
}
