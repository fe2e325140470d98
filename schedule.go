package spotauth

import (
	"math"
	"math/rand/v2"
	"time"
)

// Scheduling: the timer that starts a due refresh, and the backoff of
// failed ones.

// publish stores st and schedules the timer that starts its refresh.
// s.mu must be held.
func (s *RefreshingSource) publish(st *state) {
	if s.closed {
		return
	}
	s.st.Store(st)
	if s.stopTimer != nil {
		s.stopTimer()
		s.stopTimer = nil
	}
	if s.opts.OnDemand || st.err != nil || st.dueMono == math.MaxInt64 || st.dueMono == math.MinInt64 {
		return
	}
	_, mono := s.now()
	d := max(time.Duration(st.dueMono-mono), 0)
	c := s.clock
	if c == nil {
		c = systemClock{}
	}
	s.stopTimer = c.AfterFunc(d, func() { s.onTimer(st) })
}

// onTimer starts the refresh of st when its timer fires.
func (s *RefreshingSource) onTimer(st *state) {
	if s.st.Load() != st {
		return
	}
	wall, mono := s.now()
	if st.fresh(wall, mono) {
		// The clock the timer uses ran ahead of ours; try again shortly.
		s.mu.Lock()
		if s.st.Load() == st && !s.closed {
			s.publish(st)
		}
		s.mu.Unlock()
		return
	}
	s.startFlight(st, flightRefresh)
}

// withRetry returns st with its due deadlines moved to now+delay (not past
// expiry): a failed refresh or save is retried then.
func (s *RefreshingSource) withRetry(st *state, delay time.Duration) *state {
	wall, mono := s.now()
	n := st.clone()
	n.dueWall = min(addSat(wall, delay), n.expWall)
	n.dueMono = min(addSat(mono, delay), n.expMono)
	return n
}

// backoff returns the delay before retry number s.failures (1-based) of a
// token whose refresh window is w: exponential from w/16 (at most 1 s),
// capped at w/2 (at most 30 s), with jitter, and at least a 429's
// Retry-After.
func (s *RefreshingSource) backoff(w time.Duration, err error) time.Duration {
	base := min(max(w/16, 10*time.Millisecond), time.Second)
	capd := min(max(w/2, base), 30*time.Second)
	d := base
	for i := 1; i < s.failures && d < capd; i++ {
		d *= 2
	}
	d = min(d, capd)
	d = d/2 + rand.N(d/2+1)
	if ra := retryAfter(err); ra > d {
		d = ra
	}
	return d
}

// retryAfter returns the Retry-After of a [*TokenError] in err's tree.
func retryAfter(err error) time.Duration {
	if err == nil {
		return 0
	}
	if te, ok := any(err).(*TokenError); ok {
		return te.RetryAfter
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return retryAfter(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if d := retryAfter(e); d > 0 {
				return d
			}
		}
	}
	return 0
}

// dueNow reports whether t, if it were published now, would be due.
func (s *RefreshingSource) dueNow(t *Token) bool {
	st := s.newState(t, false)
	wall, mono := s.now()
	return !st.fresh(wall, mono)
}
