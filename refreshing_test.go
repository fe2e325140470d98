package spotauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeRefresher stands in for Config.refreshUser, a source's renewFunc for
// user tokens: it counts requests, can block on a gate, fail with queued
// errors, and rotate refresh tokens like Spotify's older behaviour (then a
// superseded refresh token gives invalid_grant).
type fakeRefresher struct {
	clock    *fakeClock
	lifetime time.Duration
	rotate   bool

	mu      sync.Mutex
	calls   int
	errs    []error       // returned by the next calls, in order
	gate    chan struct{} // if set, each call waits for a receive (or ctx)
	started chan struct{} // if set, each call sends on it when it starts
	validRT string        // in rotate mode, the only refresh token accepted
	revoked int           // invalid_grant answers
}

var errInvalidGrant = fmt.Errorf("fake: %w %w", ErrInvalidGrant, ErrReauthorize)

// refresh is the renewFunc of a user source: without a token to refresh
// (none given, none stored) it fails as refreshUser does, sending nothing.
func (f *fakeRefresher) refresh(ctx context.Context, t *Token) (*Token, error) {
	if t == nil {
		return nil, errNotLoggedIn
	}
	return f.request(ctx, t)
}

// request is one token request: a refresh of t, or for a nil t a
// client-credentials request.
func (f *fakeRefresher) request(ctx context.Context, t *Token) (*Token, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	gate, started := f.gate, f.started
	var err error
	if len(f.errs) > 0 {
		err, f.errs = f.errs[0], f.errs[1:]
	}
	if err == nil && f.rotate && t != nil && f.validRT != "" && t.RefreshToken != f.validRT {
		f.revoked++
		err = errInvalidGrant
	}
	f.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	nt := &Token{
		AccessToken: fmt.Sprintf("at-%d", n),
		TokenType:   "Bearer",
		Expiry:      f.clock.Now().Add(f.lifetime),
	}
	if f.rotate {
		nt.RefreshToken = fmt.Sprintf("rt-%d", n)
		f.mu.Lock()
		f.validRT = nt.RefreshToken
		f.mu.Unlock()
	}
	return nt, nil
}

func (f *fakeRefresher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newFake(c *fakeClock) *fakeRefresher {
	return &fakeRefresher{clock: c, lifetime: time.Hour}
}

// tok returns a token expiring in d on c, with refresh token "rt-0".
func tok(c *fakeClock, name string, d time.Duration) *Token {
	return &Token{AccessToken: name, TokenType: "Bearer", RefreshToken: "rt-0", Expiry: c.Now().Add(d)}
}

// testSource returns a source on fake clock c, closed at the end of the test.
func testSource(t *testing.T, f *fakeRefresher, initial *Token, opts SourceOptions) *RefreshingSource {
	t.Helper()
	s := newSource(f.clock, f.refresh, initial, &opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// waitIdle waits until s has no refresh in flight.
func waitIdle(t *testing.T, s *RefreshingSource) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		f := s.flight
		s.mu.Unlock()
		if f == nil {
			return
		}
		select {
		case <-f.done:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("refresh still in flight after 5 s")
		}
	}
}

// memStore returns a MemoryStore holding a copy of t (empty if t is nil),
// at version 0, as if it had been stored before the test.
func memStore(t *Token) *MemoryStore {
	s := &MemoryStore{}
	if t != nil {
		c := *t
		s.tok = &c
	}
	return s
}

func mustToken(t *testing.T, s *RefreshingSource) *Token {
	t.Helper()
	got, err := s.Token(context.Background())
	if err != nil {
		t.Fatalf("Token() error: %v", err)
	}
	return got
}

func TestHotPathNoRefresh(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1})
	for range 100 {
		if got := mustToken(t, s); got.AccessToken != "at-0" {
			t.Fatalf("Token() = %q; want at-0", got.AccessToken)
		}
		ot, err := s.OAuth2().Token()
		if err != nil || ot.AccessToken != "at-0" || ot.TokenType != "Bearer" || ot.RefreshToken != "" {
			t.Fatalf("OAuth2().Token() = %+v, %v; want at-0 Bearer without refresh token", ot, err)
		}
	}
	c.Advance(54 * time.Minute) // 6 min left: outside the 5 min window
	mustToken(t, s)
	waitIdle(t, s)
	if n := f.count(); n != 0 {
		t.Errorf("refreshes outside the window = %d; want 0", n)
	}
}

