package spotauth_test

import (
	"context"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// BenchmarkExpiryLatency measures what callers of a token source see at
// token expiry: about 64 goroutines call Token() across expiries of 1 s
// tokens while spotauthtest answers every token request after 200 ms (by
// fault injection), spotauth's RefreshingSource beside
// golang.org/x/oauth2's ReuseTokenSource, each against its own fake. An op
// is one Token call. Give it time to span several expiries:
//
//	go test -run '^$' -bench ExpiryLatency -benchtime 10s
//
// Besides ns/op it reports the callers' latency quantiles (p50, p99,
// p99.9, max), the calls that took 1 ms or more, the calls that got a
// token already expired when they began, and the token requests per
// token replaced.
//
// Each caller yields (runtime.Gosched) after each call, outside the timed
// region, as a real caller doing I/O between calls would. Without it, 64
// goroutines spinning on a few cores make the Go scheduler's 10 ms time
// slices, not the token source, dominate the tail.
func BenchmarkExpiryLatency(b *testing.B) {
	for _, lib := range []string{"spotauth", "oauth2.ReuseTokenSource"} {
		b.Run(lib, func(b *testing.B) {
			srv := newLatencyServer(b, time.Second, 200*time.Millisecond)
			src := latencySource(b, lib, srv, time.Second)
			var r latencyRun
			b.ReportAllocs()
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var c latencyCaller
				for pb.Next() {
					c.call(src)
					runtime.Gosched()
				}
				r.merge(&c)
			})
			b.StopTimer()
			if r.errors != 0 {
				b.Fatalf("%d of %d Token calls failed: %v", r.errors, r.calls, r.firstErr)
			}
			h := &r.hist
			b.ReportMetric(float64(h.quantile(0.50)), "p50-ns")
			b.ReportMetric(float64(h.quantile(0.99)), "p99-ns")
			b.ReportMetric(float64(h.quantile(0.999)), "p99.9-ns")
			b.ReportMetric(float64(h.max), "max-ns")
			b.ReportMetric(float64(h.countAtLeast(time.Millisecond)), "calls>=1ms")
			b.ReportMetric(float64(r.expired), "expired-returned")
			if replaced := r.replaced(); replaced > 0 {
				b.ReportMetric(float64(srv.Stats().Grants["refresh_token"])/float64(replaced), "requests/expiry")
			}
		})
	}
}

// TestExpiryLatencyCounts runs the callers of BenchmarkExpiryLatency
// across one expiry and checks counts, not timings: spotauth makes one
// token request per token replaced and never returns an expired token.
// The latencies are logged. A refresh the source makes after the callers
// stopped (its timer fires as they stop, or while a busy machine delays
// the test) makes a token nobody was served: only the requests that came
// before the newest token was first served are counted.
func TestExpiryLatencyCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 1.2 s")
	}
	srv := newLatencyServer(t, time.Second, 50*time.Millisecond)
	src := latencySource(t, "spotauth", srv, time.Second)
	var r latencyRun
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var c latencyCaller
			for !stop.Load() {
				c.call(src)
				runtime.Gosched()
			}
			r.merge(&c)
		})
	}
	time.Sleep(1200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	var newest time.Time
	for _, at := range r.seen {
		if at.After(newest) {
			newest = at
		}
	}
	var requests, later, failed int
	for _, e := range srv.TokenLog() {
		switch {
		case e.Grant != "refresh_token":
		case e.Status != 200:
			failed++
		case e.Time.Before(newest):
			requests++
		default:
			later++
		}
	}
	t.Logf("%d Token calls: p50 %v, p99 %v, max %v, %d took 1 ms or more; %d token requests for %d tokens replaced, %d after the newest was served",
		r.calls, r.hist.quantile(0.5), r.hist.quantile(0.99), r.hist.max, r.hist.countAtLeast(time.Millisecond), requests, r.replaced(), later)
	if r.errors != 0 {
		t.Errorf("%d of %d Token calls failed (first: %v); want none", r.errors, r.calls, r.firstErr)
	}
	if r.expired != 0 {
		t.Errorf("%d Token calls returned a token expired when the call began; want none", r.expired)
	}
	if n := r.replaced(); n < 1 || int64(requests) != n {
		t.Errorf("%d token requests before the newest token was served, for %d tokens replaced; want one each, at least one", requests, n)
	}
	if failed != 0 {
		t.Errorf("%d token requests failed; want none", failed)
	}
}

// newLatencyServer starts a fake Accounts service issuing tokens of the
// given lifetime (whole seconds) and answering every token request after
// delay.
func newLatencyServer(tb testing.TB, lifetime, delay time.Duration) *spotauthtest.Server {
	srv := spotauthtest.NewUnstartedServer()
	srv.AccessTokenLifetime = lifetime
	srv.Start()
	tb.Cleanup(srv.Close)
	srv.SetTokenFaultRule(func(spotauthtest.TokenRequest) *spotauthtest.Fault {
		return &spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: delay}
	})
	return srv
}

// latencySourceFunc is what the callers call: an access token and its
// expiry.
type latencySourceFunc func() (string, time.Time, error)

