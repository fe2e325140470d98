package spotauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// webAPI is a fake Web API that accepts the bearer tokens in valid and
// answers 401 with Spotify's body to any other.
type webAPI struct {
	mu    sync.Mutex
	valid map[string]bool
	hits  atomic.Int32
	body  []string // request bodies seen
}

func (w *webAPI) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.hits.Add(1)
	b, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	w.body = append(w.body, string(b))
	ok := w.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	if !ok {
		rw.WriteHeader(http.StatusUnauthorized)
		io.WriteString(rw, `{"error":{"status":401,"message":"Missing/invalid/expired access token"}}`)
		return
	}
	io.WriteString(rw, `{"id":"me"}`)
}

func (w *webAPI) accept(tokens ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.valid = map[string]bool{}
	for _, t := range tokens {
		w.valid[t] = true
	}
}

func newWebAPI(t *testing.T, tokens ...string) (*webAPI, *httptest.Server) {
	w := &webAPI{}
	w.accept(tokens...)
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return w, srv
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeTracker records that a request body was closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

func TestTransportAddsBearer(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{})
	api, srv := newWebAPI(t, "at-0")
	client := s.Client(srv.Client())
	req, _ := http.NewRequest("GET", srv.URL+"/v1/me", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("Do() error: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status = %d; want 200", resp.StatusCode)
	}
	if got := req.Header.Get("Authorization"); got != "" {
		t.Errorf("caller's request modified: Authorization = %q; want empty", got)
	}
	if api.hits.Load() != 1 || f.count() != 0 {
		t.Errorf("hits, refreshes = %d, %d; want 1, 0", api.hits.Load(), f.count())
	}
}

func TestTransport401(t *testing.T) {
	tests := []struct {
		name       string
		body       func() (io.Reader, bool) // body, replayable
		accept     []string                 // tokens the API accepts
		wantStatus int
		wantHits   int32
		wantRefr   int
	}{
		{"no body retried", func() (io.Reader, bool) { return nil, true }, []string{"at-1"}, 200, 2, 1},
		{"replayable body retried", func() (io.Reader, bool) { return strings.NewReader(`{"a":1}`), true }, []string{"at-1"}, 200, 2, 1},
		{"non-replayable body not retried", func() (io.Reader, bool) { return strings.NewReader(`{"a":1}`), false }, []string{"at-1"}, 401, 1, 1},
		{"401 after the refresh returned", func() (io.Reader, bool) { return nil, true }, nil, 401, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			f := newFake(c)
			s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{})
			api, srv := newWebAPI(t, tt.accept...)
			body, replayable := tt.body()
			var tracker *closeTracker
			var req *http.Request
			if body != nil && !replayable {
				tracker = &closeTracker{Reader: body}
				req, _ = http.NewRequest("POST", srv.URL+"/v1/x", tracker)
				req.GetBody = nil
			} else {
				req, _ = http.NewRequest("POST", srv.URL+"/v1/x", body)
			}
			resp, err := s.Client(srv.Client()).Do(req)
			if err != nil {
				t.Fatalf("Do() error: %v", err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d (%s); want %d", resp.StatusCode, got, tt.wantStatus)
			}
			if tt.wantStatus == 401 && !strings.Contains(string(got), "expired access token") {
				t.Errorf("401 body = %q; want the API's body", got)
			}
			if h := api.hits.Load(); h != tt.wantHits {
				t.Errorf("API hits = %d; want %d", h, tt.wantHits)
			}
			if n := f.count(); n != tt.wantRefr {
				t.Errorf("refreshes = %d; want %d", n, tt.wantRefr)
			}
			if body != nil && replayable {
				for i, b := range api.body {
					if b != `{"a":1}` {
						t.Errorf("body of attempt %d = %q; want the full body", i, b)
					}
				}
			}
			if tracker != nil && !tracker.closed.Load() {
				t.Errorf("request body not closed")
			}
		})
	}
}

// TestTransport401Shared: concurrent requests that saw the same refused
// token share one refresh.
func TestTransport401Shared(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{})
	api, srv := newWebAPI(t, "at-1")
	client := s.Client(srv.Client())
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.Get(srv.URL + "/v1/me")
			if err != nil {
				t.Errorf("Get() error: %v", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status = %d; want 200", resp.StatusCode)
			}
		})
	}
	for api.hits.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	close(f.gate)
	wg.Wait()
	if got := f.count(); got != 1 {
		t.Errorf("refreshes for %d requests with the same stale token = %d; want 1", n, got)
	}
}

// TestTransportErrors: a token error is returned and the body is closed.
func TestTransportErrors(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.errs = []error{fmt.Errorf("fake: %w", ErrInvalidGrant)}
	s := testSource(t, f, tok(c, "at-0", time.Second), SourceOptions{})
	c.Advance(time.Minute)
	body := &closeTracker{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/v1/x", body)
	_, err := s.Client(nil).Transport.RoundTrip(req)
	if !errors.Is(err, ErrReauthorize) {
		t.Errorf("RoundTrip() with a revoked token = %v; want ErrReauthorize", err)
	}
	if !body.closed.Load() {
		t.Errorf("request body not closed after a token error")
	}
	// A closed source: the error, and the body closed too.
	s.Close()
	body = &closeTracker{Reader: strings.NewReader("x")}
	req, _ = http.NewRequest("POST", "http://127.0.0.1:1/v1/x", body)
	if _, err := s.Client(nil).Transport.RoundTrip(req); !errors.Is(err, ErrClosed) {
		t.Errorf("RoundTrip() with a closed source = %v; want ErrClosed", err)
	}
	if !body.closed.Load() {
		t.Errorf("request body not closed after ErrClosed")
	}
	// A canceled request context while waiting for the token.
	f2 := newFake(c)
	f2.gate = make(chan struct{})
	s2 := testSource(t, f2, tok(c, "at-0", time.Second), SourceOptions{})
	c.Advance(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:1/v1/x", nil)
	if _, err := s2.Client(nil).Transport.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RoundTrip() with a refresh outlasting the request = %v; want DeadlineExceeded", err)
	}
	close(f2.gate)
}

func TestClientKeepsBase(t *testing.T) {
	c := newFakeClock()
	s := testSource(t, newFake(c), tok(c, "at-0", time.Hour), SourceOptions{})
	base := &http.Client{Timeout: 7 * time.Second}
	got := s.Client(base)
	if got.Timeout != 7*time.Second {
		t.Errorf("Client(base).Timeout = %v; want 7s", got.Timeout)
	}
	if base.Transport != nil {
		t.Errorf("Client(base) modified base")
	}
	if tr, ok := got.Transport.(*transport); !ok || tr.Source != s || tr.Base != nil {
		t.Errorf("Client(base).Transport = %#v; want *transport{Source: s}", got.Transport)
	}
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("base") })
	if tr, ok := s.Client(&http.Client{Transport: rt}).Transport.(*transport); !ok || tr.Base == nil {
		t.Errorf("Client(base with a Transport).Transport = %#v; want base's Transport as Base", tr)
	}
	if s.Client(nil) == nil {
		t.Errorf("Client(nil) = nil")
	}
}
