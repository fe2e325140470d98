package spotauthtest

import (
	"sync"
	"time"
)

// Clock is a controllable clock for a [Server]: code, access-token and
// refresh-token lifetimes, consent pages and the request log all read it.
// It is safe for concurrent use. The zero value starts at the system time
// of its first use and then moves only through [Clock.Advance] and
// [Clock.Set]. A nil *Clock is the system clock.
type Clock struct {
	mu      sync.Mutex // guards now and started
	now     time.Time
	started bool
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock {
	return &Clock{now: t.Round(0), started: true}
}

// Now returns the clock's current time; for a nil Clock, time.Now().
func (c *Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startLocked()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative) and
// returns the new time. It panics on a nil Clock.
func (c *Clock) Advance(d time.Duration) time.Time {
	if c == nil {
		panic("spotauthtest: Advance on a nil Clock (the system clock)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startLocked()
	c.now = c.now.Add(d)
	return c.now
}

// Set sets the clock to t. It panics on a nil Clock.
func (c *Clock) Set(t time.Time) {
	if c == nil {
		panic("spotauthtest: Set on a nil Clock (the system clock)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.Round(0)
	c.started = true
}

func (c *Clock) startLocked() {
	if !c.started {
		c.now = time.Now().Round(0)
		c.started = true
	}
}