// latencySource returns lib's token source holding a fresh token of srv
// that expires after lifetime.
func latencySource(tb testing.TB, lib string, srv *spotauthtest.Server, lifetime time.Duration) latencySourceFunc {
	expiry := time.Now().Add(lifetime)
	access, refresh := srv.IssueUserToken(srv.ClientID, nil, false)
	if lib == "spotauth" {
		c := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
		s := c.UserSource(&spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}, nil)
		tb.Cleanup(func() { s.Close() })
		o := s.OAuth2() // the same form as x/oauth2's below
		return func() (string, time.Time, error) {
			t, err := o.Token()
			if err != nil {
				return "", time.Time{}, err
			}
			return t.AccessToken, t.Expiry, nil
		}
	}
	conf := &oauth2.Config{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: srv.URL + "/api/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	// The same early expiry as spotauth's margin for such tokens (a
	// twentieth of the life), instead of oauth2's 10 s, which would make
	// every call refresh a 1 s token.
	s := oauth2.ReuseTokenSourceWithExpiry(tok, conf.TokenSource(ctx, tok), lifetime/20)
	return func() (string, time.Time, error) {
		t, err := s.Token()
		if err != nil {
			return "", time.Time{}, err
		}
		return t.AccessToken, t.Expiry, nil
	}
}

// latencyCaller is one calling goroutine's figures.
type latencyCaller struct {
	hist                   latencyHistogram
	calls, expired, errors int64
	firstErr               error
	last                   string
	seen                   map[string]time.Time // when each token was first returned
}

// call times one call of src.
func (c *latencyCaller) call(src latencySourceFunc) {
	t0 := time.Now()
	access, expiry, err := src()
	t1 := time.Now()
	c.hist.record(t1.Sub(t0))
	c.calls++
	if err != nil {
		c.errors++
		if c.firstErr == nil {
			c.firstErr = err
		}
		return
	}
	// The source decided at some instant in [t0, t1]; a token that had
	// expired at t0 was wrong whenever it decided.
	if !expiry.After(t0) {
		c.expired++
	}
	if access != c.last {
		if c.seen == nil {
			c.seen = map[string]time.Time{}
		}
		if _, ok := c.seen[access]; !ok {
			c.seen[access] = t1
		}
		c.last = access
	}
}

// latencyRun sums the callers' figures.
type latencyRun struct {
	mu sync.Mutex
	latencyCaller
}

func (r *latencyRun) merge(c *latencyCaller) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hist.merge(&c.hist)
	r.calls += c.calls
	r.expired += c.expired
	r.errors += c.errors
	if r.firstErr == nil {
		r.firstErr = c.firstErr
	}
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	for k, at := range c.seen {
		if first, ok := r.seen[k]; !ok || at.Before(first) {
			r.seen[k] = at
		}
	}
}

// replaced returns the number of distinct tokens handed out, minus the
// initial one.
func (r *latencyRun) replaced() int64 { return int64(max(len(r.seen)-1, 0)) }

// latencyHistogram is a log-linear latency histogram: 16 sub-buckets per
// power of two of nanoseconds, so quantiles are within about 6 %.
type latencyHistogram struct {
	counts [64 * 16]int64
	n      int64
	max    time.Duration
}

func latencyBucket(d time.Duration) int {
	v := uint64(max(d, 1))
	e := bits.Len64(v) - 1 // v in [2^e, 2^(e+1))
	if e < 4 {
		return int(v) // exact below 16 ns
	}
	return e*16 + int((v>>(e-4))&15)
}

// latencyBucketLower returns the smallest duration in bucket i.
func latencyBucketLower(i int) time.Duration {
	if i < 16 {
		return time.Duration(i)
	}
	e, sub := i/16, i%16
	return time.Duration((uint64(16) | uint64(sub)) << (e - 4))
}

func (h *latencyHistogram) record(d time.Duration) {
	h.counts[latencyBucket(d)]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

func (h *latencyHistogram) merge(o *latencyHistogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the lower bound of the bucket holding quantile q.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var acc int64
	for i, c := range h.counts {
		acc += c
		if acc >= rank {
			return latencyBucketLower(i)
		}
	}
	return h.max
}

// countAtLeast returns the number of recorded durations in the buckets at
// or above d's.
func (h *latencyHistogram) countAtLeast(d time.Duration) int64 {
	var n int64
	for i := latencyBucket(d); i < len(h.counts); i++ {
		n += h.counts[i]
	}
	return n
}

func TestLatencyHistogram(t *testing.T) {
	var h latencyHistogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		if got > tt.want || float64(got) < 0.93*float64(tt.want) {
			t.Errorf("quantile(%v) = %v; want within 7%% below %v", tt.q, got, tt.want)
		}
	}
	if h.max != time.Millisecond {
		t.Errorf("max = %v; want 1ms", h.max)
	}
	if got := h.countAtLeast(500 * time.Microsecond); got < 500 || got > 520 {
		t.Errorf("countAtLeast(500µs) = %d; want about 500", got)
	}
	for _, d := range []time.Duration{0, 1, 15, 16, 17, 1 << 20, 1<<40 + 12345} {
		if lo := latencyBucketLower(latencyBucket(d)); lo > max(d, 1) || float64(lo) < 0.93*float64(d) {
			t.Errorf("latencyBucketLower(latencyBucket(%d)) = %d; want within 7%% below", d, lo)
		}
	}
	var empty latencyHistogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v; want 0", got)
	}
}
