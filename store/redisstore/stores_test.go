package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/store/storetest"
)

// countedClient returns a client of addr whose round trips c counts.
func countedClient(t *testing.T, addr string) (*redis.Client, *redistest.Counter) {
	c := newClient(t, addr)
	var n redistest.Counter
	c.AddHook(&n)
	c.AddHook(answered{c})
	return c, &n
}

// answered is a hook that counts, per client, the commands Redis has
// answered: redistest.Counter counts them as they are sent.
type answered struct{ c *redis.Client }

var answeredCount sync.Map // *redis.Client -> *atomic.Int64

func (a answered) DialHook(next redis.DialHook) redis.DialHook { return next }
func (a answered) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (a answered) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if name := cmd.Name(); name != "hello" && name != "client" {
			n, _ := answeredCount.LoadOrStore(a.c, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
		}
		return err
	}
}

// waitAnswered waits until Redis has answered want commands of c (but
// those of a new connection's handshake).
func waitAnswered(t *testing.T, c *redis.Client, want int64) {
	t.Helper()
	for range 6000 {
		if n, ok := answeredCount.Load(c); ok && n.(*atomic.Int64).Load() >= want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("commands answered after 30 s: fewer than %d", want)
}

// commands returns the commands n counted, but those a new connection
// sends before any other (HELLO, CLIENT SETINFO).
func commands(n *redistest.Counter) int64 {
	var sum int64
	for name, c := range n.ByName() {
		if name != "hello" && name != "client" {
			sum += c
		}
	}
	return sum
}

func TestLockAnswersNewerToken(t *testing.T) {
	addr := redistest.Start(t)
	sealer, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	for _, tt := range []struct {
		name string
		opts *redisstore.Options
	}{{"plain", nil}, {"encrypted", sealedWith(sealer)}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t, 30*time.Second)
			holderClient, holderTrips := countedClient(t, addr)
			waiterClient, waiterTrips := countedClient(t, addr)
			a := newStoreOn(t, holderClient, "newer-"+tt.name, tt.opts)
			waiterOpts := redisstore.Options{PollInterval: time.Hour} // woken by the message alone
			if tt.opts != nil {
				waiterOpts.Sealer = tt.opts.Sealer
			}
			b := newStoreOn(t, waiterClient, "newer-"+tt.name, &waiterOpts)
			if err := a.Save(ctx, testToken(1)); err != nil {
				t.Fatal(err)
			}
			la := mustLock(t, a)
			done := make(chan error, 1)
			go func() {
				l, err := b.Lock(ctx)
				if err == nil {
					l.Release(ctx)
				}
				done <- err
			}()
			// An attempt, SUBSCRIBE (not counted), a second attempt: then
			// the waiter waits for a message.
			waitAnswered(t, waiterClient, 2)
			if err := la.Save(ctx, testToken(2)); err != nil {
				t.Fatal(err)
			}
			before := commands(holderTrips)
			if err := la.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if n := commands(holderTrips) - before; n != 0 {
				t.Errorf("Release after a Save sent %d commands; want 0 (the Save ended the lease)", n)
			}
			var newer *spotauth.NewerTokenError
			if err := <-done; !errors.As(err, &newer) {
				t.Fatalf("waiting Lock = %v; want a NewerTokenError", err)
			}
			if !sameToken(newer.Token, testToken(2)) || newer.Version != 2 {
				t.Errorf("NewerTokenError = %+v, version %d; want token 2, version 2", newer.Token, newer.Version)
			}
			if n := commands(waiterTrips); n != 2 {
				t.Errorf("the waiter sent %d commands (%v); want 2 (two attempts), and no read of the token", n, waiterTrips.ByName())
			}
		})
	}
}

