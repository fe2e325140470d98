package file_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/file"
	"github.com/spotauth/spotauth/store/storetest"
)

// runHoldChild is the lease holder of TestLockBusyStoppedHolder: it takes
// the lease, says so, and holds it until killed.
func runHoldChild() error {
	s, err := file.New(os.Getenv(envDir), "default", nil)
	if err != nil {
		return err
	}
	if _, err := s.Lock(context.Background()); err != nil {
		return err
	}
	fmt.Println("locked")
	select {}
}

// wantBusy checks that err is a LeaseBusyError ending a wait by deadline,
// naming holder, with a hint containing hint.
func wantBusy(t *testing.T, call string, err error, store, holder, hint string) {
	t.Helper()
	var be *spotauth.LeaseBusyError
	if !errors.As(err, &be) {
		t.Fatalf("%s = %v; want a *spotauth.LeaseBusyError", call, err)
	}
	if !errors.Is(err, spotauth.ErrLeaseBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s = %v; want it to match ErrLeaseBusy and context.DeadlineExceeded", call, err)
	}
	if be.Store != store {
		t.Errorf("%s: Store = %q; want %q", call, be.Store, store)
	}
	if be.Holder != holder {
		t.Errorf("%s: Holder = %q; want %q", call, be.Holder, holder)
	}
	if !strings.Contains(be.Hint, hint) {
		t.Errorf("%s: Hint = %q; want it to contain %q", call, be.Hint, hint)
	}
	if msg := err.Error(); !strings.Contains(msg, holder) || !strings.Contains(msg, hint) {
		t.Errorf("%s: Error() = %q; want the holder and the hint", call, msg)
	}
}

// TestLockBusyStoppedHolder: behind a holder process stopped with
// SIGSTOP, Lock, Save and Delete give up when their context ends, with a
// LeaseBusyError naming the process as stopped and saying how to resume
// it; once the holder is killed, the lock is free.
func TestLockBusyStoppedHolder(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	s, dir := newStore(t, nil)
	ctx := context.Background()
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=hold", envDir+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("holder said %q, %v; want locked", line, err)
	}
	pid := cmd.Process.Pid
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Wait until the kernel reports the child stopped (WUNTRACED reports
	// a stop without reaping; cmd.Wait still reaps the exit).
	var info syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &info, syscall.WUNTRACED, nil); err != nil || !info.Stopped() {
		t.Fatalf("wait4(%d) = %v, status %v; want the holder stopped", pid, err, info)
	}

	lockPath := filepath.Join(dir, "default.lock")
	p := strconv.Itoa(pid)
	holder, hint := "process "+p+" (stopped)", "kill -CONT "+p
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, 100*time.Millisecond)
	}
	c, cancel := short()
	_, err = s.Lock(c)
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

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
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

// TestLockBusyThisProcess: a wait behind a lease of the same process says
// so, and a canceled wait matches context.Canceled.
func TestLockBusyThisProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the holder is not recorded on Windows")
	}
	s, _ := newStore(t, nil)
	ctx := context.Background()
	l, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = s.Lock(c)
	p := strconv.Itoa(os.Getpid())
	wantBusy(t, "Lock()", err, filepath.Join(filepath.Dir(s.Path()), "default.lock"), "process "+p+" (this process)", "release")

	c2, cancel2 := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	_, err = s.Lock(c2)
	if !errors.Is(err, spotauth.ErrLeaseBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("Lock() canceled while busy = %v; want ErrLeaseBusy and context.Canceled", err)
	}
}

// TestLeaseDeleteRefusedStale: a lease whose refresh token was refused
// cannot delete a newer token that another writer stored meanwhile (here
// one that took a new lock file after the old one was removed by hand,
// the only way to write while a lease is held): Delete fails with
// ErrLeaseLost and the newer token stays.
func TestLeaseDeleteRefusedStale(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatal(err)
	}
	l, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	// The holder refreshes with token 1's refresh token and is refused;
	// meanwhile another writer stores token 2.
	if err := os.Remove(filepath.Join(dir, "default.lock")); err != nil {
		t.Fatal(err)
	}
	other, err := file.New(dir, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(ctx, storetest.SampleToken(2)); err != nil {
		t.Fatalf("Save() by the other writer = %v", err)
	}
	if err := l.(spotauth.LeaseDeleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Lease Delete() after a newer save = %v; want ErrLeaseLost", err)
	}
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(2)) {
		t.Errorf("Load() after the refused Delete = %v; want token 2 still stored", err)
	}
	// The same holds for a lease whose store was saved through a second
	// lease after the first was released.
	l.Release(ctx)
	l2, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Save(ctx, storetest.SampleToken(3)); err != nil {
		t.Fatal(err)
	}
	l2.Release(ctx)
	if err := l.(spotauth.LeaseDeleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Delete() by a released lease = %v; want ErrLeaseLost", err)
	}
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(3)) {
		t.Errorf("Load() = %v; want token 3 still stored", err)
	}
}
