package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// The end-to-end tests run the spotauth binary, built once with go build.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// buildBinaries builds spotauth and, for the benchmark, a hello-world
// program the same way.
func buildBinaries(tb testing.TB) (spotauth, hello string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds the spotauth binary; skipped with -short")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "spotauth-e2e-")
		if binErr != nil {
			return
		}
		goTool := goTool()
		// Both binaries are built as releases are: static (CGO_ENABLED=0),
		// so the dynamic loader is not part of the start-up measured.
		env := append(os.Environ(), "CGO_ENABLED=0")
		build := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "spotauth"), "github.com/spotauth/spotauth/cmd/spotauth")
		build.Env = env
		out, err := build.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build spotauth: %v\n%s", err, out)
			return
		}
		helloDir := filepath.Join(binDir, "hello")
		os.MkdirAll(helloDir, 0o700)
		os.WriteFile(filepath.Join(helloDir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o600)
		os.WriteFile(filepath.Join(helloDir, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, world\") }\n"), 0o600)
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "hello-bin"), ".")
		cmd.Dir, cmd.Env = helloDir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build hello: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return filepath.Join(binDir, "spotauth"), filepath.Join(binDir, "hello-bin")
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); statOK(p) {
		return p
	}
	return "go"
}

func statOK(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func cleanupBinaries() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// proc is the environment of spotauth processes under test: only the
// variables set here, so that the developer's own SSH_CONNECTION, BROWSER
// or SPOTIFY_* never leak in.
type proc struct {
	t    testing.TB
	bin  string
	srv  *spotauthtest.Server // nil when talking to an accounts-server process
	vars map[string]string
}

func newProc(t testing.TB, srv *spotauthtest.Server) *proc {
	t.Helper()
	bin, _ := buildBinaries(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, bin: bin, srv: srv, vars: map[string]string{
		"PATH":       os.Getenv("PATH"),
		"HOME":       t.TempDir(),
		envConfigDir: t.TempDir(),
		"BROWSER":    self,
		helperEnv:    "approve",
	}}
	if srv != nil {
		p.vars[envAccountsURL], p.vars[envAPIURL], p.vars[spotauth.EnvClientID] = srv.URL, srv.URL, srv.ClientID
	}
	return p
}

func (p *proc) environ() []string {
	var env []string
	for k, v := range p.vars {
		env = append(env, k+"="+v)
	}
	return env
}

func (p *proc) command(ctx context.Context, stdin io.Reader, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Env = p.environ()
	cmd.Stdin = stdin
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	return cmd, &out, &errOut
}

// run runs spotauth and returns stdout, stderr and the exit code.
func (p *proc) run(args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, out, errOut := p.command(ctx, nil, args...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatalf("spotauth %v: %v", args, err)
	}
	return result{out.String(), errOut.String(), code}
}

func (p *proc) must(args ...string) result {
	p.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.t.Fatalf("spotauth %s = exit %d; want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

// TestE2EAccountsServer runs the whole life of a login with two binaries:
// spotauth accounts-server as the service, and spotauth login, token,
// refresh, status and logout against it, with $BROWSER approving.
func TestE2EAccountsServer(t *testing.T) {
	t.Parallel()
	bin, _ := buildBinaries(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server := exec.CommandContext(ctx, bin, "accounts-server", "--port", "0", "--redirect-uri", "http://127.0.0.1/callback")
	server.Env = []string{"PATH=" + os.Getenv("PATH")}
	server.Cancel = func() error { return server.Process.Signal(os.Interrupt) }
	server.WaitDelay = 5 * time.Second
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var serverErr bytes.Buffer
	server.Stderr = &serverErr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{} // from its export lines, up to the last
	sc := bufio.NewScanner(stdout)
	for vars[spotauth.EnvRedirectURI] == "" && sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
			vars[k] = v
		}
	}
	if vars[envAccountsURL] == "" {
		t.Fatalf("accounts-server printed %v; want SPOTAUTH_ACCOUNTS_URL=...\n%s", vars, serverErr.String())
	}
	go io.Copy(io.Discard, stdout)

	p := newProc(t, nil)
	for k, v := range vars {
		p.vars[k] = v
	}
	r := p.must("login", "--scope", "user-read-private,playlist-read-private")
	if !strings.Contains(r.err, "Logged in to Spotify as Test User") {
		t.Errorf("login stderr = %q", r.err)
	}
	tok := p.must("token")
	if !strings.HasPrefix(tok.out, "BQ") || strings.Count(tok.out, "\n") != 1 {
		t.Errorf("token stdout = %q; want one access token line", tok.out)
	}
	p.must("token", "--require-scope", "playlist-read-private")
	p.must("refresh")
	if again := p.must("token"); again.out == tok.out {
		t.Errorf("token after refresh = the old token")
	}
	if st := p.must("status", "--check"); !strings.Contains(st.out, "Check:          ok") {
		t.Errorf("status --check = %q", st.out)
	}
	p.must("logout")
	if r := p.run("token"); r.code != ExitAuth {
		t.Errorf("token after logout = exit %d; want %d", r.code, ExitAuth)
	}

	server.Process.Signal(os.Interrupt)
	if err := server.Wait(); err != nil {
		t.Errorf("accounts-server after SIGINT: %v\n%s", err, serverErr.String())
	}
	if !strings.Contains(serverErr.String(), "Stopping") {
		t.Errorf("accounts-server stderr = %q; want a clean stop", serverErr.String())
	}
}

// TestE2ELoginOutcomes covers each way a login ends, with the binary and
// $BROWSER playing the user.
func TestE2ELoginOutcomes(t *testing.T) {
	t.Parallel()
	srv := spotauthtest.NewServer()
	defer srv.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name, mode string
		args       []string
		code       int
		want       string
	}{
		{"approve", "approve", nil, 0, "Logged in to Spotify as Test User"},
		{"deny", "deny", nil, ExitDenied, "authorization denied in the browser; nothing was stored"},
		{"state mismatch", "mismatch", nil, ExitDenied, "state does not match"},
		{"busy port", "approve", []string{"--redirect-port", itoa(busy.Addr().(*net.TCPAddr).Port)}, ExitError, "is busy"},
		{"timeout", "ignore", []string{"--timeout", "500ms"}, ExitError, "no redirect from the browser within 500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProc(t, srv)
			p.vars[helperEnv] = tt.mode
			r := p.run(append([]string{"login"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.err, tt.want) {
				t.Errorf("login (%s) = exit %d, %q; want exit %d with %q", tt.mode, r.code, r.err, tt.code, tt.want)
			}
			if tt.name != "busy port" && !strings.Contains(r.err, srv.URL+"/authorize?") {
				t.Errorf("login did not print the URL: %q", r.err)
			}
			_, err := os.Stat(tokenFile(p.vars[envConfigDir], "default", userToken))
			if stored := err == nil; stored != (tt.code == 0) {
				t.Errorf("token stored = %v after login (%s); want %v", stored, tt.mode, tt.code == 0)
			}
		})
	}
}

// TestE2EPaste plays a user whose browser is on another machine: spotauth
// cannot open one, prints the URL and the ssh -L line, and the user pastes
// the URL the browser ended on.
func TestE2EPaste(t *testing.T) {
	t.Parallel()
	srv := spotauthtest.NewServer()
	defer srv.Close()
	for _, tt := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"ssh", map[string]string{"SSH_CONNECTION": "192.0.2.9 50000 192.0.2.1 22", "USER": "ana"}, nil},
		{"browser fails", map[string]string{helperEnv: "fail"}, nil},
		{"no-browser", nil, []string{"--no-browser"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProc(t, srv)
			for k, v := range tt.vars {
				p.vars[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			stdin, stdinW := io.Pipe()
			cmd, _, _ := p.command(ctx, stdin, append([]string{"login", "--scope", "read"}, tt.args...)...)
			stderrR, stderrW := io.Pipe()
			var errOut bytes.Buffer
			cmd.Stderr = io.MultiWriter(stderrW, &errOut)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() {
				sc := bufio.NewScanner(stderrR)
				var authURL string
				for sc.Scan() {
					line := strings.TrimSpace(sc.Text())
					if strings.HasPrefix(line, srv.URL+"/authorize?") {
						authURL = line
					}
					// The user pastes once they have the URL and, when
					// the browser fails, have read that it did.
					if authURL == "" || (tt.name == "browser fails" && !strings.HasPrefix(line, "Could not open a browser")) {
						continue
					}
					loc, err := srv.Authorize(authURL, true)
					if err != nil {
						stdinW.CloseWithError(err)
						return
					}
					fmt.Fprintf(stdinW, "%s\n", loc)
					stdinW.Close() // pasted; exec's stdin copy may end
					authURL = ""
				}
			}()
			err := cmd.Wait()
			stderrW.Close()
			stdinW.Close()
			if err != nil {
				t.Fatalf("login with a pasted URL: %v\n%s", err, errOut.String())
			}
			for _, want := range []string{"ssh -L ", "paste", "Logged in"} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("login stderr = %q; want %q", errOut.String(), want)
				}
			}
			if tt.name == "ssh" && !strings.Contains(errOut.String(), "ana@192.0.2.1") {
				t.Errorf("login stderr = %q; want the ssh -L line to ana@192.0.2.1", errOut.String())
			}
			p.must("token", "--require-scope", "user-top-read")
		})
	}
}

