package spotauth

import "time"

// A Clock tells time to a [Config]'s requests, sources and EnsureToken calls.
// Tests use a controllable one, such as spotauthtest's Clock, which also
// drives the fake Accounts service.
type Clock interface {
	Now() time.Time
	// AfterFunc is like [time.AfterFunc]; stop is its Timer's Stop.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// monotonicClock is a Clock that also reports a monotonic reading, which
// never jumps when the wall clock is set but, like Linux's
// CLOCK_MONOTONIC, stops while the system is suspended. A source whose
// clock has one treats a token as due (or expired) when either reading
// says so. The system clock has one; the package's tests use a fake one to
// simulate suspends and wall-clock jumps.
//
// A time.Time from time.Now carries both readings too, but its comparisons
// use the monotonic one alone, and ignore a suspend: hence the two
// deadlines of a state.
type monotonicClock interface {
	Clock
	Monotonic() time.Duration
}

// systemClock is the Clock used when Config.Clock is nil.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
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
