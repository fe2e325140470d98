package weblogin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/weblogin"
)

// startLogin runs /login and the fake's consent for b, and returns the
// callback URL that Spotify sent the browser to, not yet visited.
func startLogin(t *testing.T, e *env, b *browser, next string) string {
	t.Helper()
	r := b.get(e.app.URL + "/login?next=" + url.QueryEscape(next))
	if r.status != http.StatusSeeOther {
		t.Fatalf("GET /login = %d %q", r.status, r.body)
	}
	r = b.get(r.location)
	if r.status != http.StatusFound || !strings.Contains(r.location, "code=") {
		t.Fatalf("fake /authorize = %d %q", r.status, r.location)
	}
	return r.location
}

// withParam returns u with its query parameter k set to v.
func withParam(u, k, v string) string {
	p := mustParse(u)
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

// flip returns s with one character changed, in its middle.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestRefused checks that each attack is refused with the right status,
// and that it stores no token, exchanges no code and starts no session.
func TestRefused(t *testing.T) {
	type attack struct {
		name string
		// run attacks e (whose fake user is "victim") and returns the
		// answer to the attacking request.
		run  func(t *testing.T, e *env) response
		want int
		// exchanges is the number of code exchanges the attack may cause
		// at the fake (a replayed login cookie reaches Spotify, which
		// refuses the used code).
		exchanges int
		// stored is the number of users with a stored token afterwards.
		stored int
	}
	attacks := []attack{
		{name: "forged state", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			cb := startLogin(t, e, b, "/")
			r := b.get(withParam(cb, "state", "forged-"+strings.Repeat("x", 40)))
			if b.cookie(e, "spotauth-login") == "" {
				t.Error("a forged state ended the login attempt; the genuine redirect must still complete it")
			}
			return r
		}},
		{name: "forged error redirect", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			startLogin(t, e, b, "/")
			return b.get(e.cfg.RedirectURL + "?error=access_denied&state=forged")
		}},
		{name: "replayed callback", want: http.StatusBadRequest, stored: 1, exchanges: 1, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			cb := startLogin(t, e, b, "/")
			login := b.cookie(e, "spotauth-login")
			if r := b.get(cb); r.status != http.StatusSeeOther {
				t.Fatalf("genuine callback = %d %q", r.status, r.body)
			}
			before := e.storedToken("victim")
			// The same browser again: its login cookie is gone.
			if r := b.get(cb); r.status != http.StatusBadRequest {
				t.Errorf("callback replayed by the browser = %d; want 400", r.status)
			}
			// An attacker who kept the login cookie: Spotify refuses the used code.
			a := newBrowser(t)
			a.setCookie(e, "spotauth-login", login)
			r := a.get(cb)
			if after := e.storedToken("victim"); after.AccessToken != before.AccessToken {
				t.Error("a replayed callback replaced the stored token")
			}
			return r
		}},
		{name: "callback without login cookie", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			cb := startLogin(t, e, newBrowser(t), "/")
			return newBrowser(t).get(cb) // another browser: a login CSRF
		}},
		{name: "tampered login cookie", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			cb := startLogin(t, e, b, "/")
			b.setCookie(e, "spotauth-login", flip(b.cookie(e, "spotauth-login")))
			return b.get(cb)
		}},
		{name: "truncated login cookie", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			cb := startLogin(t, e, b, "/")
			c := b.cookie(e, "spotauth-login")
			b.setCookie(e, "spotauth-login", c[:len(c)-8])
			return b.get(cb)
		}},
		{name: "session cookie as login cookie", want: http.StatusBadRequest, stored: 1, exchanges: 1, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			b.login(e, "/")
			session := b.cookie(e, "spotauth")
			cb := startLogin(t, e, b, "/")
			b.setCookie(e, "spotauth-login", session)
			return b.get(cb)
		}},
		{name: "expired login cookie", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			cb := startLogin(t, e, b, "/")
			e.srv.Clock.Advance(weblogin.DefaultLoginMaxAge + time.Second)
			return b.get(cb)
		}},
		{name: "login cookie of another deployment", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			other := newEnv(t, envOptions{srv: e.srv, stores: e.stores, keys: [][]byte{[]byte(strings.Repeat("k", 32))},
				cfg: func(c *spotauth.Config) { c.RedirectURL = e.cfg.RedirectURL }})
			b := newBrowser(t)
			cb := startLogin(t, other, b, "/") // the other deployment's login cookie
			return b.get(cb)                   // at e's callback
		}},
		{name: "off-site next, absolute", want: http.StatusBadRequest, run: offsiteNext("https://evil.example/")},
		{name: "off-site next, scheme-relative", want: http.StatusBadRequest, run: offsiteNext("//evil.example/x")},
		{name: "off-site next, backslash", want: http.StatusBadRequest, run: offsiteNext(`/\evil.example`)},
		{name: "off-site next, tab", want: http.StatusBadRequest, run: offsiteNext("/\t/evil.example")},
		{name: "off-site next, javascript", want: http.StatusBadRequest, run: offsiteNext("javascript:alert(1)")},
		{name: "off-site next, user info", want: http.StatusBadRequest, run: offsiteNext("https://app@evil.example")},
		{name: "unknown scope", want: http.StatusBadRequest, run: func(t *testing.T, e *env) response {
			return newBrowser(t).get(e.app.URL + "/login?scope=user-read-birthdate")
		}},
	}
	// Attacks on a logged-in session: the victim logged in first, so one
	// token is stored and one code exchanged; the attack adds nothing.
	session := func(name string, want int, run func(t *testing.T, e *env, b *browser) response) attack {
		return attack{name: name, want: want, stored: 1, exchanges: 1, run: func(t *testing.T, e *env) response {
			b := newBrowser(t)
			b.login(e, "/")
			return run(t, e, b)
		}}
	}
	twoLogins := func(a attack) attack { a.exchanges = 2; return a }
	attacks = append(attacks,
		session("logout by GET", http.StatusMethodNotAllowed, func(t *testing.T, e *env, b *browser) response {
			r := b.get(e.app.URL + "/logout")
			stillLoggedIn(t, e, b)
			return r
		}),
		session("logout without CSRF token", http.StatusForbidden, func(t *testing.T, e *env, b *browser) response {
			r := b.do("POST", e.app.URL+"/logout", url.Values{})
			stillLoggedIn(t, e, b)
			return r
		}),
		twoLogins(session("logout with another session's CSRF token", http.StatusForbidden, func(t *testing.T, e *env, b *browser) response {
			other := newBrowser(t)
			other.login(e, "/")
			r := b.do("POST", e.app.URL+"/logout", url.Values{weblogin.CSRFField: {other.csrf(e)}})
			stillLoggedIn(t, e, b)
			return r
		})),
		session("tampered session cookie, page", http.StatusSeeOther, func(t *testing.T, e *env, b *browser) response {
			b.setCookie(e, "spotauth", flip(b.cookie(e, "spotauth")))
			return b.get(e.app.URL + "/me")
		}),
		session("tampered session cookie, API", http.StatusUnauthorized, func(t *testing.T, e *env, b *browser) response {
			b.setCookie(e, "spotauth", flip(b.cookie(e, "spotauth")))
			return b.do("POST", e.app.URL+"/api/x", url.Values{})
		}),
		session("login cookie as session cookie", http.StatusUnauthorized, func(t *testing.T, e *env, b *browser) response {
			startLogin(t, e, b, "/")
			b.setCookie(e, "spotauth", b.cookie(e, "spotauth-login"))
			return b.do("POST", e.app.URL+"/api/x", url.Values{})
		}),
		session("expired session cookie", http.StatusUnauthorized, func(t *testing.T, e *env, b *browser) response {
			e.srv.Clock.Advance(weblogin.DefaultSessionMaxAge + time.Second)
			return b.do("POST", e.app.URL+"/api/x", url.Values{})
		}),
		session("session cookie of another deployment", http.StatusUnauthorized, func(t *testing.T, e *env, b *browser) response {
			other := newEnv(t, envOptions{srv: e.srv, stores: e.stores, keys: [][]byte{[]byte(strings.Repeat("k", 32))}})
			stolen := b.cookie(e, "spotauth")
			ob := newBrowser(t)
			ob.setCookie(other, "spotauth", stolen)
			return ob.do("POST", other.app.URL+"/api/x", url.Values{})
		}),
	)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			e := newEnv(t, envOptions{fakeClock: true})
			e.setUser("victim")
			r := a.run(t, e)
			if r.status != a.want {
				t.Errorf("status = %d (%q); want %d", r.status, strings.TrimSpace(r.body), a.want)
			}
			if c := findCookie(r.cookies, "spotauth"); c != nil && c.MaxAge >= 0 {
				t.Errorf("the attack got a session cookie: %v", c)
			}
			if got := e.storedCount(); got != a.stored {
				t.Errorf("users with a stored token = %d; want %d", got, a.stored)
			}
			if got := e.srv.Stats().GrantsSucceeded["authorization_code"]; got != a.exchanges {
				t.Errorf("successful code exchanges = %d; want %d", got, a.exchanges)
			}
		})
	}
}