func TestHotPathAllocs(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	// The system clock: the path benchmarks measure.
	s := newSource(nil, f.refresh, tok(c, "at-0", 100*365*24*time.Hour), nil)
	defer s.Close()
	ctx := context.Background()
	o := s.OAuth2()
	if n := testing.AllocsPerRun(1000, func() { o.Token() }); n != 0 {
		t.Errorf("OAuth2().Token() allocs = %v; want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.OAuth2().Token() }); n != 0 {
		t.Errorf("OAuth2() and its Token() allocs = %v; want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.Token(ctx) }); n != 0 {
		t.Errorf("Token() allocs = %v; want 0", n)
	}
}

func TestRefreshWindow(t *testing.T) {
	tests := []struct {
		name      string
		window    time.Duration
		lifetime  time.Duration
		wantDue   time.Duration // time until due, without jitter
		wantUntil time.Duration // time until expired
	}{
		{"hour default window", 0, time.Hour, 55 * time.Minute, time.Hour - 10*time.Second},
		{"hour 10 min window", 10 * time.Minute, time.Hour, 50 * time.Minute, time.Hour - 10*time.Second},
		{"window below a minute", 10 * time.Second, time.Hour, 59 * time.Minute, time.Hour - 10*time.Second},
		{"exactly twice the window", 0, 10 * time.Minute, 5 * time.Minute, 10*time.Minute - 10*time.Second},
		{"short token quarter", 0, 2 * time.Second, 1500 * time.Millisecond, 1900 * time.Millisecond},
		{"3 s token", 0, 3 * time.Second, 2250 * time.Millisecond, 2850 * time.Millisecond},
		{"expired", 0, -time.Second, -time.Second, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			f := newFake(c)
			// An expired token's refresh starts at once: hold it, so that
			// the state read is the one published at creation.
			f.gate = make(chan struct{})
			s := testSource(t, f, tok(c, "a", tt.lifetime), SourceOptions{RefreshWindow: tt.window, Jitter: -1})
			st := s.st.Load()
			_, mono := c.Now().UnixNano(), int64(c.Monotonic())
			if got := time.Duration(st.dueMono - mono); got != tt.wantDue {
				t.Errorf("time until due = %v; want %v", got, tt.wantDue)
			}
			if got := time.Duration(st.expMono - mono); got != tt.wantUntil {
				t.Errorf("time until expired = %v; want %v", got, tt.wantUntil)
			}
			if st.dueWall-c.Now().UnixNano() != st.dueMono-mono {
				t.Errorf("wall and monotonic deadlines differ: %d vs %d", st.dueWall-c.Now().UnixNano(), st.dueMono-mono)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	seen := map[int64]bool{}
	for range 50 {
		s := testSource(t, f, tok(c, "a", time.Hour), SourceOptions{})
		d := time.Duration(s.st.Load().dueMono - int64(c.Monotonic()))
		// Default jitter: the first fifth (1 min) of the 5 min window.
		if d < 55*time.Minute || d >= 56*time.Minute {
			t.Fatalf("time until due = %v; want in [55m, 56m)", d)
		}
		seen[int64(d)] = true
		s.Close()
	}
	if len(seen) < 10 {
		t.Errorf("distinct jittered deadlines = %d of 50; want spread", len(seen))
	}
}

// TestConcurrentCallersAtExpiry: N callers find the token expired; they all
// wait for one refresh and get its token.
func TestConcurrentCallersAtExpiry(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	f.started = make(chan struct{}, 10)
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1})
	s.mu.Lock()
	s.stopTimer() // callers, not the timer, discover the expiry
	s.mu.Unlock()
	c.mu.Lock()
	c.wall, c.mono = c.wall.Add(2*time.Hour), c.mono+2*time.Hour
	c.mu.Unlock()

	const n = 64
	var wg sync.WaitGroup
	results := make(chan string, n)
	for range n {
		wg.Go(func() {
			got, err := s.Token(context.Background())
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- got.AccessToken
		})
	}
	<-f.started
	time.Sleep(20 * time.Millisecond) // let the callers pile up behind it
	close(f.gate)
	wg.Wait()
	close(results)
	for got := range results {
		if got != "at-1" {
			t.Errorf("Token() = %q; want at-1", got)
		}
	}
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1", got)
	}
}

// TestWindowCallersNotBlocked: inside the window, one background refresh
// runs while every caller gets the current token at once.
func TestWindowCallersNotBlocked(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	f.started = make(chan struct{}, 1)
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1})
	c.Advance(56 * time.Minute) // 4 min left: the timer starts the refresh
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 100 {
				got, err := s.Token(context.Background())
				if err != nil || got.AccessToken != "at-0" {
					t.Errorf("Token() = %v, %v; want at-0 at once", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The timer's flight runs in its own goroutine, which a loaded
	// scheduler may not have run yet: wait for it to start, then count.
	<-f.started
	if got := f.count(); got != 1 {
		t.Errorf("refreshes started = %d; want 1", got)
	}
	close(f.gate)
	waitIdle(t, s)
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() after the refresh = %q; want at-1", got)
	}
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1", got)
	}
}

// TestRefreshFailureWithValidToken: a failed refresh leaves callers with
// the valid token, is reported, and is retried with backoff.
func TestRefreshFailureWithValidToken(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	errDown := fmt.Errorf("fake: %w", ErrServerError)
	f.errs = []error{errDown, errDown}
	var reported []error
	var mu sync.Mutex
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1, OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	c.Advance(56 * time.Minute)
	waitIdle(t, s)
	if got := mustToken(t, s).AccessToken; got != "at-0" {
		t.Errorf("Token() after a failed refresh = %q; want at-0", got)
	}
	if got := f.count(); got != 1 {
		t.Fatalf("refreshes = %d; want 1", got)
	}
	// Callers do not retry at once: the retry waits for its backoff.
	for range 10 {
		mustToken(t, s)
	}
	waitIdle(t, s)
	if got := f.count(); got != 1 {
		t.Errorf("refreshes before the backoff elapsed = %d; want 1", got)
	}
	c.Advance(2 * time.Second) // first backoff: at most 1 s
	waitIdle(t, s)
	if got := f.count(); got != 2 {
		t.Errorf("refreshes after the first backoff = %d; want 2", got)
	}
	c.Advance(2 * time.Second)
	waitIdle(t, s)
	if got := mustToken(t, s).AccessToken; got != "at-3" {
		t.Errorf("Token() after recovery = %q; want at-3", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 2 || !errors.Is(reported[0], ErrServerError) {
		t.Errorf("OnError got %v; want 2 errors matching ErrServerError", reported)
	}
}

// TestPermanentError: invalid_grant is reported at once, never retried,
// returned as ErrReauthorize once the token has expired, and the stored
// refresh token is deleted.
func TestPermanentError(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.errs = []error{fmt.Errorf("fake: %w", ErrInvalidGrant)} // without ErrReauthorize: the source adds it
	// Not watched: with a WatchingStore the deletion drops the token at
	// once (TestWatchDeleted).
	store := unwatched{memStore(tok(c, "at-0", time.Hour))}
	var reported atomic.Int32
	var first atomic.Pointer[error]
	s := testSource(t, f, nil, SourceOptions{Jitter: -1, Store: store, OnError: func(err error) {
		reported.Add(1)
		first.CompareAndSwap(nil, &err)
	}})
	if got := mustToken(t, s).AccessToken; got != "at-0" {
		t.Fatalf("Token() = %q; want the stored at-0", got)
	}
	c.Advance(56 * time.Minute)
	waitIdle(t, s)
	if reported.Load() != 1 || !errors.Is(*first.Load(), ErrReauthorize) {
		t.Fatalf("OnError calls = %d (first %v); want 1 matching ErrReauthorize", reported.Load(), first.Load())
	}
	if _, err := store.Load(context.Background()); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("store.Load() after invalid_grant = %v; want ErrTokenNotFound (refresh token deleted)", err)
	}
	// Still valid: callers keep it; no retry however long we wait.
	if got := mustToken(t, s).AccessToken; got != "at-0" {
		t.Errorf("Token() with a valid token after invalid_grant = %q; want at-0", got)
	}
	c.Advance(3*time.Minute + 40*time.Second)
	waitIdle(t, s)
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1 (never retried)", got)
	}
	c.Advance(30 * time.Second) // expired
	_, err := s.Token(context.Background())
	if !errors.Is(err, ErrReauthorize) || !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Token() after expiry = %v; want ErrReauthorize and ErrInvalidGrant", err)
	}
	if _, err := s.OAuth2().Token(); !errors.Is(err, ErrReauthorize) {
		t.Errorf("OAuth2().Token() after expiry = %v; want ErrReauthorize", err)
	}
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1", got)
	}
}

