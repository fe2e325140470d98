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

// TestDeadCodeElimination: nothing the spotauth command links makes a
// method callable by name through reflection (text/template's execution
// does, for instance). If something did, the linker would keep every
// exported method of every type, go-redis's hundreds of commands among
// them: the binary grew from 17 to 28 MB, and a cached "spotauth token"
// ran 8% more instructions and took 5% more page faults.
// The linker marks such callers <ReflectMethod> in its -dumpdep output.
func TestDeadCodeElimination(t *testing.T) {
	if testing.Short() {
		t.Skip("links the spotauth binary; skipped with -short")
	}
	t.Parallel()
	cmd := exec.Command(goTool(), "build", "-ldflags=-dumpdep", "-o", os.DevNull, "github.com/spotauth/spotauth/cmd/spotauth")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, out)
	}
	deps := 0
	seen := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		from, _, ok := strings.Cut(line, " -> ")
		if !ok {
			continue
		}
		deps++
		if sym, marked := strings.CutSuffix(from, " <ReflectMethod>"); marked && !seen[sym] {
			seen[sym] = true
			t.Errorf("%s is reachable in the spotauth binary and calls methods by name: the linker keeps every exported method", sym)
		}
	}
	if deps < 1000 {
		t.Fatalf("go build -ldflags=-dumpdep printed %d dependencies; is the flag still supported?\n%.2000s", deps, out)
	}
}
