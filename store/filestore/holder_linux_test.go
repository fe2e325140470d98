package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth/internal/proctest"
	"github.com/spotauth/spotauth/store/storetest"
)

// TestLockBusyStoppedHolder: behind a holder process stopped with
// SIGSTOP, Lock, Save and Delete give up when their context ends, with a
// LeaseBusyError naming the process as stopped and saying how to resume
// it; once the holder is killed, the lock is free.
func TestLockBusyStoppedHolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	s, dir := newStore(t, nil)
	ctx := context.Background()
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatal(err)
	}
	pid, end := proctest.StartStopped(t, envChild+"=hold", envDir+"="+dir)

	lockPath := filepath.Join(dir, "default.lock")
	p := strconv.Itoa(pid)
	holder, hint := "process "+p+" (stopped)", "kill -CONT "+p
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, 100*time.Millisecond)
	}
	c, cancel := short()
	_, err := s.Lock(c)
	cancel()
	wantBusy(t, "Lock()", err, lockPath, holder, hint)
	c, cancel = short()
	err = s.Save(c, storetest.SampleToken(2))
	cancel()
	wantBusy(t, "Save()", err, lockPath, holder, hint)
	c, cancel = short()
	err = s.Delete(c)
	cancel()
	wantBusy(t, "Delete()", err, lockPath, holder, hint)
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(1)) {
		t.Errorf("Load() after the failed waits = %v; want token 1", err)
	}

	end()
	c, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	l, err := s.Lock(c)
	if err != nil {
		t.Fatalf("Lock() after the holder was killed = %v; want the lease", err)
	}
	defer l.Release(ctx)
	if err := l.Save(ctx, storetest.SampleToken(3)); err != nil {
		t.Errorf("Lease Save() after the holder was killed = %v; want nil", err)
	}
	// The lock file now names this process.
	b, _ := os.ReadFile(lockPath)
	if f := strings.Fields(string(b)); len(f) == 0 || f[0] != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file = %q; want this process's PID first", b)
	}
}
