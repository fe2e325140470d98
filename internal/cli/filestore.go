package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/atomicfile"
)

// fileStore keeps one token in a JSON file (0600, written atomically) and
// coordinates processes with an flock on name+".lock", so that concurrent
// spotauth processes at expiry refresh once between them. It is the CLI's
// own store until the shared store/file package is wired in.
type fileStore struct {
	name string
}

var _ spotauth.LockingStore = (*fileStore)(nil)

func newFileStore(name string) *fileStore { return &fileStore{name: name} }

func (s *fileStore) Load(ctx context.Context) (*spotauth.Token, error) {
	data, err := os.ReadFile(s.name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", spotauth.ErrTokenNotFound, s.name)
	}
	if err != nil {
		return nil, fmt.Errorf("spotauth: token file: %w", err)
	}
	var t spotauth.Token
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("spotauth: token file %s is damaged (%v); run spotauth logout and log in again", s.name, err)
	}
	return &t, nil
}

func (s *fileStore) Save(ctx context.Context, t *spotauth.Token) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("spotauth: encode token: %w", err)
	}
	return atomicfile.WriteFile(s.name, data, 0o600)
}

func (s *fileStore) Delete(ctx context.Context) error {
	err := os.Remove(s.name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spotauth: remove token file: %w", err)
	}
	return nil
}

// Lock takes the exclusive flock of the token; the kernel releases it if
// the process dies.
func (s *fileStore) Lock(ctx context.Context) (spotauth.Lease, error) {
	fl := flock.New(s.name+".lock", flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil || !ok {
		fl.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("spotauth: lock token file: %w", err)
	}
	return &fileLease{s: s, fl: fl}, nil
}

type fileLease struct {
	s    *fileStore
	mu   sync.Mutex
	fl   *flock.Flock
	done bool
}

func (l *fileLease) Load(ctx context.Context) (*spotauth.Token, error) { return l.s.Load(ctx) }

func (l *fileLease) Save(ctx context.Context, t *spotauth.Token) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return spotauth.ErrLeaseLost
	}
	return l.s.Save(ctx, t)
}

func (l *fileLease) Release(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	l.done = true
	err := l.fl.Unlock()
	l.fl.Close()
	return err
}
