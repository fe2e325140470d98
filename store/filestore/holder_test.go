package filestore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storetest"
)

// runHoldChild is the lease holder of TestLockBusyStoppedHolder: it takes
// the lease, says so, and holds it until killed.
func runHoldChild() error {
	s, err := filestore.New(os.Getenv(envDir), "default", nil)
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
	other, err := filestore.New(dir, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(ctx, storetest.SampleToken(2)); err != nil {
		t.Fatalf("Save() by the other writer = %v", err)
	}
	if err := l.(deleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
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
	if err := l.(deleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Delete() by a released lease = %v; want ErrLeaseLost", err)
	}
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(3)) {
		t.Errorf("Load() = %v; want token 3 still stored", err)
	}
}
