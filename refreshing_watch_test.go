package spotauth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond (store events are handled in the background) for at
// most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitWatched waits until n sources watch store: events sent earlier
// would be lost, as with Redis pub/sub.
func waitWatched(t *testing.T, store *MemoryStore, n int) {
	t.Helper()
	waitFor(t, "sources watching the store", func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return len(store.watches) >= n
	})
}

// errRecorder collects what OnError reports.
type errRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *errRecorder) add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *errRecorder) count(target error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.errs {
		if errors.Is(e, target) {
			n++
		}
	}
	return n
}

// failsDeleted reports whether s's calls fail at once as after a deletion.
func failsDeleted(s *RefreshingSource) bool {
	_, err := s.Token(context.Background())
	return errors.Is(err, ErrReauthorize) && errors.Is(err, ErrTokenNotFound)
}

// TestWatchDeleted: a logout (the stored token deleted) reaches every
// source on a WatchingStore at once: each drops its still valid token and
// fails with ErrReauthorize and ErrTokenNotFound, reported once to
// OnError, without a refresh request (which would store a token again);
// a new login is adopted at once too.
func TestWatchDeleted(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	initial := tok(c, "at-0", time.Hour)
	store := memStore(initial)
	var recs [4]errRecorder
	var sources []*RefreshingSource
	for i := range recs {
		s := testSource(t, f, nil, SourceOptions{Store: store, OnError: recs[i].add})
		if got := mustToken(t, s).AccessToken; got != "at-0" {
			t.Fatalf("source %d: Token() = %q; want at-0", i, got)
		}
		sources = append(sources, s)
	}
	waitWatched(t, store, len(sources))
	if err := store.Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, s := range sources {
		waitFor(t, "source dropped its token after the deletion", func() bool { return failsDeleted(s) })
		if _, err := s.OAuth2().Token(); !errors.Is(err, ErrReauthorize) {
			t.Errorf("source %d: Token() after the deletion = %v; want ErrReauthorize", i, err)
		}
		if _, err := s.Invalidate(context.Background(), initial); !errors.Is(err, ErrReauthorize) {
			t.Errorf("source %d: Invalidate() after the deletion = %v; want ErrReauthorize", i, err)
		}
		waitFor(t, "OnError told", func() bool { return recs[i].count(ErrTokenNotFound) > 0 })
	}
	waitIdleAll(t, sources)
	if n := f.count(); n != 0 {
		t.Errorf("refresh requests after the deletion = %d; want 0", n)
	}
	if _, err := store.Load(context.Background()); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("store.Load() = %v; want ErrTokenNotFound (nothing stored again)", err)
	}
	for i := range recs {
		if n := recs[i].count(ErrReauthorize); n != 1 {
			t.Errorf("source %d: OnError got %d ErrReauthorize reports; want 1", i, n)
		}
	}

	// A new login stores a new authorization: adopted by every source.
	relogin := tok(c, "login-at", time.Hour)
	relogin.RefreshToken = "rt-new"
	store.Save(context.Background(), relogin)
	for _, s := range sources {
		waitFor(t, "new login adopted", func() bool {
			got, err := s.Token(context.Background())
			return err == nil && got.AccessToken == "login-at"
		})
	}
	if n := f.count(); n != 0 {
		t.Errorf("refresh requests = %d; want 0", n)
	}
}

func waitIdleAll(t *testing.T, sources []*RefreshingSource) {
	t.Helper()
	for _, s := range sources {
		waitIdle(t, s)
	}
}

// TestWatchAuthorizationEnds: 8 sources share a store; the refresh token
// dies. One refresh gets invalid_grant and deletes the stored token; the
// other sources learn it from the deletion at once, long before their own
// refresh, without a request of their own.
func TestWatchAuthorizationEnds(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.errs = []error{errInvalidGrant, errInvalidGrant, errInvalidGrant, errInvalidGrant, errInvalidGrant, errInvalidGrant, errInvalidGrant, errInvalidGrant}
	store := memStore(tok(c, "at-0", time.Hour))
	var recs [8]errRecorder
	var sources []*RefreshingSource
	for i := range recs {
		s := testSource(t, f, nil, SourceOptions{Store: store, OnError: recs[i].add, Jitter: -1})
		mustToken(t, s)
		sources = append(sources, s)
	}
	waitWatched(t, store, len(sources))
	// One source refreshes (a 401, say) while the others' tokens are far
	// from their refresh window: they can learn it only from the store.
	if _, err := sources[0].Invalidate(context.Background(), mustToken(t, sources[0])); !errors.Is(err, ErrReauthorize) {
		t.Fatalf("Invalidate() = %v; want ErrReauthorize", err)
	}
	for i, s := range sources {
		waitFor(t, "every source learns the end", func() bool {
			_, err := s.Token(context.Background())
			return errors.Is(err, ErrReauthorize)
		})
		waitFor(t, "OnError told", func() bool { return recs[i].count(ErrReauthorize) > 0 })
	}
	waitIdleAll(t, sources)
	if n := f.count(); n != 1 {
		t.Errorf("refresh requests = %d; want 1 (invalid_grant once for all 8 sources)", n)
	}
	for i := range recs {
		if n := recs[i].count(ErrReauthorize); n != 1 {
			t.Errorf("source %d: OnError got %d ErrReauthorize reports; want 1", i, n)
		}
	}
}

