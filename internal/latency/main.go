// Command latency measures what callers of a token source experience at
// token expiry: 64 goroutines call Token() continuously across several
// expiries of short-lived tokens while spotauthtest's fake Accounts service
// answers token requests after a delay (200 ms by default, by fault
// injection). It runs spotauth's RefreshingSource and golang.org/x/oauth2's
// ReuseTokenSource one after the other, each against its own fake, and
// prints, for each, the caller latency (p50, p99,
// max), how many calls got a token that had already expired, and the token
// requests made per token replaced.
//
// By default each caller yields (runtime.Gosched) after each call, outside
// the timed region, as a real caller doing I/O between calls would.
// Without it (-yield=false), 64 goroutines spinning on a few cores make the
// Go scheduler's 10 ms time slices, not the token source, dominate the tail:
// a goroutine preempted between the two clock readings of one call waits
// for every other runnable goroutine, and so does every goroutine woken by
// the network, including the one refreshing the token.
//
//	go run ./internal/latency [-goroutines 64] [-lifetime 3s] [-delay 200ms] [-duration 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/oauth2"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.goroutines, "goroutines", 64, "concurrent callers")
	flag.DurationVar(&cfg.lifetime, "lifetime", 3*time.Second, "access token lifetime (whole seconds)")
	flag.DurationVar(&cfg.delay, "delay", 200*time.Millisecond, "token endpoint latency")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "run time per library")
	flag.BoolVar(&cfg.yield, "yield", true, "callers yield (runtime.Gosched) between calls, outside the timed region")
	flag.Parse()
	if cfg.lifetime < time.Second || cfg.duration < cfg.lifetime || cfg.goroutines < 1 {
		fmt.Fprintln(os.Stderr, "latency: need -lifetime >= 1s, -duration >= -lifetime, -goroutines >= 1")
		os.Exit(2)
	}
	results, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
	fmt.Printf("%d goroutines (yield between calls: %v), GOMAXPROCS %d, token lifetime %v, endpoint latency %v, %v per library\n\n",
		cfg.goroutines, cfg.yield, runtime.GOMAXPROCS(0), cfg.lifetime, cfg.delay, cfg.duration)
	printTable(os.Stdout, results)
}

type config struct {
	goroutines                int
	lifetime, delay, duration time.Duration
	yield                     bool
}

// result is one library's figures.
type result struct {
	name          string
	calls         int64
	p50, p99, max time.Duration
	p999, p9999   time.Duration
	over1ms       int64 // calls that took 1 ms or more
	over100ms     int64 // calls that took 100 ms or more
	expired       int64 // calls that returned a token expired when the call began
	errors        int64
	requests      int64 // refresh requests received by the fake
	replaced      int64 // distinct tokens handed out, minus the initial one
}

// newServer starts the fake Accounts service: access tokens of the given
// lifetime, every token request answered after delay (fault injection).
func newServer(cfg config) *spotauthtest.Server {
	srv := spotauthtest.NewUnstartedServer()
	srv.AccessTokenLifetime = cfg.lifetime
	srv.LogLimit = -1
	srv.Start()
	srv.SetTokenFaultRule(func(spotauthtest.TokenRequest) *spotauthtest.Fault {
		return &spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: cfg.delay}
	})
	return srv
}

