package login

import (
	"errors"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollReader reads a file that the runtime does not poll (such as a
// terminal, which stays in blocking mode), waiting for input with poll(2)
// on both the file and a pipe that interrupt closes, so that a Read
// waiting for a line can be ended without closing or changing the file.
type pollReader struct {
	f      *os.File
	fc     syscall.RawConn
	wakeR  *os.File // readable (EOF) once interrupt closes wakeW
	wakeRC syscall.RawConn
	wakeW  *os.File
	once   sync.Once
}

func newPollReader(f *os.File) (*pollReader, error) {
	fc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	rc, err := r.SyscallConn()
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return &pollReader{f: f, fc: fc, wakeR: r, wakeRC: rc, wakeW: w}, nil
}

// Read waits until f has input (or an end, or an error) and reads it, or
// until interrupt, which makes it return errInterrupted.
func (p *pollReader) Read(b []byte) (int, error) {
	for {
		var fEvents, wakeEvents int16
		var perr error
		err := p.fc.Control(func(fd uintptr) {
			werr := p.wakeRC.Control(func(wfd uintptr) {
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wfd), Events: unix.POLLIN}}
				for {
					_, perr = unix.Poll(fds, -1)
					if !errors.Is(perr, unix.EINTR) {
						break
					}
				}
				fEvents, wakeEvents = fds[0].Revents, fds[1].Revents
			})
			if perr == nil {
				perr = werr
			}
		})
		switch {
		case err != nil:
			return 0, err
		case perr != nil:
			return 0, perr
		case wakeEvents != 0:
			return 0, errInterrupted
		case fEvents&unix.POLLNVAL != 0:
			return 0, os.ErrClosed
		case fEvents != 0:
			return p.f.Read(b)
		}
	}
}

// interrupt ends the current and every later Read.
func (p *pollReader) interrupt() { p.once.Do(func() { p.wakeW.Close() }) }

// close releases the pipe, once no Read runs.
func (p *pollReader) close() {
	p.interrupt()
	p.wakeR.Close()
}
