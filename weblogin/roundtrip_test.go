package weblogin_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/weblogin"
)

// TestRedisRoundTripsPerExpiry measures the Redis traffic of the web
// setup at its worst: N processes each keep an on-demand source per user
// on the user's own key (as weblogin does), jitter off, and every process
// has a caller of each user reaching the refresh point at the same
// moment. A "process" here is a Redis client, a store and a source of its
// own, as a replica has; they share this test binary only.
//
// The figure is Redis round trips per process per user-expiry: the round
// trips that go-redis's hook sees (as internal/fleet counts them), plus
// the SUBSCRIBE and UNSUBSCRIBE commands that pub/sub connections send
// outside the hook, read from the server's INFO commandstats.
func TestRedisRoundTripsPerExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs up to 32 clients of redis-server for 15 s; skipped with -short")
	}
	addr := redistest.Start(t)
	for _, n := range []int{2, 8, 32} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) {
			f := measureRoundTrips(t, addr, n)
			t.Logf("%d processes, %d users: %d refreshes, invalid_grant %d; redis round trips per process per expiry: "+
				"%.2f counted by the hook, %.2f with SUBSCRIBE/UNSUBSCRIBE",
				n, f.users, f.refreshes, f.invalidGrant, f.hooked, f.withSubscribe)
			if f.invalidGrant != 0 {
				t.Errorf("invalid_grant = %d; want 0", f.invalidGrant)
			}
			if f.refreshes < f.users {
				t.Errorf("refreshes = %d; want at least one per user", f.refreshes)
			}
		})
	}
}

type roundTripFigures struct {
	users, refreshes, invalidGrant int
	hooked, withSubscribe          float64
}

func measureRoundTrips(t *testing.T, addr string, procs int) roundTripFigures {
	const (
		users    = 2
		lifetime = 2 * time.Second
		run      = 5 * time.Second
		every    = 20 * time.Millisecond
	)
	srv := spotauthtest.NewUnstartedServer()
	srv.Refresh = spotauthtest.RefreshRotate
	srv.AccessTokenLifetime = lifetime
	srv.Start()
	defer srv.Close()
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	prefix := fmt.Sprintf("rt-%d-%d", procs, time.Now().UnixNano())
	admin := redis.NewClient(&redis.Options{Addr: addr})
	defer admin.Close()
	ctx := context.Background()

	// Seed each user's key with a fresh token.
	seedStores := redisUserStores(admin, prefix)
	for u := range users {
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
		client  *redis.Client
		counter *redistest.Counter
		sources []*spotauth.RefreshingSource
		stores  []spotauth.TokenStore
	}
	ps := make([]*process, procs)
	for i := range ps {
		p := &process{client: redis.NewClient(&redis.Options{Addr: addr}), counter: &redistest.Counter{}}
		p.client.AddHook(p.counter)
		open := redisUserStores(p.client, prefix)
		for u := range users {
			st, err := open(fmt.Sprintf("rt-user%d", u))
			if err != nil {
				t.Fatal(err)
			}
			p.stores = append(p.stores, st)
			p.sources = append(p.sources, cfg.UserSource(nil, &spotauth.SourceOptions{Store: st, OnDemand: true, Jitter: -1}))
			if _, err := p.sources[u].Token(ctx); err != nil { // the first load
				t.Fatal(err)
			}
		}
		ps[i] = p
	}
	defer func() {
		for _, p := range ps {
			for u := range p.sources {
				p.sources[u].Close()
				closeIfCloser(p.stores[u])
			}
			p.client.Close()
		}
	}()
	srv.ResetStats()
	var base []int64
	for _, p := range ps {
		base = append(base, p.counter.RoundTrips())
	}
	subBase := subscribeCommands(t, admin)

	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range ps {
		for _, src := range p.sources {
			wg.Go(func() {
				for i := 0; i < int(run/every) && time.Since(start) < run; i++ {
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
	wg.Wait()
	var hooked int64
	for i, p := range ps {
		hooked += p.counter.RoundTrips() - base[i]
	}
	subs := subscribeCommands(t, admin) - subBase
	st := srv.Stats()
	f := roundTripFigures{users: users, refreshes: st.RefreshesSucceeded, invalidGrant: st.Errors["invalid_grant"]}
	per := float64(max(f.refreshes, 1)) * float64(procs)
	f.hooked = float64(hooked) / per
	f.withSubscribe = float64(hooked+subs) / per
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
