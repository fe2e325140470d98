package spotauth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// flakyStore is a MemoryStore whose next failSaves saves fail. With
// hangAfter, every later save waits for its context to end instead.
type flakyStore struct {
	*spotauth.MemoryStore
	mu        sync.Mutex
	failSaves int
	hangAfter bool
	saves     int
}

var errDiskFull = errors.New("disk full")

func (s *flakyStore) fail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.failSaves > 0 {
		s.failSaves--
		return true
	}
	return false
}

func (s *flakyStore) Lock(ctx context.Context) (spotauth.Lease, error) {
	l, err := s.MemoryStore.Lock(ctx)
	if err != nil {
		return nil, err
	}
	return &flakyLease{Lease: l, s: s}, nil
}

type flakyLease struct {
	spotauth.Lease
	s *flakyStore
}

func (l *flakyLease) Save(ctx context.Context, t *spotauth.Token) error {
	if l.s.fail() {
		return errDiskFull
	}
	if l.s.hangAfter {
		<-ctx.Done()
		return ctx.Err()
	}
	return l.Lease.Save(ctx, t)
}

func TestEnsureToken(t *testing.T) {
	ctx := context.Background()
	t.Run("valid", func(t *testing.T) {
		srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		store := memoryStore(tok)
		got, err := cfg.EnsureToken(ctx, store, 5*time.Minute)
		if err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("EnsureToken = %v, %v; want the stored token", got, err)
		}
		if n := srv.Stats().Refreshes; n != 0 {
			t.Errorf("refreshes = %d; want 0", n)
		}
	})
	t.Run("expiring", func(t *testing.T) {
		srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		store := memoryStore(tok)
		got, err := cfg.EnsureToken(ctx, store, 2*time.Hour) // longer than it has left
		if err != nil || got.AccessToken == tok.AccessToken || got.RefreshToken == tok.RefreshToken {
			t.Fatalf("EnsureToken = %v, %v; want a refreshed, rotated token", got, err)
		}
		stored, _ := store.Load(ctx)
		if stored.RefreshToken != got.RefreshToken {
			t.Errorf("the rotated refresh token was not stored")
		}
		if n := srv.Stats().Refreshes; n != 1 {
			t.Errorf("refreshes = %d; want 1", n)
		}
	})
	t.Run("force", func(t *testing.T) {
		srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
		store := memoryStore(tok)
		got, err := cfg.EnsureToken(ctx, store, -1)
		if err != nil || got.AccessToken == tok.AccessToken {
			t.Fatalf("EnsureToken(-1) = %v, %v; want a refreshed token", got, err)
		}
		if n := srv.Stats().Refreshes; n != 1 {
			t.Errorf("refreshes = %d; want 1", n)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// 16 callers find the token expiring: one refresh between them,
		// all get its token.
		srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		tok.Expiry = time.Now().Add(30 * time.Second)
		store := memoryStore(tok)
		var wg sync.WaitGroup
		got := make([]*spotauth.Token, 16)
		errs := make([]error, 16)
		for i := range got {
			wg.Go(func() { got[i], errs[i] = cfg.EnsureToken(ctx, store, time.Minute) })
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil || got[i].AccessToken != got[0].AccessToken {
				t.Errorf("caller %d: %v, %v; want the one refreshed token", i, got[i], errs[i])
			}
		}
		if n := srv.Stats().Refreshes; n != 1 {
			t.Errorf("refreshes = %d; want 1", n)
		}
	})
	t.Run("save retried", func(t *testing.T) {
		// The first saves of the rotated token fail: it is saved again,
		// and only then returned.
		_, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		store := &flakyStore{MemoryStore: memoryStore(tok), failSaves: 3}
		got, err := cfg.EnsureToken(ctx, store, -1)
		if err != nil {
			t.Fatalf("EnsureToken: %v", err)
		}
		stored, _ := store.Load(ctx)
		if stored.RefreshToken != got.RefreshToken || got.RefreshToken == tok.RefreshToken {
			t.Errorf("stored refresh token is not the rotated one")
		}
		if store.saves != 4 {
			t.Errorf("saves = %d; want 4 (3 failed)", store.saves)
		}
	})
	t.Run("save fails until the deadline", func(t *testing.T) {
		// Saves fail until the deadline: the third attempt is still
		// running then (however slow the machine, the first two ran),
		// and the error is the store's, not the deadline's.
		_, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		store := &flakyStore{MemoryStore: memoryStore(tok), failSaves: 2, hangAfter: true}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		got, err := cfg.EnsureToken(ctx, store, -1)
		var se *spotauth.StoreError
		if got != nil || !errors.As(err, &se) || se.Op != "save" || !errors.Is(err, errDiskFull) {
			t.Fatalf("EnsureToken = %v, %v; want a save *StoreError of the store's error", got, err)
		}
		if store.saves != 3 {
			t.Errorf("saves = %d; want 3 (two failed, one cut short by the deadline)", store.saves)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		srv.RevokeGrant(tok.RefreshToken)
		store := memoryStore(tok)
		_, err := cfg.EnsureToken(ctx, store, -1)
		if !errors.Is(err, spotauth.ErrReauthorize) || !errors.Is(err, spotauth.ErrInvalidGrant) {
			t.Fatalf("EnsureToken with a revoked token: %v; want ErrReauthorize and ErrInvalidGrant", err)
		}
		if _, err := store.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
			t.Errorf("the refused token is still stored (%v)", err)
		}
	})
	t.Run("refused token replaced meanwhile", func(t *testing.T) {
		// Compare-and-delete: a token stored by another process while the
		// refused request was in flight is kept.
		srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		srv.RevokeGrant(tok.RefreshToken)
		store := memoryStore(tok)
		newer := &spotauth.Token{AccessToken: "BQ-newer", RefreshToken: "AQ-newer", Expiry: time.Now().Add(time.Hour)}
		srv.SetTokenFaultRule(func(spotauthtest.TokenRequest) *spotauthtest.Fault {
			store.Save(ctx, newer) // outside the lease, as a plain Save by another process
			return nil
		})
		if _, err := cfg.EnsureToken(ctx, plainStore{store}, -1); !errors.Is(err, spotauth.ErrReauthorize) {
			t.Fatalf("EnsureToken = %v; want ErrReauthorize", err)
		}
		if got, err := store.Load(ctx); err != nil || got.AccessToken != "BQ-newer" {
			t.Errorf("stored token after the refusal = %v, %v; want the newer one kept", got, err)
		}
	})
	t.Run("not logged in", func(t *testing.T) {
		_, cfg, _ := e2e(t, spotauthtest.RefreshRotate)
		_, err := cfg.EnsureToken(ctx, &spotauth.MemoryStore{}, 0)
		if !errors.Is(err, spotauth.ErrTokenNotFound) {
			t.Fatalf("EnsureToken on an empty store = %v; want ErrTokenNotFound", err)
		}
	})
	t.Run("lease busy", func(t *testing.T) {
		_, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		store := memoryStore(tok)
		l, err := store.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(ctx)
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = cfg.EnsureToken(ctx, store, -1)
		var busy *spotauth.LeaseBusyError
		if !errors.As(err, &busy) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("EnsureToken while the lease is held = %v; want a *LeaseBusyError", err)
		}
	})
}

// plainStore hides a MemoryStore's Lock: a plain TokenStore.
type plainStore struct{ *spotauth.MemoryStore }

func (s plainStore) Lock() {}

func TestEnsureAppToken(t *testing.T) {
	ctx := context.Background()
	srv, cfg, _ := e2e(t, spotauthtest.RefreshStable)
	store := &spotauth.MemoryStore{}
	var wg sync.WaitGroup
	got := make([]*spotauth.Token, 8)
	for i := range got {
		wg.Go(func() {
			var err error
			if got[i], err = cfg.EnsureAppToken(ctx, store, time.Minute); err != nil {
				t.Errorf("EnsureAppToken: %v", err)
			}
		})
	}
	wg.Wait()
	if n := srv.Stats().Grants["client_credentials"]; n != 1 {
		t.Errorf("client-credentials requests = %d; want 1", n)
	}
	for i := range got {
		if got[i] == nil || got[i].AccessToken != got[0].AccessToken {
			t.Errorf("caller %d got another token", i)
		}
	}
}
