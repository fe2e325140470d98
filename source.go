package spotauth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spotauth/spotauth/internal/redact"
	"golang.org/x/oauth2"
)

// Defaults of SourceOptions.
const (
	defaultRefreshWindow  = 5 * time.Minute
	defaultRefreshTimeout = 30 * time.Second
	// minRefreshWindow: Spotify advises refreshing when less than a minute
	// remains.
	minRefreshWindow = time.Minute
)

// maxExpiryMargin bounds the margin before Expiry from which a token counts
// as expired, so that it is not handed out to die in transit. The margin is
// a twentieth of the token's remaining life, at most this.
const maxExpiryMargin = 10 * time.Second

// minInvalidateAge: [RefreshingSource.Invalidate] does not refresh a token
// that a refresh produced less than this ago; a 401 at once after a refresh
// is an error, not a reason to refresh again: a client must not loop.
const minInvalidateAge = time.Second

// SourceOptions configure a [RefreshingSource]. The zero value is usable.
type SourceOptions struct {
	// Store persists the tokens; nil keeps them in memory only. Sources
	// sharing a [LockingStore] refresh once per expiry between them.
	Store TokenStore
	// RefreshWindow is how long before expiry the background refresh
	// starts: 0 means 5 minutes, and it is at least 1 minute. A token
	// living less than twice the window uses a quarter of its life.
	RefreshWindow time.Duration
	// Jitter spreads a fleet's refreshes over the first Jitter of the
	// window, at most half of it: 0 means a fifth, negative none.
	Jitter time.Duration
	// RefreshTimeout bounds one refresh, lease and save included, and so
	// every wait for a token (0 means 30 s).
	RefreshTimeout time.Duration
	// OnRefresh and OnError, if set, are called with every token this
	// source's refreshes obtain (once saved) and every failed refresh,
	// save or lock (a [*StoreError] for the store's), before the callers
	// waiting for that refresh return. They must return quickly, must not
	// wait for this source, and must not modify the token.
	OnRefresh func(*Token)
	OnError   func(error)
	// OnDemand: no timer and no store watch, so that an idle source costs
	// no goroutine and sends no request; the first call in the refresh
	// window refreshes. For servers that keep a source per user.
	OnDemand bool
}

// RefreshingSource is a token that refreshes itself, safe for concurrent use;
// create one with [Config.UserSource] or [Config.AppSource] and Close it when
// done. While a valid token exists, Token takes no lock, and it never returns
// a token that has expired by the clock read when the call began, however late
// the process ran. One refresh runs in the background in the refresh window;
// callers wait only once the token has expired. Failures are retried with
// backoff while the token is valid; permanent ones go to OnError at once and
// to callers at expiry. With a store, refreshes follow [Config.EnsureToken]'s
// protocol; a new token is handed out even if its save failed (it may hold the
// only valid refresh token), and the save is retried, never over a newer token
// or a deletion (a logout), which drops the token.
type RefreshingSource struct {
	st atomic.Pointer[state]

	clock   Clock          // nil: the system clock
	mclock  monotonicClock // clock as a monotonicClock, if it is one
	origin  time.Time      // clock.Now() at creation, for clocks without one
	renew   renewFunc
	opts    SourceOptions
	window  time.Duration
	timeout time.Duration
	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup // flights and callbacks

	mu          sync.Mutex // guards the fields below, and every st.Store
	flight      *flight
	stopTimer   func() bool // stops the timer of the published state
	closed      bool
	failures    int    // consecutive failed refreshes or saves
	pendingSave *Token // published but not yet stored
	pendingBase *Token // what pendingSave was renewed from
	pendingOld  bool   // the store held a token when pendingSave was renewed
	reloaded    bool   // a reload happened, at lastReload (monotonic)
	lastReload  int64
	// lockCancel, while a flight waits for a LockingStore's lease, stops
	// the wait, with the cause errAdopted or errDeleted.
	lockCancel context.CancelCauseFunc
	deletions  uint64 // deletions of the stored token seen by the watch
}

