package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options describe a fleet run.
type Options struct {
	// Workers is the number of worker processes.
	Workers int
	// Worker is the configuration of every worker; ID is set per worker.
	Worker WorkerConfig
	// OnEvent, if set, is called with each event line of a worker, split
	// into fields (such as "holding", pid, unix-nanoseconds).
	OnEvent func(p *Proc, fields []string)
	// During, if set, runs while the workers run, with the start time.
	During func(start time.Time)
}

// Proc is a running worker process.
type Proc struct {
	ID  int
	cmd *exec.Cmd

	mu     sync.Mutex
	killed bool
	killAt time.Time
	exitAt time.Time // when its output ended: it had exited, its locks dropped
	stderr bytes.Buffer
	other  bytes.Buffer
	result *WorkerResult
}

// Kill kills the worker with SIGKILL, as a crash would.
func (p *Proc) Kill() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.killed {
		p.killed = true
		p.cmd.Process.Kill()
		p.killAt = time.Now()
	}
	return p.killAt
}

// Exited returns when the worker's output ended, which the kernel does
// when the process exits, after it dropped its file locks (zero if it is
// still running).
func (p *Proc) Exited() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitAt
}

// Killed reports whether Kill was called.
func (p *Proc) Killed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed
}

type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 64<<10 {
		w.buf.Write(b)
	}
	return len(b), nil
}

// Run starts opts.Workers worker processes (this test binary, whose
// TestMain calls [MaybeWorker]), waits for them to end, and returns the
// results of those that were not killed. A worker that fails fails t.
func Run(t testing.TB, opts Options) (results []*WorkerResult, procs []*Proc) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("fleet: os.Executable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Worker.Duration+30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < opts.Workers; i++ {
		cfg := opts.Worker
		cfg.ID = i
		raw, _ := json.Marshal(cfg)
		cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), EnvWorker+"="+string(raw))
		p := &Proc{ID: i, cmd: cmd}
		cmd.Stderr = lockedBuffer{&p.mu, &p.stderr}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatalf("fleet: %v", err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("fleet: start worker %d: %v", i, err)
		}
		procs = append(procs, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, eventPrefix):
					if opts.OnEvent != nil {
						opts.OnEvent(p, strings.Fields(strings.TrimPrefix(line, eventPrefix)))
					}
				case strings.HasPrefix(line, resultPrefix):
					var r WorkerResult
					if err := json.Unmarshal([]byte(strings.TrimPrefix(line, resultPrefix)), &r); err != nil {
						t.Errorf("fleet: worker %d: bad result: %v", p.ID, err)
						continue
					}
					p.mu.Lock()
					p.result = &r
					p.mu.Unlock()
				default:
					lockedBuffer{&p.mu, &p.other}.Write([]byte(line + "\n"))
				}
			}
			exitAt := time.Now()
			err := cmd.Wait()
			p.mu.Lock()
			defer p.mu.Unlock()
			p.exitAt = exitAt
			if !p.killed && (err != nil || p.result == nil) {
				t.Errorf("fleet: worker %d failed: %v\nstderr:\n%s\nstdout:\n%s", p.ID, err, tail(p.stderr.String()), tail(p.other.String()))
			}
		}()
	}
	if opts.During != nil {
		opts.During(start)
	}
	wg.Wait()
	for _, p := range procs {
		if p.result != nil && !p.killed {
			results = append(results, p.result)
		}
	}
	return results, procs
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// Totals sums the workers' results.
type Totals struct {
	Calls, Errors, ErrorsWithValidToken, ExpiredReturned int64
	MeChecks, MeInvalid, MeLate, MeOther                 int64
	Refreshes, Holds, RoundTrips, Commands               int64
	LeaseLost                                            int64
	MaxExpiredBy, ExpiredCallTook                        time.Duration
	ErrorSamples                                         []string
}

// Sum adds up results.
func Sum(results []*WorkerResult) Totals {
	var t Totals
	for _, r := range results {
		t.Calls += r.Calls
		t.Errors += r.Errors
		t.ErrorsWithValidToken += r.ErrorsWithValidToken
		t.ExpiredReturned += r.ExpiredReturned
		t.MeChecks += r.MeChecks
		t.MeInvalid += r.MeInvalid
		t.MeLate += r.MeLate
		t.MeOther += r.MeOther
		t.Refreshes += r.Refreshes
		t.Holds += r.Holds
		t.RoundTrips += r.RoundTrips
		t.Commands += r.Commands
		t.LeaseLost += r.LeaseLost
		if r.MaxExpiredBy > t.MaxExpiredBy {
			t.MaxExpiredBy, t.ExpiredCallTook = r.MaxExpiredBy, r.ExpiredCallTook
		}
		for _, s := range r.ErrorSamples {
			if len(t.ErrorSamples) < 5 {
				t.ErrorSamples = append(t.ErrorSamples, fmt.Sprintf("worker %d: %s", r.ID, s))
			}
		}
	}
	return t
}
