package spotauth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// newerStore is a MemoryStore whose Lock answers NewerTokenErrors while it
// has some, as a store does when another holder saved during the wait.
// An answer without token first stores then, as that holder did.
type newerStore struct {
	*spotauth.MemoryStore
	mu      sync.Mutex
	answers []*spotauth.NewerTokenError
	then    *spotauth.Token
	leases  int
}

func (s *newerStore) Lock(ctx context.Context) (spotauth.Lease, error) {
	s.mu.Lock()
	if len(s.answers) > 0 {
		a := s.answers[0]
		s.answers = s.answers[1:]
		s.mu.Unlock()
		if a.Token == nil && s.then != nil {
			if err := s.MemoryStore.Save(ctx, s.then); err != nil {
				return nil, err
			}
		}
		return nil, a
	}
	s.leases++
	s.mu.Unlock()
	return s.MemoryStore.Lock(ctx)
}

func TestLockAnswersNewerToken(t *testing.T) {
	ctx := context.Background()
	expired := func(tok *spotauth.Token) *spotauth.Token {
		c := *tok
		c.Expiry = time.Now().Add(-time.Minute)
		return &c
	}
	newer := &spotauth.Token{AccessToken: "BQ-newer", TokenType: "Bearer", RefreshToken: "AQ-newer",
		Expiry: time.Now().Add(time.Hour), Scope: spotauth.NewScopes(spotauth.ScopeUserReadPrivate)}
	for _, tc := range []struct {
		name      string
		answers   []*spotauth.NewerTokenError
		then      *spotauth.Token
		minValid  time.Duration
		want      string // access token returned; "" means a refreshed one
		refreshes int
		leases    int
	}{
		{name: "adopted from the error", answers: []*spotauth.NewerTokenError{{Token: newer, Version: 7}},
			minValid: time.Minute, want: "BQ-newer", refreshes: 0, leases: 0},
		{name: "loaded when the error has no token", answers: []*spotauth.NewerTokenError{{Version: 7}}, then: newer,
			minValid: time.Minute, want: "BQ-newer", refreshes: 0, leases: 0},
		{name: "not valid long enough: waits for the lease", answers: []*spotauth.NewerTokenError{{Token: newer}},
			minValid: 2 * time.Hour, refreshes: 1, leases: 1},
	} {
		t.Run("EnsureToken/"+tc.name, func(t *testing.T) {
			srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
			store := &newerStore{MemoryStore: memoryStore(expired(tok)), answers: tc.answers, then: tc.then}
			got, err := cfg.EnsureToken(ctx, store, tc.minValid)
			if tc.minValid > time.Hour {
				// A fresh token lives an hour: not 2 h, so EnsureToken
				// refreshes and returns what it got.
				if err != nil {
					t.Fatalf("EnsureToken = %v", err)
				}
			} else if err != nil || got.AccessToken != tc.want {
				t.Fatalf("EnsureToken = %v, %v; want %s", got, err, tc.want)
			}
			if n := srv.Stats().Refreshes; n != tc.refreshes {
				t.Errorf("refreshes = %d; want %d", n, tc.refreshes)
			}
			if store.leases != tc.leases {
				t.Errorf("leases taken = %d; want %d", store.leases, tc.leases)
			}
		})
	}
	t.Run("RefreshingSource", func(t *testing.T) {
		srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
		store := &newerStore{MemoryStore: memoryStore(expired(tok)), answers: []*spotauth.NewerTokenError{{Token: newer}}}
		src := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store, OnDemand: true})
		closeSource(t, src)
		got, err := src.Token(ctx)
		if err != nil || got.AccessToken != "BQ-newer" {
			t.Fatalf("Token = %v, %v; want the token of the NewerTokenError", got, err)
		}
		if n := srv.Stats().Refreshes; n != 0 || store.leases != 0 {
			t.Errorf("refreshes %d, leases %d; want 0, 0", n, store.leases)
		}
	})
}
