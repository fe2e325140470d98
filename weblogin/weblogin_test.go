package weblogin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/weblogin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	maybeReplica()
	goleak.VerifyTestMain(m)
}

func TestLoginFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.setUser("alice")
	b := newBrowser(t)

	// Not logged in: a page sends the browser to log in, an API call is refused.
	if r := b.get(e.app.URL + "/me?x=1"); r.status != http.StatusSeeOther || r.location != e.app.URL+"/login?next=%2Fme%3Fx%3D1" {
		t.Fatalf("GET /me without session = %d %q; want 303 to /login?next=/me?x=1", r.status, r.location)
	}
	if r := b.do("POST", e.app.URL+"/api/x", url.Values{}); r.status != http.StatusUnauthorized {
		t.Fatalf("POST /api/x without session = %d; want 401", r.status)
	}

	// The login: /login -> Spotify -> /callback -> next.
	r := b.get(e.app.URL + "/login?next=/me")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, e.srv.URL+"/authorize?") {
		t.Fatalf("GET /login = %d %q; want 303 to the fake's /authorize", r.status, r.location)
	}
	au, _ := url.Parse(r.location)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("redirect_uri") != e.cfg.RedirectURL ||
		q.Get("scope") != "user-read-private" {
		t.Errorf("authorize URL query = %v; want PKCE, a state, the redirect URI and the configured scope", q)
	}
	checkCookie(t, r.cookies, "spotauth-login", 600)
	r = b.get(r.location) // the fake approves at once
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, e.cfg.RedirectURL+"?code=") {
		t.Fatalf("fake /authorize = %d %q; want 302 to the callback with a code", r.status, r.location)
	}
	r = b.get(r.location)
	if r.status != http.StatusSeeOther || r.location != e.app.URL+"/me" {
		t.Fatalf("GET /callback = %d %q (%s); want 303 to /me", r.status, r.location, r.body)
	}
	checkCookie(t, r.cookies, "spotauth", int(weblogin.DefaultSessionMaxAge/time.Second))
	if c := findCookie(r.cookies, "spotauth-login"); c == nil || c.MaxAge >= 0 {
		t.Errorf("callback cookies = %v; want the login cookie deleted", r.cookies)
	}
	r = b.get(r.location)
	if r.status != 200 || !strings.HasPrefix(r.body, "Hello, Name of alice") {
		t.Fatalf("GET /me = %d %q; want Hello, Name of alice", r.status, r.body)
	}
	if tok := e.storedToken("alice"); tok == nil || tok.RefreshToken == "" || !tok.PKCE {
		t.Errorf("stored token of alice = %v; want a PKCE token with a refresh token", tok)
	}
	if r := b.do("POST", e.app.URL+"/api/x", url.Values{}); r.status != 200 || r.body != "api for alice" {
		t.Errorf("POST /api/x = %d %q; want 200 api for alice", r.status, r.body)
	}
	if n := e.auth.ActiveUsers(); n != 1 {
		t.Errorf("ActiveUsers = %d; want 1", n)
	}
	if st := e.srv.Stats(); st.GrantsSucceeded["authorization_code"] != 1 || st.Refreshes != 0 {
		t.Errorf("fake stats: code exchanges %d, refreshes %d; want 1, 0", st.GrantsSucceeded["authorization_code"], st.Refreshes)
	}
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// checkCookie checks a cookie's attributes on http: HttpOnly,
// SameSite=Lax, Path=/, the max age, not Secure.
func checkCookie(t *testing.T, cs []*http.Cookie, name string, maxAge int) {
	t.Helper()
	c := findCookie(cs, name)
	if c == nil {
		t.Fatalf("cookies = %v; want %s", cs, name)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != maxAge || c.Secure || c.Domain != "" {
		t.Errorf("cookie %s = %+v; want HttpOnly, SameSite=Lax, Path=/, Max-Age=%d, no Domain, not Secure on http", name, c, maxAge)
	}
}

func TestSecureCookiesOnHTTPS(t *testing.T) {
	cfg := &spotauth.Config{ClientID: "id", RedirectURL: "https://app.example/callback"}
	a, err := weblogin.New(cfg, weblogin.Options{Keys: [][]byte{testKey}, Store: (&weblogin.MemoryStores{}).Store})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := httptest.NewRecorder()
	a.Login(w, httptest.NewRequest("GET", "https://app.example/login", nil))
	cs := w.Result().Cookies()
	c := findCookie(cs, "__Host-spotauth-login")
	if c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("login cookie on https = %+v; want __Host-spotauth-login, Secure, HttpOnly, Path=/, SameSite=Lax", cs)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
}

func TestNewSessionAtEveryLogin(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.setUser("bob")
	b := newBrowser(t)
	b.login(e, "/")
	first, csrf1 := b.cookie(e, "spotauth"), b.csrf(e)
	b.login(e, "/")
	second, csrf2 := b.cookie(e, "spotauth"), b.csrf(e)
	if first == "" || first == second || csrf1 == csrf2 {
		t.Errorf("two logins gave session cookies equal %v, CSRF tokens equal %v; want new ones", first == second, csrf1 == csrf2)
	}

	// A session an attacker planted (his own, say) does not survive the
	// victim's login: the callback replaces it.
	attacker := newBrowser(t)
	e.setUser("mallory")
	attacker.login(e, "/")
	planted := attacker.cookie(e, "spotauth")
	victim := newBrowser(t)
	victim.setCookie(e, "spotauth", planted)
	if r := victim.get(e.app.URL + "/public"); !strings.HasPrefix(r.body, "hello mallory") {
		t.Fatalf("planted session: /public = %q", r.body)
	}
	e.setUser("victim")
	victim.login(e, "/")
	if got := victim.cookie(e, "spotauth"); got == planted {
		t.Error("the planted session cookie survived the login")
	}
	if r := victim.get(e.app.URL + "/public"); !strings.HasPrefix(r.body, "hello victim") {
		t.Errorf("after the login: /public = %q; want hello victim", r.body)
	}
}

func TestOptionalUser(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := newBrowser(t)
	if r := b.get(e.app.URL + "/public"); r.status != 200 || r.body != "hello stranger" {
		t.Errorf("GET /public anonymous = %d %q", r.status, r.body)
	}
	e.setUser("carol")
	b.login(e, "/")
	if r := b.get(e.app.URL + "/public"); r.status != 200 || !strings.HasPrefix(r.body, "hello carol csrf=") {
		t.Errorf("GET /public logged in = %d %q", r.status, r.body)
	}
	// Without a user, Client fails and the rest is empty.
	req := httptest.NewRequest("GET", "/", nil)
	if weblogin.UserID(req) != "" || weblogin.TokenSource(req) != nil || weblogin.CSRFToken(req) != "" {
		t.Error("UserID, TokenSource, CSRFToken of a request without user are not empty")
	}
	if _, err := weblogin.Client(req).Get(e.srv.URL + "/v1/me"); err == nil || !strings.Contains(err.Error(), weblogin.ErrNotLoggedIn.Error()) {
		t.Errorf("Client without user: Get = %v; want ErrNotLoggedIn", err)
	}
}

func TestStepUpKeepsGrantedScopes(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.setUser("dave")
	b := newBrowser(t)
	// A first login with an extra scope, as another step-up would give.
	r := b.login(e, "/nothing")
	if r.status != 404 {
		t.Fatalf("login = %d", r.status)
	}
	r, _ = b.follow(e.app.URL + "/login?next=/public&scope=user-read-email")
	if r.status != 200 {
		t.Fatalf("login with scope = %d %q", r.status, r.body)
	}

	// /playlists needs playlist-read-private: a step-up login.
	r = b.get(e.app.URL + "/playlists")
	if r.status != http.StatusSeeOther || r.location != e.app.URL+"/login?next=%2Fplaylists&scope=playlist-read-private" {
		t.Fatalf("GET /playlists = %d %q; want 303 to a step-up login", r.status, r.location)
	}
	r = b.get(r.location)
	au, _ := url.Parse(r.location)
	want := "playlist-read-private user-read-email user-read-private"
	if got := au.Query().Get("scope"); got != want {
		t.Errorf("step-up asks for scope %q; want %q (configured, granted and missing)", got, want)
	}
	r, _ = b.follow(r.location)
	if r.status != 200 || r.body != "playlists of dave with "+want {
		t.Fatalf("after the step-up: %d %q", r.status, r.body)
	}
	if got := e.storedToken("dave").Scope.String(); got != want {
		t.Errorf("stored scopes = %q; want %q", got, want)
	}
	// A POST cannot be sent through a login: 403.
	mux := http.NewServeMux()
	mux.Handle("/", e.auth.RequireScopes(spotauth.NewScopes(spotauth.ScopeUserTopRead), http.NotFoundHandler()))
	req := httptest.NewRequest("POST", "/", nil)
	for _, c := range b.jar.Cookies(mustParse(e.app.URL)) {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("POST needing an ungranted scope = %d; want 403", w.Code)
	}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestStepUpDenied(t *testing.T) {
	// The user refuses the step-up on the consent page: the callback
	// answers 403, the stored token and the session stay as they were.
	e := newEnv(t, envOptions{})
	e.setUser("erin")
	b := newBrowser(t)
	b.login(e, "/")
	e.srv.Update(func(s *spotauthtest.Server) { s.Decide = func(spotauthtest.AuthorizeRequest) bool { return false } })
	r, _ := b.follow(e.app.URL + "/playlists")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "access_denied") {
		t.Errorf("denied step-up = %d %q; want 403 access_denied", r.status, r.body)
	}
	if got := e.storedToken("erin").Scope.String(); got != "user-read-private" {
		t.Errorf("stored scopes after the denial = %q; want user-read-private", got)
	}
	if r := b.get(e.app.URL + "/public"); !strings.HasPrefix(r.body, "hello erin") {
		t.Errorf("the session did not survive the denied step-up: %q", r.body)
	}
}

func TestLogout(t *testing.T) {
	for _, forget := range []bool{false, true} {
		t.Run(map[bool]string{false: "keep token", true: "forget token"}[forget], func(t *testing.T) {
			e := newEnv(t, envOptions{opts: func(o *weblogin.Options) { o.ForgetOnLogout = forget }})
			e.setUser("frank")
			b := newBrowser(t)
			b.login(e, "/")
			session := b.cookie(e, "spotauth")
			r := b.do("POST", e.app.URL+"/logout", url.Values{weblogin.CSRFField: {b.csrf(e)}, "next": {"/public"}})
			if r.status != http.StatusSeeOther || r.location != e.app.URL+"/public" {
				t.Fatalf("POST /logout = %d %q; want 303 to /public", r.status, r.location)
			}
			if c := findCookie(r.cookies, "spotauth"); c == nil || c.MaxAge >= 0 {
				t.Errorf("logout cookies = %v; want the session cookie deleted", r.cookies)
			}
			if r := b.get(e.app.URL + "/public"); r.body != "hello stranger" {
				t.Errorf("after logout /public = %q; want hello stranger", r.body)
			}
			stored := e.storedToken("frank") != nil
			if stored == forget {
				t.Errorf("token stored after logout: %v; want %v", stored, !forget)
			}
			// The old cookie, replayed: only forgetting the token ends it.
			thief := newBrowser(t)
			thief.setCookie(e, "spotauth", session)
			r = thief.get(e.app.URL + "/public")
			if loggedIn := strings.HasPrefix(r.body, "hello frank"); loggedIn == forget {
				t.Errorf("replayed session after logout (forget %v): %q", forget, r.body)
			}
		})
	}
}

func TestLogoutWithoutSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := newBrowser(t)
	if r := b.do("POST", e.app.URL+"/logout", url.Values{"next": {"//evil.example"}}); r.status != http.StatusSeeOther || r.location != e.app.URL+"/" {
		t.Errorf("logout without session = %d %q; want 303 to / (an off-site next ignored)", r.status, r.location)
	}
}

