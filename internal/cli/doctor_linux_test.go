package cli

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth/internal/proctest"
)

// doctor finds the lock of the profile's token held by a stopped process
// (a spotauth token suspended with Ctrl-Z, say), names it and says how to
// resume or end it; token, which would wait for that lock to refresh, and
// doctor exit with the same code. Once the holder is gone, doctor is
// happy again.
func TestDoctorStoppedLockHolder(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	pid, end := proctest.StartStopped(t, holdLockEnv+"="+e.dir)

	r := e.run(runOpts{}, "doctor")
	p := strconv.Itoa(pid)
	for _, w := range []string{"[ok  ] the user token of profile default loads",
		"[FAIL] the lock of the user token of profile default is held by process " + p + " (stopped)",
		"kill -CONT " + p, "kill " + p} {
		if !strings.Contains(r.out, w) {
			t.Errorf("doctor = %q; want it to contain %q", r.out, w)
		}
	}
	if r.code != ExitError {
		t.Errorf("doctor = exit %d; want %d\n%s%s", r.code, ExitError, r.out, r.err)
	}
	// refresh waits for the lock too: the same problem, the same code.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if rf := e.run(runOpts{ctx: ctx}, "refresh"); rf.code != r.code || !strings.Contains(rf.err, "kill -CONT "+p) {
		t.Errorf("refresh behind the stopped holder = exit %d %q; want %d and the same advice", rf.code, rf.err, r.code)
	}

	end()
	if r := e.run(runOpts{}, "doctor"); r.code != 0 || strings.Contains(r.out, "[FAIL]") {
		t.Errorf("doctor after the holder ended = exit %d\n%s%s", r.code, r.out, r.err)
	}
}
