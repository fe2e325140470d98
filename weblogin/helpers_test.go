package weblogin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/weblogin"
)

// testClock is a spotauth.Clock on a spotauthtest clock that counts the
// timers the sources start: on-demand sources must start none.
type testClock struct {
	c      *spotauthtest.Clock
	timers atomic.Int64
}

func (t *testClock) Now() time.Time { return t.c.Now() }

func (t *testClock) AfterFunc(d time.Duration, f func()) func() bool {
	t.timers.Add(1)
	return time.AfterFunc(d, f).Stop
}

// testKey is a fixed cookie key, so that failures reproduce.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// env is a web app on weblogin, with a fake Spotify behind it.
type env struct {
	t      *testing.T
	srv    *spotauthtest.Server
	clock  *testClock
	cfg    *spotauth.Config
	opts   weblogin.Options
	stores *weblogin.MemoryStores
	auth   *weblogin.Auth
	app    *httptest.Server
}

// envOptions change an env before its Auth is created.
type envOptions struct {
	fakeClock bool                                 // drive every clock by srv.Clock
	opts      func(*weblogin.Options)              // change the Options
	server    func(*spotauthtest.Server)           // change the fake before Start
	stores    *weblogin.MemoryStores               // share stores with another env
	keys      [][]byte                             // other cookie keys
	srv       *spotauthtest.Server                 // share a fake with another env
	cfg       func(*spotauth.Config)               // change the Config
	mux       func(*http.ServeMux, *weblogin.Auth) // add handlers
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, srv: o.srv, stores: o.stores}
	if e.srv == nil {
		e.srv = spotauthtest.NewUnstartedServer()
		e.srv.AutoApprove = true
		if o.fakeClock {
			e.srv.Clock = spotauthtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC))
		}
		if o.server != nil {
			o.server(e.srv)
		}
		e.srv.Start()
		t.Cleanup(e.srv.Close)
	}
	if e.stores == nil {
		e.stores = &weblogin.MemoryStores{}
	}
	mux := http.NewServeMux()
	e.app = httptest.NewServer(mux)
	t.Cleanup(e.app.Close)
	e.cfg = &spotauth.Config{
		ClientID:    e.srv.ClientID,
		AccountsURL: e.srv.URL,
		HTTPClient:  e.srv.Client(),
		RedirectURL: e.app.URL + "/callback",
		Scopes:      spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
	}
	if e.srv.Clock != nil {
		e.clock = &testClock{c: e.srv.Clock}
		e.cfg.Clock = e.clock
	}
	if o.cfg != nil {
		o.cfg(e.cfg)
	}
	keys := o.keys
	if keys == nil {
		keys = [][]byte{testKey}
	}
	e.opts = weblogin.Options{
		Store:      e.stores.Store,
		Keys:       keys,
		APIURL:     e.srv.URL,
		HTTPClient: e.srv.Client(),
	}
	if o.opts != nil {
		o.opts(&e.opts)
	}
	auth, err := weblogin.New(e.cfg, e.opts)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	e.auth = auth
	t.Cleanup(func() { auth.Close() })

	mux.HandleFunc("/login", auth.Login)
	mux.HandleFunc("/callback", auth.Callback)
	mux.HandleFunc("/logout", auth.Logout)
	mux.Handle("/me", auth.RequireUser(http.HandlerFunc(e.serveMe)))
	mux.Handle("/api/", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api for %s", weblogin.UserID(r))
	})))
	mux.Handle("/playlists", auth.RequireScopes(spotauth.NewScopes(spotauth.ScopePlaylistReadPrivate),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := weblogin.TokenSource(r).Token(r.Context())
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintf(w, "playlists of %s with %s", weblogin.UserID(r), tok.Scope)
		})))
	mux.Handle("/public", auth.OptionalUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := weblogin.UserID(r); id != "" {
			fmt.Fprintf(w, "hello %s csrf=%s", id, weblogin.CSRFToken(r))
			return
		}
		fmt.Fprint(w, "hello stranger")
	})))
	if o.mux != nil {
		o.mux(mux, auth)
	}
	return e
}

