package spotauthtest_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

// clock is the shape of spotauth's Clock, which *spotauthtest.Clock has
// without importing the client's package.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

var _ clock = (*spotauthtest.Clock)(nil)

func TestClock(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := spotauthtest.NewClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Errorf("NewClock(t0).Now() = %v; want %v", got, t0)
	}
	if got := c.Advance(time.Hour); !got.Equal(t0.Add(time.Hour)) || !c.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("Advance(1h) = %v; want %v", got, t0.Add(time.Hour))
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Errorf("after Set(t0), Now() = %v; want %v", got, t0)
	}
	var z spotauthtest.Clock
	first := z.Now()
	if time.Since(first) > time.Minute || first.IsZero() {
		t.Errorf("zero Clock Now() = %v; want about now", first)
	}
	time.Sleep(2 * time.Millisecond)
	if again := z.Now(); !again.Equal(first) {
		t.Errorf("zero Clock moved by itself: %v then %v", first, again)
	}
	var nilClock *spotauthtest.Clock
	if time.Since(nilClock.Now()) > time.Minute {
		t.Errorf("nil Clock is not the system clock")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(400*time.Second); !got.Equal(want) {
		t.Errorf("after 400 concurrent Advance(1s): %v; want %v", got, want)
	}
}

// fired returns a function to schedule and a channel it closes when called.
func fired() (func(), chan struct{}) {
	ch := make(chan struct{})
	return func() { close(ch) }, ch
}

// wait fails the test if ch is not closed within a generous time.
func wait(t *testing.T, what string, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the function never ran", what)
	}
}

func TestClockAfterFunc(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("not before its time", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		f, ch := fired()
		stop := c.AfterFunc(time.Minute, f)
		c.Advance(time.Minute - time.Nanosecond)
		if !stop() {
			t.Fatalf("stop() after Advance(1m-1ns) of a 1m timer = false; want true (it must not have fired)")
		}
		c.Advance(time.Hour)
		select {
		case <-ch:
			t.Errorf("a stopped timer ran")
		case <-time.After(20 * time.Millisecond):
		}
	})
	t.Run("fires on Advance to its time", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		f, ch := fired()
		stop := c.AfterFunc(time.Minute, f)
		c.Advance(30 * time.Second)
		c.Advance(30 * time.Second)
		wait(t, "Advance to the deadline", ch)
		if stop() {
			t.Errorf("stop() after the timer fired = true; want false")
		}
	})
	t.Run("fires on Set", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		f, ch := fired()
		c.AfterFunc(time.Hour, f)
		c.Set(t0.Add(2 * time.Hour))
		wait(t, "Set past the deadline", ch)
	})
	t.Run("Set backwards", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		f, ch := fired()
		stop := c.AfterFunc(time.Hour, f) // due at t0+1h
		c.Set(t0.Add(-time.Hour))
		c.Advance(time.Hour) // back at t0: not due
		g, chG := fired()
		c.AfterFunc(90*time.Minute, g) // due at t0+90m, from the clock's new time
		c.Advance(time.Hour - time.Nanosecond)
		select {
		case <-ch:
			t.Fatalf("a timer fired before the clock, set back, reached its time again")
		case <-chG:
			t.Fatalf("a timer fired before its time")
		default:
		}
		c.Advance(time.Nanosecond)
		wait(t, "the clock back at the deadline", ch)
		if stop() {
			t.Errorf("stop() after firing = true; want false")
		}
		c.Set(t0.Add(90 * time.Minute))
		wait(t, "the second timer", chG)
	})
	t.Run("zero or negative duration fires at once", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		for _, d := range []time.Duration{0, -time.Second} {
			f, ch := fired()
			stop := c.AfterFunc(d, f)
			wait(t, "AfterFunc("+d.String()+")", ch)
			if stop() {
				t.Errorf("stop() of an AfterFunc(%v) that ran = true; want false", d)
			}
		}
	})
	t.Run("Stop twice", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		stop := c.AfterFunc(time.Second, func() { t.Error("a stopped timer ran") })
		if !stop() {
			t.Errorf("first stop() = false; want true")
		}
		if stop() {
			t.Errorf("second stop() = true; want false")
		}
		c.Advance(time.Minute)
	})
	t.Run("one Advance fires every due timer", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		var wg sync.WaitGroup
		var n atomic.Int32
		for i := range 10 {
			wg.Add(1)
			c.AfterFunc(time.Duration(i)*time.Second, func() { n.Add(1); wg.Done() })
		}
		c.Advance(9 * time.Second)
		wg.Wait()
		if got := n.Load(); got != 10 {
			t.Errorf("%d of 10 timers ran; want all", got)
		}
	})
	t.Run("f may use the clock", func(t *testing.T) {
		c := spotauthtest.NewClock(t0)
		done := make(chan struct{})
		c.AfterFunc(time.Second, func() {
			_ = c.Now()
			c.AfterFunc(time.Second, func() { close(done) })
		})
		c.Advance(time.Second)
		deadline := time.Now().Add(10 * time.Second)
		for {
			c.Advance(time.Second)
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("a timer scheduled by a timer's function never ran")
			}
		}
	})
	t.Run("zero Clock", func(t *testing.T) {
		var c spotauthtest.Clock
		f, ch := fired()
		c.AfterFunc(time.Hour, f)
		c.Advance(time.Hour)
		wait(t, "zero Clock", ch)
	})
	t.Run("nil Clock is the system clock", func(t *testing.T) {
		var c *spotauthtest.Clock
		f, ch := fired()
		t0 := time.Now()
		c.AfterFunc(10*time.Millisecond, f)
		wait(t, "nil Clock", ch)
		if d := time.Since(t0); d < 10*time.Millisecond {
			t.Errorf("nil Clock's AfterFunc(10ms) ran after %v", d)
		}
		stop := c.AfterFunc(time.Hour, func() { t.Error("a stopped system timer ran") })
		if !stop() {
			t.Errorf("stop() of a pending system timer = false; want true")
		}
	})
}

// TestClockConcurrent schedules, stops and fires timers from several
// goroutines; run with -race. Every timer either runs once or is stopped.
func TestClockConcurrent(t *testing.T) {
	c := spotauthtest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	const workers, each = 4, 200
	var ran, stopped atomic.Int64
	var running sync.WaitGroup
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				running.Add(1)
				var once atomic.Bool
				stop := c.AfterFunc(time.Duration(i%5)*time.Second, func() {
					if once.Swap(true) {
						t.Error("a timer ran twice")
					}
					ran.Add(1)
					running.Done()
				})
				if (w+i)%3 == 0 && stop() {
					stopped.Add(1)
					running.Done()
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	c.Advance(time.Hour) // whatever is still pending is due now
	running.Wait()
	if got := ran.Load() + stopped.Load(); got != workers*each {
		t.Errorf("%d ran + %d stopped = %d; want %d", ran.Load(), stopped.Load(), got, workers*each)
	}
}
