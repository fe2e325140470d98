package login_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

func TestMain(m *testing.M) {
	// Tests that do not inject Options.Getenv must not depend on the
	// session they run in: over SSH, Run would open no browser.
	for _, k := range []string{"SSH_CONNECTION", "SSH_CLIENT", "BROWSER"} {
		os.Unsetenv(k)
	}
	goleak.VerifyTestMain(m)
}

// fixture is a fake Accounts service and a Config for its default app,
// public (PKCE) unless a test sets the secret.
type fixture struct {
	t   *testing.T
	srv *spotauthtest.Server
	cfg *spotauth.Config
	out *watcher
}

func newFixture(t *testing.T, configure func(*spotauthtest.Server)) *fixture {
	t.Helper()
	srv := spotauthtest.NewUnstartedServer()
	if configure != nil {
		configure(srv)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return &fixture{
		t:   t,
		srv: srv,
		cfg: &spotauth.Config{
			ClientID:    srv.ClientID,
			RedirectURL: spotauthtest.DefaultRedirectURI,
			AccountsURL: srv.URL,
			HTTPClient:  srv.Client(),
		},
		out: &watcher{},
	}
}

// noLeaks stops what the test started besides Run (the fake service, the
// actions of the watcher), then checks that nothing Run started is still
// running. Tests that call it do not run in parallel.
func (f *fixture) noLeaks() {
	f.t.Helper()
	f.out.wait()
	f.srv.Close()
	goleak.VerifyNone(f.t)
}

// watcher is Run's Out: it keeps what Run writes and, when Run writes the
// authorization URL, calls onURL in a goroutine of its own (Run must not
// wait for a test's user).
type watcher struct {
	onURL func(authURL string)

	mu      sync.Mutex
	buf     bytes.Buffer
	seen    bool
	wg      sync.WaitGroup
	written *sync.Cond // broadcast on every Write
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.written != nil {
		w.written.Broadcast()
	}
	if !w.seen && w.onURL != nil {
		for _, line := range strings.Split(w.buf.String(), "\n") {
			if u := strings.TrimSpace(line); strings.Contains(u, "/authorize?") && strings.HasPrefix(u, "http") {
				w.seen = true
				w.wg.Add(1)
				go func() {
					defer w.wg.Done()
					w.onURL(u)
				}()
				break
			}
		}
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *watcher) wait() { w.wg.Wait() }

// await waits until Run has written s.
func (w *watcher) await(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written == nil {
		w.written = sync.NewCond(&w.mu)
	}
	for !strings.Contains(w.buf.String(), s) {
		w.written.Wait()
	}
}

// page is an answer of Run's listener.
type page struct {
	status int
	body   string
}

// title returns the text of the page's <h1 id="result">.
func (p page) title() string {
	_, rest, ok := strings.Cut(p.body, `<h1 id="result">`)
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(rest, "</h1>")
	return t
}

// send makes one request as a browser would, without keeping the
// connection, and with host as the Host header if not empty.
func send(method, u, host string) (page, error) {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return page{}, err
	}
	if host != "" {
		req.Host = host
	}
	c := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return page{resp.StatusCode, string(b)}, err
}

// user plays a user at a browser: the fake decides at once (approve or
// deny), then the browser follows the redirect to Run's listener. before,
// if set, runs first with the genuine redirect, to send stray requests.
type user struct {
	t       *testing.T
	srv     *spotauthtest.Server
	deny    bool
	before  func(redirect *url.URL)
	rewrite func(redirect *url.URL) // changes the redirect before it is followed
	after   func()                  // runs once the browser has its page

	mu    sync.Mutex
	urls  []string
	pages []page
}

// Browse is an Options.Browser.
func (u *user) Browse(authURL string) error {
	u.mu.Lock()
	u.urls = append(u.urls, authURL)
	u.mu.Unlock()
	loc, err := u.srv.Authorize(authURL, !u.deny)
	if err != nil {
		u.t.Errorf("Authorize: %v", err)
		return err
	}
	if u.before != nil {
		u.before(loc)
	}
	if u.rewrite != nil {
		u.rewrite(loc)
	}
	p, err := send(http.MethodGet, loc.String(), "")
	if err != nil {
		u.t.Errorf("GET the redirect: %v", err)
		return err
	}
	u.mu.Lock()
	u.pages = append(u.pages, p)
	u.mu.Unlock()
	if u.after != nil {
		u.after()
	}
	return nil
}

// lastPage returns the page the redirect got.
func (u *user) lastPage() page {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pages) == 0 {
		return page{}
	}
	return u.pages[len(u.pages)-1]
}

func (u *user) opened() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.urls)
}

// idleBrowser opens nothing and succeeds.
func idleBrowser(string) error { return nil }

// redirectParam returns the redirect_uri of an authorization URL.
func redirectParam(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri")
}

// background is the context of tests that do not cancel.
var background = context.Background()

// noDeadline is the zero time: no read deadline.
var noDeadline time.Time

// manualDeadline is a context whose deadline passes when expire is called,
// so that a test can let a deadline pass after something happened rather
// than after a time.
type manualDeadline struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newManualDeadline() *manualDeadline {
	return &manualDeadline{Context: context.Background(), done: make(chan struct{})}
}

func (c *manualDeadline) expire() { c.once.Do(func() { close(c.done) }) }

func (c *manualDeadline) Deadline() (time.Time, bool) { return time.Now().Add(time.Hour), true }

func (c *manualDeadline) Done() <-chan struct{} { return c.done }

func (c *manualDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
