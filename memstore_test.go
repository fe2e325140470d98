package spotauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) spotauth.TokenStore { return &spotauth.MemoryStore{} })
}

// TestMemoryStoreTTLConformance runs the suite over a store whose leases
// expire on a clock, as a shared store's do.
func TestMemoryStoreTTLConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) spotauth.TokenStore {
		return &spotauth.MemoryStore{LeaseTTL: time.Minute, Clock: spotauthtest.NewClock(t0)}
	})
}

// TestMemoryStoreLeaseTTL: a lease whose holder stops (died) expires after
// LeaseTTL; another takes over, and the old holder's save is refused.
func TestMemoryStoreLeaseTTL(t *testing.T) {
	clock := spotauthtest.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	advance := func(d time.Duration) { clock.Advance(d) }
	s := &spotauth.MemoryStore{LeaseTTL: time.Second, Clock: clock}
	ctx := context.Background()
	old, err := s.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock() = %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock() before the TTL = %v; want DeadlineExceeded", err)
	}
	got := make(chan spotauth.Lease)
	go func() {
		l, err := s.Lock(ctx)
		if err != nil {
			t.Errorf("Lock() after the TTL = %v", err)
		}
		got <- l
	}()
	advance(1001 * time.Millisecond)
	var next spotauth.Lease
	select {
	case next = <-got:
	case <-time.After(5 * time.Second):
		t.Fatalf("Lock() still waiting 5 s after the lease expired")
	}
	if err := next.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Errorf("new holder's Save() = %v; want nil", err)
	}
	if err := old.Save(ctx, storetest.SampleToken(2)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("expired holder's Save() = %v; want ErrLeaseLost", err)
	}
	if err := old.Release(ctx); err != nil {
		t.Errorf("expired holder's Release() = %v; want nil", err)
	}
	// The expired holder's Release must not free the new holder's lease.
	if _, err := s.Lock(short); err == nil {
		t.Errorf("Lock() succeeded while the new holder had it")
	}
	next.Release(ctx)
}

// TestMemoryStoreSaveFencesLease: a plain Save while a lease is held makes
// the holder's later Save fail: it must not overwrite the newer token.
func TestMemoryStoreSaveFencesLease(t *testing.T) {
	s := memoryStore(storetest.SampleToken(0))
	ctx := context.Background()
	l, err := s.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock() = %v", err)
	}
	defer l.Release(ctx)
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	if err := l.Save(ctx, storetest.SampleToken(2)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("holder's Save() after another Save = %v; want ErrLeaseLost", err)
	}
	got, _ := s.Load(ctx)
	if !storetest.Equal(got, storetest.SampleToken(1)) {
		t.Errorf("Load() = %s; want token 1", got.AccessToken)
	}
	if err := s.Save(ctx, nil); err == nil {
		t.Errorf("Save(nil) = nil; want an error")
	}
}

// TestMemoryStoreLockBusy: a wait for a held lease ends with the caller's
// context, as a typed error naming the holder.
func TestMemoryStoreLockBusy(t *testing.T) {
	s := &spotauth.MemoryStore{}
	l, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = s.Lock(ctx)
	var busy *spotauth.LeaseBusyError
	if !errors.As(err, &busy) || !errors.Is(err, spotauth.ErrLeaseBusy) || !errors.Is(err, context.DeadlineExceeded) || busy.Holder == "" {
		t.Fatalf("Lock while held = %v; want a *spotauth.LeaseBusyError naming the holder, matching spotauth.ErrLeaseBusy and DeadlineExceeded", err)
	}
}

// memoryStore returns a MemoryStore holding a copy of tok (empty if tok is
// nil).
func memoryStore(tok *spotauth.Token) *spotauth.MemoryStore {
	s := &spotauth.MemoryStore{}
	if tok != nil {
		if err := s.Save(context.Background(), tok); err != nil {
			panic(err)
		}
	}
	return s
}
