//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package filestore

import "github.com/gofrs/flock"

// lockFile is the lock file, locked through github.com/gofrs/flock
// (LockFileEx on Windows). The holder's name is not recorded on these
// systems: the lock library keeps its descriptor to itself.
type lockFile struct {
	fl *flock.Flock
}

func openLock(path string) (*lockFile, error) {
	return &lockFile{fl: flock.New(path, flock.SetPermissions(0o600))}, nil
}

func (l *lockFile) tryLock() (bool, error) { return l.fl.TryLock() }

func (l *lockFile) writeHolder([]byte) {}

func (l *lockFile) Close() error { return l.fl.Close() }
