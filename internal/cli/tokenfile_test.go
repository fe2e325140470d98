//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runGuarded runs spotauth args like e.run, failing the test instead of
// hanging if the command is still running after half the test's time (a
// minute without a deadline). unblock, if set, is called then so that the
// command can end.
func (e *testEnv) runGuarded(unblock func(), args ...string) result {
	e.t.Helper()
	guard := time.Minute
	if d, ok := e.t.Deadline(); ok {
		guard = time.Until(d) / 2
	}
	done := make(chan result, 1)
	go func() { done <- e.run(runOpts{}, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(guard):
		if unblock != nil {
			unblock()
		}
		<-done
		e.t.Fatalf("spotauth %s is still running", strings.Join(args, " "))
		return result{}
	}
}

// TestTokenFileFIFO: a FIFO, or a symbolic link to one, at the token path
// makes token and status fail (exit 1) instead of waiting for a writer;
// login replaces it.
func TestTokenFileFIFO(t *testing.T) {
	t.Parallel()
	for _, link := range []bool{false, true} {
		e := newTestEnv(t, nil)
		path := tokenFile(e.dir, "default", userToken)
		fifo := path
		if link {
			fifo = filepath.Join(t.TempDir(), "fifo")
			if err := os.Symlink(fifo, path); err != nil {
				t.Fatal(err)
			}
		}
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		unblock := func() {
			if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
		}
		for _, cmd := range []string{"token", "status"} {
			r := e.runGuarded(unblock, cmd)
			if r.code != ExitError || !strings.Contains(r.err, "FIFO") || !strings.Contains(r.err, "remove it") {
				t.Errorf("%s with a FIFO (symlink %v) at the token path = exit %d %q; want %d naming the FIFO", cmd, link, r.code, r.err, ExitError)
			}
		}
		// doctor checks the file's mode without opening it for reading.
		r := e.runGuarded(unblock, "doctor", "--offline")
		if r.code == ExitOK || !strings.Contains(r.out+r.err, "not a regular file") {
			t.Errorf("doctor with a FIFO (symlink %v) at the token path = exit %d %q %q; want a failure naming it", link, r.code, r.out, r.err)
		}
		e.login()
		e.must("token")
	}
}

// TestTokenFileOtherOwner: a token file owned by another user is refused
// with exit 1. Changing the owner needs root: the CI runs as root.
func TestTokenFileOtherOwner(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	e := newTestEnv(t, nil)
	e.login()
	if err := os.Chown(tokenFile(e.dir, "default", userToken), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"token", "status"} {
		r := e.run(runOpts{}, cmd)
		if r.code != ExitError || !strings.Contains(r.err, "owned by another user") {
			t.Errorf("%s with a token file of user 65534 = exit %d %q; want %d and the owner", cmd, r.code, r.err, ExitError)
		}
	}
}

// TestTokenFileUnreadable: a token file the user may not read (EACCES) is
// exit 1 with a permissions hint, not 5 ("network error").
func TestTokenFileUnreadable(t *testing.T) {
	t.Parallel()
	if os.Getuid() == 0 {
		t.Skip("root reads files whatever their mode: EACCES cannot happen")
	}
	e := newTestEnv(t, nil)
	e.login()
	if err := os.Chmod(tokenFile(e.dir, "default", userToken), 0); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"token", "status"} {
		r := e.run(runOpts{}, cmd)
		if r.code != ExitError || !strings.Contains(r.err, "permission denied") || !strings.Contains(r.err, "chmod 600") {
			t.Errorf("%s with an unreadable token file = exit %d %q; want %d and a permissions hint", cmd, r.code, r.err, ExitError)
		}
	}
}