// TestWatchSavedAdopts: a token another source stored is adopted without a
// refresh, before this source's own refresh point; an older one is not.
func TestWatchSavedAdopts(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	store := memStore(tok(c, "at-0", time.Hour))
	a := testSource(t, f, nil, SourceOptions{Store: store})
	b := testSource(t, f, nil, SourceOptions{Store: store})
	mustToken(t, a)
	mustToken(t, b)
	waitWatched(t, store, 2)
	got, err := a.Invalidate(context.Background(), mustToken(t, a))
	if err != nil || got.AccessToken != "at-1" {
		t.Fatalf("a.Invalidate() = %v, %v; want at-1", got, err)
	}
	waitFor(t, "b adopts a's token", func() bool { return mustToken(t, b).AccessToken == "at-1" })
	// An older token stored by someone: not adopted.
	store.Save(context.Background(), tok(c, "older", 30*time.Minute))
	time.Sleep(20 * time.Millisecond)
	if got := mustToken(t, b).AccessToken; got != "at-1" {
		t.Errorf("b after an older token was stored = %q; want at-1 kept", got)
	}
	if n := f.count(); n != 1 {
		t.Errorf("refresh requests = %d; want 1", n)
	}
}

// TestWatchStopsLeaseWait: a source waiting for the lease (held by a
// process that is slow to refresh) stops waiting when the holder's token
// is stored, and adopts it.
func TestWatchStopsLeaseWait(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	store := memStore(tok(c, "at-0", time.Hour))
	s := testSource(t, f, nil, SourceOptions{Store: store, Jitter: -1})
	mustToken(t, s)
	waitWatched(t, store, 1)
	l, err := store.Lock(context.Background()) // another process's lease
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	c.Advance(61 * time.Minute) // expired: callers wait
	done := make(chan *Token, 1)
	go func() {
		got, _ := s.Token(context.Background())
		done <- got
	}()
	waitFor(t, "the source waits for the lease", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.lockCancel != nil
	})
	if err := l.Save(context.Background(), tok(c, "holder-at", time.Hour)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got == nil || got.AccessToken != "holder-at" {
			t.Errorf("Token() = %v; want the holder's token", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Token() still waiting for the lease 10 s after the holder stored its token")
	}
	if n := f.count(); n != 0 {
		t.Errorf("refresh requests = %d; want 0", n)
	}
}

// TestLeaseLoadFindsDeleted: without events, a source whose token came
// from the store finds it deleted at its next refresh (Lease.Load) and
// fails with ErrReauthorize, without a refresh request.
func TestLeaseLoadFindsDeleted(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(*MemoryStore) TokenStore
	}{
		{"locking", func(m *MemoryStore) TokenStore { return unwatched{m} }},
		{"plain", func(m *MemoryStore) TokenStore { return plainStore{m} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			f := newFake(c)
			mem := memStore(tok(c, "at-0", time.Hour))
			var rec errRecorder
			s := testSource(t, f, nil, SourceOptions{Store: tt.store(mem), OnError: rec.add})
			mustToken(t, s)
			mem.Delete(context.Background())
			c.Advance(61 * time.Minute)
			_, err := s.Token(context.Background())
			if !errors.Is(err, ErrReauthorize) || !errors.Is(err, ErrTokenNotFound) {
				t.Errorf("Token() after the stored token was deleted = %v; want ErrReauthorize and ErrTokenNotFound", err)
			}
			if n := f.count(); n != 0 {
				t.Errorf("refresh requests = %d; want 0 (a refresh would store the token again)", n)
			}
			if _, err := mem.Load(context.Background()); !errors.Is(err, ErrTokenNotFound) {
				t.Errorf("store.Load() = %v; want ErrTokenNotFound", err)
			}
			if n := rec.count(ErrReauthorize); n != 1 {
				t.Errorf("OnError ErrReauthorize reports = %d; want 1", n)
			}
		})
	}
	// A token given by the caller, not from the store, is refreshed and
	// stored when the store is empty: that is not a deletion.
	c := newFakeClock()
	f := newFake(c)
	mem := memStore(nil)
	s := testSource(t, f, tok(c, "given", time.Minute), SourceOptions{Store: unwatched{mem}})
	c.Advance(2 * time.Minute)
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() of a given expired token with an empty store = %q; want at-1", got)
	}
}

// TestWatchClose: the watch goroutine ends with Close (goleak checks it in
// TestMain), and a MemoryStore's Watch channel closes with its context.
func TestWatchClose(t *testing.T) {
	store := memStore(nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := store.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store.Save(context.Background(), &Token{AccessToken: "a"})
	store.Delete(context.Background())
	want := []StoreEvent{{StoreSaved, 1}, {StoreDeleted, 2}}
	for i, w := range want {
		if got := <-ch; got != w {
			t.Errorf("event %d = %+v; want %+v", i, got, w)
		}
	}
	cancel()
	for range ch {
	}
	if _, err := store.Watch(ctx); err == nil {
		t.Errorf("Watch(canceled ctx) = nil error; want the context's error")
	}
}
