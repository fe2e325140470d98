package weblogin_test

import (
	"context"
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
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/weblogin"
)

// TestRedisRoundTripsPerExpiry measures the Redis traffic of the web
// setup at its worst: N processes each keep an on-demand source per user
// on the user's own key (as weblogin does, the keys of a process sharing
// one redisstore.Stores), jitter off, every process has a caller of each
// user reaching the refresh point at the same moment, and a refresh takes
// 100 ms, so that all but one wait for the lease. (The waiters' poll, every
// 250 ms in case a pub/sub message is lost, must not fire during the
// refresh: on a starved machine a 200 ms refresh came close enough to it
// to add retries.) A "process"
// here is a Redis client, a Stores and sources of its own, as a replica
// has; they share this test binary only.
//
// The figure is Redis commands per process per user-expiry, in the steady
// state (after a first expiry, which opens each process's connections and
// subscription), over a window that starts and ends at the same point of
// the cycle (a quarter lifetime after a round of refreshes), so that it
// holds whole expiries: those go-redis's hook sees, as internal/fleet counts
// them, plus the SUBSCRIBE and PSUBSCRIBE commands that pub/sub
// connections send outside the hook (from the server's INFO
// commandstats). The handshakes of connections opened during the
// measurement (HELLO, CLIENT SETINFO), once per connection, are reported
// apart.
func TestRedisRoundTripsPerExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs up to 32 clients of redis-server for 20 s; skipped with -short")
	}
	addr := redistest.Start(t)
	for _, n := range []int{2, 8, 32} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) {
			f := measureRoundTrips(t, addr, n)
			t.Logf("%d processes, %d users: %d refreshes measured, invalid_grant %d; redis commands per process per expiry: "+
				"%.2f (counted by the hook %.2f, SUBSCRIBE/PSUBSCRIBE %.2f); connection handshakes %.2f; by command %v",
				n, f.users, f.refreshes, f.invalidGrant, f.total, f.hooked, f.subscribes, f.handshakes, f.byName)
			if f.invalidGrant != 0 {
				t.Errorf("invalid_grant = %d; want 0", f.invalidGrant)
			}
			if f.refreshes < f.users {
				t.Errorf("refreshes = %d; want at least one per user", f.refreshes)
			}
			if f.total > 3 {
				t.Errorf("redis commands per process per expiry = %.2f; want at most 3", f.total)
			}
		})
	}
}

type roundTripFigures struct {
	users, refreshes, invalidGrant        int
	hooked, subscribes, total, handshakes float64
	byName                                map[string]int64
}

