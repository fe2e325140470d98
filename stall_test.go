package spotauth_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// The tests in this file start the test binary again as a child process
// (selected by this variable) so that it can be stopped with SIGSTOP, or
// run with GOMAXPROCS=1, without affecting the other tests.
const stallChildEnv = "SPOTAUTH_STALL_CHILD"

// stallFake starts a fake Accounts service whose access tokens live for
// life, and returns a Config for it and a token issued now.
func stallFake(life time.Duration) (*spotauthtest.Server, *spotauth.Config, *spotauth.Token) {
	srv := spotauthtest.NewUnstartedServer()
	srv.AccessTokenLifetime = life
	srv.Start()
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	tok := &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(life)}
	return srv, cfg, tok
}

// runStallChild starts this test binary as a child running test with the
// child variable set to mode, and GOMAXPROCS=procs.
func runStallChild(t *testing.T, test, mode string, procs int) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), stallChildEnv+"="+mode, "GOMAXPROCS="+strconv.Itoa(procs))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewScanner(out)
}

// stallResult parses the child's "result k=v ..." line.
func stallResult(t *testing.T, sc *bufio.Scanner) map[string]int64 {
	t.Helper()
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "result ") {
			continue
		}
		res := map[string]int64{}
		for _, kv := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("child result %q: %v", line, err)
			}
			res[k] = n
		}
		return res
	}
	t.Fatalf("the child process printed no result (%v)", sc.Err())
	return nil
}

// TestNoExpiredTokenAfterStop: a process holding a 3 s token is stopped
// (SIGSTOP) before the refresh window and resumed about 1 s after the
// token expired; from then on, every Token call is checked against the
// clock read just before it. None may return an expired token, whatever
// GOMAXPROCS is. (With a coarse clock updated by a goroutine, the calls
// made before that goroutine ran again returned the expired token.)
func TestNoExpiredTokenAfterStop(t *testing.T) {
	if mode := os.Getenv(stallChildEnv); mode != "" {
		if mode == "stop" {
			stopChild()
		}
		return
	}
	if testing.Short() {
		t.Skip("stops child processes for several seconds")
	}
	for i, procs := range []int{1, 1, 2, 2} {
		t.Run(fmt.Sprintf("run%d/GOMAXPROCS=%d", i, procs), func(t *testing.T) {
			t.Parallel()
			cmd, sc := runStallChild(t, "TestNoExpiredTokenAfterStop", "stop", procs)
			var expiry time.Time
			for sc.Scan() {
				if ns, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
					n, err := strconv.ParseInt(ns, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					expiry = time.Unix(0, n)
					break
				}
			}
			if expiry.IsZero() {
				t.Fatalf("the child never got ready (%v)", sc.Err())
			}
			if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			stoppedAt := time.Now()
			if !waitProcState(cmd.Process.Pid, 'T') {
				t.Fatalf("the child is not stopped after SIGSTOP")
			}
			time.Sleep(time.Until(expiry.Add(time.Second)))
			if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			res := stallResult(t, sc)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}
			t.Logf("stopped %v before expiry, for %v; after the resume: %d calls in %v (loop end %d), %d errors, %d expired",
				expiry.Sub(stoppedAt).Round(time.Millisecond), time.Since(stoppedAt).Round(time.Millisecond),
				res["after"], time.Duration(res["since"]).Round(time.Millisecond), res["why"], res["errors"], res["expired"])
			if res["stalled"] == 0 {
				t.Fatalf("the child saw no stall (longest gap between two calls %v, at %v from the expiry); the test did not test anything",
					time.Duration(res["maxgap"]), time.Duration(res["maxgapat"]))
			}
			if res["after"] == 0 {
				t.Errorf("no Token call after the resume")
			}
			if res["expired"] != 0 {
				t.Errorf("%d of %d Token calls after the resume returned an expired token (latest by %v)",
					res["expired"], res["after"], time.Duration(res["worst"]))
			}
			if res["errors"] != 0 {
				t.Errorf("%d Token calls failed", res["errors"])
			}
		})
	}
}

