package weblogin_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/weblogin"
)

// sourceGoroutines returns the number of goroutines running code of a
// RefreshingSource (a refresh in flight, a store watch), after waiting up
// to 5 s for them to end: a flight that loaded a token ends just after
// the request that started it.
func sourceGoroutines() int {
	var n int
	for range 500 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n = strings.Count(string(buf), "spotauth.(*RefreshingSource)")
		if n == 0 {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

func TestIdleUsersCostNothing(t *testing.T) {
	const users = 20
	e := newEnv(t, envOptions{fakeClock: true})
	browsers := make([]*browser, users)
	for i := range browsers {
		e.setUser(fmt.Sprintf("user%d", i))
		browsers[i] = newBrowser(t)
		browsers[i].login(e, "/")
		if r := browsers[i].get(e.app.URL + "/me"); r.status != 200 {
			t.Fatalf("GET /me = %d %q", r.status, r.body)
		}
	}
	if n := e.auth.ActiveUsers(); n != users {
		t.Fatalf("ActiveUsers = %d; want %d", n, users)
	}
	// Every token expires while the users are idle.
	e.srv.Clock.Advance(2 * time.Hour)
	if n := sourceGoroutines(); n != 0 {
		t.Errorf("goroutines in token sources of idle users = %d; want 0", n)
	}
	if n := e.clock.timers.Load(); n != 0 {
		t.Errorf("timers started by token sources = %d; want 0", n)
	}
	if st := e.srv.Stats(); st.Refreshes != 0 {
		t.Errorf("refreshes while idle = %d; want 0", st.Refreshes)
	}

	// One user comes back with 10 requests at once: one refresh.
	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	for range 10 {
		wg.Go(func() { statuses <- browsers[3].get(e.app.URL + "/me").status })
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("GET /me after expiry = %d; want 200", s)
		}
	}
	if st := e.srv.Stats(); st.Refreshes != 1 || st.RefreshesSucceeded != 1 {
		t.Errorf("refreshes = %d (succeeded %d); want 1", st.Refreshes, st.RefreshesSucceeded)
	}
	if n := sourceGoroutines(); n != 0 {
		t.Errorf("goroutines in token sources after the refresh = %d; want 0", n)
	}
}

// TestOneRefreshPerExpiryAcrossReplicas: two replicas in one process,
// sharing the memory stores (whose lease works like Redis's), both get
// requests of the same users at expiry, with refresh tokens that rotate.
func TestOneRefreshPerExpiryAcrossReplicas(t *testing.T) {
	const users, rounds, perRound = 5, 3, 8
	a := newEnv(t, envOptions{fakeClock: true, server: func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate }})
	b := newEnv(t, envOptions{srv: a.srv, stores: a.stores, cfg: func(c *spotauth.Config) { c.RedirectURL = a.cfg.RedirectURL }})
	brs := make([]*browser, users)
	for i := range brs {
		a.setUser(fmt.Sprintf("user%d", i))
		brs[i] = newBrowser(t)
		brs[i].login(a, "/")
	}
	for round := 1; round <= rounds; round++ {
		a.srv.Clock.Advance(time.Hour) // every token expired
		var wg sync.WaitGroup
		fails := make(chan string, users*perRound)
		for i, br := range brs {
			for j := range perRound {
				env := a
				if j%2 == 1 {
					env = b
				}
				wg.Go(func() {
					if r := br.get(env.app.URL + "/me"); r.status != 200 {
						fails <- fmt.Sprintf("user%d: %d %q", i, r.status, r.body)
					}
				})
			}
		}
		wg.Wait()
		close(fails)
		for f := range fails {
			t.Errorf("round %d: %s", round, f)
		}
		st := a.srv.Stats()
		if st.RefreshesSucceeded != users*round || st.Errors["invalid_grant"] != 0 {
			t.Fatalf("after round %d: refreshes %d (succeeded %d), invalid_grant %d; want %d, 0",
				round, st.Refreshes, st.RefreshesSucceeded, st.Errors["invalid_grant"], users*round)
		}
	}
}

// TestEvictedWhileInUse: a handler keeps using its user's source while
// other users' requests evict it from a cache of one.
func TestEvictedWhileInUse(t *testing.T) {
	inHandler, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, envOptions{
		opts: func(o *weblogin.Options) { o.MaxUsers = 1 },
		mux: func(m *http.ServeMux, a *weblogin.Auth) {
			m.Handle("/slow", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(inHandler)
				<-release
				tok, err := weblogin.TokenSource(r).Token(r.Context())
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				fmt.Fprintf(w, "token for %s valid %v", weblogin.UserID(r), tok.Valid())
			})))
		},
	})
	e.setUser("slow")
	slow := newBrowser(t)
	slow.login(e, "/")
	e.setUser("other")
	other := newBrowser(t)
	other.login(e, "/")
	done := make(chan response, 1)
	go func() { done <- slow.get(e.app.URL + "/slow") }()
	<-inHandler
	for range 3 {
		if r := other.get(e.app.URL + "/me"); r.status != 200 { // evicts "slow"
			t.Fatalf("GET /me = %d", r.status)
		}
	}
	close(release)
	if r := <-done; r.status != 200 || r.body != "token for slow valid true" {
		t.Errorf("handler whose user was evicted meanwhile = %d %q", r.status, r.body)
	}
	if n := e.auth.ActiveUsers(); n != 1 {
		t.Errorf("ActiveUsers = %d; want 1", n)
	}
	if n := sourceGoroutines(); n != 0 {
		t.Errorf("goroutines in token sources = %d; want 0", n)
	}
}

