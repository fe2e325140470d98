package spotauth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// DefaultRefreshWindow is the default [SourceOptions.RefreshWindow].
const DefaultRefreshWindow = 5 * time.Minute

// DefaultRefreshTimeout is the default [SourceOptions.RefreshTimeout].
const DefaultRefreshTimeout = 30 * time.Second

// maxExpiryMargin bounds the margin before Expiry from which a token counts
// as expired, so that it is not handed out to die in transit. The margin is
// a twentieth of the token's remaining life, at most this.
const maxExpiryMargin = 10 * time.Second

// minInvalidateAge: [RefreshingSource.Invalidate] does not refresh a token
// that a refresh produced less than this ago; a 401 at once after a refresh
// is an error, not a reason to refresh again (spec §3: do not loop).
const minInvalidateAge = time.Second

// SourceOptions configure a [RefreshingSource]. The zero value is usable.
type SourceOptions struct {
	// Store persists refreshed tokens; nil keeps them in memory only. With a
	// [LockingStore], processes sharing the store refresh once per expiry
	// between them.
	Store TokenStore
	// RefreshWindow is how long before expiry the background refresh starts
	// (0 means [DefaultRefreshWindow], 5 minutes; it is at least
	// [DefaultExpiryMargin], as Spotify advises refreshing when less than
	// a minute remains). A token whose remaining life is shorter than twice
	// the window uses a quarter of that life instead, so that short-lived
	// tokens (as in tests) are not refreshed continuously.
	RefreshWindow time.Duration
	// Jitter spreads the refresh start of a fleet: each refresh starts at a
	// random point in the first Jitter of the window, at most half of it
	// (0 means a fifth of the window; negative disables jitter).
	Jitter time.Duration
	// RefreshTimeout bounds one refresh, including waiting for the lease of
	// a [LockingStore] and saving (0 means [DefaultRefreshTimeout]). Callers
	// waiting for a token wait at most this long even when their own
	// context has no deadline, as with [RefreshingSource.Token].
	RefreshTimeout time.Duration
	// OnRefresh, if set, is called with every token obtained by a refresh of
	// this source, after it was saved to Store and published, and before
	// callers that waited for that refresh return.
	// Tokens adopted from the store (refreshed by another process) are not
	// reported. It must not block for long, must not wait for this source
	// (as for OnError) and must not modify the token.
	OnRefresh func(*Token)
	// OnError, if set, is called with every failed refresh or save, at once
	// (before callers that waited for that refresh return), including
	// permanent ones such as [ErrReauthorize] while the current token is
	// still valid. Save and lock failures are [*StoreError] values.
	// It must not block for long, nor wait for this source (ForceRefresh,
	// Invalidate, or TokenContext once the token has expired).
	OnError func(error)
	// Clock drives expiry decisions; nil means the system clock. Tests use a
	// controllable one, which may implement [MonotonicClock].
	Clock Clock
}

