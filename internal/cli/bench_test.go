package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
)

// BenchmarkStartup runs "spotauth token" with a cached valid token as a
// whole process, with the file store and with the Redis store, beside a
// hello-world binary built the same way (target: at most 2x its time).
// Each token sub-benchmark also runs the hello-world, interleaved and
// timed outside ns/op so that both see the same machine load, and
// reports the ratio of their wall times ("ratio") and of the CPU time
// (user and system) the processes used ("cpu-ratio"), which a busy
// machine disturbs less.
//
// It also runs scripts/startupfloor, which links what spotauth links and
// does nothing: "floor-ratio" is its wall time over hello's, what the
// dependencies' initialization costs before spotauth's own code runs
// (net/http's alone is about 1.7x on a two-core virtual machine).
func BenchmarkStartup(b *testing.B) {
	bin, hello := buildBinaries(b)
	floor := filepath.Join(b.TempDir(), "floor")
	build := exec.Command(goTool(), "build", "-o", floor, "github.com/spotauth/spotauth/scripts/startupfloor")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as buildBinaries builds
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build floor: %v\n%s", err, out)
	}
	tok := &spotauth.Token{AccessToken: "BQbenchmark-access-token-0123456789", TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour), RefreshToken: "AQbenchmark-refresh-token", AuthorizedAt: time.Now(), PKCE: true}

	fileDir := b.TempDir()
	if err := testFileStore(b, fileDir, userToken).Save(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	redisURL := "redis://" + redistest.Start(b) + "/0"
	rst, err := redisstore.NewFromURL(redisURL, "default", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rst.Close()
	if err := rst.Save(context.Background(), tok); err != nil {
		b.Fatal(err)
	}

	base := []string{"PATH=" + os.Getenv("PATH"), spotauth.EnvClientID + "=bench"}
	run := func(b *testing.B, env []string, path string, args ...string) (cpu time.Duration) {
		cmd := exec.Command(path, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("%s %v: %v %q", path, args, err, out)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.Run("hello", func(b *testing.B) {
		run(b, base, hello) // warm the page cache
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			run(b, base, hello)
		}
	})
	for _, c := range []struct {
		name string
		env  []string
	}{
		{"token-file", append(base, envConfigDir+"="+fileDir)},
		{"token-redis", append(base, envConfigDir+"="+b.TempDir(), envStore+"="+redisURL)},
	} {
		b.Run(c.name, func(b *testing.B) {
			run(b, c.env, bin, "token") // warm the page cache
			run(b, base, hello)
			run(b, base, floor)
			b.ReportAllocs()
			b.ResetTimer()
			var tokenTime, helloTime, floorTime, tokenCPU, helloCPU time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				tokenCPU += run(b, c.env, bin, "token")
				tokenTime += time.Since(t0)
				b.StopTimer()
				t1 := time.Now()
				helloCPU += run(b, base, hello)
				helloTime += time.Since(t1)
				t2 := time.Now()
				run(b, base, floor)
				floorTime += time.Since(t2)
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(helloTime.Nanoseconds())/float64(b.N), "hello-ns/op")
			b.ReportMetric(float64(tokenTime)/float64(helloTime), "ratio")
			b.ReportMetric(float64(tokenCPU)/float64(max(helloCPU, 1)), "cpu-ratio")
			b.ReportMetric(float64(floorTime)/float64(helloTime), "floor-ratio")
		})
	}
}
