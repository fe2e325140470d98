package cli

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// BenchmarkTokenProcess runs "spotauth token" with a cached valid token as
// a whole process, against a hello-world binary built the same way, and
// reports the ratio of their wall times (target: at most 2).
func BenchmarkTokenProcess(b *testing.B) {
	bin, hello := buildBinaries(b)
	dir := b.TempDir()
	st := testFileStore(b, dir, userToken)
	tok := &spotauth.Token{AccessToken: "BQbenchmark-access-token-0123456789", TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour), RefreshToken: "AQbenchmark-refresh-token", AuthorizedAt: time.Now(), PKCE: true}
	if err := st.Save(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), envConfigDir + "=" + dir, spotauth.EnvClientID + "=bench"}
	run := func(path string, args ...string) {
		cmd := exec.Command(path, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("%s %v: %v %q", path, args, err, out)
		}
	}
	run(bin, "token") // warm the page cache
	run(hello)
	b.ReportAllocs()
	b.ResetTimer()
	var tokenTime, helloTime time.Duration
	// ns/op is the spotauth process alone; the hello-world runs, interleaved
	// so that both see the same machine load, are timed outside.
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		run(bin, "token")
		tokenTime += time.Since(t0)
		b.StopTimer()
		t1 := time.Now()
		run(hello)
		helloTime += time.Since(t1)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(helloTime.Nanoseconds())/float64(b.N), "hello-ns/op")
	b.ReportMetric(float64(tokenTime)/float64(helloTime), "ratio")
}