// offsiteNext attempts a login whose next URL leaves the site.
func offsiteNext(next string) func(t *testing.T, e *env) response {
	return func(t *testing.T, e *env) response {
		b := newBrowser(t)
		r := b.get(e.app.URL + "/login?next=" + url.QueryEscape(next))
		if b.cookie(e, "spotauth-login") != "" {
			t.Error("a login with an off-site next set a login cookie")
		}
		return r
	}
}

// stillLoggedIn checks that b's session survived a refused logout.
func stillLoggedIn(t *testing.T, e *env, b *browser) {
	t.Helper()
	if r := b.get(e.app.URL + "/public"); !strings.HasPrefix(r.body, "hello victim") {
		t.Errorf("after the refused logout: /public = %q; want the session intact", r.body)
	}
}

// TestGenuineCallbackAfterForgery checks that the genuine redirect still
// completes a login after a forged one was refused.
func TestGenuineCallbackAfterForgery(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.setUser("victim")
	b := newBrowser(t)
	cb := startLogin(t, e, b, "/me")
	if r := b.get(withParam(cb, "state", "forged")); r.status != http.StatusBadRequest {
		t.Fatalf("forged callback = %d", r.status)
	}
	if r := b.get(withParam(cb, "code", "AQforged")); r.status != http.StatusBadRequest {
		t.Fatalf("callback with a forged code = %d; want 400 (Spotify refuses the code)", r.status)
	}
	// The forged code ended the attempt: a new login is needed; the
	// genuine redirect of a new attempt completes it.
	cb = startLogin(t, e, b, "/me")
	if r := b.get(withParam(cb, "state", "forged")); r.status != http.StatusBadRequest {
		t.Fatalf("forged callback = %d", r.status)
	}
	if r := b.get(cb); r.status != http.StatusSeeOther || r.location != e.app.URL+"/me" {
		t.Fatalf("genuine callback after a forged one = %d %q %q", r.status, r.location, r.body)
	}
}
