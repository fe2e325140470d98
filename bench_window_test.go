package spotauth_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// BenchmarkRefreshWindow measures what callers holding a valid token see
// while the background refresh starts and runs: callers goroutines call
// Token, sleeping 50 µs between calls, from just before the refresh window
// of a 3 s token opens until its refresh (answered by the fake after
// 200 ms) has been published. Starting that refresh must make nobody wait:
// the metrics are the latency percentiles of those calls, the number of
// calls that took 1 ms or more, and expired tokens returned (must be 0).
// One op is one window; ns/op is the mean call latency. The
// time.Now+atomic.Load runs make the same calls to a bare source (one clock
// reading, one atomic load) during the same window: what is left in their
// tail is the scheduler's, not the token source's.
func BenchmarkRefreshWindow(b *testing.B) {
	for _, callers := range []int{64, 1024} {
		for _, lib := range []string{"spotauth", "time.Now+atomic.Load"} {
			b.Run(fmt.Sprintf("%s/callers=%d", lib, callers), func(b *testing.B) {
				b.ReportAllocs()
				var all window
				for b.Loop() {
					w := refreshWindow(b, callers, lib != "spotauth")
					all.lat = append(all.lat, w.lat...)
					all.expired += w.expired
					all.validSlow += w.validSlow
					all.refresh += w.refresh
				}
				lat := all.lat
				slices.Sort(lat)
				pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
				var sum time.Duration
				slow := 0
				for _, d := range lat {
					sum += d
					if d >= time.Millisecond {
						slow++
					}
				}
				b.ReportMetric(float64(sum)/float64(len(lat)), "ns/op")
				b.ReportMetric(pct(0.50), "p50-ns")
				b.ReportMetric(pct(0.99), "p99-ns")
				b.ReportMetric(pct(0.999), "p99.9-ns")
				b.ReportMetric(float64(lat[len(lat)-1]), "max-ns")
				b.ReportMetric(float64(slow), "calls>=1ms")
				b.ReportMetric(float64(all.validSlow), "valid>=1ms")
				b.ReportMetric(float64(len(lat)), "calls")
				b.ReportMetric(float64(all.expired), "expired")
				b.ReportMetric(float64(all.refresh.Milliseconds())/float64(b.N), "refresh-ms")
			})
		}
	}
}

// window is what one refresh window measured.
type window struct {
	lat       []time.Duration // of every call
	expired   int             // calls that returned an expired token
	validSlow int             // calls of 1 ms or more that returned the token valid before the refresh
	refresh   time.Duration   // from the window's start to the refreshed token
}

// refreshWindow runs one window. With baseline, the callers call a bare
// source instead of the RefreshingSource, while it refreshes.
func refreshWindow(b *testing.B, callers int, baseline bool) window {
	b.Helper()
	const life = 3 * time.Second
	srv := spotauthtest.NewUnstartedServer()
	srv.AccessTokenLifetime = life
	srv.Start()
	defer srv.Close()
	srv.SetTokenFaultRule(func(r spotauthtest.TokenRequest) *spotauthtest.Fault {
		if r.Grant != spotauthtest.GrantRefreshToken {
			return nil
		}
		return &spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: 200 * time.Millisecond}
	})
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	start := time.Now()
	tok := &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: start.Add(life)}
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	// No jitter: the window opens at 3/4 of the life (a quarter of a
	// short token's life is its window).
	src := cfg.UserSource(tok, &spotauth.SourceOptions{Jitter: -1})
	defer src.Close()
	call := src.OAuth2().Token
	if baseline {
		bare := &bareSource{deadline: math.MaxInt64}
		bare.tok.Store(&oauth2.Token{AccessToken: access, Expiry: tok.Expiry.Add(time.Hour)})
		call = bare.Token
	}
	opens := start.Add(life * 3 / 4)
	time.Sleep(time.Until(opens.Add(-100 * time.Millisecond)))

	var stop atomic.Bool
	var expired, validSlow atomic.Int64
	lat := make([][]time.Duration, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			for !stop.Load() {
				time.Sleep(50 * time.Microsecond)
				t0 := time.Now()
				got, err := call()
				d := time.Since(t0)
				if err != nil {
					b.Error(err)
					return
				}
				if !got.Expiry.After(t0) {
					expired.Add(1)
				}
				if d >= time.Millisecond && got.AccessToken == access {
					validSlow.Add(1)
				}
				lat[i] = append(lat[i], d)
			}
		})
	}
	// Until the refreshed token is published, and 50 ms more.
	var w window
	for deadline := start.Add(life); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if got, err := src.Token(context.Background()); err == nil && got.AccessToken != access {
			w.refresh = time.Since(opens)
			time.Sleep(50 * time.Millisecond)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	w.lat, w.expired, w.validSlow = slices.Concat(lat...), int(expired.Load()), int(validSlow.Load())
	return w
}
