package spotauthtest

import (
	"slices"
	"sync"
	"time"
)

// Clock is a controllable clock. A [Server] reads it for code, access-token
// and refresh-token lifetimes, consent pages and its request log; it also
// has the Now and AfterFunc methods of spotauth's Clock, so that one clock
// can drive both the fake and the client under test.
//
// It is safe for concurrent use. The zero value starts at the system time
// of its first use and then moves only through [Clock.Advance] and
// [Clock.Set]. A nil *Clock is the system clock.
type Clock struct {
	mu      sync.Mutex // guards the fields below
	now     time.Time
	started bool
	timers  []*clockTimer // pending, in the order they were scheduled
}

// clockTimer is a function scheduled by [Clock.AfterFunc].
type clockTimer struct {
	when time.Time
	f    func()
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

// Advance moves the clock forward by d (backward if d is negative), starts
// the functions that [Clock.AfterFunc] scheduled for the new time or
// earlier, and returns the new time. It does not wait for them to finish.
// It panics on a nil Clock.
func (c *Clock) Advance(d time.Duration) time.Time {
	if c == nil {
		panic("spotauthtest: Advance on a nil Clock (the system clock)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startLocked()
	c.now = c.now.Add(d)
	c.fireLocked()
	return c.now
}

// Set sets the clock to t and starts the functions that [Clock.AfterFunc]
// scheduled for t or earlier. Setting the clock back fires nothing: the
// functions still pending wait until the clock reaches their time again.
// It panics on a nil Clock.
func (c *Clock) Set(t time.Time) {
	if c == nil {
		panic("spotauthtest: Set on a nil Clock (the system clock)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.Round(0)
	c.started = true
	c.fireLocked()
}

// AfterFunc schedules f to run in its own goroutine, as [time.AfterFunc]
// does, once [Clock.Advance] or [Clock.Set] has moved the clock to Now()+d
// or later; if d <= 0, f starts at once. stop cancels the call and reports
// whether it did so before f started. For a nil Clock, AfterFunc is
// time.AfterFunc on the system clock.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	if c == nil {
		return time.AfterFunc(d, f).Stop
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startLocked()
	t := &clockTimer{when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.fireLocked()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.timers, t)
		if i < 0 {
			return false // fired or already stopped
		}
		c.timers = slices.Delete(c.timers, i, i+1)
		return true
	}
}

// fireLocked starts the timers due at c.now, earliest first; c.mu held.
func (c *Clock) fireLocked() {
	var due []*clockTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *clockTimer) bool {
		if t.when.After(c.now) {
			return false
		}
		due = append(due, t)
		return true
	})
	slices.SortStableFunc(due, func(a, b *clockTimer) int { return a.when.Compare(b.when) })
	for _, t := range due {
		go t.f()
	}
}

func (c *Clock) startLocked() {
	if !c.started {
		c.now = time.Now().Round(0)
		c.started = true
	}
}
