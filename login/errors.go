package login

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
)

var (
	// ErrTimeout is matched by a [*WaitError] whose wait ended at
	// Options.Timeout or at ctx's deadline.
	ErrTimeout = errors.New("spotauth: login: no redirect before the timeout")
	// ErrPortBusy is matched by a [*ListenError] when another program
	// listens on the redirect URI's port.
	ErrPortBusy = errors.New("spotauth: login: port busy")
)

// WaitError ends a login whose wait for the genuine redirect ended first:
// at Options.Timeout or ctx's deadline (it then matches [ErrTimeout] and
// [context.DeadlineExceeded]), or because ctx was cancelled (it then matches
// ctx's cause, such as [context.Canceled]). Nothing was exchanged.
//
// When redirects carrying another state arrived meanwhile (an old tab, or a
// forged request), StateMismatches counts them and the error also matches
// [spotauth.ErrStateMismatch], so that callers learn a forgery may have been
// attempted.
type WaitError struct {
	Timeout         time.Duration // Options.Timeout if it ended the wait; 0 otherwise
	StateMismatches int           // redirects refused because their state was another login's
	Err             error         // context.DeadlineExceeded at a deadline, or the cause of ctx's cancellation
}

// Error says why the wait ended, and how many redirects had another state.
func (e *WaitError) Error() string {
	var b strings.Builder
	switch {
	case e.Timeout > 0:
		fmt.Fprintf(&b, "spotauth: login: no redirect from the browser within %v", e.Timeout)
	case errors.Is(e.Err, context.DeadlineExceeded):
		b.WriteString("spotauth: login: no redirect from the browser before the deadline")
	default:
		b.WriteString("spotauth: login: interrupted while waiting for the redirect: ")
		b.WriteString(strings.TrimPrefix(fmt.Sprint(e.Err), "spotauth: "))
	}
	switch n := e.StateMismatches; {
	case n == 1:
		b.WriteString("; a redirect with another login's state was refused (an old tab, or a forged request)")
	case n > 1:
		fmt.Fprintf(&b, "; %d redirects with another login's state were refused (old tabs, or forged requests)", n)
	}
	return b.String()
}

// Is matches [ErrTimeout] when the wait ended at a deadline, and
// [spotauth.ErrStateMismatch] when StateMismatches is positive.
func (e *WaitError) Is(target error) bool {
	switch target {
	case ErrTimeout:
		return e.Timeout > 0 || errors.Is(e.Err, context.DeadlineExceeded)
	case spotauth.ErrStateMismatch:
		return e.StateMismatches > 0
	}
	return false
}

// Unwrap returns e.Err.
func (e *WaitError) Unwrap() error { return e.Err }

// newWaitError describes the end of waitCtx, whose deadline at
// Options.Timeout (if any) has the cause errTimeoutCause.
func newWaitError(waitCtx context.Context, timeout time.Duration, mismatches int) *WaitError {
	e := &WaitError{StateMismatches: mismatches, Err: context.Cause(waitCtx)}
	switch {
	case errors.Is(e.Err, errTimeoutCause):
		e.Timeout, e.Err = timeout, context.DeadlineExceeded
	case errors.Is(waitCtx.Err(), context.DeadlineExceeded) && !errors.Is(e.Err, context.DeadlineExceeded):
		e.Err = errors.Join(context.DeadlineExceeded, e.Err) // a deadline with a cause of its own
	}
	return e
}

// errTimeoutCause is the cause of the wait's end at Options.Timeout; a
// wait that ctx ended has ctx's cause.
var errTimeoutCause = errors.New("login timeout")

// ListenError reports that Run could not listen for the redirect on the
// loopback address of the redirect URI. It matches [ErrPortBusy] when
// another program holds the port (EADDRINUSE).
type ListenError struct {
	Addr string // the address, such as "127.0.0.1:8080"
	Err  error  // the error of net.Listen
}

// Error names the address and, for a busy port, says so.
func (e *ListenError) Error() string {
	if addrInUse(e.Err) {
		return "spotauth: login: port of " + e.Addr + " is busy: another program listens on it"
	}
	return "spotauth: login: cannot listen on " + e.Addr + ": " + e.Err.Error()
}

// Is reports whether target is [ErrPortBusy] and the port was in use.
func (e *ListenError) Is(target error) bool { return target == ErrPortBusy && addrInUse(e.Err) }

// Unwrap returns e.Err.
func (e *ListenError) Unwrap() error { return e.Err }

// CheckError is a problem Run found before opening the browser, which the
// user could otherwise meet only on an error page, or after approving:
//
//   - the Accounts service does not know the client ID (Err matches
//     [spotauth.ErrInvalidClient]);
//   - it refused the client secret of a login that uses it (Err is the
//     [*spotauth.TokenError] of a client-credentials request, matching
//     [spotauth.ErrInvalidClient]);
//   - the redirect URI is not registered for the app, or insecure (Err
//     matches [spotauth.ErrInvalidRedirectURI]);
//   - a scope is not one the app may request (Err matches
//     [spotauth.ErrInvalidScope]);
//   - the Accounts service could not be reached (Err is the transport
//     error), so that no code could be exchanged either.
type CheckError struct {
	Reason string // what is wrong, in a phrase such as "the Accounts service does not know client ID \"abc\""
	Err    error
}

// Error returns "spotauth: login: " and the reason.
func (e *CheckError) Error() string { return "spotauth: login: " + e.Reason }

// Unwrap returns e.Err.
func (e *CheckError) Unwrap() error { return e.Err }

// wrapped adds context to another error without repeating "spotauth: ",
// which starts both messages.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string {
	return "spotauth: login: " + w.msg + ": " + strings.TrimPrefix(w.err.Error(), "spotauth: ")
}

func (w *wrapped) Unwrap() error { return w.err }