func TestRequestsAfterClose(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.setUser("late")
	b := newBrowser(t)
	b.login(e, "/")
	e.auth.Close()
	e.auth.Close() // twice is fine
	if r := b.get(e.app.URL + "/me"); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET /me after Close = %d; want 503", r.status)
	}
}

func TestForgottenElsewhere(t *testing.T) {
	// The user logs out with ForgetOnLogout on replica a; replica b's
	// cached source learns it at its next refresh, and the session there
	// then counts as none.
	a := newEnv(t, envOptions{fakeClock: true, opts: func(o *weblogin.Options) { o.ForgetOnLogout = true }})
	b := newEnv(t, envOptions{srv: a.srv, stores: a.stores})
	a.setUser("hana")
	phone, laptop := newBrowser(t), newBrowser(t)
	phone.login(a, "/")
	laptop.login(a, "/")
	if r := laptop.get(b.app.URL + "/me"); r.status != 200 {
		t.Fatalf("laptop on b = %d", r.status)
	}
	if r := phone.do("POST", a.app.URL+"/logout", map[string][]string{weblogin.CSRFField: {phone.csrf(a)}}); r.status != http.StatusSeeOther {
		t.Fatalf("logout = %d %q", r.status, r.body)
	}
	if r := laptop.get(a.app.URL + "/me"); r.status != http.StatusSeeOther {
		t.Errorf("laptop on a after the logout = %d; want 303 to login", r.status)
	}
	a.srv.Clock.Advance(time.Hour)
	if r := laptop.get(b.app.URL + "/me"); r.status != http.StatusSeeOther {
		t.Errorf("laptop on b after the logout, at b's refresh = %d %q; want 303 to login", r.status, r.body)
	}
	if st := a.srv.Stats(); st.Refreshes != 0 || a.storedToken("hana") != nil {
		t.Errorf("refreshes %d, stored token %v; want 0 and none (a logout is final)", st.Refreshes, a.storedToken("hana"))
	}
}

// fileUserStores returns an Options.Store that keeps each user's token in
// a file of its own in dir, encrypted with sealer.
func fileUserStores(dir string, sealer storecrypt.Sealer) func(string) (spotauth.TokenStore, error) {
	return func(id string) (spotauth.TokenStore, error) {
		return filestore.New(dir, weblogin.StoreKey(id), &filestore.Options{Sealer: sealer})
	}
}

// TestFileStores: two replicas on one host share a directory of token
// files, one per user, encrypted at rest; the file store keeps whole
// seconds.
func TestFileStores(t *testing.T) {
	dir := t.TempDir()
	sealer, err := storecrypt.New([]byte(strings.Repeat("s", storecrypt.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	store := func(o *weblogin.Options) { o.Store = fileUserStores(dir, sealer) }
	a := newEnv(t, envOptions{fakeClock: true, opts: store, server: func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate }})
	b := newEnv(t, envOptions{srv: a.srv, opts: store, cfg: func(c *spotauth.Config) { c.RedirectURL = a.cfg.RedirectURL }})
	a.setUser("Older.Account")
	br := newBrowser(t)
	br.login(a, "/")
	raw, err := os.ReadFile(filepath.Join(dir, weblogin.StoreKey("Older.Account")+".json"))
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	if !strings.Contains(string(raw), `"sealed"`) || strings.Contains(string(raw), "access_token") || strings.Contains(string(raw), "refresh_token") {
		t.Errorf("the token file is not encrypted: %.40q...", raw)
	}
	for round := 1; round <= 2; round++ {
		a.srv.Clock.Advance(time.Hour)
		var wg sync.WaitGroup
		for j := range 6 {
			env := []*env{a, b}[j%2]
			wg.Go(func() {
				if r := br.get(env.app.URL + "/me"); r.status != 200 {
					t.Errorf("round %d: GET /me = %d %q", round, r.status, r.body)
				}
			})
		}
		wg.Wait()
		if st := a.srv.Stats(); st.RefreshesSucceeded != round || st.Errors["invalid_grant"] != 0 {
			t.Errorf("after round %d: refreshes %d, invalid_grant %d; want %d, 0", round, st.RefreshesSucceeded, st.Errors["invalid_grant"], round)
		}
	}
	// A step-up on a is loaded by b.
	if r, _ := br.follow(a.app.URL + "/playlists"); r.status != 200 {
		t.Fatalf("step-up = %d %q", r.status, r.body)
	}
	if r := br.get(b.app.URL + "/playlists"); r.status != 200 {
		t.Errorf("b after the step-up on a = %d %q", r.status, r.location)
	}
}
