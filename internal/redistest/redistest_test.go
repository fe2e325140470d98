package redistest

import (
	"errors"
	"os/exec"

	"go.uber.org/goleak"
	"testing"
)

func TestStrict(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"empty", nil, false},
		{"ci true", map[string]string{"CI": "true"}, true},
		{"ci 1", map[string]string{"CI": "1"}, true},
		{"ci false", map[string]string{"CI": "false"}, false},
		{"ci garbage", map[string]string{"CI": "maybe"}, false},
		{"integration", map[string]string{"SPOTAUTH_INTEGRATION": "1"}, true},
		{"integration 0", map[string]string{"SPOTAUTH_INTEGRATION": "0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			if got := Strict(getenv); got != tt.want {
				t.Errorf("Strict(%v) = %v; want %v", tt.env, got, tt.want)
			}
		})
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of stopping
// the goroutine.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg = format
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = format
}

func TestRequireMissingBinary(t *testing.T) {
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	present := func(string) (string, error) { return "/usr/bin/redis-server", nil }
	tests := []struct {
		name                 string
		lookPath             func(string) (string, error)
		env                  map[string]string
		want                 bool
		wantSkip, wantFailed bool
	}{
		{"present", present, nil, true, false, false},
		{"present in CI", present, map[string]string{"CI": "true"}, true, false, false},
		{"missing locally skips", missing, nil, false, true, false},
		{"missing in CI fails", missing, map[string]string{"CI": "true"}, false, false, true},
		{"missing with SPOTAUTH_INTEGRATION fails", missing, map[string]string{"SPOTAUTH_INTEGRATION": "1"}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			got := require(r, tt.lookPath, func(k string) string { return tt.env[k] })
			if got != tt.want || r.skipped != tt.wantSkip || r.failed != tt.wantFailed {
				t.Errorf("require(env %v) = %v, skipped %v, failed %v; want %v, %v, %v",
					tt.env, got, r.skipped, r.failed, tt.want, tt.wantSkip, tt.wantFailed)
			}
		})
	}
}

func TestStartPingStopRestart(t *testing.T) {
	s := StartServer(t, Options{Persist: true})
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping(%s) after Start = %v; want nil", s.Addr, err)
	}
	if err := command(s.Addr, "SET k v"); err != nil {
		t.Fatalf("SET = %v", err)
	}
	s.Kill()
	if s.Running() {
		t.Errorf("Running() after Kill = true; want false")
	}
	if err := ping(s.Addr); err == nil {
		t.Fatalf("ping(%s) after Kill = nil; want an error", s.Addr)
	}
	s.Restart()
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping(%s) after Restart = %v; want nil", s.Addr, err)
	}
	got, err := get(s.Addr, "k")
	if err != nil || got != "v" {
		t.Errorf("GET k after kill and restart with Persist = %q, %v; want \"v\", nil", got, err)
	}
	s.Stop()
	s.Stop() // twice is fine
}

func TestStartWithoutPersistenceForgets(t *testing.T) {
	s := StartServer(t, Options{})
	if err := command(s.Addr, "SET k v"); err != nil {
		t.Fatalf("SET = %v", err)
	}
	s.Stop()
	s.Restart()
	got, err := get(s.Addr, "k")
	if !errors.Is(err, errNil) {
		t.Errorf("GET k after restart without Persist = %q, %v; want nil reply", got, err)
	}
}

func TestStartAddr(t *testing.T) {
	a, b := Start(t), Start(t)
	if a == b {
		t.Errorf("two Start calls gave the same address %s", a)
	}
	for _, addr := range []string{a, b} {
		if err := ping(addr); err != nil {
			t.Errorf("ping(%s) = %v; want nil", addr, err)
		}
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPauseResume(t *testing.T) {
	s := StartServer(t, Options{})
	if s.PID() <= 0 {
		t.Fatalf("PID() = %d; want a process ID", s.PID())
	}
	s.Pause()
	if err := ping(s.Addr); err == nil {
		t.Fatalf("ping(%s) while paused = nil; want a timeout", s.Addr)
	}
	s.Resume()
	// It answers again; on a loaded machine perhaps not within ping's 1 s.
	for i := 0; ; i++ {
		err := ping(s.Addr)
		if err == nil {
			break
		}
		if i == 10 {
			t.Fatalf("ping(%s) after Resume = %v, 10 times; want nil", s.Addr, err)
		}
	}
	s.Resume() // not paused: nothing happens

	// A paused server still stops, without waiting for the SIGKILL fallback.
	s.Pause()
	s.Stop()
	if s.Running() || s.PID() != 0 {
		t.Errorf("after Stop of a paused server: Running() = %v, PID() = %d; want false, 0", s.Running(), s.PID())
	}
	s.Resume() // not running: nothing happens
}