func run(cfg config) ([]result, error) {
	var out []result
	for _, lib := range []string{"spotauth", "oauth2.ReuseTokenSource"} {
		srv := newServer(cfg)
		r, err := measure(cfg, lib, srv)
		srv.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", lib, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// source is what the callers call: an access token and its expiry.
type source func() (string, time.Time, error)

func measure(cfg config, lib string, srv *spotauthtest.Server) (result, error) {
	ctx := context.Background()
	expiry := time.Now().Add(cfg.lifetime)
	access, refresh := srv.IssueUserToken(srv.ClientID, nil, false)
	var src source
	switch lib {
	case "spotauth":
		c := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Endpoint: srv.Endpoint(), HTTPClient: srv.Client()}
		s := c.UserSource(&spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}, nil)
		defer s.Close()
		src = func() (string, time.Time, error) {
			t, err := s.Token()
			if err != nil {
				return "", time.Time{}, err
			}
			return t.AccessToken, t.Expiry, nil
		}
	default:
		conf := &oauth2.Config{
			ClientID:     srv.ClientID,
			ClientSecret: srv.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: srv.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		}
		tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}
		octx := context.WithValue(ctx, oauth2.HTTPClient, srv.Client())
		// The same early expiry as spotauth's margin for such tokens
		// (a twentieth of the life), instead of oauth2's 10 s, which would
		// make every call refresh a 3 s token.
		s := oauth2.ReuseTokenSourceWithExpiry(tok, conf.TokenSource(octx, tok), cfg.lifetime/20)
		src = func() (string, time.Time, error) {
			t, err := s.Token()
			if err != nil {
				return "", time.Time{}, err
			}
			return t.AccessToken, t.Expiry, nil
		}
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    histogram
		calls    atomic.Int64
		expired  atomic.Int64
		errs     atomic.Int64
		seen     sync.Map
		stop     atomic.Bool
		firstErr atomic.Value
	)
	for range cfg.goroutines {
		wg.Go(func() {
			var h histogram
			var last string
			for !stop.Load() {
				t0 := time.Now()
				at, exp, err := src()
				t1 := time.Now()
				h.record(t1.Sub(t0))
				calls.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				// The source decided at some instant in [t0, t1]; a token
				// that had expired at t0 was wrong whenever it decided.
				if !exp.After(t0) {
					expired.Add(1)
				}
				if at != last {
					seen.Store(at, true)
					last = at
				}
				if cfg.yield {
					runtime.Gosched()
				}
			}
			mu.Lock()
			total.merge(&h)
			mu.Unlock()
		})
	}
	time.Sleep(cfg.duration)
	stop.Store(true)
	wg.Wait()
	distinct := int64(0)
	seen.Range(func(any, any) bool { distinct++; return true })
	r := result{
		name:      lib,
		calls:     calls.Load(),
		p50:       total.quantile(0.50),
		p99:       total.quantile(0.99),
		p999:      total.quantile(0.999),
		p9999:     total.quantile(0.9999),
		over1ms:   total.countAtLeast(time.Millisecond),
		over100ms: total.countAtLeast(100 * time.Millisecond),
		max:       total.max,
		expired:   expired.Load(),
		errors:    errs.Load(),
		requests:  int64(srv.Stats().Grants["refresh_token"]),
		replaced:  distinct - 1,
	}
	if e := firstErr.Load(); e != nil && r.errors == r.calls {
		return r, fmt.Errorf("every call failed: %s", e)
	}
	return r, nil
}

// histogram is a log-linear latency histogram: 16 sub-buckets per power of
// two of nanoseconds, so quantiles are within about 6 %.
type histogram struct {
	counts [64 * 16]int64
	n      int64
	max    time.Duration
}

func bucket(d time.Duration) int {
	v := uint64(max(d, 1))
	e := bits.Len64(v) - 1 // v in [2^e, 2^(e+1))
	if e < 4 {
		return int(v) // exact below 16 ns
	}
	return e*16 + int((v>>(e-4))&15)
}

// lower returns the smallest duration in bucket i.
func lower(i int) time.Duration {
	if i < 16 {
		return time.Duration(i)
	}
	e, sub := i/16, i%16
	return time.Duration((uint64(16) | uint64(sub)) << (e - 4))
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucket(d)]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the lower bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var acc int64
	for i, c := range h.counts {
		acc += c
		if acc >= rank {
			return lower(i)
		}
	}
	return h.max
}

// countAtLeast returns the number of recorded durations in the buckets at
// or above d's.
func (h *histogram) countAtLeast(d time.Duration) int64 {
	var n int64
	for i := bucket(d); i < len(h.counts); i++ {
		n += h.counts[i]
	}
	return n
}

func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "library\tcalls\tp50\tp99\tp99.9\tp99.99\tmax\t>=1ms\t>=100ms\texpired returned\terrors\ttoken requests\ttokens replaced\trequests per expiry\t")
	for _, r := range results {
		per := "-"
		if r.replaced > 0 {
			per = fmt.Sprintf("%.2f", float64(r.requests)/float64(r.replaced))
		}
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%v\t%v\t%v\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n",
			r.name, r.calls, r.p50, r.p99, r.p999, r.p9999, r.max.Round(time.Microsecond),
			r.over1ms, r.over100ms, r.expired, r.errors, r.requests, r.replaced, per)
	}
	tw.Flush()
}
