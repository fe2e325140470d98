package spotauth

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// The states of a RefreshingSource, and what moves it between them. The
// published *state is immutable: every transition publishes a new one
// (s.publish, under s.mu), and the hot path reads it with one atomic load.
//
//	state      what it holds                  what Token does
//	empty      no token yet (tok nil, err nil)  waits for a flight that loads (and refreshes)
//	fresh      tok, before due                 returns tok (hot path)
//	due        tok, due, not expired           returns tok; the first caller (or the timer) starts a flight
//	expired    tok past exp                    waits for the flight
//	failed     tok or not, err permanent       returns tok until exp, then err; reloads the store at most once a second
//	dropped    no tok, err errDeleted          returns err; a token stored later is adopted
//	closed     closedState                     returns ErrClosed
//
// Transitions (flight.go and watch.go):
//
//	timer fires or a caller kicks a due state   -> flight (run)
//	flight renews or adopts                     -> fresh (new token; a failed save keeps it pending and retries)
//	flight fails, token still valid             -> due again after backoff
//	flight fails permanently                    -> failed
//	flight finds the stored token deleted       -> dropped
//	store event: a newer token saved            -> fresh (adopted), stops a wait for the lease
//	store event: the token deleted              -> dropped
//	reload after a permanent error finds a new login -> fresh or due
//	Close                                       -> closed

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