// RefreshingSource is a token that refreshes itself.
//
// It implements [oauth2.TokenSource]; [RefreshingSource.TokenContext] is the
// context-aware form. Create one with [Config.UserSource] or
// [Config.AppSource], and Close it when done. It is safe for concurrent use.
//
// # Hot path
//
// While a valid token exists, Token and TokenContext take no lock and
// allocate nothing: they load one immutable state (the token, its oauth2
// form and its deadlines) with an atomic load and compare its deadlines
// with the clock, read once at the start of every call. A call never
// returns a token that has expired by that reading, however late the
// process was scheduled, stopped or suspended before it. Inside the
// refresh window the first caller to notice starts the background refresh;
// the others, and that caller too, return the valid token at once.
//
// # Clock jumps and suspend
//
// When a token is published, its remaining life (Expiry minus the wall-clock
// time; Expiry itself was computed from the wall clock when the token was
// received) gives two sets of deadlines: one on the wall clock, one on the
// monotonic clock. A token is due (or expired) when EITHER clock says so.
// The monotonic clock does not move when the wall clock is set backwards,
// so a backward jump cannot keep an old token alive; the wall clock keeps
// running while the system is suspended (when the monotonic clock and its
// timers stop), so a token is not used past its expiry after a resume.
// A forward jump of the wall clock only makes the refresh start early.
//
// # Refreshing
//
// Inside the refresh window (see [SourceOptions.RefreshWindow]; it starts
// at a jittered point so that a fleet spreads its refreshes), exactly one
// refresh runs in the background, started by a timer or by the first caller
// to notice, while every caller keeps getting the current token at once.
// Only when the token has actually expired do callers wait, for that same
// refresh, each bounded by its own context and by
// [SourceOptions.RefreshTimeout].
//
// A failed refresh while the token is still valid is retried in the
// background with exponential backoff (honouring a 429's Retry-After);
// callers keep the valid token. A permanent error — invalid_grant (the
// refresh token was revoked, rotated away or is past its 6-month life; it
// matches [ErrReauthorize]), invalid_client or [ErrNoRefreshToken] — is
// never retried: it goes to [SourceOptions.OnError] at once and is returned
// to callers once the token has expired. On invalid_grant the refresh token
// is deleted from the store, unless another process replaced it meanwhile.
// A source with a store then looks in the store at most once a second when
// called, and adopts a token stored there after a new authorization (by a
// `spotauth login`, say), without a network call.
//
// # Persistence
//
// With a plain [TokenStore], a refresh first loads the stored token (another
// process may have refreshed it: a newer stored token is adopted without a
// network call, and a newer stored refresh token is the one used), then
// refreshes, saves, and only then publishes the new token: a rotated
// refresh token is saved before anyone is handed the new access token. If
// the save fails, the new token is still published, because after a
// rotation it holds the only valid refresh token and dropping it would
// force the user to log in again; the failure goes to OnError as a
// [*StoreError] and the save is retried with backoff until it succeeds,
// fenced: only while the store still holds the token it was refreshed from
// (a newer stored token is adopted instead; a deletion, a logout, wins).
// With a [LockingStore] the refresh follows the protocol documented there
// and in [Config.EnsureToken], which shares its code: Lock, Lease.Load,
// adopt or refresh with the stored refresh token, Lease.Save, Release.
//
// A source whose token came from its store and finds the store empty at a
// refresh concludes that the token was deleted (a logout, or another
// process found the authorization ended): it sends no refresh request,
// which would store a token again, and fails with an error matching
// [ErrReauthorize] and [ErrTokenNotFound]. With a [WatchingStore] it
// learns of a deletion at once and drops its token even if still valid,
// and adopts tokens that other processes store as soon as they do; see
// WatchingStore.
type RefreshingSource struct {
	st atomic.Pointer[state]

	clock   Clock          // nil: the system clock
	mclock  MonotonicClock // clock as a MonotonicClock, if it is one
	origin  time.Time      // clock.Now() at creation, for clocks without Monotonic
	rn      renewer
	opts    SourceOptions
	window  time.Duration
	timeout time.Duration
	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup // flights and callbacks

	mu          sync.Mutex // guards the fields below, and every st.Store
	flight      *flight
	timer       interface{ Stop() bool }
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

// state is what the hot path loads: immutable once published.
type state struct {
	tok  *Token
	otok *oauth2.Token
	// due: a refresh should start; expired: callers must wait for one.
	// Wall deadlines are Unix nanoseconds, monotonic ones nanoseconds on
	// the source's monotonic clock.
	dueWall, dueMono int64
	expWall, expMono int64
	// window is the effective refresh window, used to scale backoff.
	window time.Duration
	// gotMono is when a refresh of this source produced tok (monotonic),
	// math.MinInt64 otherwise.
	gotMono int64
	// err is a permanent error, returned once tok has expired, or ErrClosed.
	err    error
	closed bool
	// stored: tok is known to be the store's token (loaded, adopted or
	// saved), so that finding the store empty means it was deleted.
	stored bool
	// kicked is set by the one caller that starts the background refresh
	// of a due token, so that no other caller touches the source's mutex.
	// Nil in states without a token to refresh.
	kicked *atomic.Bool
}

// clone returns a copy of st to change before it is published.
func (st *state) clone() *state {
	n := *st
	n.kicked = new(atomic.Bool)
	return &n
}

// kick reports whether the caller is the first to start st's refresh.
func (st *state) kick() bool { return st.kicked != nil && st.kicked.CompareAndSwap(false, true) }

var closedState = &state{closed: true, err: ErrClosed,
	dueWall: math.MinInt64, dueMono: math.MinInt64, expWall: math.MinInt64, expMono: math.MinInt64}

func (st *state) fresh(wall, mono int64) bool { return wall < st.dueWall && mono < st.dueMono }

func (st *state) expired(wall, mono int64) bool { return wall >= st.expWall || mono >= st.expMono }

// UserSource returns a RefreshingSource for a user token (secret or PKCE),
// refreshed with [Config.Refresh]. If t is nil, the token is loaded from
// opts.Store on first use; an empty store gives an error wrapping
// [ErrTokenNotFound]. opts may be nil. The Config must not be modified
// afterwards.
func (c *Config) UserSource(t *Token, opts *SourceOptions) *RefreshingSource {
	return newSource(c.Refresh, false, t, opts)
}

// AppSource returns a RefreshingSource of client-credentials tokens, which
// it re-requests with [Config.ClientCredentials] before they expire (they
// carry no refresh token). With opts.Store, a stored app token is used
// while valid and new ones are saved, so that processes share them. opts may
// be nil.
func (c *Config) AppSource(opts *SourceOptions) *RefreshingSource {
	return newSource(c.appRenewer().fetch, true, nil, opts)
}

// newSource returns a source that obtains tokens with refresh (for an app
// source, refresh ignores its token argument).
func newSource(refresh func(context.Context, *Token) (*Token, error), app bool, t *Token, opts *SourceOptions) *RefreshingSource {
	s := &RefreshingSource{rn: renewer{app: app, fetch: refresh}}
	if opts != nil {
		s.opts = *opts
	}
	s.window = s.opts.RefreshWindow
	if s.window <= 0 {
		s.window = DefaultRefreshWindow
	}
	s.window = max(s.window, DefaultExpiryMargin)
	s.timeout = s.opts.RefreshTimeout
	if s.timeout <= 0 {
		s.timeout = DefaultRefreshTimeout
	}
	if s.opts.Clock != nil {
		s.clock = s.opts.Clock
		s.mclock, _ = s.clock.(MonotonicClock)
		s.origin = s.clock.Now()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if ws, ok := s.opts.Store.(WatchingStore); ok {
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

// now reads the clock: the wall clock in Unix nanoseconds, and the
// monotonic clock (for a Clock without one, the wall clock since creation).
func (s *RefreshingSource) now() (wall, mono int64) {
	if s.clock == nil {
		return systemNow()
	}
	return s.clockNow()
}

func (s *RefreshingSource) clockNow() (wall, mono int64) {
	t := s.clock.Now()
	if s.mclock != nil {
		return t.UnixNano(), int64(s.mclock.Monotonic())
	}
	return t.UnixNano(), int64(t.Sub(s.origin))
}

// Token returns a valid token; it implements [oauth2.TokenSource]. The
// oauth2.Token carries the access token, its type and expiry, but not the
// refresh token, which stays with the source; use TokenContext for the
// whole [Token].
//
// When it has to wait for a refresh, Token waits without a context of its
// own, but never longer than [SourceOptions.RefreshTimeout]. The returned
// token is shared and must not be modified.
func (s *RefreshingSource) Token() (*oauth2.Token, error) {
	st := s.st.Load()
	wall, mono := s.now()
	if st != nil && wall < st.dueWall && mono < st.dueMono {
		return st.otok, nil
	}
	st, err := s.slow(context.Background(), st, wall, mono)
	if err != nil {
		return nil, err
	}
	return st.otok, nil
}

// TokenContext returns a valid token, waiting at most until ctx is done
// when a refresh is needed (and no longer than
// [SourceOptions.RefreshTimeout]). The returned token is shared and must
// not be modified.
func (s *RefreshingSource) TokenContext(ctx context.Context) (*Token, error) {
	st := s.st.Load()
	wall, mono := s.now()
	if st != nil && wall < st.dueWall && mono < st.dueMono {
		return st.tok, nil
	}
	st, err := s.slow(ctx, st, wall, mono)
	if err != nil {
		return nil, err
	}
	return st.tok, nil
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

// Invalidate reports that stale was refused (a 401 from the Web API) and
// returns a token to use instead. If the current token is still stale, it
// forces one refresh, shared with every other caller that invalidates the
// same token and with a refresh already in flight, and waits for it
// (bounded by ctx). If the current token is another one, it is returned at
// once. A token that a refresh produced less than a second ago is not
// refreshed again: Invalidate then returns it unchanged, and the caller
// should report the refusal rather than loop (spec §3). [Transport] calls
// Invalidate on a 401.
func (s *RefreshingSource) Invalidate(ctx context.Context, stale *Token) (*Token, error) {
	return s.invalidate(ctx, stale, true)
}

// ForceRefresh refreshes the token now, whatever its expiry, and returns the
// new one. With a store, a newer token stored by another process is adopted
// instead, as for any refresh.
func (s *RefreshingSource) ForceRefresh(ctx context.Context) (*Token, error) {
	st := s.st.Load()
	if st == nil {
		return nil, errZeroSource
	}
	if st.tok == nil {
		// Nothing loaded yet: load (and refresh if needed) first.
		t, err := s.TokenContext(ctx)
		if err != nil {
			return nil, err
		}
		if s.st.Load().gotMono != math.MinInt64 {
			return t, nil // that was a refresh already
		}
		return s.invalidate(ctx, t, false)
	}
	return s.invalidate(ctx, st.tok, false)
}

func (s *RefreshingSource) invalidate(ctx context.Context, stale *Token, guard bool) (*Token, error) {
	st := s.st.Load()
	if st == nil {
		return nil, errZeroSource
	}
	if st.closed {
		return nil, ErrClosed
	}
	if stale == nil || st.tok == nil || st.tok.AccessToken != stale.AccessToken {
		return s.TokenContext(ctx)
	}
	if st.err != nil {
		return nil, st.err
	}
	if guard {
		_, mono := s.now()
		if st.gotMono != math.MinInt64 && mono-st.gotMono < int64(minInvalidateAge) {
			return st.tok, nil
		}
	}
	f := s.startFlight(st, flightForce)
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("spotauth: waiting for a token refresh: %w", context.Cause(ctx))
	}
	nst := s.st.Load()
	if nst.closed {
		return nil, ErrClosed
	}
	if nst.tok != nil && nst.tok.AccessToken != stale.AccessToken {
		return nst.tok, nil
	}
	if err := f.err; err != nil {
		return nil, err
	}
	if nst.err != nil {
		return nil, nst.err
	}
	return nil, errors.New("spotauth: the refresh returned the refused token again")
}

// Close stops background work: timers, and a refresh in flight, whose
// waiters get [ErrClosed]. Later calls fail with ErrClosed. Close waits for
// the source's goroutines to exit, so none is left behind; it returns nil,
// also when called again.
func (s *RefreshingSource) Close() error {
	s.mu.Lock()
	if s.closed || s.cancel == nil {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.st.Store(closedState)
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// newState computes the state of tok as of now. gotByRefresh marks a token
// that a refresh of this source produced.
func (s *RefreshingSource) newState(tok *Token, gotByRefresh bool) *state {
	wall, mono := s.now()
	st := &state{tok: tok, gotMono: math.MinInt64, kicked: new(atomic.Bool)}
	st.otok = &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry}
	if gotByRefresh {
		st.gotMono = mono
	}
	if tok.Expiry.IsZero() {
		// Unknown expiry: never refreshed by time, as in x/oauth2.
		st.dueWall, st.dueMono, st.expWall, st.expMono = math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64
		st.window = s.window
		return st
	}
	remaining := tok.Expiry.Sub(time.Unix(0, wall)) // saturates
	w := s.window
	if remaining < 2*w {
		w = max(remaining/4, 0)
	}
	var j time.Duration
	switch {
	case s.opts.Jitter == 0:
		j = w / 5
	case s.opts.Jitter > 0:
		j = min(s.opts.Jitter, w/2)
	}
	st.window = w
	margin := min(maxExpiryMargin, max(remaining/20, 0))
	untilExp := remaining - margin
	untilDue := remaining - w
	if j > 0 {
		untilDue += rand.N(j)
	}
	untilDue = min(untilDue, untilExp)
	st.dueWall, st.dueMono = addSat(wall, untilDue), addSat(mono, untilDue)
	st.expWall, st.expMono = addSat(wall, untilExp), addSat(mono, untilExp)
	return st
}

// addSat returns t+d, saturating at the int64 bounds.
func addSat(t int64, d time.Duration) int64 {
	r := t + int64(d)
	if d > 0 && r < t {
		return math.MaxInt64
	}
	if d < 0 && r > t {
		return math.MinInt64
	}
	return r
}

// String describes the source without showing a token: whether it holds
// one and until when, and its store's type.
func (s *RefreshingSource) String() string {
	if s == nil {
		return "spotauth.RefreshingSource(nil)"
	}
	desc := "no token yet"
	st := s.st.Load()
	switch {
	case st == nil:
		desc = "not created by Config.UserSource or AppSource"
	case st.closed:
		desc = "closed"
	case st.tok != nil && st.tok.AccessToken != "" && st.tok.Expiry.IsZero():
		desc = "token without expiry"
	case st.tok != nil && st.tok.AccessToken != "":
		desc = "token expiring " + st.tok.Expiry.UTC().Format(time.RFC3339)
	}
	if st != nil && st.err != nil && !st.closed {
		desc += ", refresh failed permanently"
	}
	store := "none"
	if s.opts.Store != nil {
		store = fmt.Sprintf("%T", s.opts.Store)
	}
	return "spotauth.RefreshingSource{" + desc + ", store: " + store + "}"
}

// GoString is String, for %#v.
func (s *RefreshingSource) GoString() string { return s.String() }

// Format prints String for every verb, so that no verb shows a token.
func (s *RefreshingSource) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}