// blockingStore is a MemoryStore whose Save blocks until released.
type blockingStore struct {
	*MemoryStore
	entered chan struct{}
	release chan struct{}
	saveErr error
}

func (b *blockingStore) Save(ctx context.Context, t *Token) error {
	if b.entered != nil {
		b.entered <- struct{}{}
		<-b.release
	}
	if b.saveErr != nil {
		return b.saveErr
	}
	return b.MemoryStore.Save(ctx, t)
}

// plainStore hides the LockingStore methods of a store.
type plainStore struct{ TokenStore }

// unwatched hides the Watch method of a LockingStore.
type unwatched struct{ LockingStore }

// TestRotatedTokenSavedBeforeHandout: with a store whose Save blocks, no
// caller gets the new access token before Save has returned.
func TestRotatedTokenSavedBeforeHandout(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.rotate = true
	store := &blockingStore{MemoryStore: memStore(nil), entered: make(chan struct{}), release: make(chan struct{})}
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1, Store: plainStore{store}})
	c.Advance(2 * time.Hour) // expired; the timer starts the refresh
	<-store.entered
	var saved atomic.Bool
	done := make(chan string)
	for range 8 {
		go func() {
			got, err := s.Token(context.Background())
			if err != nil {
				done <- err.Error()
				return
			}
			if got.AccessToken == "at-1" && !saved.Load() {
				done <- "got at-1 before Save returned"
				return
			}
			done <- got.AccessToken
		}()
	}
	select {
	case got := <-done:
		t.Fatalf("a caller returned %q while Save was blocked", got)
	case <-time.After(50 * time.Millisecond):
	}
	saved.Store(true)
	close(store.release)
	for range 8 {
		if got := <-done; got != "at-1" {
			t.Errorf("Token() = %q; want at-1", got)
		}
	}
	st, err := store.MemoryStore.Load(context.Background())
	if err != nil || st.RefreshToken != "rt-1" || st.AccessToken != "at-1" {
		t.Errorf("stored token = %v, %v; want at-1 with rotated rt-1", st, err)
	}
}

