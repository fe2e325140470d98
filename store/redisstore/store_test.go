package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The lock tests assert what happens (a waiter woken by pub/sub, not by
// its poll; an error, not a wait until the deadline), not how fast: CI
// runs all packages at once on two cores, and the race detector slows
// everything down several times more. Where only a wall-clock bound can
// tell "never" from "late", the mechanism's alternative is set to an hour
// (a poll interval, a lease TTL) and the bound is a minute. Timings are
// logged.

const (
	secretAccess  = "BQD-secret-access-token-value"
	secretRefresh = "AQC-secret-refresh-token-value"
)

func testToken(n int) *spotauth.Token {
	return &spotauth.Token{
		AccessToken:  fmt.Sprintf("%s-%d", secretAccess, n),
		TokenType:    "Bearer",
		Expiry:       time.Unix(1_800_000_000+int64(n), 123456789).UTC(), // sub-second: kept exactly
		RefreshToken: fmt.Sprintf("%s-%d", secretRefresh, n),
		PKCE:         n%2 == 1,
		AuthorizedAt: time.Unix(1_790_000_000, 0).UTC(),
	}
}

func sameToken(a, b *spotauth.Token) bool {
	return a != nil && b != nil && a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken &&
		a.TokenType == b.TokenType && a.Expiry.Equal(b.Expiry) && a.PKCE == b.PKCE &&
		a.AuthorizedAt.Equal(b.AuthorizedAt)
}

// newClient returns a client of a fresh redis-server, closed when t ends.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// newStore returns a store on a fresh redis-server with test-sized timings.
func newStore(t testing.TB, opts *redisstore.Options) (*redisstore.Store, *redis.Client) {
	t.Helper()
	c := newClient(t, redistest.Start(t))
	return newStoreOn(t, c, "default", opts), c
}

// newStoreOn returns a store of key on c with test-sized timings: a lease
// TTL of a second unless opts sets one, well above a starved renewal's
// delay on a busy machine, and waiters polling every 50 ms.
func newStoreOn(t testing.TB, c redis.UniversalClient, key string, opts *redisstore.Options) *redisstore.Store {
	t.Helper()
	o := redisstore.Options{LeaseTTL: time.Second, PollInterval: 50 * time.Millisecond}
	if opts != nil {
		o.Sealer = opts.Sealer
		if opts.LeaseTTL != 0 {
			o.LeaseTTL = opts.LeaseTTL
		}
		if opts.PollInterval != 0 {
			o.PollInterval = opts.PollInterval
		}
	}
	s, err := redisstore.New(c, key, &o)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sealedWith returns Options with sealer.
func sealedWith(sealer storecrypt.Sealer) *redisstore.Options {
	return &redisstore.Options{Sealer: sealer}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustLock(t testing.TB, s *redisstore.Store) spotauth.Lease {
	t.Helper()
	l, err := s.Lock(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatalf("Lock = %v", err)
	}
	return l
}

func TestSaveLoadDeleteVersions(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := ctxT(t, 5*time.Second)
	version := func() int64 {
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatalf("Version = %v", err)
		}
		return v
	}
	if got, err := s.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Fatalf("Load(empty) = %v, %v; want ErrTokenNotFound", got, err)
	}
	if v := version(); v != 0 {
		t.Errorf("Version(empty) = %d; want 0", v)
	}
	for i := 1; i <= 2; i++ {
		if err := s.Save(ctx, testToken(i)); err != nil {
			t.Fatalf("Save(token %d) = %v", i, err)
		}
		got, err := s.Load(ctx)
		if err != nil || !sameToken(got, testToken(i)) {
			t.Fatalf("Load after Save(token %d) = %+v, %v; want token %d", i, got, err, i)
		}
		if v := version(); v != int64(i) {
			t.Errorf("Version after %d saves = %d; want %d", i, v, i)
		}
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if got, err := s.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load after Delete = %v, %v; want ErrTokenNotFound", got, err)
	}
	if v := version(); v != 3 {
		t.Errorf("Version after Delete = %d; want 3 (deletes bump it too)", v)
	}
	if err := s.Delete(ctx); err != nil {
		t.Errorf("Delete(missing) = %v; want nil", err)
	}
	if err := s.Save(ctx, nil); err == nil {
		t.Errorf("Save(nil) = nil; want an error")
	}
}

func TestKeysAreSeparate(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	a := newStoreOn(t, c, "alice", nil)
	b := newStoreOn(t, c, "bob", nil)
	p := newStoreOn(t, c, "other:alice", nil)
	ctx := ctxT(t, 5*time.Second)
	if err := a.Save(ctx, testToken(1)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*redisstore.Store{b, p} {
		if got, err := s.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
			t.Errorf("%v.Load after alice's Save = %v, %v; want ErrTokenNotFound", s, got, err)
		}
	}
	la := mustLock(t, a)
	defer la.Release(ctx)
	lb := mustLock(t, b) // another key: not blocked
	lb.Release(ctx)
}

func TestHashTag(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	tests := []struct {
		key, wantTag string
	}{
		{"spotauth:default", "{spotauth:default}"},
		{"app:user:31abc", "{app:user:31abc}"},
		{"default", "{default}"},
	}
	for _, tt := range tests {
		t.Run(tt.wantTag, func(t *testing.T) {
			s := newStoreOn(t, c, tt.key, nil)
			token, lease, channel := s.Keys()
			for _, k := range []string{token, lease, channel} {
				if !strings.HasPrefix(k, tt.wantTag+":") {
					t.Errorf("key %q does not start with hash tag %s", k, tt.wantTag)
				}
			}
			if !strings.Contains(s.String(), tt.wantTag) {
				t.Errorf("String() = %q; want it to name %s", s, tt.wantTag)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	tests := []struct {
		name string
		key  string
		opts *redisstore.Options
	}{
		{"empty key", "", nil},
		{"brace key", "a{b}", nil},
		{"space key", "a b", nil},
		{"newline key", "a\nb", nil},
		{"long key", strings.Repeat("k", 257), nil},
		{"tiny ttl", "k", &redisstore.Options{LeaseTTL: time.Millisecond}},
		{"negative ttl", "k", &redisstore.Options{LeaseTTL: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := redisstore.New(c, tt.key, tt.opts); err == nil {
				t.Errorf("New(%q, %s) = %v, nil; want an error", tt.key, tt.name, s)
			} else if !strings.HasPrefix(err.Error(), "spotauth: ") {
				t.Errorf("New(%q) error %q does not start with \"spotauth: \"", tt.key, err)
			}
		})
	}
	if _, err := redisstore.New(nil, "k", nil); err == nil {
		t.Errorf("New(nil client) = nil error; want an error")
	}
}

func TestLockIsExclusive(t *testing.T) {
	s, _ := newStore(t, nil)
	l := mustLock(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if l2, err := s.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock while held = %v, %v; want context.DeadlineExceeded", l2, err)
	}
	t.Logf("second Lock returned %v after it began (its context's deadline: 200ms)", time.Since(start).Round(time.Millisecond))
	if err := l.Release(ctxT(t, time.Second)); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if err := l.Release(ctxT(t, time.Second)); err != nil {
		t.Errorf("second Release = %v; want nil", err)
	}
	mustLock(t, s).Release(context.Background())
}

func TestLockWakesOnReleaseByPubSub(t *testing.T) {
	// A poll interval and a lease TTL of an hour, far beyond the waiter's
	// minute: only the pub/sub message can wake it before its deadline.
	s, _ := newStore(t, &redisstore.Options{LeaseTTL: time.Hour, PollInterval: time.Hour})
	l := mustLock(t, s)
	got := make(chan error, 1)
	go func() {
		l2, err := s.Lock(ctxT(t, time.Minute))
		if err == nil {
			l2.Release(context.Background())
		}
		got <- err
	}()
	time.Sleep(150 * time.Millisecond)
	released := time.Now()
	l.Release(context.Background())
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock = %v; want it woken by the Release's pub/sub message (the poll interval is an hour)", err)
	}
	t.Logf("waiter acquired %v after Release", time.Since(released).Round(time.Millisecond))
}

func TestLockCanceledWhileWaiting(t *testing.T) {
	s, _ := newStore(t, &redisstore.Options{LeaseTTL: time.Hour, PollInterval: time.Hour})
	l := mustLock(t, s)
	defer l.Release(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	got := make(chan error, 1)
	go func() {
		_, err := s.Lock(ctx)
		got <- err
	}()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock(canceled while waiting) = %v; want context.Canceled", err)
		}
		t.Logf("Lock returned %v after it began (canceled at 100ms)", time.Since(start).Round(time.Millisecond))
	case <-time.After(time.Minute):
		// The poll interval and the TTL are an hour: only the
		// cancellation can end the wait.
		t.Fatalf("Lock still waiting a minute after its context was canceled; want it to return at the cancellation")
	}
}

func TestLeaseRenewedWhileHeld(t *testing.T) {
	// Renewed every third of the TTL: a renewal starved for two thirds
	// of it (667 ms) would lose the lease, which a busy machine does not.
	s, _ := newStore(t, &redisstore.Options{LeaseTTL: time.Second})
	ctx := ctxT(t, 10*time.Second)
	l := mustLock(t, s)
	time.Sleep(2500 * time.Millisecond) // two and a half TTLs
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if l2, err := s.Lock(short); err == nil {
		l2.Release(ctx)
		t.Fatalf("Lock succeeded while a live holder held the lease for 2.5 TTLs; want it renewed")
	}
	if err := l.Save(ctx, testToken(1)); err != nil {
		t.Errorf("Save after 2.5 TTLs of holding = %v; want nil (renewed)", err)
	}
	l.Release(ctx)
}

// deadHolder takes the lease and stops renewing it, as a killed process
// would (Close stops renewals without releasing).
func deadHolder(t *testing.T, c *redis.Client, ttl time.Duration) spotauth.Lease {
	t.Helper()
	dead, err := redisstore.New(c, "default", &redisstore.Options{LeaseTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	l := mustLock(t, dead)
	dead.Close()
	return l
}

func TestLeaseExpiresWhenHolderDies(t *testing.T) {
	s, c := newStore(t, nil)
	const ttl = 300 * time.Millisecond
	deadHolder(t, c, ttl)
	start := time.Now()
	// A minute: 200 TTLs; the dead holder's lease runs out, or never.
	l, err := s.Lock(ctxT(t, time.Minute))
	if err != nil {
		t.Fatalf("Lock after holder died = %v; want the lease once the dead holder's TTL %v ran out", err, ttl)
	}
	defer l.Release(context.Background())
	t.Logf("Lock after holder died took %v (TTL %v)", time.Since(start).Round(time.Millisecond), ttl)
}

func TestStaleHolderCannotSaveOrRelease(t *testing.T) {
	s, c := newStore(t, nil)
	ctx := ctxT(t, 5*time.Second)
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Fatal(err)
	}
	stale := deadHolder(t, c, 100*time.Millisecond) // expires; a new holder takes over
	fresh := mustLock(t, s)
	if err := fresh.Save(ctx, testToken(2)); err != nil {
		t.Fatalf("new holder's Save = %v", err)
	}
	// The stale holder wakes up: its Save must not overwrite the newer
	// token, and its Release must not free the lease of the holder after
	// (the new holder's Save ended its lease).
	if err := stale.Save(ctx, testToken(9)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Save by a holder whose lease expired, after another saved = %v; want ErrLeaseLost", err)
	}
	third := mustLock(t, s)
	if err := stale.Release(ctx); err != nil {
		t.Errorf("stale Release = %v; want nil (a no-op)", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if l, err := s.Lock(short); err == nil {
		l.Release(ctx)
		t.Errorf("Lock after a stale holder's Release succeeded; want the new holder's lease intact")
	}
	third.Release(ctx)
	fresh.Release(ctx)
	if got, _ := s.Load(ctx); !sameToken(got, testToken(2)) {
		t.Errorf("Load after refused saves = %+v; want token 2", got)
	}
}

// waitLeaseGone waits until s's lease key has expired (or was released).
func waitLeaseGone(t *testing.T, c *redis.Client, s *redisstore.Store) {
	t.Helper()
	_, leaseKey, _ := s.Keys()
	ctx := ctxT(t, 10*time.Second)
	for {
		n, err := c.Exists(ctx, leaseKey).Result()
		if err == nil && n == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("lease key %s still present after 10 s (%d, %v)", leaseKey, n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExpiredHolderSavesOverUnchangedVersion: fencing is by version, not
// by holding the lease key. A holder whose lease expired (a stall) while
// nobody stored anything stores its token; one whose version moved does
// not.
func TestExpiredHolderSavesOverUnchangedVersion(t *testing.T) {
	s, c := newStore(t, nil)
	ctx := ctxT(t, 10*time.Second)
	s.Save(ctx, testToken(1))
	stale := deadHolder(t, c, 100*time.Millisecond)
	waitLeaseGone(t, c, s)
	if err := stale.Save(ctx, testToken(2)); err != nil {
		t.Fatalf("Save by a holder whose lease expired, version unchanged = %v; want nil", err)
	}
	if got, err := s.Load(ctx); err != nil || !sameToken(got, testToken(2)) {
		t.Errorf("Load = %+v, %v; want token 2", got, err)
	}
	if v, _ := s.Version(ctx); v != 2 {
		t.Errorf("Version = %d; want 2", v)
	}
	// Its own save is the new fence: it may save again.
	if err := stale.Save(ctx, testToken(3)); err != nil {
		t.Errorf("second Save by the expired holder = %v; want nil", err)
	}

	// Another holder takes the free lease and stores: the expired holder's
	// next Save is refused and overwrites nothing. It loads first, as a
	// refresher does: Lock refuses a store that missed a newer token.
	if _, err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	other := mustLock(t, s)
	if err := other.Save(ctx, testToken(4)); err != nil {
		t.Fatalf("other holder's Save = %v", err)
	}
	other.Release(ctx)
	if err := stale.Save(ctx, testToken(5)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("expired holder's Save after another stored = %v; want ErrLeaseLost", err)
	}
	if got, _ := s.Load(ctx); !sameToken(got, testToken(4)) {
		t.Errorf("Load after the refused Save = %+v; want token 4", got)
	}
	stale.Release(ctx)
	if err := stale.Save(ctx, testToken(6)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Save after Release = %v; want ErrLeaseLost", err)
	}
}

func TestLeaseSaveFencedByVersion(t *testing.T) {
	tests := []struct {
		name  string
		write func(context.Context, *redisstore.Store) error
	}{
		{"unleased save", func(ctx context.Context, s *redisstore.Store) error { return s.Save(ctx, testToken(9)) }},
		{"delete", func(ctx context.Context, s *redisstore.Store) error { return s.Delete(ctx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t, nil)
			ctx := ctxT(t, 5*time.Second)
			s.Save(ctx, testToken(1))
			l := mustLock(t, s)
			defer l.Release(ctx)
			if err := tt.write(ctx, s); err != nil {
				t.Fatal(err)
			}
			before, _ := s.Version(ctx)
			if err := l.Save(ctx, testToken(2)); !errors.Is(err, spotauth.ErrLeaseLost) {
				t.Errorf("lease.Save after a %s = %v; want ErrLeaseLost", tt.name, err)
			}
			if after, _ := s.Version(ctx); after != before {
				t.Errorf("Version after a refused save = %d; want %d unchanged", after, before)
			}
		})
	}
}

func TestLeaseSaveLoadRelease(t *testing.T) {
	s, c := newStore(t, nil)
	ctx := ctxT(t, 5*time.Second)
	l := mustLock(t, s)
	if got, err := l.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("lease.Load(empty) = %v, %v; want ErrTokenNotFound", got, err)
	}
	l.Release(ctx)

	s.Save(ctx, testToken(1))
	counter := &redistest.Counter{}
	c.AddHook(counter)
	l = mustLock(t, s)
	got, err := l.Load(ctx)
	if err != nil || !sameToken(got, testToken(1)) {
		t.Fatalf("lease.Load = %+v, %v; want token 1", got, err)
	}
	if n := counter.RoundTrips(); n != 1 {
		t.Errorf("Lock + first lease.Load took %d round trips; want 1 (the token is read with the lease)", n)
	}
	for i := 2; i <= 3; i++ { // a holder may save twice
		if err := l.Save(ctx, testToken(i)); err != nil {
			t.Fatalf("lease.Save(token %d) = %v", i, err)
		}
		if got, err := l.Load(ctx); err != nil || !sameToken(got, testToken(i)) {
			t.Errorf("lease.Load after lease.Save(token %d) = %+v, %v", i, got, err)
		}
	}
	if v, _ := s.Version(ctx); v != 3 {
		t.Errorf("Version = %d; want 3", v)
	}
	l.Release(ctx)
	if err := l.Save(ctx, testToken(4)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("lease.Save after Release = %v; want ErrLeaseLost", err)
	}
}

func TestOneRefreshPerExpiryAcrossStores(t *testing.T) {
	// 8 stores (as 8 processes would have) x 4 goroutines each run the
	// refresh protocol of store.go at once: one refreshes, the others
	// adopt its token.
	addr := redistest.Start(t)
	ctx := ctxT(t, 10*time.Second)
	var stores []*redisstore.Store
	for i := 0; i < 8; i++ {
		stores = append(stores, newStoreOn(t, newClient(t, addr), "default", nil))
	}
	stores[0].Save(ctx, testToken(1))
	var mu sync.Mutex
	refreshes := 0
	var wg sync.WaitGroup
	for _, s := range stores {
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, err := s.Lock(ctx)
				var newer *spotauth.NewerTokenError
				if errors.As(err, &newer) {
					// The holder saved while this one waited: adopt
					// the token of the message, or load it.
					tok := newer.Token
					if tok == nil {
						tok, _ = s.Load(ctx)
					}
					if tok == nil || tok.AccessToken != testToken(2).AccessToken {
						t.Errorf("Lock = NewerTokenError with token %v; want token 2", tok)
					}
					return
				}
				if err != nil {
					t.Errorf("Lock = %v", err)
					return
				}
				defer l.Release(ctx)
				cur, err := l.Load(ctx)
				if err != nil {
					t.Errorf("lease.Load = %v", err)
					return
				}
				if cur.AccessToken != testToken(1).AccessToken {
					return // already refreshed by another: adopt
				}
				mu.Lock()
				refreshes++
				mu.Unlock()
				if err := l.Save(ctx, testToken(2)); err != nil {
					t.Errorf("lease.Save = %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if refreshes != 1 {
		t.Errorf("refreshes by 32 concurrent holders = %d; want 1", refreshes)
	}
}

func TestRedisDown(t *testing.T) {
	srv := redistest.StartServer(t, redistest.Options{})
	c := newClient(t, srv.Addr)
	s := newStoreOn(t, c, "default", nil)
	srv.Kill()
	ctx := ctxT(t, 30*time.Second)
	if _, err := s.Load(ctx); err == nil || errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load with Redis down = %v; want a connection error, not ErrTokenNotFound", err)
	} else if !strings.HasPrefix(err.Error(), "spotauth: redis store") {
		t.Errorf("Load error %q; want it to start with \"spotauth: redis store\"", err)
	}
	start := time.Now()
	// A prompt error, not a wait until the context's deadline (which
	// would be context.DeadlineExceeded).
	if _, err := s.Lock(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with Redis down = %v; want a connection error, not a wait until the deadline", err)
	}
	t.Logf("Lock with Redis down failed after %v", time.Since(start).Round(time.Millisecond))
	if err := s.Save(ctx, testToken(1)); err == nil {
		t.Errorf("Save with Redis down = nil; want an error")
	}
	srv.Restart()
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Errorf("Save after Redis came back = %v; want nil", err)
	}
}

func TestEncryption(t *testing.T) {
	key1, key2 := make([]byte, 32), make([]byte, 32)
	key2[0] = 1
	sealer1, _ := storecrypt.New(key1)
	sealer2, _ := storecrypt.New(key2)
	c := newClient(t, redistest.Start(t))
	enc := newStoreOn(t, c, "default", sealedWith(sealer1))
	ctx := ctxT(t, 5*time.Second)
	if err := enc.Save(ctx, testToken(1)); err != nil {
		t.Fatalf("Save(encrypted) = %v", err)
	}
	tokenKey, _, _ := enc.Keys()
	raw, err := c.HGet(ctx, tokenKey, "token").Result()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "secret") || !storecrypt.IsSealed([]byte(raw)) {
		t.Errorf("stored value %q is not sealed", raw)
	}
	if got, err := enc.Load(ctx); err != nil || !sameToken(got, testToken(1)) {
		t.Errorf("Load(encrypted) = %+v, %v; want token 1", got, err)
	}
	l := mustLock(t, enc)
	l.Save(ctx, testToken(2))
	l.Release(ctx)
	if got, err := enc.Load(ctx); err != nil || !sameToken(got, testToken(2)) {
		t.Errorf("Load after lease.Save(encrypted) = %+v, %v; want token 2", got, err)
	}

	tests := []struct {
		name  string
		store *redisstore.Store
		want  error
	}{
		{"wrong key", newStoreOn(t, c, "default", sealedWith(sealer2)), storecrypt.ErrWrongKey},
		{"no key", newStoreOn(t, c, "default", nil), storecrypt.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.store.Load(ctx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load with %s = %+v, %v; want %v", tt.name, got, err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q contains a token", err)
			}
		})
	}

	// A sealed blob copied under another key is refused.
	tokenKey2, _, _ := newStoreOn(t, c, "other", nil).Keys()
	c.HSet(ctx, tokenKey2, "token", raw)
	if got, err := newStoreOn(t, c, "other", sealedWith(sealer1)).Load(ctx); !errors.Is(err, redisstore.ErrCorrupt) {
		t.Errorf("Load of a sealed token copied from another key = %+v, %v; want ErrCorrupt", got, err)
	}

	// A token stored in clear is read with a sealer, and sealed by the
	// next save.
	plain := newStoreOn(t, c, "plain", nil)
	plain.Save(ctx, testToken(1))
	encPlain := newStoreOn(t, c, "plain", sealedWith(sealer1))
	if got, err := encPlain.Load(ctx); err != nil || !sameToken(got, testToken(1)) {
		t.Errorf("encrypted store Load of a token stored in clear = %+v, %v; want token 1", got, err)
	}
	if err := encPlain.Save(ctx, testToken(2)); err != nil {
		t.Fatal(err)
	}
	plainKey, _, _ := plain.Keys()
	if raw, err := c.HGet(ctx, plainKey, "token").Result(); err != nil || !storecrypt.IsSealed([]byte(raw)) {
		t.Errorf("stored value after a save with a sealer = %q, %v; want it sealed", raw, err)
	}
}

func TestCorruptValue(t *testing.T) {
	s, c := newStore(t, nil)
	ctx := ctxT(t, 5*time.Second)
	tokenKey, _, _ := s.Keys()
	c.HSet(ctx, tokenKey, "token", `{"access_token":"secret-half`)
	_, err := s.Load(ctx)
	if !errors.Is(err, redisstore.ErrCorrupt) {
		t.Errorf("Load(truncated JSON) = %v; want ErrCorrupt", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("Load error %q quotes the stored value", err)
	}
}

func TestWatch(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch = %v", err)
	}
	wctx := ctxT(t, 5*time.Second)
	s.Save(wctx, testToken(1))
	l := mustLock(t, s)
	l.Save(wctx, testToken(2))
	l.Release(wctx)
	l = mustLock(t, s)
	l.Release(wctx)
	s.Delete(wctx)
	// The lease's Save ends the lease (its message says so): its Release
	// sends nothing. A Release without a write is announced.
	want := []spotauth.StoreEvent{
		{Kind: spotauth.StoreSaved, Version: 1},
		{Kind: spotauth.StoreSaved, Version: 2},
		{Kind: spotauth.StoreReleased},
		{Kind: spotauth.StoreDeleted, Version: 3},
	}
	for i, w := range want {
		select {
		case got := <-events:
			if got != w {
				t.Errorf("event %d = %+v; want %+v", i, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d: none after 10s; want %+v", i, w)
		}
	}
	cancel()
	for range events { // closed when ctx is done
	}
}

func TestClosedStore(t *testing.T) {
	s, _ := newStore(t, nil)
	s.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	if _, err := s.Lock(ctxT(t, time.Second)); err == nil {
		t.Errorf("Lock after Close = nil error; want an error")
	}
}

func TestCluster(t *testing.T) {
	// A one-node Redis Cluster owning every slot: scripts over keys of
	// different slots would fail with CROSSSLOT, so this checks the hash
	// tag for real.
	srv := redistest.StartServer(t, redistest.Options{Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}})
	ctx := ctxT(t, 10*time.Second)
	admin := newClient(t, srv.Addr)
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE = %v", err)
	}
	for admin.ClusterInfo(ctx).Val() == "" || !strings.Contains(admin.ClusterInfo(ctx).Val(), "cluster_state:ok") {
		if ctx.Err() != nil {
			t.Fatalf("cluster state not ok: %s", admin.ClusterInfo(context.Background()).Val())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}})
	defer cc.Close()
	s := newStoreOn(t, cc, "user:31abc", nil)
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Fatalf("cluster Save = %v", err)
	}
	l := mustLock(t, s)
	if got, err := l.Load(ctx); err != nil || !sameToken(got, testToken(1)) {
		t.Errorf("cluster lease.Load = %+v, %v", got, err)
	}
	if err := l.Save(ctx, testToken(2)); err != nil {
		t.Errorf("cluster lease.Save = %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("cluster Release = %v", err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Errorf("cluster Delete = %v", err)
	}
	// Control: keys without a shared tag are refused by the cluster.
	token, _, _ := s.Keys()
	err := admin.Eval(ctx, "return 1", []string{token, "untagged"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("EVAL over keys of two slots = %v; want CROSSSLOT (else this test proves nothing)", err)
	}
}

func TestWatchSurvivesRestart(t *testing.T) {
	srv := redistest.StartServer(t, redistest.Options{})
	c := newClient(t, srv.Addr)
	s := newStoreOn(t, c, "default", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch = %v", err)
	}
	srv.Stop()
	srv.Restart()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case ev := <-events:
			if ev.Kind == spotauth.StoreSaved {
				t.Logf("Watch delivered an event %v after Redis restarted", time.Since(start).Round(time.Millisecond))
				cancel()
				for range events {
				}
				return
			}
		case <-tick.C:
			s.Save(ctx, testToken(1)) // until the subscription is back
		case <-deadline:
			t.Fatalf("no event within 10 s of a Redis restart; want Watch to resubscribe")
		}
	}
}

func TestWatchEndsOnClose(t *testing.T) {
	s, _ := newStore(t, nil)
	events, err := s.Watch(context.Background())
	if err != nil {
		t.Fatalf("Watch = %v", err)
	}
	s.Close()
	select {
	case _, ok := <-events:
		for ok {
			_, ok = <-events
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Watch channel still open 10 s after Close; want it closed")
	}
}

// deleter is the lease's Delete, asserted through this interface so that
// the tests compile whether or not spotauth.Lease declares it.
type deleter interface {
	Delete(ctx context.Context) error
}

// TestLeaseDelete: the holder deletes the stored token while it holds the
// lease (a refused refresh token), fenced like Save, and watchers are told.
func TestLeaseDelete(t *testing.T) {
	s, c := newStore(t, nil)
	ctx := ctxT(t, 10*time.Second)
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Save(ctx, testToken(1))
	l := mustLock(t, s)
	d, ok := l.(deleter)
	if !ok {
		t.Fatalf("lease %T has no Delete method", l)
	}
	if err := d.Delete(ctx); err != nil {
		t.Fatalf("lease Delete = %v", err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load after lease Delete = %v; want ErrTokenNotFound", err)
	}
	for want := (spotauth.StoreEvent{Kind: spotauth.StoreSaved, Version: 1}); ; {
		select {
		case ev := <-events:
			if ev != want {
				t.Fatalf("event %+v; want %+v", ev, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %+v after 10 s", want)
		}
		if want.Kind == spotauth.StoreDeleted {
			break
		}
		want = spotauth.StoreEvent{Kind: spotauth.StoreDeleted, Version: 2}
	}
	l.Release(ctx)
	if err := d.Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Delete by a released lease = %v; want ErrLeaseLost", err)
	}

	// Fenced: a token saved since the lease was taken stays; and a holder
	// whose lease expired deletes nothing.
	s.Save(ctx, testToken(3))
	l2 := mustLock(t, s)
	s.Save(ctx, testToken(4))
	if err := l2.(deleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("lease Delete after a newer save = %v; want ErrLeaseLost", err)
	}
	l2.Release(ctx)
	stale := deadHolder(t, c, 100*time.Millisecond)
	other := mustLock(t, s) // once stale's lease expired
	other.Save(ctx, testToken(5))
	other.Release(ctx)
	if err := stale.(deleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Delete by a holder whose lease expired, after another saved = %v; want ErrLeaseLost", err)
	}
	if got, _ := s.Load(ctx); !sameToken(got, testToken(5)) {
		t.Errorf("Load after refused deletes = %+v; want token 5", got)
	}

	// Fenced by version only: a holder whose lease expired while nobody
	// stored anything deletes.
	stale2 := deadHolder(t, c, 100*time.Millisecond)
	waitLeaseGone(t, c, s)
	if err := stale2.(deleter).Delete(ctx); err != nil {
		t.Errorf("Delete by a holder whose lease expired, version unchanged = %v; want nil", err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load after that Delete = %v; want ErrTokenNotFound", err)
	}
}

// TestLockAfterAMissedSave: a store that loaded version 1 while another
// stored version 2 gets the newer token from Lock, without the lease, which
// stays free for others; once it has seen version 2 its Lock takes the
// lease. (Taking the lease only to find the token fresh and release it
// woke every waiter, which then tried again: under load, a cascade of
// attempts per expiry.)
func TestLockAfterAMissedSave(t *testing.T) {
	s, c := newStore(t, nil)
	other := newStoreOn(t, c, "default", nil)
	ctx := ctxT(t, 10*time.Second)
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Fatal(err)
	}
	if err := other.Save(ctx, testToken(2)); err != nil {
		t.Fatal(err)
	}
	var newer *spotauth.NewerTokenError
	if l, err := s.Lock(ctx); !errors.As(err, &newer) {
		if err == nil {
			l.Release(ctx)
		}
		t.Fatalf("Lock after another store saved = %v; want a NewerTokenError", err)
	}
	if newer.Version != 2 || newer.Token == nil || !sameToken(newer.Token, testToken(2)) {
		t.Errorf("NewerTokenError = version %d, token %+v; want version 2 with token 2", newer.Version, newer.Token)
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := other.Lock(short)
	if err != nil {
		t.Fatalf("Lock by the store that saved = %v; want the free lease", err)
	}
	l.Release(ctx)
	mustLock(t, s).Release(ctx)
}