// TestE2EConcurrentTokenAtExpiry starts 8 spotauth token processes at once
// on an expired token: the file lock makes them refresh once between them,
// and all print the same valid token.
func TestE2EConcurrentTokenAtExpiry(t *testing.T) {
	t.Parallel()
	srv := spotauthtest.NewServer()
	defer srv.Close()
	p := newProc(t, srv)
	p.must("login")
	st := testFileStore(t, p.vars[envConfigDir], userToken)
	tok, err := st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok.Expiry = time.Now().Add(-time.Second)
	if err := st.Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()

	const n = 8
	outs := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outs[i] = p.run("token")
		}()
	}
	close(start)
	wg.Wait()
	if got := srv.Stats().Refreshes; got != 1 {
		t.Errorf("refresh requests from %d concurrent spotauth token = %d; want 1", n, got)
	}
	stored, _ := st.Load(context.Background())
	for i, r := range outs {
		if r.code != 0 || r.out != stored.AccessToken+"\n" {
			t.Errorf("process %d: exit %d, stdout %q; want the refreshed token\n%s", i, r.code, r.out, r.err)
		}
	}
	if _, err := fetchMe(context.Background(), srv.Client(), srv.URL, stored.AccessToken); err != nil {
		t.Errorf("the refreshed token fails at /v1/me: %v", err)
	}
}

// TestE2EDemo runs spotauth demo as a newcomer would: no flags, no
// environment, no network.
func TestE2EDemo(t *testing.T) {
	t.Parallel()
	bin, _ := buildBinaries(t)
	cmd := exec.Command(bin, "demo")
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "client-credentials app token") {
		t.Errorf("spotauth demo: %v\n%s", err, out)
	}
}