// TestSaveFailureReported: a failed save is reported, the new token is used
// (it holds the only valid refresh token after a rotation), and the save is
// retried until it succeeds.
func TestSaveFailureReported(t *testing.T) {
	for _, locking := range []bool{false, true} {
		t.Run(fmt.Sprintf("locking=%v", locking), func(t *testing.T) {
			c := newFakeClock()
			f := newFake(c)
			f.rotate = true
			errDisk := errors.New("disk full")
			bs := &blockingStore{MemoryStore: memStore(tok(c, "at-0", time.Hour)), saveErr: errDisk}
			var store TokenStore = plainStore{bs}
			if locking {
				store = &failingLockStore{MemoryStore: bs.MemoryStore, saveErr: &bs.saveErr}
			}
			var mu sync.Mutex
			var reported []error
			s := testSource(t, f, nil, SourceOptions{Jitter: -1, Store: store, OnError: func(err error) {
				mu.Lock()
				reported = append(reported, err)
				mu.Unlock()
			}})
			mustToken(t, s)
			c.Advance(2 * time.Hour)
			if got := mustToken(t, s).AccessToken; got != "at-1" {
				t.Fatalf("Token() after refresh with failed save = %q; want at-1", got)
			}
			waitIdle(t, s)
			mu.Lock()
			var se *StoreError
			if len(reported) != 1 || !errors.As(reported[0], &se) || se.Op != "save" || !errors.Is(reported[0], errDisk) {
				t.Errorf("OnError got %v; want one *StoreError{Op: save} wrapping the disk error", reported)
			}
			mu.Unlock()
			// The store recovers; the retry saves the rotated token without a refresh.
			bs.MemoryStore.mu.Lock()
			bs.saveErr = nil
			bs.MemoryStore.mu.Unlock()
			c.Advance(10 * time.Second)
			waitIdle(t, s)
			st, err := bs.MemoryStore.Load(context.Background())
			if err != nil || st.RefreshToken != "rt-1" {
				t.Errorf("stored token after the retry = %v, %v; want rt-1", st, err)
			}
			if got := f.count(); got != 1 {
				t.Errorf("refreshes = %d; want 1", got)
			}
		})
	}
}

// failingLockStore is a MemoryStore whose lease saves fail with *saveErr.
type failingLockStore struct {
	*MemoryStore
	saveErr *error
}

func (s *failingLockStore) Lock(ctx context.Context) (Lease, error) {
	l, err := s.MemoryStore.Lock(ctx)
	if err != nil {
		return nil, err
	}
	return &failingLease{Lease: l, s: s}, nil
}

type failingLease struct {
	Lease
	s *failingLockStore
}

