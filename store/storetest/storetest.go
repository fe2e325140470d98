// Package storetest is the conformance suite of token stores: every
// [spotauth.TokenStore] in this module (and any other) runs it from its own
// tests, as net/http/httptest's tests run one set of cases over every kind of
// server.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) spotauth.TokenStore {
//			return newEmptyStore(t)
//		})
//	}
//
// Stores that take a [storecrypt.Sealer] run [RunSealed] too.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// Run runs the suite. newStore must return a new, empty store each time it
// is called; the suite closes nothing, so newStore registers any cleanup
// with t.Cleanup. Stores that implement [spotauth.LockingStore] also get
// the lease tests: exclusivity, waiting bounded by the context, fencing (a
// stale holder's Save and Delete fail with [spotauth.ErrLeaseLost]) and
// idempotent release.
func Run(t *testing.T, newStore func(t *testing.T) spotauth.TokenStore) {
	t.Helper()
	t.Run("LoadEmpty", func(t *testing.T) { testLoadEmpty(t, newStore(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("SaveReplaces", func(t *testing.T) { testSaveReplaces(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("Copies", func(t *testing.T) { testCopies(t, newStore(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore(t)) })
	t.Run("Lease", func(t *testing.T) {
		if _, ok := newStore(t).(spotauth.LockingStore); !ok {
			t.Skip("not a LockingStore")
		}
		t.Run("Exclusive", func(t *testing.T) { testLeaseExclusive(t, newStore(t).(spotauth.LockingStore)) })
		t.Run("LoadSave", func(t *testing.T) { testLeaseLoadSave(t, newStore(t).(spotauth.LockingStore)) })
		t.Run("LoadAfterSave", func(t *testing.T) { testLeaseLoadAfterSave(t, newStore(t).(spotauth.LockingStore)) })
		t.Run("StaleHolder", func(t *testing.T) { testLeaseStale(t, newStore(t).(spotauth.LockingStore)) })
		t.Run("Delete", func(t *testing.T) { testLeaseDelete(t, newStore(t).(spotauth.LockingStore)) })
		t.Run("LockCanceled", func(t *testing.T) { testCanceled(t, newStore(t)) })
		t.Run("ReleaseTwice", func(t *testing.T) { testLeaseReleaseTwice(t, newStore(t).(spotauth.LockingStore)) })
		t.Run("MutualExclusion", func(t *testing.T) { testLeaseMutex(t, newStore(t).(spotauth.LockingStore)) })
	})
}

// SampleToken returns a token with every field set, times on whole
// seconds in UTC. Each n gives other values.
func SampleToken(n int) *spotauth.Token {
	return &spotauth.Token{
		AccessToken:  "BQ-access-" + strconv.Itoa(n),
		TokenType:    "Bearer",
		Scope:        sampleScopes(n),
		Expiry:       time.Unix(1795000000+int64(n)*3600, 0).UTC(),
		RefreshToken: "AQ-refresh-" + strconv.Itoa(n),
		PKCE:         n%2 == 1,
		AuthorizedAt: time.Unix(1790000000+int64(n), 0).UTC(),
	}
}

func sampleScopes(n int) spotauth.Scopes {
	if n%2 == 0 {
		return spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopePlaylistModifyPublic)
	}
	return spotauth.NewScopes(spotauth.ScopeUserReadEmail)
}

// Equal reports whether two tokens have the same fields, times compared
// with time.Time.Equal.
func Equal(a, b *spotauth.Token) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.AccessToken == b.AccessToken && a.TokenType == b.TokenType &&
		a.RefreshToken == b.RefreshToken && a.PKCE == b.PKCE &&
		a.Expiry.Equal(b.Expiry) && a.AuthorizedAt.Equal(b.AuthorizedAt) &&
		a.Scope.Equal(b.Scope)
}

// describe names a token for messages without showing its secrets.
func describe(t *spotauth.Token) string {
	if t == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{access %d chars, refresh %d chars, expiry %v, pkce %v, scopes %d}",
		len(t.AccessToken), len(t.RefreshToken), t.Expiry, t.PKCE, t.Scope.Len())
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustSave(t *testing.T, s spotauth.TokenStore, tok *spotauth.Token) {
	t.Helper()
	if err := s.Save(ctxT(t), tok); err != nil {
		t.Fatalf("Save() = %v; want nil", err)
	}
}

func mustLoad(t *testing.T, s interface {
	Load(context.Context) (*spotauth.Token, error)
}) *spotauth.Token {
	t.Helper()
	got, err := s.Load(ctxT(t))
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	return got
}

func testLoadEmpty(t *testing.T, s spotauth.TokenStore) {
	got, err := s.Load(ctxT(t))
	if !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load() of an empty store = %s, %v; want an error wrapping ErrTokenNotFound", describe(got), err)
	}
}

func testRoundTrip(t *testing.T, s spotauth.TokenStore) {
	for _, n := range []int{0, 1} {
		want := SampleToken(n)
		mustSave(t, s, want)
		if got := mustLoad(t, s); !Equal(got, want) {
			t.Errorf("Load() after Save(%s) = %s; want equal", describe(want), describe(got))
		}
	}
	// A client-credentials token: no refresh token, scopes or authorization time.
	app := &spotauth.Token{AccessToken: "BQ-app", TokenType: "Bearer", Expiry: time.Unix(1795000000, 0).UTC()}
	mustSave(t, s, app)
	if got := mustLoad(t, s); !Equal(got, app) {
		t.Errorf("Load() after Save(app token) = %s; want %s", describe(got), describe(app))
	}
}

func testSaveReplaces(t *testing.T, s spotauth.TokenStore) {
	mustSave(t, s, SampleToken(2))
	mustSave(t, s, SampleToken(3))
	if got := mustLoad(t, s); !Equal(got, SampleToken(3)) {
		t.Errorf("Load() = %s; want the second token saved", describe(got))
	}
}

func testDelete(t *testing.T, s spotauth.TokenStore) {
	if err := s.Delete(ctxT(t)); err != nil {
		t.Errorf("Delete() of an empty store = %v; want nil", err)
	}
	mustSave(t, s, SampleToken(4))
	if err := s.Delete(ctxT(t)); err != nil {
		t.Fatalf("Delete() = %v; want nil", err)
	}
	if _, err := s.Load(ctxT(t)); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load() after Delete() = %v; want ErrTokenNotFound", err)
	}
	mustSave(t, s, SampleToken(5))
	if got := mustLoad(t, s); !Equal(got, SampleToken(5)) {
		t.Errorf("Load() after Delete and Save = %s; want token 5", describe(got))
	}
}

func testCopies(t *testing.T, s spotauth.TokenStore) {
	tok := SampleToken(6)
	mustSave(t, s, tok)
	tok.AccessToken = "changed after Save"
	got := mustLoad(t, s)
	if got.AccessToken != SampleToken(6).AccessToken {
		t.Errorf("a change to the saved token reached the store")
	}
	got.RefreshToken = "changed after Load"
	if again := mustLoad(t, s); again.RefreshToken != SampleToken(6).RefreshToken {
		t.Errorf("a change to a loaded token reached the store")
	}
}

func testConcurrent(t *testing.T, s spotauth.TokenStore) {
	mustSave(t, s, SampleToken(0))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				n := g*100 + i
				if err := s.Save(ctxT(t), SampleToken(n)); err != nil {
					t.Errorf("concurrent Save() = %v", err)
					return
				}
				got, err := s.Load(ctxT(t))
				if err != nil {
					t.Errorf("concurrent Load() = %v", err)
					return
				}
				// Whatever was loaded is one whole saved token.
				k, err := strconv.Atoi(got.AccessToken[len("BQ-access-"):])
				if err != nil || !Equal(got, SampleToken(k)) {
					t.Errorf("concurrent Load() = %s; want one of the saved tokens, whole", describe(got))
					return
				}
			}
		})
	}
	wg.Wait()
}

