package weblogin

import (
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
)

// BenchmarkRequestRedis: logged-in requests of 10,000 users whose tokens
// are stored in a real redis-server, one key per user, each with a valid
// token cached: it reports the Redis round trips per request (the goal is
// 0: a valid cached token needs no store).
func BenchmarkRequestRedis(b *testing.B) {
	addr := redistest.Start(b)
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	var counter redistest.Counter
	client.AddHook(&counter)
	byUser, err := redisstore.NewStores(client, "bench:", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer byUser.Close()
	stores := func(id string) (spotauth.TokenStore, error) { return byUser.TokenStore(StoreKey(id)) }
	const users = 10000
	a, reqs := benchAuth(b, users, users, stores)
	h := a.RequireUser(tokenHandler)
	warm(h, reqs)
	w := &nopWriter{h: http.Header{}}
	rng := rand.New(rand.NewPCG(1, 2))
	before := counter.RoundTrips()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h.ServeHTTP(w, reqs[rng.IntN(len(reqs))])
	}
	b.StopTimer()
	b.ReportMetric(float64(counter.RoundTrips()-before)/float64(b.N), "redis-round-trips/op")
}