func (l *failingLease) Save(ctx context.Context, t *Token) error {
	l.s.MemoryStore.mu.Lock()
	err := *l.s.saveErr
	l.s.MemoryStore.mu.Unlock()
	if err != nil {
		return err
	}
	return l.Lease.Save(ctx, t)
}

// TestSuspend: the system sleeps past the expiry. The monotonic clock (and
// its timers) stood still, but the wall clock says the token expired: it is
// not handed out.
func TestSuspend(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1})
	c.Suspend(3 * time.Hour)
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() after a suspend past expiry = %q; want at-1 (refreshed)", got)
	}
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1", got)
	}
	// A shorter suspend into the window starts a background refresh.
	c.Suspend(56 * time.Minute)
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() in the window after a suspend = %q; want at-1 at once", got)
	}
	waitIdle(t, s)
	if got := f.count(); got != 2 {
		t.Errorf("refreshes = %d; want 2", got)
	}
}

// TestWallClockBackwards: the wall clock is set back an hour; the monotonic
// clock still says the token expired.
func TestWallClockBackwards(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1})
	s.mu.Lock()
	s.stopTimer() // the caller must notice, not the timer
	s.mu.Unlock()
	c.JumpWall(-time.Hour)
	c.mu.Lock()
	c.mono += 61 * time.Minute
	c.wall = c.wall.Add(61 * time.Minute) // wall now reads 1 min after the start
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	// The refresh is blocked: the caller must wait, not get the expired token.
	if got, err := s.Token(ctx); err == nil {
		t.Errorf("Token() after a backward jump past expiry = %q; want to wait for the refresh", got.AccessToken)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token() error = %v; want context.DeadlineExceeded", err)
	}
	close(f.gate)
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() = %q; want at-1", got)
	}
}

// TestCallerContext: waiting callers are bounded by their context, and the
// refresh goes on for the others.
func TestCallerContext(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	s := testSource(t, f, tok(c, "at-0", time.Second), SourceOptions{Jitter: -1})
	c.Advance(2 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Token(canceled) = %v; want context.Canceled", err)
	}
	close(f.gate)
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() = %q; want at-1", got)
	}
}

// TestRefreshTimeout: Token (no context) does not hang on a refresh that
// never answers.
func TestRefreshTimeout(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{}) // never opened
	s := testSource(t, f, tok(c, "at-0", time.Second), SourceOptions{Jitter: -1, RefreshTimeout: 30 * time.Millisecond})
	c.Advance(2 * time.Second)
	if _, err := s.OAuth2().Token(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("OAuth2().Token() with a hung refresh = %v; want context.DeadlineExceeded after RefreshTimeout", err)
	}
}

func TestClose(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	f.started = make(chan struct{}, 1)
	initial := tok(c, "at-0", time.Second)
	s := newSource(c, f.refresh, initial, nil)
	c.Advance(2 * time.Second)
	errc := make(chan error)
	go func() {
		_, err := s.Token(context.Background())
		errc <- err
	}()
	<-f.started
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Token() waiting during Close = %v; want ErrClosed", err)
	}
	if _, err := s.OAuth2().Token(); !errors.Is(err, ErrClosed) {
		t.Errorf("OAuth2().Token() after Close = %v; want ErrClosed", err)
	}
	if _, err := s.Invalidate(context.Background(), initial); !errors.Is(err, ErrClosed) {
		t.Errorf("Invalidate() after Close = %v; want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
	if n := c.pendingTimers(); n != 0 {
		t.Errorf("timers left after Close = %d; want 0", n)
	}
	// A system-clock source leaves no goroutine behind (goleak checks it).
	s2 := newSource(nil, f.refresh, tok(c, "at-0", time.Hour), nil)
	s2.Close()
}

func TestZeroSource(t *testing.T) {
	var s RefreshingSource
	if _, err := s.OAuth2().Token(); err == nil {
		t.Errorf("zero RefreshingSource Token() = nil error; want an error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("zero RefreshingSource Close() = %v; want nil", err)
	}
}

func TestLoadFromStore(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		c := newFakeClock()
		f := newFake(c)
		s := testSource(t, f, nil, SourceOptions{Store: memStore(nil)})
		if _, err := s.Token(context.Background()); !errors.Is(err, ErrTokenNotFound) {
			t.Errorf("Token() with an empty store = %v; want ErrTokenNotFound", err)
		}
	})
	t.Run("no store", func(t *testing.T) {
		c := newFakeClock()
		f := newFake(c)
		s := testSource(t, f, nil, SourceOptions{})
		if _, err := s.Token(context.Background()); !errors.Is(err, ErrTokenNotFound) {
			t.Errorf("Token() without token or store = %v; want ErrTokenNotFound", err)
		}
	})
	t.Run("valid", func(t *testing.T) {
		c := newFakeClock()
		f := newFake(c)
		s := testSource(t, f, nil, SourceOptions{Store: plainStore{memStore(tok(c, "stored", time.Hour))}})
		if got := mustToken(t, s).AccessToken; got != "stored" {
			t.Errorf("Token() = %q; want stored", got)
		}
		if f.count() != 0 {
			t.Errorf("refreshes = %d; want 0", f.count())
		}
	})
	t.Run("expired", func(t *testing.T) {
		c := newFakeClock()
		f := newFake(c)
		store := memStore(tok(c, "stored", -time.Minute))
		s := testSource(t, f, nil, SourceOptions{Store: store})
		if got := mustToken(t, s).AccessToken; got != "at-1" {
			t.Errorf("Token() = %q; want at-1", got)
		}
		st, _ := store.Load(context.Background())
		if st.AccessToken != "at-1" || st.RefreshToken != "rt-0" {
			t.Errorf("stored = %v; want at-1 keeping refresh token rt-0", st)
		}
	})
}

