package spotauth_test

import (
	"context"
	"errors"
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
	srv := spotauthtest.NewUnstartedServer()
	srv.Refresh = spotauthtest.RefreshRotate
	srv.Start()
	t.Cleanup(srv.Close)
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	mem := spotauth.NewMemoryStore(&spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)})
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Endpoint: srv.Endpoint(), HTTPClient: srv.Client()}

	store := &blockedSaveStore{mem: mem, armed: make(chan struct{}), entered: make(chan struct{}), release: make(chan struct{})}
	a := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store})
	if _, err := a.Token(); err != nil {
		t.Fatalf("a.Token() = %v", err)
	}
	close(store.armed)
	done := make(chan error, 1)
	go func() {
		_, err := a.ForceRefresh(context.Background())
		done <- err
	}()
	<-store.entered // Spotify answered and rotated the refresh token
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	// Release the save once Close has canceled the source's work.
	for _, err := a.Token(); !errors.Is(err, spotauth.ErrClosed); _, err = a.Token() {
		time.Sleep(time.Millisecond)
	}
	close(store.release)
	<-closed
	t.Logf("a.ForceRefresh() = %v", <-done)

	b := cfg.UserSource(nil, &spotauth.SourceOptions{Store: mem})
	defer b.Close()
	if _, err := b.ForceRefresh(context.Background()); err != nil {
		t.Errorf("b.ForceRefresh() after a was closed mid-save = %v; want success (a's answered refresh kept)", err)
	}
	if n := srv.Stats().Errors["invalid_grant"]; n != 0 {
		t.Errorf("invalid_grant answers = %d; want 0", n)
	}
}
