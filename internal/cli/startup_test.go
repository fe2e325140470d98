package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// TestStartupInit guards the start-up of a cached "spotauth token": the
// packages of this module, which every command links, must not do at init
// what only other commands need (parse the login page's and the fake's
// consent page's templates, hash the Redis store's Lua scripts, format
// errors). It counts their allocations at init, as GODEBUG=inittrace=1
// reports them for the built binary: a number that does not depend on the
// machine's load, unlike a time. They were 287 before; BenchmarkStartup
// measures the time.
func TestStartupInit(t *testing.T) {
	t.Parallel()
	bin, _ := buildBinaries(t)
	dir := t.TempDir()
	tok := &spotauth.Token{AccessToken: "BQstartup", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour), RefreshToken: "AQstartup", PKCE: true}
	if err := testFileStore(t, dir, userToken).Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "token")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), envConfigDir + "=" + dir, spotauth.EnvClientID + "=x", "GODEBUG=inittrace=1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != tok.AccessToken {
		t.Fatalf("spotauth token = %q, %v\n%s", out, err, stderr.String())
	}
	const module = "github.com/spotauth/spotauth"
	// A line: init github.com/spotauth/spotauth/login @1.2 ms, 0.01 ms clock, 72 bytes, 2 allocs
	total, lines := 0, 0
	var report strings.Builder
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[10] != "allocs" {
			continue
		}
		lines++
		if f[1] != module && !strings.HasPrefix(f[1], module+"/") {
			continue
		}
		var n int
		if _, err := fmt.Sscan(f[9], &n); err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		total += n
		fmt.Fprintf(&report, "  %s: %d allocs\n", f[1], n)
	}
	if lines == 0 {
		t.Fatalf("no inittrace lines in the output:\n%s", stderr.String())
	}
	const limit = 64
	if total > limit {
		t.Errorf("the packages of %s allocate %d times at init (limit %d): keep what only other commands need off the token path\n%s", module, total, limit, report.String())
	}
}