// TestAppSource: a source whose tokens have no refresh token (app tokens,
// as Config.AppSource makes with requestApp) requests its first token
// without a store, and a new one at each expiry.
func TestAppSource(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	s := newSource(c, func(ctx context.Context, base *Token) (*Token, error) {
		if authorization(base) {
			return nil, errors.New("app renewal given a user token")
		}
		return f.request(ctx, nil)
	}, nil, nil)
	defer s.Close()
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() = %q; want at-1", got)
	}
	c.Advance(2 * time.Hour)
	if got := mustToken(t, s).AccessToken; got != "at-2" {
		t.Errorf("Token() after expiry = %q; want at-2", got)
	}
}

// TestRenewFuncs: the renewFuncs of Config that sources use. A user source
// without a token to refresh fails with ErrTokenNotFound and sends nothing;
// an app source requests a new token whatever the base; a token stands for
// an authorization when it has a refresh token.
func TestRenewFuncs(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"BQ-`+r.PostForm.Get("grant_type")+`","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	c := &Config{ClientID: "id", ClientSecret: "secret", AccountsURL: srv.URL, HTTPClient: srv.Client()}
	ctx := context.Background()
	if got, err := c.refreshUser(ctx, nil); !errors.Is(err, ErrTokenNotFound) || got != nil || requests.Load() != 0 {
		t.Errorf("refreshUser(nil) = %v, %v after %d requests; want ErrTokenNotFound and none", got, err, requests.Load())
	}
	if got, err := c.refreshUser(ctx, &Token{RefreshToken: "r"}); err != nil || got.AccessToken != "BQ-refresh_token" || got.RefreshToken != "r" {
		t.Errorf("refreshUser(token) = %v, %v; want a refreshed token keeping its refresh token", got, err)
	}
	for _, base := range []*Token{nil, {AccessToken: "BQ-old"}} {
		if got, err := c.requestApp(ctx, base); err != nil || got.AccessToken != "BQ-client_credentials" || authorization(got) {
			t.Errorf("requestApp(%v) = %v, %v; want a client-credentials token", base, got, err)
		}
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("token requests = %d; want 3", n)
	}
	for _, tt := range []struct {
		tok  *Token
		want bool
	}{{nil, false}, {&Token{AccessToken: "a"}, false}, {&Token{RefreshToken: "r"}, true}} {
		if got := authorization(tt.tok); got != tt.want {
			t.Errorf("authorization(%v) = %v; want %v", tt.tok, got, tt.want)
		}
	}
}

