package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// BenchmarkToken shows that a Redis store costs nothing on the hot path:
// Token is served from memory exactly as with the in-memory store.
func BenchmarkToken(b *testing.B) {
	c := newClient(b, redistest.Start(b))
	rs := newStoreOn(b, c, "bench", nil)
	ctx := context.Background()
	stores := []struct {
		name  string
		store spotauth.TokenStore
	}{
		{"memory", &spotauth.MemoryStore{}},
		{"redis", rs},
	}
	for _, st := range stores {
		tok := &spotauth.Token{AccessToken: "bench-access", TokenType: "Bearer", RefreshToken: "bench-refresh", Expiry: time.Now().Add(time.Hour)}
		if err := st.store.Save(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
		cfg := &spotauth.Config{ClientID: "bench", AccountsURL: "http://127.0.0.1:1"}
		counter := &redistest.Counter{}
		c.AddHook(counter)
		src := cfg.UserSource(tok, &spotauth.SourceOptions{Store: st.store})
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			before := counter.RoundTrips()
			for b.Loop() {
				if _, err := src.Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(counter.RoundTrips()-before)/float64(b.N), "redis-roundtrips/op")
		})
		b.Run(st.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := src.Token(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		src.Close()
	}
}

// BenchmarkRefreshCycle measures the Redis side of one expiry for the
// process that refreshes (Load, Lock, Lease.Load, Lease.Save, Release, as
// RefreshingSource does) and for one that adopts the stored token (Load).
func BenchmarkRefreshCycle(b *testing.B) {
	c := newClient(b, redistest.Start(b))
	s := newStoreOn(b, c, "bench", nil)
	ctx := context.Background()
	tok := testToken(1)
	s.Save(ctx, tok)
	counter := &redistest.Counter{}
	c.AddHook(counter)
	b.Run("refresher", func(b *testing.B) {
		b.ReportAllocs()
		before := counter.RoundTrips()
		for b.Loop() {
			if _, err := s.Load(ctx); err != nil {
				b.Fatal(err)
			}
			l, err := s.Lock(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.Load(ctx); err != nil {
				b.Fatal(err)
			}
			if err := l.Save(ctx, tok); err != nil {
				b.Fatal(err)
			}
			if err := l.Release(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(counter.RoundTrips()-before)/float64(b.N), "roundtrips/expiry")
	})
	b.Run("adopter", func(b *testing.B) {
		b.ReportAllocs()
		before := counter.RoundTrips()
		for b.Loop() {
			if _, err := s.Load(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(counter.RoundTrips()-before)/float64(b.N), "roundtrips/expiry")
	})
	b.Run("encrypted-refresher", func(b *testing.B) {
		sealer, _ := storecryptNew()
		es := newStoreOn(b, c, "bench-enc", &redisstore.Options{Sealer: sealer})
		es.Save(ctx, tok)
		b.ReportAllocs()
		for b.Loop() {
			l, err := es.Lock(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.Load(ctx); err != nil {
				b.Fatal(err)
			}
			if err := l.Save(ctx, tok); err != nil {
				b.Fatal(err)
			}
			l.Release(ctx)
		}
	})
}

func storecryptNew() (*storecrypt.AESGCM, error) {
	return storecrypt.New(make([]byte, storecrypt.KeySize))
}
