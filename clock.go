package spotauth

import (
	"sync"
	"sync/atomic"
	"time"
)

// A MonotonicClock is a [Clock] that also reports a monotonic reading, which
// never jumps when the wall clock is set but, like Linux's CLOCK_MONOTONIC,
// stops while the system is suspended. A [RefreshingSource] whose Clock
// implements it uses both readings and treats a token as due when either
// says so; for another Clock it uses Now alone. The system clock (a nil
// Clock) has both.
type MonotonicClock interface {
	Clock
	// Monotonic returns the time elapsed on the monotonic clock since an
	// arbitrary fixed origin.
	Monotonic() time.Duration
}

// systemClock is the Clock used when SourceOptions.Clock is nil.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) interface{ Stop() bool } {
	return time.AfterFunc(d, f)
}

func (systemClock) Monotonic() time.Duration { return time.Since(monoOrigin) }

// monoOrigin is the origin of the monotonic readings of the system clock.
// time.Since uses the monotonic reading that time.Now carries.
var monoOrigin = time.Now()

// coarseTick is how often the coarse clock is updated.
const coarseTick = 50 * time.Millisecond

// coarseSlack is added to the coarse readings so that they are never behind
// the real clocks, even when the ticker goroutine runs late: a token is then
// considered due up to coarseSlack early, never late.
const coarseSlack = 4 * coarseTick

// coarse is the process-wide coarse clock shared by every RefreshingSource
// on the system clock: one goroutine stores the wall and monotonic times
// every coarseTick, so that the hot path of Token costs two atomic loads
// instead of a call to time.Now. It runs only while at least one source is
// open (refs > 0), so a program that closes its sources leaks no goroutine.
var coarse struct {
	wall atomic.Int64 // Unix nanoseconds + coarseSlack
	mono atomic.Int64 // nanoseconds since monoOrigin + coarseSlack

	mu   sync.Mutex // guards the fields below
	refs int
	stop chan struct{}
	done chan struct{}
}

// coarseStore updates the coarse readings from the system clock.
func coarseStore() {
	now := time.Now()
	coarse.wall.Store(now.UnixNano() + int64(coarseSlack))
	coarse.mono.Store(int64(now.Sub(monoOrigin)) + int64(coarseSlack))
}

// acquireCoarse starts the coarse clock if it is not running and counts one
// more user. The readings are current when it returns.
func acquireCoarse() {
	coarse.mu.Lock()
	defer coarse.mu.Unlock()
	coarseStore()
	coarse.refs++
	if coarse.refs > 1 {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	coarse.stop, coarse.done = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(coarseTick)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				coarseStore()
			case <-stop:
				return
			}
		}
	}()
}

// releaseCoarse counts one user less and stops the coarse clock's goroutine,
// waiting for it to exit, when none is left.
func releaseCoarse() {
	coarse.mu.Lock()
	defer coarse.mu.Unlock()
	coarse.refs--
	if coarse.refs > 0 {
		return
	}
	close(coarse.stop)
	<-coarse.done
	coarse.stop, coarse.done = nil, nil
}