func TestCallbackOnAnotherReplica(t *testing.T) {
	// Replicas share the public redirect URI; b is reached by its own
	// address here, as a load balancer would send the request to it.
	a := newEnv(t, envOptions{})
	bEnv := newEnv(t, envOptions{srv: a.srv, stores: a.stores, cfg: func(c *spotauth.Config) { c.RedirectURL = a.cfg.RedirectURL }})
	a.setUser("gina")
	br := newBrowser(t)
	r := br.get(a.app.URL + "/login?next=/me")
	r = br.get(r.location)
	// Replica b gets the callback: the login cookie carries the attempt.
	cb := strings.Replace(r.location, a.app.URL, bEnv.app.URL, 1)
	r = br.get(cb)
	if r.status != http.StatusSeeOther {
		t.Fatalf("callback on the other replica = %d %q", r.status, r.body)
	}
	if r := br.get(bEnv.app.URL + "/me"); !strings.HasPrefix(r.body, "Hello, Name of gina") {
		t.Errorf("GET /me on replica b = %q", r.body)
	}
	if r := br.get(a.app.URL + "/me"); !strings.HasPrefix(r.body, "Hello, Name of gina") {
		t.Errorf("GET /me on replica a = %q", r.body)
	}
}

func TestReplicaLoadsNewerLogin(t *testing.T) {
	// Replica b caches gina's token; she then logs in again on replica a
	// with a new scope. Her new session makes b load the new token rather
	// than send her through a step-up again.
	a := newEnv(t, envOptions{})
	bEnv := newEnv(t, envOptions{srv: a.srv, stores: a.stores})
	a.setUser("gina")
	br := newBrowser(t)
	br.login(a, "/")
	if r := br.get(bEnv.app.URL + "/public"); !strings.HasPrefix(r.body, "hello gina") {
		t.Fatalf("replica b: %q", r.body)
	}
	r, _ := br.follow(a.app.URL + "/playlists")
	if r.status != 200 {
		t.Fatalf("step-up on a = %d %q", r.status, r.body)
	}
	r = br.get(bEnv.app.URL + "/playlists")
	if r.status != 200 || !strings.Contains(r.body, "playlist-read-private") {
		t.Errorf("replica b after the step-up on a = %d %q %q; want 200 with the new scope", r.status, r.location, r.body)
	}
	if st := a.srv.Stats(); st.Refreshes != 0 {
		t.Errorf("refreshes = %d; want 0 (the new token is loaded, not refreshed)", st.Refreshes)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	store := (&weblogin.MemoryStores{}).Store
	good := &spotauth.Config{ClientID: "id", RedirectURL: "https://app.example/callback"}
	for _, tc := range []struct {
		name string
		cfg  *spotauth.Config
		opts weblogin.Options
	}{
		{"nil config", nil, weblogin.Options{Keys: [][]byte{testKey}, Store: store}},
		{"no client ID", &spotauth.Config{RedirectURL: "https://app.example/callback"}, weblogin.Options{Keys: [][]byte{testKey}, Store: store}},
		{"localhost redirect", &spotauth.Config{ClientID: "id", RedirectURL: "http://localhost:8080/callback"}, weblogin.Options{Keys: [][]byte{testKey}, Store: store}},
		{"no store", good, weblogin.Options{Keys: [][]byte{testKey}}},
		{"no keys", good, weblogin.Options{Store: store}},
		{"short key", good, weblogin.Options{Keys: [][]byte{[]byte("short")}, Store: store}},
		{"repeated key", good, weblogin.Options{Keys: [][]byte{testKey, testKey}, Store: store}},
		{"login path off-site", good, weblogin.Options{Keys: [][]byte{testKey}, Store: store, LoginPath: "//evil.example/login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if a, err := weblogin.New(tc.cfg, tc.opts); err == nil {
				a.Close()
				t.Errorf("New = nil error; want an error")
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := weblogin.GenerateKey(), weblogin.GenerateKey()
	keys, err := weblogin.ParseKeys(k1 + ", " + k2)
	if err != nil || len(keys) != 2 || len(keys[0]) != 32 {
		t.Fatalf("ParseKeys(two keys) = %d keys, %v", len(keys), err)
	}
	for _, bad := range []string{"", "not base64!", "c2hvcnQ="} {
		if _, err := weblogin.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) = nil error; want an error", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("ParseKeys error %q repeats the key", err)
		}
	}
}

func TestStoreKey(t *testing.T) {
	seen := map[string]string{}
	for _, id := range []string{"abc123", "ABC123", "Abc123", "john.doe", "john_doe", "john-doe", "x-abc", "h-abc",
		"wizzler", strings.Repeat("z", 64), strings.Repeat("z", 65), strings.Repeat("Z", 200), "ünïcode", "a b"} {
		k := weblogin.StoreKey(id)
		if len(k) < 1 || len(k) > 64 {
			t.Errorf("StoreKey(%q) = %q: length %d", id, k, len(k))
		}
		for _, c := range k {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				t.Errorf("StoreKey(%q) = %q: character %q", id, k, c)
			}
		}
		if prev, ok := seen[strings.ToLower(k)]; ok {
			t.Errorf("StoreKey(%q) = StoreKey(%q) = %q, ignoring case", id, prev, k)
		}
		seen[strings.ToLower(k)] = id
	}
	if k := weblogin.StoreKey("31l77fxeoefbkj3vonfxz5ha7gdy"); k != "31l77fxeoefbkj3vonfxz5ha7gdy" {
		t.Errorf("StoreKey of a modern Spotify ID = %q; want it unchanged", k)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey := []byte(strings.Repeat("o", 32))
	newKey := []byte(strings.Repeat("n", 32))
	before := newEnv(t, envOptions{keys: [][]byte{oldKey}})
	before.setUser("ivy")
	b := newBrowser(t)
	b.login(before, "/")
	oldCookie := b.cookie(before, "spotauth")
	csrf := b.csrf(before)

	// The next deployment seals with the new key and still opens the old
	// one's cookies, and accepts their CSRF tokens.
	after := newEnv(t, envOptions{srv: before.srv, stores: before.stores, keys: [][]byte{newKey, oldKey}})
	ab := newBrowser(t)
	ab.setCookie(after, "spotauth", oldCookie)
	if r := ab.get(after.app.URL + "/public"); !strings.HasPrefix(r.body, "hello ivy") {
		t.Fatalf("a session sealed with the old key, after rotation: %q", r.body)
	}
	// A new login is sealed with the new key: the old deployment, which
	// lacks it, does not open it.
	after.setUser("ivy")
	ab.login(after, "/")
	ob := newBrowser(t)
	ob.setCookie(before, "spotauth", ab.cookie(after, "spotauth"))
	if r := ob.get(before.app.URL + "/public"); r.body != "hello stranger" {
		t.Errorf("a cookie sealed with the new key opened without it: %q", r.body)
	}
	// Once the old key is dropped, its sessions end.
	dropped := newEnv(t, envOptions{srv: before.srv, stores: before.stores, keys: [][]byte{newKey}})
	db := newBrowser(t)
	db.setCookie(dropped, "spotauth", oldCookie)
	if r := db.get(dropped.app.URL + "/public"); r.body != "hello stranger" {
		t.Errorf("a session sealed with a dropped key: %q", r.body)
	}
	// The old session's CSRF token still logs it out after rotation.
	if r := ab.do("POST", after.app.URL+"/logout", url.Values{weblogin.CSRFField: {csrf}}); r.status != http.StatusForbidden {
		t.Errorf("logout of the new session with the old session's CSRF token = %d; want 403", r.status)
	}
	ab.setCookie(after, "spotauth", oldCookie)
	if r := ab.do("POST", after.app.URL+"/logout", url.Values{weblogin.CSRFField: {csrf}}); r.status != http.StatusSeeOther {
		t.Errorf("logout of the old session after rotation = %d; want 303", r.status)
	}
}
