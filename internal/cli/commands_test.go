package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"token", "--nope"}, "unknown flag"},
		{[]string{"token", "extra"}, "takes no arguments"},
		{[]string{"token", "--min-valid", "soon"}, "invalid argument"},
		{[]string{"token", "--min-valid", "-1s"}, "invalid --min-valid"},
		{[]string{"token", "--client-credentials", "--require-scope", "read"}, "cannot be used"},
		{[]string{"login", "--timeout", "0s"}, "invalid --timeout"},
		{[]string{"login", "--redirect-port", "70000"}, "invalid --redirect-port"},
		{[]string{"--profile", "../x", "status"}, "invalid profile"},
		{[]string{"--store", "s3://bucket", "status"}, "unsupported --store"},
		{[]string{"token", "--require-scope", "nonsense"}, "nonsense"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := e.run(runOpts{}, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("spotauth %v = exit %d; want %d\n%s", tt.args, r.code, ExitUsage, r.err)
			}
			if !strings.Contains(r.err, tt.want) || !strings.HasPrefix(r.err, "spotauth: ") {
				t.Errorf("spotauth %v stderr = %q; want it to start with spotauth: and contain %q", tt.args, r.err, tt.want)
			}
			if lines := strings.Split(strings.TrimSpace(r.err), "\n"); len(lines) < 2 {
				t.Errorf("spotauth %v stderr = %q; want a hint line", tt.args, r.err)
			}
			if r.out != "" {
				t.Errorf("spotauth %v stdout = %q; want nothing", tt.args, r.out)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.must("--help")
	for _, want := range []string{"Exit codes:", "3  not logged in", "SPOTAUTH_CONFIG_DIR", "login", "token", "accounts-server", "demo", "completion", "doctor", "\n  api "} {
		if !strings.Contains(r.out, want) {
			t.Errorf("spotauth --help = %q; want it to contain %q", r.out, want)
		}
	}
	if v := e.must("version"); !strings.HasPrefix(v.out, "spotauth ") || !strings.Contains(v.out, "go1.") {
		t.Errorf("spotauth version = %q", v.out)
	} else if fv := e.must("--version"); fv.out != v.out {
		t.Errorf("spotauth --version = %q; want what spotauth version prints, %q", fv.out, v.out)
	}
	if c := e.must("completion", "bash"); !strings.Contains(c.out, "spotauth") {
		t.Errorf("spotauth completion bash printed %d bytes without spotauth", len(c.out))
	}
}

func TestScopesCommand(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.must("scopes")
	for _, want := range []string{"user-read-private", "user-soa-link", "read ", "every"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("spotauth scopes = %q; want it to contain %q", r.out, want)
		}
	}
	js := e.must("scopes", "--json")
	var v struct {
		Scopes []struct {
			Name, Description string
			OpenAccess        bool `json:"open_access"`
		}
		Presets map[string][]string
	}
	if err := json.Unmarshal([]byte(js.out), &v); err != nil {
		t.Fatalf("scopes --json: %v", err)
	}
	oa := 0
	for _, s := range v.Scopes {
		if s.Description == "" {
			t.Errorf("scope %s has no description", s.Name)
		}
		if s.OpenAccess {
			oa++
		}
	}
	if len(v.Scopes) != 24 || oa != 5 {
		t.Errorf("scopes --json lists %d scopes, %d Open Access; want 24, 5", len(v.Scopes), oa)
	}
	for _, p := range []string{"read", "write", "every"} {
		for _, s := range v.Presets[p] {
			if s == "streaming" || s == "app-remote-control" {
				t.Errorf("preset %s holds %s", p, s)
			}
		}
		if len(v.Presets[p]) == 0 {
			t.Errorf("preset %s is empty", p)
		}
	}
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		vars  map[string]string
		setup func(e *testEnv)
		code  int
		want  []string
	}{
		{name: "good", code: 0, want: []string{"[ok  ] client ID spotauthtest-client", "knows client ID and redirect URI", "No problems found"}},
		{name: "localhost", vars: map[string]string{spotauth.EnvRedirectURI: "http://localhost:8888/callback"}, code: ExitConfig,
			want: []string{"[FAIL] redirect URI http://localhost:8888/callback", "127.0.0.1"}},
		{name: "http non-loopback", vars: map[string]string{spotauth.EnvRedirectURI: "http://example.com/callback"}, code: ExitConfig,
			want: []string{"[FAIL]", "loopback"}},
		{name: "no client id", vars: map[string]string{spotauth.EnvClientID: ""}, code: ExitConfig, want: []string{"[FAIL] no client ID", "--client-id"}},
		{name: "unknown client id", vars: map[string]string{spotauth.EnvClientID: "ghost"}, code: ExitConfig, want: []string{"does not know client ID ghost"}},
		{name: "unregistered redirect", vars: map[string]string{spotauth.EnvRedirectURI: "http://127.0.0.1:9999/other"}, code: ExitConfig,
			want: []string{"is not registered", "[warn] login needs port 9999 free"}},
		{name: "secret", setup: func(e *testEnv) { e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret }, code: 0,
			want: []string{"[warn] a client secret is configured", "PKCE needs no secret", "accepts the client secret"}},
		{name: "wrong secret", vars: map[string]string{spotauth.EnvClientSecret: "wrong-secret"}, code: ExitConfig,
			want: []string{"[FAIL] Accounts service", "refused the client secret", "Check the client secret"}},
		{name: "unreachable", vars: map[string]string{envAccountsURL: "http://127.0.0.1:1"}, code: ExitNetwork, want: []string{"unreachable"}},
		{name: "world-readable token file", code: ExitConfig, setup: func(e *testEnv) {
			e.login()
			os.Chmod(tokenFile(e.dir, "default", userToken), 0o644)
			os.Chmod(e.dir, 0o755)
		}, want: []string{"holds secrets and is readable by others", "chmod 600", "[warn] token directory", "chmod 700"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			for k, v := range tt.vars {
				e.vars[k] = v
			}
			if tt.setup != nil {
				tt.setup(e)
			}
			r := e.run(runOpts{}, "doctor")
			if r.code != tt.code {
				t.Errorf("doctor = exit %d; want %d\n%s%s", r.code, tt.code, r.out, r.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("doctor = %q; want it to contain %q", r.out, w)
				}
			}
		})
	}
}

