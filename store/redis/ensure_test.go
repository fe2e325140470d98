package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/spotauthtest"
	redisstore "github.com/spotauth/spotauth/store/redis"
)

// pauseAfterAnswer is an http.RoundTripper that stops Redis (SIGSTOP) after
// each token response arrives and before the client reads it, and resumes
// Redis after d: the refresh has rotated the refresh token, and the save
// of the new one meets a stopped Redis.
type pauseAfterAnswer struct {
	base   http.RoundTripper
	srv    *redistest.Server
	d      time.Duration
	pauses atomic.Int32
}

func (p *pauseAfterAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.base.RoundTrip(r)
	if err == nil && p.d > 0 {
		p.pauses.Add(1)
		p.srv.Pause()
		time.AfterFunc(p.d, p.srv.Resume)
	}
	return resp, err
}

// TestEnsureTokenSurvivesRedisStall: Redis stops right after Spotify
// rotated the refresh token, for longer than the lease TTL and up to the
// refresh timeout minus a second. EnsureToken keeps trying to save the
// rotated token, fenced to the version it refreshed from, and returns only
// once it is stored: no login is lost, and the next refresh (with the
// stored, rotated refresh token) succeeds.
func TestEnsureTokenSurvivesRedisStall(t *testing.T) {
	if testing.Short() {
		t.Skip("stops redis-server for seconds")
	}
	const timeout = 6 * time.Second // the refresh timeout of these calls
	red := redistest.StartServer(t, redistest.Options{})
	client := redis.NewClient(&redis.Options{Addr: red.Addr})
	t.Cleanup(func() { client.Close() })
	fake := spotauthtest.NewUnstartedServer()
	fake.Refresh = spotauthtest.RefreshRotate
	fake.Start()
	t.Cleanup(fake.Close)

	lost := 0
	for i, stall := range []time.Duration{time.Second, 2 * time.Second, timeout/2 + time.Second, timeout - time.Second} {
		t.Run(fmt.Sprintf("stall=%v", stall), func(t *testing.T) {
			store, err := redisstore.New(client, fmt.Sprintf("stall-%d", i), redisstore.WithLeaseTTL(500*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			access, refresh := fake.IssueUserToken(fake.ClientID, []string{"user-read-private"}, false)
			ctx := context.Background()
			if err := store.Save(ctx, &spotauth.Token{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			pause := &pauseAfterAnswer{base: fake.Client().Transport, srv: red, d: stall}
			cfg := &spotauth.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, Endpoint: spotauth.NewEndpoint(fake.URL),
				HTTPClient: &http.Client{Transport: pause}}

			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			start := time.Now()
			got, err := cfg.EnsureToken(cctx, store, -1)
			t.Logf("EnsureToken with Redis stopped %v after the rotation: returned after %v, %v",
				stall, time.Since(start).Round(10*time.Millisecond), err)
			if err != nil {
				t.Fatalf("EnsureToken: %v", err)
			}
			if pause.pauses.Load() != 1 {
				t.Fatalf("Redis was paused %d times; want 1", pause.pauses.Load())
			}
			stored, err := store.Load(ctx)
			if err != nil || stored.RefreshToken != got.RefreshToken || got.RefreshToken == refresh {
				lost++
				t.Fatalf("stored token after the stall: %v; want the rotated refresh token", err)
			}
			// The login still works: refresh again with what is stored.
			pause.d = 0
			if _, err := cfg.EnsureToken(ctx, store, -1); err != nil {
				lost++
				t.Errorf("the next refresh failed (ErrReauthorize: the login was lost: %v): %v", errors.Is(err, spotauth.ErrReauthorize), err)
			}
		})
	}
	t.Logf("lost logins: %d of 4", lost)
}
