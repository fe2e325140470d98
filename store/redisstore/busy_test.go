package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
)

// TestLockBusyNamesHolder: a Lock whose context ends while another holds
// the lease returns a *spotauth.LeaseBusyError that names the holder's
// process and host, read from the lease value, and never the password.
func TestLockBusyNamesHolder(t *testing.T) {
	const password = "s3cret-redis-pw"
	srv := redistest.StartServer(t, redistest.Options{Args: []string{"--requirepass", password}})
	url := "redis://:" + password + "@" + srv.Addr + "/0?lease_ttl=20s"
	open := func() *redisstore.Store {
		s, err := redisstore.NewFromURL(url, "default", &redisstore.Options{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatalf("NewFromURL = %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	holder, waiter := open(), open()
	_, leaseKey, _ := waiter.Keys()
	l := mustLock(t, holder)
	defer l.Release(context.Background())

	for _, tt := range []struct {
		name string
		ctx  func() context.Context
		want error
	}{
		{"deadline", func() context.Context { return ctxT(t, 200*time.Millisecond) }, context.DeadlineExceeded},
		{"canceled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			t.Cleanup(cancel)
			return ctx
		}, context.Canceled},
		{"canceled before Lock", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := waiter.Lock(tt.ctx())
			var be *spotauth.LeaseBusyError
			if !errors.As(err, &be) {
				if got != nil {
					got.Release(context.Background())
				}
				t.Fatalf("Lock while another holds the lease = %v, %v; want a *spotauth.LeaseBusyError", got, err)
			}
			if !errors.Is(err, spotauth.ErrLeaseBusy) || !errors.Is(err, tt.want) {
				t.Errorf("Lock error %v; want it to match ErrLeaseBusy and %v", err, tt.want)
			}
			if be.Store != leaseKey {
				t.Errorf("LeaseBusyError.Store = %q; want the lease key %q", be.Store, leaseKey)
			}
			wantHolder := fmt.Sprintf("process %d on host ", os.Getpid())
			if !strings.HasPrefix(be.Holder, wantHolder) || !strings.Contains(be.Holder, "(lease expires in ") {
				t.Errorf("LeaseBusyError.Holder = %q; want %q... (lease expires in ...)", be.Holder, wantHolder)
			}
			if host, _ := os.Hostname(); host != "" && !strings.ContainsAny(host, "/ {}") && !strings.Contains(be.Holder, " on host "+host+" ") {
				t.Errorf("LeaseBusyError.Holder = %q; want it to name host %q", be.Holder, host)
			}
			t.Logf("error: %v", err)
			if be.Hint == "" {
				t.Errorf("LeaseBusyError.Hint is empty; want advice")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Lock error %q shows the password", err)
			}
		})
	}

	// A lease value spotauth did not write (an older version's, or set
	// by hand without a TTL) still gives a LeaseBusyError.
	l.Release(context.Background())
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: password})
	defer c.Close()
	if err := c.Set(context.Background(), leaseKey, "0123456789abcdef", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := waiter.Lock(ctxT(t, 200*time.Millisecond))
	var be *spotauth.LeaseBusyError
	if !errors.As(err, &be) {
		t.Fatalf("Lock while a foreign value holds the lease = %v; want a *spotauth.LeaseBusyError", err)
	}
	if be.Holder != "an unknown holder (lease without expiry)" || !strings.Contains(be.Hint, "DEL "+leaseKey) {
		t.Errorf("LeaseBusyError = Holder %q, Hint %q; want an unknown holder without expiry and a DEL hint", be.Holder, be.Hint)
	}
}
