package filestore

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Recovery of pending writes.
//
// A token file is written as internal/atomicfile does: a temporary file
// ".<profile>.json.tmp-<digits>" in the same directory, fsync, rename over
// the token file. A process killed (kill -9, power loss after the fsync)
// between the fsync and the rename leaves the new token in the temporary
// file only; with a rotating refresh token it is the only valid one, and
// the old token in the token file has been revoked.
//
// recoverPending, run by whoever takes the lock (Save, Delete, Lock, and
// New when the lock is free), finishes such a write: a temporary file that
// decodes completely and carries a higher version than the token file is
// renamed over it (the highest version wins); every other temporary file
// is removed.
//
// This is safe because no live writer exists while the lock is held: every
// write of the token file or of its temporary files happens under the lock
// (Store.Save and Store.Delete inside withLock; lease.Save and lease.Delete
// only while the lease holds the locked descriptor, checked under l.mu;
// recoverPending itself only from lock and New after a successful
// tryLock). A temporary file seen under the lock was thus left by a holder
// that has died, or that failed to remove it. This assumes that all
// writers use this package on a file system where flock works (not every
// NFS setup), and that nobody removes the lock file by hand.
//
// Every acquisition recovers, so the temporary files found were written by
// holders since the previous acquisition, on top of the version in the
// token file at that time: a higher version is a later write, even after a
// Delete has reset the version to zero.

// pendingPrefix is the prefix of the temporary files of the token file.
func (s *Store) pendingPrefix() string { return "." + filepath.Base(s.path) + ".tmp-" }

// pendingFiles lists the temporary files of the token file: the prefix and
// then only digits, as os.CreateTemp makes them, so that another profile's
// files ("a.json.tmp-1" is a valid profile name) never match.
func (s *Store) pendingFiles() ([]string, error) {
	d, err := os.Open(filepath.Dir(s.path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	prefix := s.pendingPrefix()
	var out []string
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			out = append(out, filepath.Join(filepath.Dir(s.path), n))
		}
	}
	return out, nil
}

// completeVersion returns the version of a temporary file that decodes
// completely with the store's sealer; ok is false for an incomplete,
// damaged or foreign one.
func (s *Store) completeVersion(path string) (version uint64, ok bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxFile {
		return 0, false
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFile+1)); err != nil || buf.Len() > maxFile {
		return 0, false
	}
	if _, ver, err := decode(buf.Bytes(), s.sealer); err == nil {
		return ver, true
	}
	return 0, false
}

// recoverPending finishes or discards the writes pending in temporary
// files. The caller holds the lock. Only a failure to rename the winning
// file is reported: the token it holds would otherwise be lost.
func (s *Store) recoverPending() error {
	pending, err := s.pendingFiles()
	if err != nil {
		return fmt.Errorf("spotauth: file store: look for pending writes: %w", err)
	}
	if len(pending) == 0 {
		return nil
	}
	best, bestVer := "", s.readVersion()
	for _, p := range pending {
		ver, ok := s.completeVersion(p)
		if !ok || ver <= bestVer {
			os.Remove(p)
			continue
		}
		if best != "" {
			os.Remove(best)
		}
		best, bestVer = p, ver
	}
	if best == "" {
		return nil
	}
	if err := os.Rename(best, s.path); err != nil {
		return fmt.Errorf("spotauth: file store: finish the pending write of %s: %w", s.path, err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