func TestAccountsServer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil) // its fake is unused; accounts-server runs its own
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errOut strings.Builder
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &syncWriter{w: &out}, ErrOut: &syncWriter{w: &errOut}}, Env: MapEnv(e.vars)}
	done := make(chan int, 1)
	go func() {
		root := newRootCmd(f, nil)
		for _, c := range root.Commands() {
			if c.Name() == "accounts-server" {
				c.RunE = func(cmd *cobraCommand, args []string) error {
					opts := &accountsServerOptions{IO: f.IO, Host: "127.0.0.1", ClientID: "my-app", RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]/cb"},
						TokenLifetime: time.Minute, AutoApprove: true, ready: func(u string) { ready <- u }}
					return runAccountsServer(cmd.Context(), opts)
				}
			}
		}
		root.SetArgs([]string{"accounts-server"})
		_, err := root.ExecuteContextC(ctx)
		done <- exitCode(err)
	}()
	var base string
	select {
	case base = <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("accounts-server did not start")
	}
	// A client in "any language" (here: spotauth itself) logs in against it.
	e.vars[envAccountsURL], e.vars[envAPIURL], e.vars[spotauth.EnvClientID], e.vars[spotauth.EnvRedirectURI] = base, base, "my-app", "http://127.0.0.1/cb"
	b := &httpBrowser{}
	r := e.run(runOpts{browser: b}, "login")
	if r.code != 0 {
		t.Fatalf("login against accounts-server = exit %d\n%s", r.code, r.err)
	}
	js := e.must("token", "--json")
	var v tokenJSON
	json.Unmarshal([]byte(js.out), &v)
	if exp, _ := time.Parse(time.RFC3339, v.ExpiresAt); time.Until(exp) > 2*time.Minute {
		t.Errorf("token expires at %s; want within the 1m --token-lifetime", v.ExpiresAt)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("accounts-server after cancel = exit %d; want 0", code)
	}
	for _, want := range []string{"export SPOTAUTH_ACCOUNTS_URL=" + base, "export SPOTIFY_CLIENT_ID=my-app", "export SPOTIFY_REDIRECT_URI=http://127.0.0.1/cb"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("accounts-server stdout = %q; want %q", out.String(), want)
		}
	}
	if !strings.Contains(errOut.String(), "public (PKCE only)") || !strings.Contains(errOut.String(), "Stopping") {
		t.Errorf("accounts-server stderr = %q", errOut.String())
	}
}

