//go:build unix

package filestore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storetest"
)

// hangGuard is how long a test waits for a call that must not block before
// it fails: the test's own deadline, less a margin to report, or a minute.
func hangGuard(t *testing.T) time.Duration {
	if d, ok := t.Deadline(); ok {
		return time.Until(d) / 2
	}
	return time.Minute
}

// TestFIFO: a FIFO at the token path, or a symbolic link to one, is
// refused by Load (and the other calls that read the file) without waiting
// for a writer; Save replaces it with a token file.
func TestFIFO(t *testing.T) {
	for _, link := range []bool{false, true} {
		name := map[bool]string{false: "fifo", true: "symlink to fifo"}[link]
		t.Run(name, func(t *testing.T) {
			s, _ := newStore(t, nil)
			fifo := s.Path()
			if link {
				fifo = filepath.Join(t.TempDir(), "fifo")
				if err := os.Symlink(fifo, s.Path()); err != nil {
					t.Fatal(err)
				}
			}
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			ctx := context.Background()
			calls := []struct {
				name string
				call func() error
			}{
				{"Load", func() error { _, err := s.Load(ctx); return err }},
				{"Sealed", func() error { _, err := s.Sealed(ctx); return err }},
			}
			for _, c := range calls {
				done := make(chan error, 1)
				go func() { done <- c.call() }()
				select {
				case err := <-done:
					if !errors.Is(err, filestore.ErrNotRegular) {
						t.Errorf("%s() with a %s at the token path = %v; want ErrNotRegular", c.name, name, err)
					}
				case <-time.After(hangGuard(t)):
					// Unblock the call: open the FIFO for writing.
					if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
						w.Close()
					}
					<-done
					t.Fatalf("%s() with a %s at the token path is still waiting for a writer", c.name, name)
				}
			}
			done := make(chan error, 1)
			go func() { done <- s.Save(ctx, storetest.SampleToken(1)) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Save() over a %s = %v", name, err)
				}
			case <-time.After(hangGuard(t)):
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				<-done
				t.Fatalf("Save() over a %s is still waiting for a writer", name)
			}
			if _, err := s.Load(ctx); err != nil {
				t.Errorf("Load() after Save() over a %s = %v", name, err)
			}
		})
	}
}

// TestOtherOwner: a token file owned by another user is refused, as ssh
// refuses such keys. Changing the owner needs root: the CI runs as root.
func TestOtherOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	s, _ := newStore(t, nil)
	ctx := context.Background()
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(s.Path(), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, filestore.ErrNotOwned) {
		t.Errorf("Load() of a file owned by user 65534 = %v; want ErrNotOwned", err)
	}
	// Saving replaces it with a file of the user's own.
	if err := s.Save(ctx, storetest.SampleToken(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx); err != nil {
		t.Errorf("Load() after Save() = %v", err)
	}
}

// TestUnreadable: a token file the user may not read gives an error
// wrapping fs.ErrPermission.
func TestUnreadable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root reads files whatever their mode: EACCES cannot happen")
	}
	s, _ := newStore(t, nil)
	ctx := context.Background()
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Path(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Load() of a mode 000 file = %v; want fs.ErrPermission", err)
	}
}
