package spotauth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spotauth/spotauth/internal/redact"
)

// MemoryStore is a [LockingStore] and [WatchingStore] in memory. Sources
// sharing one behave like processes sharing a file or Redis store. The zero
// value is an empty store; it must not be copied after first use.
type MemoryStore struct {
	LeaseTTL time.Duration // if positive, a lease expires that long after Lock
	Clock    Clock         // tells the time for LeaseTTL; nil means the system clock

	mu      sync.Mutex // guards the fields below
	tok     *Token
	version uint64    // incremented by every Save and Delete (fencing)
	holder  *memLease // current lease, nil if free
	watches map[*memWatch]struct{}
}

// memWatch is one Watch call's channel.
type memWatch struct {
	ch     chan StoreEvent
	closed bool
}

// notify sends ev to every watcher without blocking: a watcher that falls
// 64 events behind loses the newest (events are hints). s.mu must be held.
func (s *MemoryStore) notify(kind StoreEventKind) {
	ev := StoreEvent{Kind: kind, Version: int64(s.version)}
	if kind == StoreReleased {
		ev.Version = 0
	}
	for w := range s.watches {
		select {
		case w.ch <- ev:
		default:
		}
	}
}

// Watch reports every Save, Delete and lease release until ctx is done.
func (s *MemoryStore) Watch(ctx context.Context) (<-chan StoreEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spotauth: memory store: %w", err)
	}
	w := &memWatch{ch: make(chan StoreEvent, 64)}
	s.mu.Lock()
	if s.watches == nil {
		s.watches = map[*memWatch]struct{}{}
	}
	s.watches[w] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.watches, w)
		if !w.closed {
			w.closed = true
			close(w.ch)
		}
	})
	return w.ch, nil
}

func (s *MemoryStore) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// Load returns a copy of the stored token.
func (s *MemoryStore) Load(ctx context.Context) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spotauth: memory store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

func (s *MemoryStore) load() (*Token, error) {
	if s.tok == nil {
		return nil, fmt.Errorf("spotauth: memory store: %w", ErrTokenNotFound)
	}
	c := *s.tok
	return &c, nil
}

// Save stores a copy of t, without waiting for the lease.
func (s *MemoryStore) Save(ctx context.Context, t *Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spotauth: memory store: %w", err)
	}
	if t == nil {
		return fmt.Errorf("spotauth: memory store: save of a nil token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *t
	s.tok = &c
	s.version++
	s.notify(StoreSaved)
	return nil
}

// Delete removes the stored token.
func (s *MemoryStore) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spotauth: memory store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = nil
	s.version++
	s.notify(StoreDeleted)
	return nil
}

// Lock waits for the lease and takes it.
func (s *MemoryStore) Lock(ctx context.Context) (Lease, error) {
	for {
		s.mu.Lock()
		h := s.holder
		if h != nil && s.LeaseTTL > 0 && !s.now().Before(h.deadline) {
			h = nil // expired
		}
		if h == nil {
			l := &memLease{s: s, version: s.version, released: make(chan struct{})}
			if s.LeaseTTL > 0 {
				l.deadline = s.now().Add(s.LeaseTTL)
			}
			s.holder = l
			s.mu.Unlock()
			return l, nil
		}
		released := h.released
		var expire <-chan time.Time
		var t *time.Timer
		if s.LeaseTTL > 0 {
			// Poll: the deadline is on s.Clock, which may be fake.
			t = time.NewTimer(min(max(h.deadline.Sub(s.now()), time.Millisecond), 10*time.Millisecond))
			expire = t.C
		}
		s.mu.Unlock()
		var err error
		select {
		case <-released:
		case <-expire:
		case <-ctx.Done():
			err = &LeaseBusyError{Store: "spotauth.MemoryStore", Holder: "another caller in this process", Err: ctx.Err()}
		}
		if t != nil {
			t.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
}

// memLease is a MemoryStore's Lease.
type memLease struct {
	s        *MemoryStore
	version  uint64        // store version when acquired or last saved
	deadline time.Time     // zero: no expiry
	released chan struct{} // closed by Release
	done     bool          // released; guarded by s.mu
}

// held reports whether l still holds the lease. l.s.mu must be held.
func (l *memLease) held() bool {
	if l.done || l.s.holder != l {
		return false
	}
	return l.deadline.IsZero() || l.s.now().Before(l.deadline)
}

// Load returns a copy of the stored token.
func (l *memLease) Load(ctx context.Context) (*Token, error) {
	return l.s.Load(ctx)
}

// Save stores t if l still holds the lease and nobody saved since.
func (l *memLease) Save(ctx context.Context, t *Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spotauth: memory store: %w", err)
	}
	if t == nil {
		return fmt.Errorf("spotauth: memory store: save of a nil token")
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.held() {
		return fmt.Errorf("spotauth: memory store: the lease expired or was released: %w", ErrLeaseLost)
	}
	if l.s.version != l.version {
		return fmt.Errorf("spotauth: memory store: a newer token was stored: %w", ErrLeaseLost)
	}
	c := *t
	l.s.tok = &c
	l.s.version++
	l.version = l.s.version
	l.s.notify(StoreSaved)
	return nil
}

// Delete removes the stored token if l still holds the lease and nobody
// saved since.
func (l *memLease) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spotauth: memory store: %w", err)
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.held() || l.s.version != l.version {
		return fmt.Errorf("spotauth: memory store: %w", ErrLeaseLost)
	}
	l.s.tok = nil
	l.s.version++
	l.version = l.s.version
	l.s.notify(StoreDeleted)
	return nil
}

// Release frees the lease if l still holds it.
func (l *memLease) Release(context.Context) error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.done {
		return nil
	}
	l.done = true
	if l.s.holder == l {
		l.s.holder = nil
		l.s.notify(StoreReleased)
	}
	close(l.released)
	return nil
}

// Format implements [fmt.Formatter] without the token.
func (s *MemoryStore) Format(f fmt.State, verb rune) {
	str := "spotauth.MemoryStore(nil)"
	if s != nil {
		s.mu.Lock()
		str = fmt.Sprintf("spotauth.MemoryStore{token: %t, version: %d, leased: %t}", s.tok != nil, s.version, s.holder != nil)
		s.mu.Unlock()
	}
	redact.Format(f, verb, str, str)
}