func testCanceled(t *testing.T, s spotauth.TokenStore) {
	mustSave(t, s, SampleToken(0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ls, ok := s.(spotauth.LockingStore); ok {
		l, err := ls.Lock(ctxT(t))
		if err != nil {
			t.Fatalf("Lock() error: %v", err)
		}
		defer l.Release(ctxT(t))
		if _, err := ls.Lock(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Lock(canceled) of a held lease = %v; want context.Canceled", err)
		}
	}
}

func mustLock(t *testing.T, s spotauth.LockingStore) spotauth.Lease {
	t.Helper()
	l, err := s.Lock(ctxT(t))
	if err != nil {
		t.Fatalf("Lock() error: %v", err)
	}
	return l
}

func testLeaseExclusive(t *testing.T, s spotauth.LockingStore) {
	l := mustLock(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if l2, err := s.Lock(ctx); err == nil {
		l2.Release(ctxT(t))
		t.Fatalf("second Lock() while held = nil error; want to wait until the context ends")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock() while held = %v; want context.DeadlineExceeded", err)
	}
	got := make(chan error, 1)
	go func() {
		l2, err := s.Lock(ctxT(t))
		if err == nil {
			err = l2.Release(ctxT(t))
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock() returned %v while the lease was held", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("Lock() after Release = %v; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Lock() still waiting 5 s after Release")
	}
}

func testLeaseLoadSave(t *testing.T, s spotauth.LockingStore) {
	l := mustLock(t, s)
	if _, err := l.Load(ctxT(t)); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Lease.Load() of an empty store = %v; want ErrTokenNotFound", err)
	}
	if err := l.Save(ctxT(t), SampleToken(1)); err != nil {
		t.Fatalf("Lease.Save() = %v; want nil", err)
	}
	if got := mustLoad(t, l); !Equal(got, SampleToken(1)) {
		t.Errorf("Lease.Load() = %s; want token 1", describe(got))
	}
	// A holder may save more than once.
	if err := l.Save(ctxT(t), SampleToken(2)); err != nil {
		t.Fatalf("second Lease.Save() = %v; want nil", err)
	}
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	if got := mustLoad(t, s); !Equal(got, SampleToken(2)) {
		t.Errorf("Load() after the lease = %s; want token 2", describe(got))
	}
}

// testLeaseLoadAfterSave: a holder's Load returns what its own Save
// stored, even when it did not Load before.
func testLeaseLoadAfterSave(t *testing.T, s spotauth.LockingStore) {
	mustSave(t, s, SampleToken(1))
	l := mustLock(t, s)
	defer l.Release(ctxT(t))
	if err := l.Save(ctxT(t), SampleToken(2)); err != nil {
		t.Fatalf("Lease.Save() = %v; want nil", err)
	}
	if got := mustLoad(t, l); !Equal(got, SampleToken(2)) {
		t.Errorf("Lease.Load() after Lease.Save(token 2), with no Load before = %s; want token 2", describe(got))
	}
}

func testLeaseStale(t *testing.T, s spotauth.LockingStore) {
	mustSave(t, s, SampleToken(0))
	a := mustLock(t, s)
	if err := a.Release(ctxT(t)); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	b := mustLock(t, s)
	if err := b.Save(ctxT(t), SampleToken(1)); err != nil {
		t.Fatalf("Lease.Save() by the holder = %v", err)
	}
	if err := a.Save(ctxT(t), SampleToken(2)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Lease.Save() by a released holder = %v; want ErrLeaseLost", err)
	}
	b.Release(ctxT(t))
	if got := mustLoad(t, s); !Equal(got, SampleToken(1)) {
		t.Errorf("Load() = %s; want the holder's token 1, not the stale holder's", describe(got))
	}
}

// deleter is the Delete method of a Lease.
type deleter interface {
	Delete(ctx context.Context) error
}

func testLeaseDelete(t *testing.T, s spotauth.LockingStore) {
	mustSave(t, s, SampleToken(1))
	l := mustLock(t, s)
	d, ok := l.(deleter)
	if !ok {
		l.Release(ctxT(t))
		t.Skip("the lease has no Delete method")
	}
	if err := d.Delete(ctxT(t)); err != nil {
		t.Fatalf("Lease.Delete() by the holder = %v; want nil", err)
	}
	if got, err := l.Load(ctxT(t)); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Lease.Load() after Lease.Delete() = %s, %v; want ErrTokenNotFound", describe(got), err)
	}
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	if got, err := s.Load(ctxT(t)); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load() after Lease.Delete() = %s, %v; want ErrTokenNotFound", describe(got), err)
	}

	// A released holder deletes nothing, not even a token stored since.
	mustSave(t, s, SampleToken(2))
	if err := d.Delete(ctxT(t)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Lease.Delete() after Release = %v; want ErrLeaseLost", err)
	}
	b := mustLock(t, s)
	if err := b.Save(ctxT(t), SampleToken(3)); err != nil {
		t.Fatalf("Lease.Save() by the next holder = %v", err)
	}
	if err := d.Delete(ctxT(t)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Lease.Delete() by a released holder while another holds the lease = %v; want ErrLeaseLost", err)
	}
	b.Release(ctxT(t))
	if got := mustLoad(t, s); !Equal(got, SampleToken(3)) {
		t.Errorf("Load() = %s; want the holder's token 3, not deleted by the stale holder", describe(got))
	}
}

func testLeaseReleaseTwice(t *testing.T, s spotauth.LockingStore) {
	l := mustLock(t, s)
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	if err := l.Release(ctxT(t)); err != nil {
		t.Errorf("second Release() = %v; want nil", err)
	}
	// The second Release must not free a lease someone else holds now.
	b := mustLock(t, s)
	defer b.Release(ctxT(t))
	l.Release(ctxT(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if c, err := s.Lock(ctx); err == nil {
		c.Release(ctxT(t))
		t.Errorf("Lock() succeeded while another holder had it, after a stale Release")
	}
}

func testLeaseMutex(t *testing.T, s spotauth.LockingStore) {
	mustSave(t, s, &spotauth.Token{AccessToken: "0", TokenType: "Bearer"})
	const workers, rounds = 6, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for done := 0; done < rounds; {
				l, err := s.Lock(ctxT(t))
				if errors.As(err, new(*spotauth.NewerTokenError)) {
					continue // another holder saved while this one waited: read it again
				}
				if err != nil {
					t.Errorf("Lock() = %v", err)
					return
				}
				cur, err := l.Load(ctxT(t))
				if err == nil {
					n, _ := strconv.Atoi(cur.AccessToken)
					err = l.Save(ctxT(t), &spotauth.Token{AccessToken: strconv.Itoa(n + 1), TokenType: "Bearer"})
				}
				if rerr := l.Release(ctxT(t)); err == nil {
					err = rerr
				}
				if err != nil {
					t.Errorf("Load/Save under the lease = %v", err)
					return
				}
				done++
			}
		})
	}
	wg.Wait()
	if got := mustLoad(t, s); got.AccessToken != strconv.Itoa(workers*rounds) {
		t.Errorf("counter incremented under the lease = %s; want %d (no lost update)", got.AccessToken, workers*rounds)
	}
}