// serveMe greets the user with the display name that the fake's /v1/me
// gives for the user's token, fetched through weblogin.Client.
func (e *env) serveMe(w http.ResponseWriter, r *http.Request) {
	resp, err := weblogin.Client(r).Get(e.srv.URL + "/v1/me")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var me struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&me) != nil {
		http.Error(w, "bad /v1/me: "+resp.Status, http.StatusBadGateway)
		return
	}
	if me.ID != weblogin.UserID(r) {
		http.Error(w, "wrong user", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "Hello, %s csrf=%s", me.DisplayName, weblogin.CSRFToken(r))
}

// setUser makes the fake's consenting user id.
func (e *env) setUser(id string) {
	e.srv.Update(func(s *spotauthtest.Server) {
		s.User = spotauthtest.User{ID: id, DisplayName: "Name of " + id, Email: id + "@example.com"}
	})
}

// storedToken returns the token stored for user id, or nil.
func (e *env) storedToken(id string) *spotauth.Token {
	e.t.Helper()
	s, err := e.stores.Store(id)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := s.Load(context.Background())
	if err != nil {
		return nil
	}
	return tok
}

// storedCount returns the number of users with a stored token.
func (e *env) storedCount() int {
	n := 0
	for _, id := range e.stores.Users() {
		if e.storedToken(id) != nil {
			n++
		}
	}
	return n
}

// browser is a user agent with a cookie jar, that does not follow
// redirects by itself.
type browser struct {
	t      *testing.T
	jar    *cookiejar.Jar
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, jar: jar}
	b.client = &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(b.client.CloseIdleConnections)
	return b
}

// response is what a request got.
type response struct {
	status   int
	location string
	body     string
	cookies  []*http.Cookie
	header   http.Header
}

func (b *browser) do(method, u string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc != "" {
		if l, err := resp.Request.URL.Parse(loc); err == nil {
			loc = l.String()
		}
	}
	return response{status: resp.StatusCode, location: loc, body: string(data), cookies: resp.Cookies(), header: resp.Header}
}

func (b *browser) get(u string) response { b.t.Helper(); return b.do("GET", u, nil) }

// follow GETs u and follows redirects, at most 10; it returns the last
// answer and the URLs visited.
func (b *browser) follow(u string) (response, []string) {
	b.t.Helper()
	var visited []string
	for range 10 {
		visited = append(visited, u)
		r := b.get(u)
		if r.status < 300 || r.status > 399 {
			return r, visited
		}
		u = r.location
	}
	b.t.Fatalf("more than 10 redirects: %v", visited)
	return response{}, nil
}

// login logs the fake's current user in through the app, and returns the
// final answer.
func (b *browser) login(e *env, next string) response {
	b.t.Helper()
	r, visited := b.follow(e.app.URL + "/login?next=" + url.QueryEscape(next))
	if len(visited) < 3 {
		b.t.Fatalf("login visited %v; want login, authorize, callback", visited)
	}
	return r
}

// cookie returns the value of the cookie called name that the browser
// sends to the app, or "".
func (b *browser) cookie(e *env, name string) string {
	u, _ := url.Parse(e.app.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie makes the browser send a cookie to the app.
func (b *browser) setCookie(e *env, name, value string) {
	u, _ := url.Parse(e.app.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (b *browser) dropCookie(e *env, name string) {
	u, _ := url.Parse(e.app.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: "", Path: "/", MaxAge: -1}})
}

// csrf returns the CSRF token of the browser's session, read from /public.
func (b *browser) csrf(e *env) string {
	b.t.Helper()
	r := b.get(e.app.URL + "/public")
	_, tok, ok := strings.Cut(r.body, "csrf=")
	if !ok {
		b.t.Fatalf("GET /public = %q; want a logged-in page", r.body)
	}
	return tok
}