func TestSaveEndsLease(t *testing.T) {
	s, _ := newStore(t, &redisstore.Options{PollInterval: time.Hour})
	ctx := ctxT(t, 30*time.Second)
	l := mustLock(t, s)
	if err := l.Save(ctx, testToken(1)); err != nil {
		t.Fatal(err)
	}
	// Another holder takes the lease at once, before Release.
	l2 := mustLock(t, s)
	if err := l.Release(ctx); err != nil {
		t.Errorf("Release after Save = %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if l3, err := s.Lock(short); err == nil {
		l3.Release(ctx)
		t.Error("the first holder's Release freed the second holder's lease")
	}
	// A lease's Delete ends it too.
	if err := l2.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	mustLock(t, s).Release(ctx)
	l2.Release(ctx)
}

func TestStoresShareOneSubscription(t *testing.T) {
	const users = 10
	addr := redistest.Start(t)
	ctx := ctxT(t, 60*time.Second)
	admin := newClient(t, addr)
	holderClient := newClient(t, addr)
	waiterClient, waiterTrips := countedClient(t, addr)
	holders, err := redisstore.NewStores(holderClient, "app:user:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holders.Close()
	waiters, err := redisstore.NewStores(waiterClient, "app:user:", &redisstore.Options{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer waiters.Close()
	subsBefore := commandCalls(t, admin, "subscribe")

	leases := make([]spotauth.Lease, users)
	for i := range users {
		s, err := holders.Store(strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Save(ctx, testToken(100*i)); err != nil {
			t.Fatal(err)
		}
		leases[i] = mustLock(t, s)
	}
	results := make([]error, users)
	var wg sync.WaitGroup
	for i := range users {
		s, err := waiters.Store(strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Go(func() {
			l, err := s.Lock(ctx)
			if err == nil {
				l.Release(ctx)
			}
			results[i] = err
		})
	}
	waitAnswered(t, waiterClient, users) // one attempt each, then they wait
	if n, err := admin.PubSubNumPat(ctx).Result(); err != nil || n != 1 {
		t.Errorf("PUBSUB NUMPAT = %d, %v; want 1 (one pattern subscription for all users)", n, err)
	}
	for i, l := range leases {
		if err := l.Save(ctx, testToken(100*i+1)); err != nil {
			t.Fatal(err)
		}
		l.Release(ctx)
	}
	wg.Wait()
	for i, err := range results {
		var newer *spotauth.NewerTokenError
		if !errors.As(err, &newer) || !sameToken(newer.Token, testToken(100*i+1)) {
			t.Errorf("user %d: waiting Lock = %v; want a NewerTokenError with the user's new token", i, err)
		}
	}
	if n := commands(waiterTrips); n != users {
		t.Errorf("waiters sent %d commands (%v); want %d (one attempt each)", n, waiterTrips.ByName(), users)
	}
	if n := commandCalls(t, admin, "subscribe") - subsBefore; n != 0 {
		t.Errorf("SUBSCRIBE commands = %d; want 0", n)
	}

	// Watch uses the shared subscription too.
	s, _ := waiters.Store("0")
	defer s.Close()
	wctx, cancel := context.WithCancel(ctx)
	events, err := s.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := holders.Store("0")
	defer other.Close()
	other.Delete(ctx)
	select {
	case ev := <-events:
		if ev.Kind != spotauth.StoreDeleted {
			t.Errorf("event = %+v; want a deletion", ev)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
	cancel()
	for range events {
	}
	if n := commandCalls(t, admin, "subscribe") - subsBefore; n != 0 {
		t.Errorf("SUBSCRIBE commands after Watch = %d; want 0", n)
	}
}

// commandCalls returns how many times the server ran the command name.
func commandCalls(t *testing.T, c *redis.Client, name string) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+name+":calls=")
		if ok {
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			return n
		}
	}
	return 0
}

func TestStoresConformance(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	ss, err := redisstore.NewStores(c, "conformance:", &redisstore.Options{LeaseTTL: conformanceTTL, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) spotauth.TokenStore {
		s, err := ss.Store(fmt.Sprint(n.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestNewStoresRefusesBadNames(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, p := range []string{"a{b", "a b", "a}"} {
		if _, err := redisstore.NewStores(c, p, nil); err == nil {
			t.Errorf("NewStores(%q) = nil error", p)
		}
	}
	ss, err := redisstore.NewStores(c, "glob*[x]?", nil) // no contact with Redis yet
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	if _, err := ss.Store(""); err == nil {
		t.Error("Store(\"\") = nil error")
	}
}
