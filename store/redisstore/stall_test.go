package redisstore_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// stallTTL is the lease TTL of the stall tests; Redis is paused for three
// of them, so the holder's lease has expired when it resumes.
const stallTTL = 500 * time.Millisecond

// stallTimeout bounds the Save attempted while Redis is paused.
const stallTimeout = 300 * time.Millisecond

// saveDuringStall calls l.Save(t) while Redis is paused: it must give up
// with a timeout (after writing the command, or before), not ErrLeaseLost.
func saveDuringStall(t *testing.T, l spotauth.Lease, tok *spotauth.Token) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stallTimeout)
	defer cancel()
	err := l.Save(ctx, tok)
	if !isTimeout(err) && !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("lease.Save while Redis is stopped = %v; want a timeout", err)
	}
}

// stallStore returns a server that can be paused and a store on it whose
// client takes its socket deadlines from the context, so that the Save
// during a stall gives up after stallTimeout with an i/o timeout, as a
// production client with a short ReadTimeout would, while the other calls
// keep the default ReadTimeout: a short ReadTimeout for every call would
// fail the setup on a loaded machine.
func stallStore(t *testing.T, sealer storecrypt.Sealer) (*redistest.Server, *redis.Client, *redisstore.Store) {
	t.Helper()
	srv := redistest.StartServer(t, redistest.Options{})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	s := newStoreOn(t, c, "default", &redisstore.Options{LeaseTTL: stallTTL, Sealer: sealer})
	return srv, c, s
}

// stall pauses srv (SIGSTOP) for three lease TTLs around f, which runs
// while it is paused. The pause ends even if f fails the test (Pause
// registers a Resume).
func stall(t *testing.T, srv *redistest.Server, f func()) {
	t.Helper()
	srv.Pause()
	f()
	time.Sleep(3 * stallTTL)
	srv.Resume()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestLeaseSaveSurvivesRedisStall: a holder's Save of a rotated token
// times out because Redis is stopped for longer than the lease TTL; its
// lease expires meanwhile. Fenced by version, the retried Save on the same
// lease stores the token once Redis is back, since nobody stored anything
// else: the rotated refresh token is not lost. The Save sent during the
// stall may itself run when Redis resumes (its reply lost): the retry then
// succeeds without a second write.
func TestLeaseSaveSurvivesRedisStall(t *testing.T) {
	sealer, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	for _, tt := range []struct {
		name   string
		sealer storecrypt.Sealer
	}{
		{"plain", nil},
		{"encrypted", sealer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, s := stallStore(t, tt.sealer)
			ctx := ctxT(t, 20*time.Second)
			if err := s.Save(ctx, testToken(1)); err != nil {
				t.Fatal(err)
			}
			l := mustLock(t, s)
			defer l.Release(ctx)
			if _, err := l.Load(ctx); err != nil {
				t.Fatalf("lease.Load = %v", err)
			}
			// A first refresh saved: its script is loaded, so a Save
			// queued during the stall runs when Redis resumes.
			if err := l.Save(ctx, testToken(2)); err != nil {
				t.Fatalf("lease.Save(token 2) = %v", err)
			}
			stall(t, srv, func() { saveDuringStall(t, l, testToken(3)) })
			waitLeaseGone(t, c, s) // the lease expired during the stall
			if v, err := s.Version(ctx); err == nil {
				t.Logf("version before the retry: %d (3: the Save sent during the stall ran on resume)", v)
			}
			if err := l.Save(ctx, testToken(3)); err != nil {
				t.Fatalf("retried lease.Save after the stall = %v; want nil (nobody stored since)", err)
			}
			if got, err := s.Load(ctx); err != nil || !sameToken(got, testToken(3)) {
				t.Errorf("Load after the retried Save = %+v, %v; want token 3", got, err)
			}
			if v, err := s.Version(ctx); err != nil || v != 3 {
				t.Errorf("Version = %d, %v; want 3 (token 3 written once)", v, err)
			}
		})
	}
}

// TestLeaseSaveAfterRedisStallRefusedWhenAnotherSaved: as above, but when
// Redis is back another process takes the free lease and stores a token
// before the first holder retries: the retry fails with ErrLeaseLost and
// overwrites nothing.
func TestLeaseSaveAfterRedisStallRefusedWhenAnotherSaved(t *testing.T) {
	srv, c, s := stallStore(t, nil)
	ctx := ctxT(t, 20*time.Second)
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Fatal(err)
	}
	l := mustLock(t, s)
	defer l.Release(ctx)
	stall(t, srv, func() { saveDuringStall(t, l, testToken(2)) })
	waitLeaseGone(t, c, s)

	other := newStoreOn(t, newClient(t, srv.Addr), "default", nil) // another process
	lo := mustLock(t, other)
	if err := lo.Save(ctx, testToken(3)); err != nil {
		t.Fatalf("other holder's lease.Save = %v", err)
	}
	lo.Release(ctx)
	before, _ := s.Version(ctx)

	if err := l.Save(ctx, testToken(2)); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("retried lease.Save after another holder stored = %v; want ErrLeaseLost", err)
	}
	if got, err := s.Load(ctx); err != nil || !sameToken(got, testToken(3)) {
		t.Errorf("Load = %+v, %v; want the other holder's token 3", got, err)
	}
	if after, _ := s.Version(ctx); after != before {
		t.Errorf("Version after the refused Save = %d; want %d unchanged", after, before)
	}
}