// UserSource returns a source of a user token, refreshed with
// [Config.Refresh]. A nil t is loaded from opts.Store on first use. opts may
// be nil.
func (c *Config) UserSource(t *Token, opts *SourceOptions) *RefreshingSource {
	return newSource(c.Clock, c.refreshUser, t, opts)
}

// AppSource returns a source of client-credentials tokens, requested again
// before they expire and shared through opts.Store if set. opts may be nil.
func (c *Config) AppSource(opts *SourceOptions) *RefreshingSource {
	return newSource(c.Clock, c.requestApp, nil, opts)
}

// newSource returns a source that obtains tokens with renew, starting from
// t (nil: load it from the store).
func newSource(clock Clock, renew renewFunc, t *Token, opts *SourceOptions) *RefreshingSource {
	s := &RefreshingSource{renew: renew}
	if opts != nil {
		s.opts = *opts
	}
	s.window = s.opts.RefreshWindow
	if s.window <= 0 {
		s.window = defaultRefreshWindow
	}
	s.window = max(s.window, minRefreshWindow)
	s.timeout = s.opts.RefreshTimeout
	if s.timeout <= 0 {
		s.timeout = defaultRefreshTimeout
	}
	if clock != nil {
		s.clock = clock
		s.mclock, _ = clock.(monotonicClock)
		s.origin = clock.Now()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if ws, ok := s.opts.Store.(WatchingStore); ok && !s.opts.OnDemand {
		s.wg.Add(1)
		go s.watch(ws)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t != nil && t.AccessToken != "" {
		s.publish(s.newState(t, false))
	} else {
		// No token yet: every call goes to the slow path, which loads it.
		s.st.Store(&state{tok: t, dueWall: math.MinInt64, dueMono: math.MinInt64,
			expWall: math.MinInt64, expMono: math.MinInt64, gotMono: math.MinInt64})
	}
	return s
}

// Token returns a valid token, waiting for a refresh at most until ctx is done
// or RefreshTimeout has passed. The token is shared: do not modify it.
func (s *RefreshingSource) Token(ctx context.Context) (*Token, error) {
	st := s.st.Load()
	wall, mono := s.now()
	if st != nil && st.fresh(wall, mono) {
		return st.tok, nil
	}
	st, err := s.slow(ctx, st, wall, mono)
	if err != nil {
		return nil, err
	}
	return st.tok, nil
}

// OAuth2 returns the source as an [oauth2.TokenSource], whose tokens lack the
// refresh token and whose waits are bounded by RefreshTimeout.
func (s *RefreshingSource) OAuth2() oauth2.TokenSource { return oauth2Source{s} }

type oauth2Source struct{ s *RefreshingSource }

// Format prints the source: fmt would print an unexported pointer field
// raw with a verb such as %s.
func (o oauth2Source) Format(f fmt.State, verb rune) { o.s.Format(f, verb) }

func (o oauth2Source) Token() (*oauth2.Token, error) {
	st := o.s.st.Load()
	wall, mono := o.s.now()
	if st != nil && st.fresh(wall, mono) {
		return st.otok, nil
	}
	st, err := o.s.slow(context.Background(), st, wall, mono)
	if err != nil {
		return nil, err
	}
	return st.otok, nil
}

var errZeroSource = errors.New("spotauth: RefreshingSource not created by Config.UserSource or Config.AppSource")

// slow handles every call that is not on the hot path: a due, expired or
// missing token, a permanent error, a closed source. wall and mono are the
// clock's readings at the start of the call: a token that has expired by
// them is never returned.
func (s *RefreshingSource) slow(ctx context.Context, st *state, wall, mono int64) (*state, error) {
	if st == nil {
		return nil, errZeroSource
	}
	var last *flight
	flights := 1
	reloaded := false
	for {
		if st.closed {
			return nil, ErrClosed
		}
		if st.tok != nil && st.tok.AccessToken != "" && !st.expired(wall, mono) {
			if st.err == nil && !st.fresh(wall, mono) && st.kick() {
				// The one caller that noticed first starts the refresh,
				// in the background; every other caller, and this one,
				// returns the valid token without waiting.
				s.startFlight(st, flightRefresh)
			}
			return st, nil
		}
		if st.err != nil {
			if !reloaded && st.err != ErrClosed && s.opts.Store != nil && s.reloadDue() {
				reloaded = true
				// Maybe the user authorized again and another process
				// stored the new token: look once, without a refresh.
				f := s.startFlight(st, flightReload)
				select {
				case <-f.done:
				case <-ctx.Done():
					return nil, st.err
				}
				st = s.st.Load()
				wall, mono = s.now()
				if st.err == nil {
					continue // a new token: use it, or refresh it
				}
			}
			return nil, st.err
		}
		if last != nil {
			if err := last.err; err != nil {
				return nil, err
			}
			if last != doneFlight {
				// The refreshed token expired before this caller ran
				// again (a starved or stopped process): one more try.
				if flights++; flights > 2 {
					return nil, errors.New("spotauth: the refreshed token has already expired")
				}
			}
		}
		f := s.startFlight(st, flightRefresh)
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("spotauth: waiting for a token refresh: %w", context.Cause(ctx))
		}
		if f == doneFlight && last == doneFlight {
			// The state changed twice under us; let the next call retry.
			return nil, errors.New("spotauth: token changed during the call; retry")
		}
		last = f
		st = s.st.Load()
		wall, mono = s.now()
	}
}

// Invalidate reports that stale was refused (a 401) and returns a token to use
// instead: the current one if it is another, else the result of one forced
// refresh shared by every caller with the same stale token. A token refreshed
// less than a second ago is returned unchanged: report the refusal rather than
// loop.
func (s *RefreshingSource) Invalidate(ctx context.Context, stale *Token) (*Token, error) {
	st := s.st.Load()
	if st == nil {
		return nil, errZeroSource
	}
	if st.closed {
		return nil, ErrClosed
	}
	if stale == nil || st.tok == nil || st.tok.AccessToken != stale.AccessToken {
		return s.Token(ctx)
	}
	if st.err != nil {
		return nil, st.err
	}
	if _, mono := s.now(); st.gotMono != math.MinInt64 && mono-st.gotMono < int64(minInvalidateAge) {
		return st.tok, nil
	}
	f := s.startFlight(st, flightForce)
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("spotauth: waiting for a token refresh: %w", context.Cause(ctx))
	}
	nst := s.st.Load()
	switch {
	case nst.closed:
		return nil, ErrClosed
	case nst.tok != nil && nst.tok.AccessToken != stale.AccessToken:
		return nst.tok, nil
	case f.err != nil:
		return nil, f.err
	case nst.err != nil:
		return nil, nst.err
	}
	return nil, errors.New("spotauth: the refresh returned the refused token again")
}

// Close stops the source and waits for its goroutines; a refresh already sent
// is completed and saved first. Later calls fail with [ErrClosed].
func (s *RefreshingSource) Close() error {
	s.mu.Lock()
	if s.closed || s.cancel == nil {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.stopTimer != nil {
		s.stopTimer()
		s.stopTimer = nil
	}
	s.st.Store(closedState)
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Format implements [fmt.Formatter]: whether the source holds a token and
// until when, never the token.
func (s *RefreshingSource) Format(f fmt.State, verb rune) {
	str := "spotauth.RefreshingSource(nil)"
	if s != nil {
		desc := "no token yet"
		switch st := s.st.Load(); {
		case st == nil:
			desc = "not created by Config.UserSource or Config.AppSource"
		case st.closed:
			desc = "closed"
		case st.err != nil:
			desc = "failed: " + st.err.Error()
		case st.tok != nil && st.tok.AccessToken != "" && st.tok.Expiry.IsZero():
			desc = "token without expiry"
		case st.tok != nil && st.tok.AccessToken != "":
			desc = "token expiring " + st.tok.Expiry.UTC().Format(time.RFC3339)
		}
		str = "spotauth.RefreshingSource{" + desc + "}"
	}
	redact.Format(f, verb, str, str)
}
