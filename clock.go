package spotauth

import "time"

// A Clock tells time to a [RefreshingSource]. Tests replace the system clock
// with a controllable one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, like [time.AfterFunc].
	AfterFunc(d time.Duration, f func()) interface{ Stop() bool }
}

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

// systemNow reads the system clock once: the wall clock in Unix nanoseconds
// and the monotonic clock since monoOrigin. One time.Now call gives both
// (on Linux, through the vDSO, without a system call).
func systemNow() (wall, mono int64) {
	t := time.Now()
	return t.UnixNano(), int64(t.Sub(monoOrigin))
}