func measureRoundTrips(t *testing.T, addr string, procs int) roundTripFigures {
	const (
		nUsers   = 2
		lifetime = 2 * time.Second
		cycles   = 2 // rounds of refreshes measured
		every    = 20 * time.Millisecond
	)
	srv := spotauthtest.NewUnstartedServer()
	srv.Refresh = spotauthtest.RefreshRotate
	srv.AccessTokenLifetime = lifetime
	srv.Start()
	defer srv.Close()
	// A refresh takes 100 ms: every process reaches the refresh point
	// while the first one's refresh is in flight, and waits for it.
	srv.SetTokenFaultRule(func(r spotauthtest.TokenRequest) *spotauthtest.Fault {
		if r.Grant == "refresh_token" {
			return &spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: 100 * time.Millisecond}
		}
		return nil
	})
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	prefix := fmt.Sprintf("rt-%d-%d", procs, time.Now().UnixNano())
	admin := redis.NewClient(&redis.Options{Addr: addr})
	defer admin.Close()
	ctx := context.Background()

	// Seed each user's key with a fresh token.
	seedStores, closeSeed := redisUserStores(admin, prefix, nil)
	defer closeSeed()
	for u := range nUsers {
		id := fmt.Sprintf("rt-user%d", u)
		now := time.Now()
		access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
		st, err := seedStores(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Save(ctx, &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh,
			Expiry: now.Add(lifetime), AuthorizedAt: now}); err != nil {
			t.Fatal(err)
		}
		closeIfCloser(st)
	}

	type process struct {
		client      *redis.Client
		counter     *redistest.Counter
		sources     []*spotauth.RefreshingSource
		stores      []spotauth.TokenStore
		closeStores func()
	}
	ps := make([]*process, procs)
	for i := range ps {
		p := &process{client: redis.NewClient(&redis.Options{Addr: addr}), counter: &redistest.Counter{}}
		p.client.AddHook(p.counter)
		// The figure is the protocol's, driven by its pub/sub messages:
		// a poll, which covers a lost message, would add attempts
		// whenever a starved machine makes a refresh outlast it.
		users, err := redisstore.NewStores(p.client, prefix+":user:", &redisstore.Options{PollInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		p.closeStores = func() { users.Close() }
		for u := range nUsers {
			st, err := users.TokenStore(weblogin.StoreKey(fmt.Sprintf("rt-user%d", u)))
			if err != nil {
				t.Fatal(err)
			}
			p.stores = append(p.stores, st)
			p.sources = append(p.sources, cfg.UserSource(nil, &spotauth.SourceOptions{Store: st, OnDemand: true, Jitter: -1}))
		}
		ps[i] = p
	}
	defer func() {
		for _, p := range ps {
			for u := range p.sources {
				p.sources[u].Close()
				closeIfCloser(p.stores[u])
			}
			p.closeStores()
			p.client.Close()
		}
	}()

	// Every source's caller asks for a token every 20 ms until stop, for
	// at most a minute.
	var stop atomic.Bool
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Minute)
	for _, p := range ps {
		for _, src := range p.sources {
			wg.Go(func() {
				for !stop.Load() && time.Now().Before(deadline) {
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					if _, err := src.Token(cctx); err != nil {
						t.Errorf("Token = %v", err)
					}
					cancel()
					time.Sleep(every)
				}
			})
		}
	}
	// settle waits for a round of refreshes (one per user) beyond n, and
	// a quarter lifetime more for the waiters to take the new tokens.
	settle := func(n int) {
		for srv.Stats().RefreshesSucceeded < n+nUsers {
			if !time.Now().Before(deadline) {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("refreshes = %d after a minute; want %d", srv.Stats().RefreshesSucceeded, n+nUsers)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(lifetime / 4)
	}
	// A first expiry opens the connections and the subscriptions.
	settle(0)
	st0 := srv.Stats()
	base := make([]map[string]int64, procs)
	for i, p := range ps {
		base[i] = p.counter.ByName()
	}
	subBase := subscribeCommands(t, admin)
	for i := range cycles {
		settle(st0.RefreshesSucceeded + i*nUsers)
	}
	st1 := srv.Stats()
	subs := subscribeCommands(t, admin) - subBase
	names := map[string]int64{}
	for i, p := range ps {
		for k, v := range p.counter.ByName() {
			names[k] += v - base[i][k]
		}
	}
	stop.Store(true)
	wg.Wait()

	f := roundTripFigures{users: nUsers, refreshes: st1.RefreshesSucceeded - st0.RefreshesSucceeded,
		invalidGrant: srv.Stats().Errors["invalid_grant"], byName: names}
	var hooked, handshakes int64
	for k, v := range names {
		if k == "hello" || k == "client" {
			handshakes += v
		} else {
			hooked += v
		}
	}
	per := float64(max(f.refreshes, 1)) * float64(procs)
	f.hooked = float64(hooked) / per
	f.subscribes = float64(subs) / per
	f.total = f.hooked + f.subscribes
	f.handshakes = float64(handshakes) / per
	return f
}

// subscribeCommands returns the number of SUBSCRIBE, UNSUBSCRIBE,
// PSUBSCRIBE and PUNSUBSCRIBE commands the server has run.
func subscribeCommands(t *testing.T, c *redis.Client) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		switch name {
		case "cmdstat_subscribe", "cmdstat_unsubscribe", "cmdstat_psubscribe", "cmdstat_punsubscribe":
		default:
			continue
		}
		if !ok {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				c, _ := strconv.ParseInt(v, 10, 64)
				n += c
			}
		}
	}
	return n
}

func closeIfCloser(s spotauth.TokenStore) {
	if c, ok := s.(interface{ Close() error }); ok {
		c.Close()
	}
}

var _ = weblogin.StoreKey