func TestInvalidate(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.gate = make(chan struct{})
	s := testSource(t, f, tok(c, "at-0", time.Hour), SourceOptions{Jitter: -1})
	stale := mustToken(t, s)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			got, err := s.Invalidate(context.Background(), stale)
			if err != nil || got.AccessToken != "at-1" {
				t.Errorf("Invalidate(at-0) = %v, %v; want at-1", got, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(f.gate)
	wg.Wait()
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1 shared by all", got)
	}
	// An old stale token: the current one is returned without a refresh.
	if got, err := s.Invalidate(context.Background(), stale); err != nil || got.AccessToken != "at-1" {
		t.Errorf("Invalidate(at-0) again = %v, %v; want at-1", got, err)
	}
	// The fresh token refused at once: no loop.
	fresh := mustToken(t, s)
	if got, err := s.Invalidate(context.Background(), fresh); err != nil || got.AccessToken != "at-1" {
		t.Errorf("Invalidate(fresh at-1) = %v, %v; want at-1 unchanged", got, err)
	}
	if got := f.count(); got != 1 {
		t.Errorf("refreshes = %d; want 1", got)
	}
	c.Advance(2 * time.Second)
	if got, err := s.Invalidate(context.Background(), fresh); err != nil || got.AccessToken != "at-2" {
		t.Errorf("Invalidate(at-1) 2 s later = %v, %v; want at-2", got, err)
	}
	// A forced flight (what Invalidate starts) has no age guard of its
	// own: the guard is Invalidate's.
	st := s.st.Load()
	<-s.startFlight(st, flightForce).done
	if got := mustToken(t, s); got.AccessToken != "at-3" {
		t.Errorf("Token() after a forced flight = %v; want at-3 (no age guard)", got)
	}
	if got := f.count(); got != 3 {
		t.Errorf("refreshes = %d; want 3", got)
	}
}

// TestFleetMemoryStore: sources sharing one LockingStore, like processes of
// a fleet, make one refresh per expiry; with rotation, none uses a
// superseded refresh token.
func TestFleetMemoryStore(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.rotate = true
	f.lifetime = 10 * time.Minute
	initial := tok(c, "at-0", 10*time.Minute)
	f.validRT = "rt-0"
	store := memStore(initial)
	var sources []*RefreshingSource
	for range 8 {
		sources = append(sources, testSource(t, f, nil, SourceOptions{Store: store}))
	}
	for _, s := range sources {
		mustToken(t, s)
	}
	const expiries = 5
	for i := range expiries {
		// Step through the window so that the jittered timers fire in turn.
		for range 20 {
			c.Advance(30 * time.Second)
			for _, s := range sources {
				waitIdle(t, s)
				if got, err := s.Token(context.Background()); err != nil {
					t.Fatalf("expiry %d: Token() error: %v", i, err)
				} else if !got.Expiry.After(c.Now()) {
					t.Fatalf("expiry %d: Token() returned an expired token", i)
				}
			}
		}
	}
	// 50 minutes of 10-minute tokens, each refreshed 5..6 min after it was
	// obtained (5 min window, 1 min jitter, 30 s steps): 8 to 10 refreshes
	// if one source refreshes per expiry, 8 times that if each does.
	if got := f.count(); got > 10 || got < 8 {
		t.Errorf("refreshes for 8 sources over 50 min = %d; want one per expiry (8..10)", got)
	}
	if f.revoked != 0 {
		t.Errorf("invalid_grant answers = %d; want 0", f.revoked)
	}
}

func TestNewerAndAdoptable(t *testing.T) {
	c := newFakeClock()
	s := testSource(t, newFake(c), nil, SourceOptions{})
	old, cur := tok(c, "old", time.Minute), tok(c, "cur", time.Hour)
	tests := []struct {
		name     string
		t, stale *Token
		want     bool
	}{
		{"newer stored", cur, old, true},
		{"same token", old, old, false},
		{"older stored", old, cur, false},
		{"nothing loaded", cur, nil, true},
		{"expired stored", tok(c, "x", -time.Second), nil, false},
		{"expiring now", tok(c, "x", 0), nil, false},
		{"nil", nil, old, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.adoptable(tt.t, tt.stale); got != tt.want {
				t.Errorf("adoptable(%s) = %v; want %v", tt.name, got, tt.want)
			}
		})
	}
	if got := newer(old, cur); got != cur {
		t.Errorf("newer(old, cur) = %s; want cur", got.AccessToken)
	}
	if got := newer(cur, old); got != cur {
		t.Errorf("newer(cur, old) = %s; want cur", got.AccessToken)
	}
	if got := addSat(math.MaxInt64-1, time.Hour); got != math.MaxInt64 {
		t.Errorf("addSat(max-1, 1h) = %d; want MaxInt64", got)
	}
}