// stopChild is the child of TestNoExpiredTokenAfterStop: it calls Token in
// a loop, says when it is ready to be stopped, and after it notices the
// stall (a gap of 500 ms between two calls) checks every call for 100 ms.
func stopChild() {
	srv, cfg, tok := stallFake(3 * time.Second)
	defer srv.Close()
	src := cfg.UserSource(tok, &spotauth.SourceOptions{Jitter: -1})
	defer src.Close()
	if _, err := src.Token(context.Background()); err != nil {
		fmt.Println("result errors=1")
		return
	}
	// The parent may stop this process as soon as it reads "ready", even
	// before the write returns: the stall must fall between last and the
	// next clock reading.
	last := time.Now()
	fmt.Println("ready", tok.Expiry.UnixNano())
	var after, expired, errs, worst, stalled, maxgap, maxgapat, why int64
	var resumed time.Time
	limit := time.Now().Add(time.Minute)
	for {
		before := time.Now()
		if g := int64(before.Sub(last)); g > maxgap {
			maxgap, maxgapat = g, int64(before.Sub(tok.Expiry))
		}
		// The parent resumes this process a second after the token expired:
		// a gap seen earlier is only a busy machine.
		if before.Sub(last) > 500*time.Millisecond && resumed.IsZero() && before.After(tok.Expiry) {
			resumed, stalled = before, 1
		}
		last = before
		got, err := src.Token(context.Background())
		if !resumed.IsZero() {
			after++
			switch {
			case err != nil:
				errs++
			case !got.Expiry.After(before):
				expired++
				worst = max(worst, int64(before.Sub(got.Expiry)))
			}
			if before.Sub(resumed) > 100*time.Millisecond {
				why = 1
				break
			}
		}
		if before.After(limit) {
			why = 2
			break
		}
	}
	var since int64
	if !resumed.IsZero() {
		since = int64(time.Since(resumed))
	}
	fmt.Printf("result after=%d expired=%d errors=%d worst=%d stalled=%d maxgap=%d maxgapat=%d why=%d since=%d\n",
		after, expired, errs, worst, stalled, maxgap, maxgapat, why, since)
}

// TestNoExpiredTokenStarved: 256 goroutines call Token without pause on
// one OS thread (GOMAXPROCS=1) across several expiries of 3 s tokens, each
// call checked against the clock read just before it: no expired token.
func TestNoExpiredTokenStarved(t *testing.T) {
	if mode := os.Getenv(stallChildEnv); mode != "" {
		if mode == "starve" {
			starveChild()
		}
		return
	}
	if testing.Short() {
		t.Skip("spins 256 goroutines for several seconds")
	}
	cmd, sc := runStallChild(t, "TestNoExpiredTokenStarved", "starve", 1)
	res := stallResult(t, sc)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	t.Logf("%d calls, %d refreshes for %d expiries, %d errors, %d expired",
		res["calls"], res["refreshes"], res["expiries"], res["errors"], res["expired"])
	if res["expired"] != 0 {
		t.Errorf("%d of %d Token calls returned an expired token (latest by %v)", res["expired"], res["calls"], time.Duration(res["worst"]))
	}
	// A caller starved for longer than a token lives (256 goroutines
	// share one thread; each waits its turn of up to 10 ms behind all the
	// others) may find that even the refreshed token expired before it
	// ran again: it then gets an error saying so, never the token.
	if res["other"] != 0 {
		t.Errorf("%d Token calls failed other than with an already expired refreshed token", res["other"])
	}
	if res["refreshes"] < res["expiries"] {
		t.Errorf("%d refreshes for %d expiries; the tokens were not renewed", res["refreshes"], res["expiries"])
	}
}

func starveChild() {
	const life = 3 * time.Second
	srv, cfg, tok := stallFake(life)
	defer srv.Close()
	src := cfg.UserSource(tok, nil)
	defer src.Close()
	var calls, expired, errs, other, worst atomic.Int64
	end := time.Now().Add(3*life + life/2)
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for n := 0; ; n++ {
				before := time.Now()
				if before.After(end) {
					return
				}
				got, err := src.Token(context.Background())
				calls.Add(1)
				switch {
				case err != nil:
					errs.Add(1)
					if !strings.Contains(err.Error(), "already expired") {
						other.Add(1)
						fmt.Fprintln(os.Stderr, "Token:", err)
					}
				case !got.Expiry.After(before):
					expired.Add(1)
					d := int64(before.Sub(got.Expiry))
					for w := worst.Load(); d > w && !worst.CompareAndSwap(w, d); w = worst.Load() {
					}
				}
			}
		})
	}
	wg.Wait()
	refreshes := 0
	for _, e := range srv.TokenLog() {
		if e.Grant == "refresh_token" && e.Status == 200 {
			refreshes++
		}
	}
	fmt.Printf("result calls=%d expired=%d errors=%d other=%d worst=%d refreshes=%d expiries=%d\n",
		calls.Load(), expired.Load(), errs.Load(), other.Load(), worst.Load(), refreshes, 3)
}

// waitProcState reports whether process pid reaches state (a letter of
// /proc/PID/stat, such as 'T' for stopped), polling for up to 10 s.
func waitProcState(pid int, state byte) bool {
	for range 1000 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces; the state follows
		// the last ')'.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && b[i+2] == state {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