func TestAccountsServerBadApp(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.run(runOpts{}, "accounts-server", "--redirect-uri", "http://localhost/cb")
	if r.code != ExitUsage || !strings.Contains(r.err, "localhost") {
		t.Errorf("accounts-server with a localhost URI = exit %d %q; want %d", r.code, r.err, ExitUsage)
	}
	r = e.run(runOpts{}, "accounts-server", "--host", "256.0.0.1", "--port", "0")
	if r.code != ExitError || !strings.Contains(r.err, "--host") {
		t.Errorf("accounts-server --host 256.0.0.1 = exit %d %q; want %d", r.code, r.err, ExitError)
	}
	r = e.run(runOpts{}, "accounts-server", "--port", "65536")
	if r.code != ExitUsage || !strings.Contains(r.err, "invalid --port") {
		t.Errorf("accounts-server --port 65536 = exit %d %q; want %d", r.code, r.err, ExitUsage)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	e := &testEnv{t: t, vars: map[string]string{}} // no flags, no environment
	var out, errOut strings.Builder
	code := Run(context.Background(), []string{"demo"}, &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Env: MapEnv(e.vars)})
	if code != 0 {
		t.Fatalf("demo = exit %d\n%s%s", code, out.String(), errOut.String())
	}
	steps := []string{"started a fake Accounts service", "PKCE authorization URL", "code_challenge_method=S256", "consent auto-approved",
		"exchanged the code", "GET /v1/me", "Test User", "refreshed", "client-credentials app token", "nothing was stored"}
	for _, s := range steps {
		if !strings.Contains(out.String(), s) {
			t.Errorf("demo output lacks %q:\n%s", s, out.String())
		}
	}
	if n := strings.Count(out.String(), "redacted"); n < 5 {
		t.Errorf("demo shows %d redacted tokens; want every token redacted", n)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		for _, f := range strings.Fields(line) {
			if (strings.HasPrefix(f, "BQ") || strings.HasPrefix(f, "AQ")) && !strings.Contains(f, "…[redacted") {
				t.Errorf("demo shows a token: %q", f)
			}
		}
	}
}

// httpBrowser follows every redirect, as a browser on a consent page that
// approves at once (accounts-server --auto-approve).
type httpBrowser struct{}

func (httpBrowser) Browse(u string) error {
	c := noKeepAliveClient()
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestStoreFlagDirectory(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	dir := filepath.Join(t.TempDir(), "tokens")
	e.login("--store", "file://"+dir)
	if _, err := os.Stat(filepath.Join(dir, "default.json")); err != nil {
		t.Errorf("token not in --store directory: %v", err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("store directory mode = %v, %v; want 0700", fi, err)
	}
	e.vars[envStore] = dir
	e.must("token")
	if _, err := os.Stat(tokenFile(e.dir, "default", userToken)); !os.IsNotExist(err) {
		t.Errorf("token also stored in the config dir: %v", err)
	}
}

// TestFileStoreDamaged: a damaged token file is called damaged (not a
// "malformed response", which is Spotify's), with exit 1 and what to do:
// log in again, or remove it with logout.
func TestFileStoreDamaged(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	os.WriteFile(tokenFile(e.dir, "default", userToken), []byte("{not json"), 0o600)
	for _, cmd := range []string{"token", "status"} {
		r := e.run(runOpts{}, cmd)
		if r.code != ExitError || !strings.Contains(r.err, "token file is damaged") || strings.Contains(r.err, "malformed response") ||
			!strings.Contains(r.err, "spotauth login") || !strings.Contains(r.err, "spotauth logout") {
			t.Errorf("%s with a damaged file = exit %d %q; want %d, damaged, and how to replace or remove it", cmd, r.code, r.err, ExitError)
		}
	}
	e.must("logout")
	e.login()
	e.must("token")
	_ = spotauth.ErrTokenNotFound
	_ = spotauthtest.DefaultClientID
}
