package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// runningAccountsServer is an accounts-server run in-process with its
// flags parsed by cobra.
type runningAccountsServer struct {
	url  string
	out  *syncWriter // stdout
	buf  *strings.Builder
	stop func() error
}

// startAccountsServer runs accounts-server args until the test ends;
// idle, if positive, is its server's idle timeout.
func startAccountsServer(t *testing.T, idle time.Duration, args ...string) *runningAccountsServer {
	t.Helper()
	buf := new(strings.Builder)
	out := &syncWriter{w: buf}
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: io.Discard}, Env: MapEnv(nil)}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cmd := newAccountsServerCmd(f, func(_ context.Context, o *accountsServerOptions) error {
		o.ready = func(u string) { ready <- u }
		o.idleTimeout = idle
		return runAccountsServer(ctx, o)
	})
	go func() { done <- execute(t, f, cmd, args...) }()
	s := &runningAccountsServer{out: out, buf: buf}
	s.stop = func() error {
		cancel()
		return <-done
	}
	select {
	case s.url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("accounts-server %v = %v; want it running", args, err)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// stdout returns what it printed on stdout.
func (s *runningAccountsServer) stdout() string {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.buf.String()
}

// shellEnv runs script with sh, with a stale SPOTIFY_CLIENT_SECRET in its
// environment, and returns the environment it ends with.
func shellEnv(t *testing.T, script string, args ...string) map[string]string {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", script + "\nenv", "sh"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), spotauth.EnvClientSecret + "=stale-secret"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// TestAccountsServerShellLines: the lines accounts-server prints (and
// writes with --env-file), evaluated or sourced by sh, point spotauth at
// it; the default app is a public one, so the secret is unset and the
// login uses PKCE.
func TestAccountsServerShellLines(t *testing.T) {
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "fake.env")
	s := startAccountsServer(t, 0, "--port", "0", "--client-id", "o'brien", "--auto-approve", "--env-file", envFile)
	lines := s.stdout()
	if fi, err := os.Stat(envFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("--env-file: %v, %v; want a file of mode 0600", fi, err)
	}
	want := map[string]string{
		envAccountsURL:          s.url,
		envAPIURL:               s.url,
		spotauth.EnvClientID:    "o'brien",
		spotauth.EnvRedirectURI: "http://127.0.0.1/callback",
	}
	for name, env := range map[string]map[string]string{
		"eval":   shellEnv(t, `eval "$1"`, lines),
		"source": shellEnv(t, `. "$1"`, envFile),
	} {
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s of the lines %q: %s=%q; want %q", name, lines, k, env[k], v)
			}
		}
		if v, ok := env[spotauth.EnvClientSecret]; ok {
			t.Errorf("%s of the lines %q: %s=%q; want it unset (a public app)", name, lines, spotauth.EnvClientSecret, v)
		}
	}
	if last := strings.Split(strings.TrimSpace(lines), "\n"); !strings.HasPrefix(last[len(last)-1], "export "+spotauth.EnvRedirectURI+"=") {
		t.Errorf("last line %q; want SPOTIFY_REDIRECT_URI's (readers stop there)", last[len(last)-1])
	}

	// spotauth logs in with those settings alone: PKCE.
	dir := t.TempDir()
	e := &testEnv{t: t, dir: dir, vars: map[string]string{envConfigDir: dir}}
	for k, v := range want {
		e.vars[k] = v
	}
	var out, errOut strings.Builder
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Env: MapEnv(e.vars), Browser: httpBrowser{}, HTTP: noKeepAliveClient()}
	if code := Run(context.Background(), []string{"login", "--scope", "read"}, f); code != 0 || !strings.Contains(errOut.String(), "authorization code with PKCE") {
		t.Errorf("login with the printed settings = exit %d\n%s", code, errOut.String())
	}
}

// TestAccountsServerClientSecret: --client-secret makes the app
// confidential, and the lines carry the secret.
func TestAccountsServerClientSecret(t *testing.T) {
	t.Parallel()
	s := startAccountsServer(t, 0, "--port", "0", "--client-secret", "s3cret")
	env := shellEnv(t, `eval "$1"`, s.stdout())
	if env[spotauth.EnvClientSecret] != "s3cret" || env[spotauth.EnvClientID] != "spotauthtest-client" {
		t.Errorf("lines %q set client ID %q, secret %q; want spotauthtest-client, s3cret", s.stdout(), env[spotauth.EnvClientID], env[spotauth.EnvClientSecret])
	}
}

// TestAccountsServerDefaults: a fixed port on the loopback address, and a
// public app.
func TestAccountsServerDefaults(t *testing.T) {
	t.Parallel()
	var got *accountsServerOptions
	f := testFactory()
	if err := execute(t, f, newAccountsServerCmd(f, func(_ context.Context, o *accountsServerOptions) error { got = o; return nil })); err != nil {
		t.Fatal(err)
	}
	if got.Host != "127.0.0.1" || got.Port != defaultAccountsServerPort || got.Port == 0 || got.ClientSecret != "" || got.ClientID != "spotauthtest-client" {
		t.Errorf("accounts-server defaults = %+v; want 127.0.0.1, port %d, a public app", *got, defaultAccountsServerPort)
	}
}

// TestAccountsServerBusyPort: a busy port is an error that suggests
// --port 0.
func TestAccountsServerBusyPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	e := newTestEnv(t, nil)
	r := e.run(runOpts{}, "accounts-server", "--port", port)
	if r.code != ExitError || !strings.Contains(r.err, "port "+port+" on 127.0.0.1 is busy") || !strings.Contains(r.err, "--port 0") {
		t.Errorf("accounts-server on a busy port = exit %d %q; want %d, saying it is busy and suggesting --port 0", r.code, r.err, ExitError)
	}
}

// TestAccountsServerHelp: its help lists its own flags, not the settings
// of the other commands; theirs still list them.
func TestAccountsServerHelp(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	for _, args := range [][]string{{"accounts-server", "--help"}, {"help", "accounts-server"}} {
		r := e.must(args...)
		for _, want := range []string{"--port", "--host", "--env-file", "--client-id", "--client-secret", "--redirect-uri", "--auto-approve", "--token-lifetime"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("spotauth %v lacks %s:\n%s", args, want, r.out)
			}
		}
		for _, unwanted := range []string{"Global Flags", "--profile", "--store", "--config", "--accounts-url", "--api-url"} {
			if strings.Contains(r.out, unwanted) {
				t.Errorf("spotauth %v lists %s:\n%s", args, unwanted, r.out)
			}
		}
	}
	if r := e.must("token", "--help"); !strings.Contains(r.out, "--profile") {
		t.Errorf("spotauth token --help lacks --profile:\n%s", r.out)
	}
}

// TestAccountsServerClosesIdleConnections: a keep-alive connection left
// idle is closed by the server (the test's deadline is the failure).
func TestAccountsServerClosesIdleConnections(t *testing.T) {
	t.Parallel()
	s := startAccountsServer(t, 50*time.Millisecond, "--port", "0")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if d, ok := t.Deadline(); ok {
		conn.SetDeadline(d.Add(-5 * time.Second))
	}
	if _, err := io.WriteString(conn, "GET /v1/me HTTP/1.1\r\nHost: fake\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatalf("the server closed the connection after the response; want it kept alive, then closed when idle")
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("reading the idle connection = %v; want EOF (closed by the server)", err)
	}
}

// TestHTTPServerTimeouts: the servers spotauth runs have every timeout.
func TestHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	s := newHTTPServer()
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("newHTTPServer() timeouts: header %v, read %v, write %v, idle %v; want all set",
			s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
}
