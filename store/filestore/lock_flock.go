//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package filestore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile is an open lock file, on which the store takes flock(2)'s
// exclusive lock. The holder writes its name into the file through the
// same descriptor, so that waiters can say who keeps them waiting.
type lockFile struct {
	f        *os.File
	writable bool
}

// openLock opens (creating it, mode 0600) the lock file at path. The file
// is never removed or replaced: waiters keep it open, and a new file would
// be a second lock.
func openLock(path string) (*lockFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		return &lockFile{f: f, writable: true}, nil
	}
	// A lock file the user made read-only still locks; the holder's name
	// is then not recorded.
	f, rerr := os.OpenFile(path, os.O_RDONLY, 0)
	if rerr != nil {
		return nil, err
	}
	return &lockFile{f: f}, nil
}

// tryLock takes the exclusive lock without waiting; false means another
// open file description holds it.
func (l *lockFile) tryLock() (bool, error) {
	for {
		err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, err
	}
}

// writeHolder replaces the lock file's content with b, on the locked
// descriptor. Failures are ignored: the name is only informative.
func (l *lockFile) writeHolder(b []byte) {
	if !l.writable {
		return
	}
	if l.f.Truncate(0) == nil {
		_, _ = l.f.WriteAt(b, 0)
	}
}

// Close releases the lock, if held, by closing the descriptor.
func (l *lockFile) Close() error { return l.f.Close() }
