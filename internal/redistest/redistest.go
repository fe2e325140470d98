// Package redistest starts real redis-server processes for tests, each on a
// free loopback port with its own temporary directory, and stops them when
// the test ends.
//
// When redis-server is not installed, tests that need it are skipped, unless
// the environment says that every component must be present (CI=true or
// SPOTAUTH_INTEGRATION=1): then a missing redis-server fails the test, so
// that CI never passes by skipping silently.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the name of the server program, looked up in $PATH.
const Binary = "redis-server"

// Options configure a server started by [StartServer]. The zero value is a
// server without persistence.
type Options struct {
	// Persist makes the server keep its data across [Server.Stop],
	// [Server.Kill] and [Server.Restart] (append-only file, fsync always).
	Persist bool
	// Args are extra redis-server arguments, such as "--maxmemory", "1mb".
	Args []string
	// Sentinel, if set, starts a Redis Sentinel (redis-server --sentinel)
	// monitoring a master instead of a data server.
	Sentinel *Sentinel
}

// Sentinel describes what a Sentinel started by [StartServer] monitors.
type Sentinel struct {
	// MasterName is the name clients ask for, such as "mymaster".
	MasterName string
	// MasterAddr is the master's "127.0.0.1:port".
	MasterAddr string
}

// Server is a running (or stopped) redis-server process owned by a test.
type Server struct {
	// Addr is the server's "127.0.0.1:port"; it stays the same across
	// restarts.
	Addr string

	t    testing.TB
	port int
	dir  string
	opts Options

	mu   sync.Mutex // guards cmd, done, log
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

// Start starts a redis-server for t and returns its address. The server is
// stopped when t ends. See the package doc for what happens when
// redis-server is missing.
func Start(t testing.TB) (addr string) {
	t.Helper()
	return StartServer(t, Options{}).Addr
}

// StartServer starts a redis-server for t with opts. It returns a handle
// that can stop, kill and restart it for fault tests; the server is stopped
// when t ends.
func StartServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if !Require(t) {
		return nil // only reached when t does not stop the goroutine (a test double)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("redistest: no free port: %v", err)
		return nil
	}
	s := &Server{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		t:    t,
		port: port,
		dir:  t.TempDir(),
		opts: opts,
	}
	t.Cleanup(s.Stop)
	if err := s.start(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return s
}

// Strict reports whether a missing component must fail the tests instead of
// skipping them: CI=true or SPOTAUTH_INTEGRATION=1 in getenv's environment.
func Strict(getenv func(string) string) bool {
	ci, _ := strconv.ParseBool(getenv("CI"))
	integ, _ := strconv.ParseBool(getenv("SPOTAUTH_INTEGRATION"))
	return ci || integ
}

// Require checks that redis-server is installed. If it is not, it skips t,
// or fails it when [Strict] holds for the process environment, and returns
// false.
func Require(t testing.TB) bool {
	t.Helper()
	return require(t, exec.LookPath, os.Getenv)
}

func require(t testing.TB, lookPath func(string) (string, error), getenv func(string) string) bool {
	t.Helper()
	if _, err := lookPath(Binary); err != nil {
		if Strict(getenv) {
			t.Fatalf("redistest: %s is required (CI or SPOTAUTH_INTEGRATION is set) but missing: %v; install it, e.g. apt-get install redis-server", Binary, err)
		} else {
			t.Skipf("redistest: %s not installed (%v); skipping; set CI=true or SPOTAUTH_INTEGRATION=1 to make this a failure", Binary, err)
		}
		return false
	}
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) args() ([]string, error) {
	var a []string
	if sn := s.opts.Sentinel; sn != nil {
		host, port, err := net.SplitHostPort(sn.MasterAddr)
		if err != nil {
			return nil, fmt.Errorf("sentinel master address: %w", err)
		}
		// Sentinel rewrites its configuration file, so it lives in dir.
		conf := filepath.Join(s.dir, "sentinel.conf")
		if _, err := os.Stat(conf); errors.Is(err, fs.ErrNotExist) {
			text := fmt.Sprintf("sentinel monitor %s %s %s 1\n", sn.MasterName, host, port)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				return nil, err
			}
		}
		a = append(a, conf, "--sentinel")
	}
	a = append(a,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--daemonize", "no",
		"--save", "",
		"--logfile", "",
	)
	if s.opts.Sentinel != nil {
		return append(a, s.opts.Args...), nil
	}
	if s.opts.Persist {
		a = append(a, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		a = append(a, "--appendonly", "no")
	}
	return append(a, s.opts.Args...), nil
}

// start launches the process and waits until it answers PING.
func (s *Server) start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("server already running")
	}
	args, err := s.args()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	log := new(bytes.Buffer)
	cmd := exec.Command(Binary, args...)
	cmd.Dir = s.dir
	w := &lockedWriter{mu: &s.mu, buf: log}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start %s: %w", Binary, err)
	}
	done := make(chan struct{})
	s.cmd, s.done, s.log = cmd, done, log
	s.mu.Unlock()
	go func() {
		cmd.Wait()
		close(done)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.Addr); err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited at start: %s", Binary, s.logTail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("%s did not answer PING on %s within 10s: %s", Binary, s.Addr, s.logTail())
		}
	}
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 1<<20 {
		w.buf.Write(p)
	}
	return len(p), nil
}

func (s *Server) logTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	out := s.log.String()
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return strings.TrimSpace(out)
}

// ping sends the inline command PING and expects +PONG, or -NOAUTH from a
// server that requires a password (it is up all the same).
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Running reports whether the server process is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Stop stops the server gracefully (SIGTERM, then SIGKILL after 5 s) and
// waits for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// for it to exit.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	// A paused (SIGSTOP) server acts on SIGTERM only once continued.
	cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// PID returns the process ID of the running server, or 0 when it is not
// running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Pause suspends the running server with SIGSTOP, as a stall of the host
// (a VM pause, swapping, a long fork) would: connections stay open, and
// commands sent meanwhile wait in the socket until [Server.Resume]. The
// server is resumed when the test ends, before it is stopped, so that no
// redis-server stays suspended.
func (s *Server) Pause() {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		s.t.Fatalf("redistest: Pause: server not running")
		return
	}
	s.t.Cleanup(s.Resume)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("redistest: Pause: %v", err)
	}
}

// Resume continues a server suspended by [Server.Pause] (SIGCONT).
// Resuming a server that is not paused, or not running, does nothing.
func (s *Server) Resume() {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Restart starts a stopped server again on the same address (with its data
// when [Options.Persist] is set). It fails the test if the server does not
// come up.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Errorf("redistest: restart: %v", err)
	}
}
