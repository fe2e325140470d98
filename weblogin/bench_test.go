package weblogin

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// The benchmarks measure a logged-in request's overhead: open the session
// cookie, find the user's source, get a valid token. The handler does
// nothing else, and the users' tokens are valid, so that nothing is
// refreshed.
//
//	go test -run '^$' -bench . -benchtime 2s ./weblogin

const benchUsers = 100000

// benchAuth returns an Auth whose stores hold users valid tokens, with a
// cache of maxUsers, and a request with a session cookie for each user.
func benchAuth(b *testing.B, users, maxUsers int, store func(id string) (spotauth.TokenStore, error)) (*Auth, []*http.Request) {
	b.Helper()
	cfg := &spotauth.Config{ClientID: "bench", RedirectURL: "https://app.example/callback"}
	ms := &MemoryStores{}
	if store == nil {
		store = ms.Store
	}
	a, err := New(cfg, Options{Keys: [][]byte{[]byte("a benchmark key of 32 bytes.....")}, Store: store, MaxUsers: maxUsers})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	now := time.Now()
	reqs := make([]*http.Request, users)
	ctx := context.Background()
	for i := range reqs {
		id := fmt.Sprintf("user%06d", i)
		tok := &spotauth.Token{AccessToken: fmt.Sprintf("BQ%0120d", i), TokenType: "Bearer", RefreshToken: fmt.Sprintf("AQ%0120d", i),
			Expiry: now.Add(24 * time.Hour), AuthorizedAt: now, Scope: spotauth.NewScopes(spotauth.ScopeUserReadPrivate), PKCE: true}
		st, err := store(id)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Save(ctx, tok); err != nil {
			b.Fatal(err)
		}
		closeStore(st)
		s := session{exp: now.Add(time.Hour).Unix(), authAt: now.UnixNano(), uid: []byte(id)}
		s.sid[0] = byte(i)
		req, _ := http.NewRequest("GET", "https://app.example/", nil)
		req.Header.Set("Cookie", "other=1; "+a.sessionName+"="+a.seal.seal(purposeSession, appendSession(nil, &s)))
		reqs[i] = req
	}
	return a, reqs
}

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// tokenHandler gets the user's token, as a handler calling the Web API does.
var tokenHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	src := TokenSource(r)
	if src == nil {
		panic("no user")
	}
	if _, err := src.Token(r.Context()); err != nil {
		panic(err)
	}
})

// warm makes every user of reqs active.
func warm(h http.Handler, reqs []*http.Request) {
	w := &nopWriter{h: http.Header{}}
	for _, r := range reqs {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkRequest: one client, 100,000 users stored, requests spread
// uniformly over them. "cached": every user's source is cached (MaxUsers
// 100,000); "10% cached": MaxUsers 10,000, so that 9 requests in 10 open
// the user's source and load the token from its (memory) store.
func BenchmarkRequest(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxUsers int
	}{{"cached", benchUsers}, {"10%_cached", benchUsers / 10}} {
		b.Run(bc.name, func(b *testing.B) {
			a, reqs := benchAuth(b, benchUsers, bc.maxUsers, nil)
			h := a.RequireUser(tokenHandler)
			warm(h, reqs)
			w := &nopWriter{h: http.Header{}}
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				h.ServeHTTP(w, reqs[rng.IntN(len(reqs))])
			}
		})
	}
}

// BenchmarkRequestParallel: 64 concurrent clients, every user cached;
// reports the 50th and 99th percentiles of a request's time.
func BenchmarkRequestParallel(b *testing.B) {
	a, reqs := benchAuth(b, benchUsers, benchUsers, nil)
	h := a.RequireUser(tokenHandler)
	warm(h, reqs)
	var hist histogram
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var local histogram
		w := &nopWriter{h: http.Header{}}
		rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			r := reqs[rng.IntN(len(reqs))]
			start := time.Now()
			h.ServeHTTP(w, r)
			local.add(time.Since(start))
		}
		hist.merge(&local)
	})
	b.StopTimer()
	b.ReportMetric(float64(hist.quantile(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(hist.quantile(0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)*((64+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0))), "clients")
}

// BenchmarkActiveUserMemory reports the heap that an active user takes:
// its cache entry, store handle, token source, loaded token and client.
func BenchmarkActiveUserMemory(b *testing.B) {
	a, reqs := benchAuth(b, b.N, b.N, nil)
	h := a.RequireUser(tokenHandler)
	var m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ResetTimer()
	warm(h, reqs)
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m2)
	if a.ActiveUsers() != b.N {
		b.Fatalf("ActiveUsers = %d; want %d", a.ActiveUsers(), b.N)
	}
	b.ReportMetric(float64(m2.HeapAlloc-m1.HeapAlloc)/float64(b.N), "heap-B/user")
	runtime.KeepAlive(reqs)
}

// histogram counts durations in buckets 1/16 of a power of two wide.
type histogram struct {
	mu     sync.Mutex
	counts [64 * 16]uint64
	n      uint64
}

func bucket(d time.Duration) int {
	ns := uint64(max(d, 1))
	e := bits.Len64(ns) - 1 // ns in [2^e, 2^(e+1))
	sub := 0
	if e >= 4 {
		sub = int(ns>>(e-4)) & 15
	} else {
		sub = int(ns<<(4-e)) & 15
	}
	return e*16 + sub
}

// lower returns the lower bound of bucket i.
func lower(i int) time.Duration {
	e, sub := i/16, i%16
	return time.Duration((uint64(16+sub) << e) >> 4)
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucket(d)]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the lower bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	want := uint64(q * float64(h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > want {
			return lower(i)
		}
	}
	return 0
}

func TestHistogram(t *testing.T) {
	var h histogram
	var ds []time.Duration
	for i := range 10000 {
		d := time.Duration(i*i + 1)
		ds = append(ds, d)
		h.add(d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	for _, q := range []float64{0.5, 0.99} {
		exact := ds[int(q*float64(len(ds)))]
		got := h.quantile(q)
		if got > exact || float64(exact-got) > float64(exact)/16+1 {
			t.Errorf("quantile(%v) = %v; exact %v; want within 1/16 below", q, got, exact)
		}
	}
}