// TestReloadAfterReauthorization: after invalid_grant, a source with a
// store adopts the token of a new authorization stored by another process
// (a new login), at most one look per second, and never refreshes the
// refused grant again.
func TestReloadAfterReauthorization(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	f.errs = []error{errInvalidGrant}
	// Not watched: with a WatchingStore the new login is adopted at once
	// (TestWatchDeleted), racing with the looks this test counts.
	store := unwatched{memStore(tok(c, "at-0", time.Hour))}
	s := testSource(t, f, nil, SourceOptions{Jitter: -1, Store: store})
	mustToken(t, s)
	c.Advance(2 * time.Hour)
	if _, err := s.Token(context.Background()); !errors.Is(err, ErrReauthorize) {
		t.Fatalf("Token() after a revoked grant = %v; want ErrReauthorize", err)
	}
	// Nothing new stored: still the error, and no refresh.
	c.Advance(2 * time.Second)
	if _, err := s.Token(context.Background()); !errors.Is(err, ErrReauthorize) {
		t.Fatalf("Token() with nothing new stored = %v; want ErrReauthorize", err)
	}
	// A new login stores a new grant whose access token already expired.
	relogin := tok(c, "login-at", -time.Minute)
	relogin.RefreshToken = "rt-new"
	store.Save(context.Background(), relogin)
	if _, err := s.Token(context.Background()); !errors.Is(err, ErrReauthorize) {
		t.Errorf("Token() within a second of the last look = %v; want ErrReauthorize still", err)
	}
	c.Advance(2 * time.Second)
	got, err := s.Token(context.Background())
	if err != nil || got.AccessToken != "at-2" || got.RefreshToken != "rt-new" {
		t.Fatalf("Token() after a new login = %v, %v; want at-2 refreshed with rt-new", got, err)
	}
	if n := f.count(); n != 2 {
		t.Errorf("refreshes = %d; want 2 (the refused one, then the new grant's)", n)
	}
}

// TestOnDemand: an OnDemand source keeps no timer and no store watch; the
// first call in the refresh window starts the one refresh (returning the
// valid token at once), and a deletion of the stored token is seen at that
// refresh, without a request.
func TestOnDemand(t *testing.T) {
	c := newFakeClock()
	f := newFake(c)
	store := memStore(tok(c, "at-0", time.Hour))
	var rec errRecorder
	s := testSource(t, f, nil, SourceOptions{Jitter: -1, Store: store, OnDemand: true, OnError: rec.add})
	if got := mustToken(t, s).AccessToken; got != "at-0" {
		t.Fatalf("Token() = %q; want the stored at-0", got)
	}
	idle := func(when string) {
		t.Helper()
		store.mu.Lock()
		watches := len(store.watches)
		store.mu.Unlock()
		if n := c.pendingTimers(); n != 0 || watches != 0 {
			t.Errorf("%s: timers, store watches = %d, %d; want 0, 0", when, n, watches)
		}
	}
	idle("after the first call")
	c.Advance(56 * time.Minute) // in the window: nothing happens until a call
	waitIdle(t, s)
	if n := f.count(); n != 0 {
		t.Fatalf("refreshes without a call = %d; want 0", n)
	}
	gate := make(chan struct{}) // holds the refresh: callers must not wait for it
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if got, err := s.Token(context.Background()); err != nil || got.AccessToken != "at-0" {
				t.Errorf("Token() in the window = %v, %v; want the valid at-0 at once", got, err)
			}
		})
	}
	wg.Wait()
	f.mu.Lock()
	f.gate = nil
	f.mu.Unlock()
	close(gate)
	waitIdle(t, s)
	if n := f.count(); n != 1 {
		t.Errorf("refreshes started by 16 calls in the window = %d; want 1", n)
	}
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() after the refresh = %q; want at-1", got)
	}
	if st, err := store.Load(context.Background()); err != nil || st.AccessToken != "at-1" {
		t.Errorf("stored token = %v, %v; want at-1", st, err)
	}
	idle("after the refresh")

	// A logout: unseen until the next refresh, which sends no request.
	if err := store.Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := mustToken(t, s).AccessToken; got != "at-1" {
		t.Errorf("Token() after the deletion, before the window = %q; want at-1", got)
	}
	c.Advance(56 * time.Minute)
	s.Token(context.Background()) // starts the refresh, which finds the deletion
	waitIdle(t, s)
	if _, err := s.Token(context.Background()); !errors.Is(err, ErrReauthorize) || !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("Token() after the refresh found the deletion = %v; want ErrReauthorize and ErrTokenNotFound", err)
	}
	if n := f.count(); n != 1 {
		t.Errorf("refreshes = %d; want 1 (none after the deletion)", n)
	}
	if n := rec.count(ErrReauthorize); n != 1 {
		t.Errorf("OnError ErrReauthorize reports = %d; want 1", n)
	}
	if _, err := store.Load(context.Background()); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("store.Load() = %v; want ErrTokenNotFound (nothing stored again)", err)
	}
}
