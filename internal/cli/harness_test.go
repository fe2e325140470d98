package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/filestore"
)

// testEnv is one spotauth user: a config directory, environment variables
// pointing at a fake Accounts service, and a way to run commands.
type testEnv struct {
	t    *testing.T
	srv  *spotauthtest.Server
	dir  string
	vars map[string]string
	now  func() time.Time // the commands' clock; nil: time.Now
}

// newTestEnv starts a fake Accounts service (after configure, if set) and
// returns an environment that uses it.
func newTestEnv(t *testing.T, configure func(*spotauthtest.Server)) *testEnv {
	t.Helper()
	srv := spotauthtest.NewUnstartedServer()
	if configure != nil {
		configure(srv)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	return &testEnv{t: t, srv: srv, dir: dir, vars: map[string]string{
		envConfigDir:         dir,
		envAccountsURL:       srv.URL,
		envAPIURL:            srv.URL,
		spotauth.EnvClientID: srv.ClientID,
	}}
}

type result struct {
	out, err string
	code     int
}

// runOpts customizes one command run.
type runOpts struct {
	stdin   io.Reader
	browser Browser
	errOut  io.Writer // extra stderr sink, e.g. a urlWatcher
	ctx     context.Context
	// terminal makes stdout play a terminal; sleep and client, if set,
	// replace the Factory's Sleep and the fake's HTTP client.
	terminal bool
	sleep    func(context.Context, time.Duration) error
	client   *http.Client
}

// run runs spotauth args in-process.
func (e *testEnv) run(o runOpts, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	var errW io.Writer = &errOut
	if o.errOut != nil {
		errW = io.MultiWriter(&errOut, o.errOut)
	}
	in := o.stdin
	if in == nil {
		in = strings.NewReader("")
	}
	b := o.browser
	if b == nil {
		b = &stubBrowser{err: errNoBrowser}
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	hc := o.client
	if hc == nil {
		hc = e.srv.Client()
	}
	f := &Factory{IO: &IOStreams{In: in, Out: &out, ErrOut: &syncWriter{w: errW}, OutTerminal: o.terminal},
		Env: MapEnv(e.vars), Browser: b, HTTP: hc, Now: e.now, Sleep: o.sleep}
	code := Run(ctx, args, f)
	return result{out.String(), errOut.String(), code}
}

// must runs args and fails the test unless it exits 0.
func (e *testEnv) must(args ...string) result {
	e.t.Helper()
	r := e.run(runOpts{browser: e.follow()}, args...)
	if r.code != 0 {
		e.t.Fatalf("spotauth %s = exit %d; want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

// login logs in with a browser that approves.
func (e *testEnv) login(args ...string) result {
	e.t.Helper()
	return e.must(append([]string{"login"}, args...)...)
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var errNoBrowser = &browserError{"no browser in tests"}

type browserError struct{ msg string }

func (e *browserError) Error() string { return e.msg }

// stubBrowser records the URLs it is asked to open and returns err.
type stubBrowser struct {
	mu   sync.Mutex
	urls []string
	err  error
}

func (b *stubBrowser) Browse(url string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.urls = append(b.urls, url)
	return b.err
}

// Verify checks that the browser was sent to an /authorize URL of srv.
func (b *stubBrowser) Verify(t *testing.T, prefix string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.urls) != 1 || !strings.HasPrefix(b.urls[0], prefix) {
		t.Errorf("browser opened %q; want one URL starting with %q", b.urls, prefix)
	}
}

// followBrowser plays a browser whose user approves (or denies): it makes
// the fake decide at once and follows the redirect to the loopback
// listener, like a real browser would.
type followBrowser struct {
	srv     *spotauthtest.Server
	approve bool
	// rewrite, if set, changes the redirect URL before it is followed.
	rewrite func(u string) string
	mu      sync.Mutex
	page    string
	authURL string
}

func (e *testEnv) follow() *followBrowser { return &followBrowser{srv: e.srv, approve: true} }

func (b *followBrowser) Browse(authURL string) error {
	b.mu.Lock()
	b.authURL = authURL
	b.mu.Unlock()
	loc, err := b.srv.Authorize(authURL, b.approve)
	if err != nil {
		return err
	}
	target := loc.String()
	if b.rewrite != nil {
		target = b.rewrite(target)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(target)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.page = string(body)
	b.mu.Unlock()
	return nil
}

func (b *followBrowser) lastPage() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.page
}

// lastURL returns the authorization URL it was last sent to.
func (b *followBrowser) lastURL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.authURL
}

// urlWatcher is a stderr sink that calls found with the first /authorize
// URL printed, so a test can play the user who copies it.
type urlWatcher struct {
	mu      sync.Mutex
	buf     strings.Builder
	fired   bool
	found   func(url string)
	written *sync.Cond // broadcast on every Write, for await
}

// await waits until s has been written.
func (w *urlWatcher) await(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written == nil {
		w.written = sync.NewCond(&w.mu)
	}
	for !strings.Contains(w.buf.String(), s) {
		w.written.Wait()
	}
}

func (w *urlWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.written != nil {
		w.written.Broadcast()
	}
	if !w.fired {
		for _, f := range strings.Fields(w.buf.String()) {
			if strings.Contains(f, "/authorize?") {
				w.fired = true
				go w.found(f)
				break
			}
		}
	}
	return len(p), nil
}

type cobraCommand = cobra.Command

func noKeepAliveClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// testFileStore opens the file store of the default profile in dir.
func testFileStore(tb testing.TB, dir string, kind tokenKind) *filestore.Store {
	tb.Helper()
	st, err := filestore.New(dir, storeName("default", kind), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
