// Package proctest starts other processes of the running test binary, for
// tests of what one process sees of another: a lock holder stopped with
// SIGSTOP (as by Ctrl-Z), for instance.
package proctest

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// StartStopped starts the test binary again with env added to its
// environment and -test.run=^$, so that only its TestMain runs, which
// reads env and prints "locked" once it holds what the test needs (a
// lock, say). It then stops the child with SIGSTOP and waits until the
// kernel reports it stopped. It returns the child's PID and a function
// that kills and reaps it, which is also called at the end of the test.
func StartStopped(t testing.TB, env ...string) (pid int, end func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	end = func() {
		if !done {
			done = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(end)
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("the child said %q, %v; want locked", line, err)
	}
	pid = cmd.Process.Pid
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// WUNTRACED reports the stop without reaping; cmd.Wait still reaps
	// the exit.
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, syscall.WUNTRACED, nil); err != nil || !ws.Stopped() {
		t.Fatalf("wait4(%d) = %v, status %v; want the child stopped", pid, err, ws)
	}
	return pid, end
}
