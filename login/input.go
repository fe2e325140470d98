package login

import (
	"errors"
	"io"
	"os"
	"time"
)

// errInterrupted ends a Read that Run interrupted because it returned.
var errInterrupted = errors.New("read interrupted")

// interruptible returns a reader of in whose Read, blocked or not, the
// returned interrupt ends, and restore, which undoes what interrupt did to
// in once no Read runs. It works for a reader with a read deadline (an
// *os.File that the runtime polls, a net.Conn) and, on Linux, for any
// *os.File (a terminal, a pipe, a file); ok is false for other readers,
// whose Read no one can interrupt.
func interruptible(in io.Reader) (r io.Reader, interrupt, restore func(), ok bool) {
	if d, isDeadliner := in.(interface{ SetReadDeadline(time.Time) error }); isDeadliner && d.SetReadDeadline(time.Time{}) == nil {
		return in,
			func() { _ = d.SetReadDeadline(time.Unix(1, 0)) },
			func() { _ = d.SetReadDeadline(time.Time{}) },
			true
	}
	if f, isFile := in.(*os.File); isFile {
		if p, err := newPollReader(f); err == nil {
			return p, p.interrupt, p.close, true
		}
	}
	return in, func() {}, func() {}, false
}
