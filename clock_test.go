package spotauth

import (
	"sync"
	"time"
)

// fakeClock is a controllable monotonicClock. Advance moves both clocks and
// fires due timers synchronously (in the caller's goroutine); Suspend moves
// the wall clock only, as a system suspend does; SetWall sets the wall clock
// (a jump). Timers follow the monotonic clock, as Go's do.
type fakeClock struct {
	mu     sync.Mutex
	wall   time.Time
	mono   time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Duration
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{wall: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), mono: time.Hour}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *fakeClock) Monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	t := &fakeTimer{c: c, at: c.mono + d, f: f}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	if d <= 0 {
		go c.fire() // in its own goroutine, as AfterFunc promises
	}
	return t.Stop
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves both clocks by d and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.wall = c.wall.Add(d)
	c.mono += d
	c.mu.Unlock()
	c.fire()
}

// Suspend moves the wall clock by d but not the monotonic clock: the
// system slept, and no timer fired.
func (c *fakeClock) Suspend(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = c.wall.Add(d)
}

// JumpWall moves the wall clock by d (backwards if negative) without time
// passing.
func (c *fakeClock) JumpWall(d time.Duration) { c.Suspend(d) }

// Interface checks: the fake drives a source as the system clock does.
var (
	_ monotonicClock = (*fakeClock)(nil)
	_ monotonicClock = systemClock{}
)

// pendingTimers returns the number of timers not fired nor stopped.
func (c *fakeClock) pendingTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

func (c *fakeClock) fire() {
	for {
		c.mu.Lock()
		var due *fakeTimer
		live := c.timers[:0]
		for _, t := range c.timers {
			if t.stopped {
				continue
			}
			if due == nil && t.at <= c.mono {
				t.stopped = true
				due = t
				continue
			}
			live = append(live, t)
		}
		c.timers = live
		c.mu.Unlock()
		if due == nil {
			return
		}
		due.f()
	}
}
