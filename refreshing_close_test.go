package spotauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// blockedSaveStore is a plain store (no lease) whose Save, once armed,
// waits until release is closed and then saves unless its context is done:
// a Save still in progress when the source is closed.
type blockedSaveStore struct {
	mem     *spotauth.MemoryStore
	armed   chan struct{} // closed: Save blocks
	entered chan struct{}
	release chan struct{}
}

func (s *blockedSaveStore) Load(ctx context.Context) (*spotauth.Token, error) { return s.mem.Load(ctx) }
func (s *blockedSaveStore) Delete(ctx context.Context) error                  { return s.mem.Delete(ctx) }

func (s *blockedSaveStore) Save(ctx context.Context, t *spotauth.Token) error {
	select {
	case <-s.armed:
		close(s.entered)
		<-s.release
		if err := ctx.Err(); err != nil {
			return err
		}
		return s.mem.Save(ctx, t)
	default:
		return s.mem.Save(ctx, t)
	}
}

// TestCloseKeepsAnsweredRefresh: a source closed after Spotify answered a
// refresh (rotating the refresh token) but before the new token was saved
// must not lose it, or the next process sharing the store refreshes with
// the revoked refresh token, gets invalid_grant, and the whole fleet
// loses its authorization. Stress runs of internal/fleet (TestFleetFile)
// saw this at the end of a run: one refresh unserved, then one
// invalid_grant.
// Close waits for that save instead of canceling it.
func TestCloseKeepsAnsweredRefresh(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
	mem := memoryStore(tok)

	store := &blockedSaveStore{mem: mem, armed: make(chan struct{}), entered: make(chan struct{}), release: make(chan struct{})}
	a := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store})
	if _, err := a.Token(context.Background()); err != nil {
		t.Fatalf("a.Token() = %v", err)
	}
	close(store.armed)
	done := make(chan error, 1)
	go func() {
		_, err := forceRefresh(a)
		done <- err
	}()
	<-store.entered // Spotify answered and rotated the refresh token
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	// Release the save once Close has canceled the source's work.
	for _, err := a.Token(context.Background()); !errors.Is(err, spotauth.ErrClosed); _, err = a.Token(context.Background()) {
		time.Sleep(time.Millisecond)
	}
	close(store.release)
	<-closed
	t.Logf("a.Invalidate() = %v", <-done)

	b := cfg.UserSource(nil, &spotauth.SourceOptions{Store: mem})
	defer b.Close()
	if _, err := forceRefresh(b); err != nil {
		t.Errorf("b.Invalidate() after a was closed mid-save = %v; want success (a's answered refresh kept)", err)
	}
	if n := srv.Stats().Errors["invalid_grant"]; n != 0 {
		t.Errorf("invalid_grant answers = %d; want 0", n)
	}
}

// slowAnswer is an http.RoundTripper that holds each token answer back for
// 200 ms after the server sent it, as a slow network would, and signals
// arrived when it has it: the server has processed (and rotated), the
// client has not read the answer yet. A client that gives up meanwhile
// loses the answer.
type slowAnswer struct {
	base    http.RoundTripper
	arrived chan struct{}
}

func (s *slowAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	select {
	case <-time.After(200 * time.Millisecond):
		return resp, nil
	case <-r.Context().Done():
		resp.Body.Close()
		return nil, r.Context().Err()
	}
}

// TestCloseKeepsRefreshInFlight: a source closed while the answer to its
// refresh is on its way must not abandon it: Spotify rotated the refresh
// token, and the answer holds the only valid one. Close waits for the
// answer and its save; the next process sharing the store refreshes
// without invalid_grant. (Canceled, the answer was lost, and the fleet
// tests saw an invalid_grant after workers closed their sources in the
// middle of a refresh.)
func TestCloseKeepsRefreshInFlight(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
	mem := memoryStore(tok)
	slow := &slowAnswer{base: srv.Client().Transport, arrived: make(chan struct{}, 1)}
	cfg.HTTPClient = &http.Client{Transport: slow}

	a := cfg.UserSource(nil, &spotauth.SourceOptions{Store: mem})
	if _, err := a.Token(context.Background()); err != nil {
		t.Fatalf("a.Token() = %v", err)
	}
	go forceRefresh(a)
	<-slow.arrived // Spotify answered (and rotated); the answer is on its way
	a.Close()

	b := cfg.UserSource(nil, &spotauth.SourceOptions{Store: mem})
	defer b.Close()
	if _, err := forceRefresh(b); err != nil {
		t.Errorf("b.Invalidate() after a was closed mid-request = %v; want success", err)
	}
	if n := srv.Stats().Errors["invalid_grant"]; n != 0 {
		t.Errorf("invalid_grant answers = %d; want 0", n)
	}
}
