package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

func TestLoginTokenRefreshLogout(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	b := e.follow()
	r := e.run(runOpts{browser: b}, "login", "--scope", "user-read-private,user-read-email", "-s", "playlist-read-private")
	if r.code != 0 {
		t.Fatalf("login = exit %d; want 0\n%s", r.code, r.err)
	}
	for _, want := range []string{"/authorize?", "Logged in to Spotify as Test User (spotauthtest-user)", "playlist-read-private user-read-email user-read-private", "with PKCE"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("login stderr = %q; want it to contain %q", r.err, want)
		}
	}
	if r.out != "" {
		t.Errorf("login stdout = %q; want nothing (messages go to stderr)", r.out)
	}
	if p := b.lastPage(); !strings.Contains(p, "close this tab") {
		t.Errorf("browser page = %q; want the success page", p)
	}
	fi, err := os.Stat(tokenFile(e.dir, "default", userToken))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want 0600", err, fi)
	}

	tok := e.must("token")
	access := strings.TrimSpace(tok.out)
	if !strings.HasPrefix(access, "BQ") || tok.out != access+"\n" {
		t.Fatalf("token stdout = %q; want an access token and a newline", tok.out)
	}
	if tok.err != "" {
		t.Errorf("token stderr = %q; want nothing", tok.err)
	}
	if _, err := fetchMe(context.Background(), e.srv.Client(), e.srv.URL, access); err != nil {
		t.Errorf("the printed token does not work at /v1/me: %v", err)
	}

	js := e.must("token", "--json")
	var v map[string]any
	if err := json.Unmarshal([]byte(js.out), &v); err != nil {
		t.Fatalf("token --json = %q: %v", js.out, err)
	}
	if v["access_token"] != access || v["token_type"] != "Bearer" || v["scope"] != "playlist-read-private user-read-email user-read-private" || v["expires_at"] == nil {
		t.Errorf("token --json = %v; want access_token, token_type, scope, expires_at", v)
	}
	if _, ok := v["refresh_token"]; ok || strings.Contains(js.out, "AQ") {
		t.Errorf("token --json = %q shows the refresh token", js.out)
	}
	if n := e.srv.Stats().Refreshes; n != 0 {
		t.Errorf("refreshes after cached token calls = %d; want 0", n)
	}

	e.must("refresh")
	if n := e.srv.Stats().Refreshes; n != 1 {
		t.Errorf("refreshes after spotauth refresh = %d; want 1", n)
	}
	tok2 := e.must("token")
	if strings.TrimSpace(tok2.out) == access {
		t.Errorf("token after refresh = the old token; want the refreshed one")
	}

	st := e.must("status")
	for _, want := range []string{"Profile:        default", "Test User", "user-read-email", "PKCE", "Refresh token:  held", "Authorization:  ends"} {
		if !strings.Contains(st.out, want) {
			t.Errorf("status = %q; want it to contain %q", st.out, want)
		}
	}
	if strings.Contains(st.out, "BQ") || strings.Contains(st.out, "AQ") {
		t.Errorf("status shows a token: %q", st.out)
	}

	lo := e.must("logout")
	if !strings.Contains(lo.err, "Removed the tokens of profile default") {
		t.Errorf("logout stderr = %q", lo.err)
	}
	r = e.run(runOpts{}, "token")
	if r.code != ExitAuth || !strings.Contains(r.err, "not logged in") || !strings.Contains(r.err, "spotauth login") {
		t.Errorf("token after logout = exit %d, %q; want exit %d saying spotauth login", r.code, r.err, ExitAuth)
	}
}

func TestLoginConfidentialClient(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	r := e.login()
	if !strings.Contains(r.err, "with client secret") {
		t.Errorf("login stderr = %q; want the secret flow", r.err)
	}
	if strings.Contains(r.err, e.srv.ClientSecret) {
		t.Errorf("login stderr shows the client secret")
	}
	r = e.login("--pkce")
	if !strings.Contains(r.err, "with PKCE") {
		t.Errorf("login --pkce stderr = %q; want PKCE", r.err)
	}
	if g := e.srv.Stats().GrantsSucceeded["authorization_code"]; g != 2 {
		t.Errorf("code exchanges = %d; want 2", g)
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	busyPort := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name      string
		configure func(*spotauthtest.Server)
		browser   func(e *testEnv, interrupt func()) Browser // interrupt cancels the login's context
		args      []string
		vars      map[string]string
		code      int
		wantErr   []string
	}{
		{
			name:    "denied",
			browser: func(e *testEnv, _ func()) Browser { return &followBrowser{srv: e.srv, approve: false} },
			code:    ExitDenied,
			wantErr: []string{"denied", "nothing was stored", "spotauth login"},
		},
		{
			// A forged redirect does not end the login (the browser is
			// told, and the wait goes on); the user interrupts it then,
			// and learns that a forged redirect came.
			name: "state mismatch",
			browser: func(e *testEnv, interrupt func()) Browser {
				return &thenBrowser{Browser: &followBrowser{srv: e.srv, approve: true, rewrite: forgeState}, then: interrupt}
			},
			code:    ExitDenied,
			wantErr: []string{"state does not match", "interrupted", "nothing was stored"},
		},
		{
			name:    "busy port",
			args:    []string{"--redirect-port", strconvI(busyPort)},
			code:    ExitError,
			wantErr: []string{"busy", "--redirect-port"},
		},
		{
			name:    "timeout",
			browser: func(e *testEnv, _ func()) Browser { return &stubBrowser{} },
			args:    []string{"--timeout", "300ms"},
			code:    ExitError,
			wantErr: []string{"no redirect from the browser within 300ms", "nothing was stored", "--timeout"},
		},
		{
			name:    "localhost redirect",
			vars:    map[string]string{spotauth.EnvRedirectURI: "http://localhost:8888/callback"},
			code:    ExitConfig,
			wantErr: []string{"localhost", "127.0.0.1"},
		},
		{
			name:    "unknown scope",
			args:    []string{"--scope", "user-read-birthdate"},
			code:    ExitUsage,
			wantErr: []string{"user-read-birthdate", "spotauth scopes"},
		},
		{
			name:    "no client id",
			vars:    map[string]string{spotauth.EnvClientID: ""},
			code:    ExitConfig,
			wantErr: []string{"no client ID", "--client-id", spotauth.EnvClientID},
		},
		{
			name:    "wrong client id",
			vars:    map[string]string{spotauth.EnvClientID: "nobody"},
			code:    ExitConfig,
			wantErr: []string{"does not know client ID nobody", "developer.spotify.com/dashboard"},
		},
		{
			name:    "unregistered redirect URI",
			vars:    map[string]string{spotauth.EnvRedirectURI: "http://127.0.0.1/elsewhere"},
			code:    ExitConfig,
			wantErr: []string{"is not registered", "Redirect URIs"},
		},
		{
			name:    "accounts service down",
			vars:    map[string]string{envAccountsURL: "http://127.0.0.1:1"},
			code:    ExitNetwork,
			wantErr: []string{"unreachable", "--accounts-url"},
		},
		{
			name:    "conflicting redirect port",
			vars:    map[string]string{spotauth.EnvRedirectURI: "http://127.0.0.1:1234/callback"},
			args:    []string{"--redirect-port", "4321"},
			code:    ExitUsage,
			wantErr: []string{"conflicts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tt.configure)
			for k, v := range tt.vars {
				e.vars[k] = v
			}
			ctx, interrupt := context.WithCancel(context.Background())
			defer interrupt()
			var b Browser = e.follow()
			if tt.browser != nil {
				b = tt.browser(e, interrupt)
			}
			r := e.run(runOpts{browser: b, ctx: ctx}, append([]string{"login", "--timeout", "20s"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("login %v = exit %d; want %d\nstderr: %s", tt.args, r.code, tt.code, r.err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.err, w) {
					t.Errorf("login %v stderr = %q; want it to contain %q", tt.args, r.err, w)
				}
			}
			if _, err := os.Stat(tokenFile(e.dir, "default", userToken)); !os.IsNotExist(err) {
				t.Errorf("token file after a failed login: %v; want none", err)
			}
		})
	}
}

// forgeState rewrites a redirect URL with another login's state.
func forgeState(u string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	q.Set("state", "forged")
	p.RawQuery = q.Encode()
	return p.String()
}

// thenBrowser is a Browser that calls then once its Browse has returned.
type thenBrowser struct {
	Browser
	then func()
}

func (b *thenBrowser) Browse(u string) error {
	defer b.then()
	return b.Browser.Browse(u)
}

// A redirect with another login's state (an old tab, a forged link) gets a
// page saying so and does not end the login: the genuine redirect, which
// comes next, logs the user in.
func TestLoginIgnoresForgedRedirect(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	forged := &followBrowser{srv: e.srv, approve: true, rewrite: forgeState}
	genuine := e.follow()
	b := &thenBrowser{Browser: forged, then: func() {}}
	b.then = func() { _ = genuine.Browse(forged.lastURL()) }
	r := e.run(runOpts{browser: b}, "login")
	if r.code != 0 {
		t.Fatalf("login after a forged redirect = exit %d; want 0\n%s", r.code, r.err)
	}
	if p := forged.lastPage(); !strings.Contains(p, "Not this login") {
		t.Errorf("forged redirect's page = %q; want Not this login", p)
	}
	if p := genuine.lastPage(); !strings.Contains(p, "close this tab") {
		t.Errorf("genuine redirect's page = %q; want the success page", p)
	}
	e.must("token")
}

func strconvI(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + itoa(n)) }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// pasteUser plays a user on another machine: they copy the printed URL,
// approve in their browser, and paste the URL it ended on.
func pasteUser(e *testEnv, approve bool) (io.Reader, *urlWatcher) {
	pr, pw := io.Pipe()
	w := &urlWatcher{found: func(authURL string) {
		loc, err := e.srv.Authorize(authURL, approve)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		io.WriteString(pw, "not a url\n\n"+loc.String()+"\n")
		pw.Close()
	}}
	return pr, w
}

func TestLoginPaste(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		vars    map[string]string
		browser *stubBrowser
		opened  bool
		wantErr []string
	}{
		{"no-browser", []string{"--no-browser"}, nil, &stubBrowser{}, false, []string{"--no-browser", "ssh -L", "paste"}},
		{"ssh", nil, map[string]string{"SSH_CONNECTION": "10.1.1.2 5000 10.1.1.1 22", "USER": "ana"}, &stubBrowser{}, false, []string{"SSH session", "127.0.0.1:", "ana@10.1.1.1"}},
		{"browser fails", nil, nil, &stubBrowser{err: errNoBrowser}, true, []string{"Could not open a browser", "paste"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			for k, v := range tt.vars {
				e.vars[k] = v
			}
			in, w := pasteUser(e, true)
			if tt.name == "browser fails" { // the user reads the message, then pastes
				found := w.found
				w.found = func(u string) { w.await("Could not open a browser"); found(u) }
			}
			r := e.run(runOpts{stdin: in, errOut: w, browser: tt.browser}, append([]string{"login", "--scope", "read"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("login %v = exit %d; want 0\n%s", tt.args, r.code, r.err)
			}
			for _, want := range append(tt.wantErr, "That is not the redirect URL", "Logged in") {
				if !strings.Contains(r.err, want) {
					t.Errorf("login %v stderr = %q; want it to contain %q", tt.args, r.err, want)
				}
			}
			if tt.opened {
				tt.browser.Verify(t, e.srv.URL+"/authorize?")
			} else if len(tt.browser.urls) != 0 {
				t.Errorf("browser opened %v; want none", tt.browser.urls)
			}
			e.must("token", "--require-scope", "read")
		})
	}
}

func TestLoginPasteDenied(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	in, w := pasteUser(e, false)
	r := e.run(runOpts{stdin: in, errOut: w, browser: &stubBrowser{}}, "login", "--no-browser")
	if r.code != ExitDenied || !strings.Contains(r.err, "denied") {
		t.Errorf("login with a pasted denial = exit %d, %q; want %d, denied", r.code, r.err, ExitDenied)
	}
}

func TestLoginInterrupted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	w := &urlWatcher{found: func(string) { cancel() }}
	r := e.run(runOpts{ctx: ctx, errOut: w, browser: &stubBrowser{}}, "login")
	if r.code != ExitError || !strings.Contains(r.err, "interrupted") {
		t.Errorf("login cancelled = exit %d, %q; want %d, interrupted", r.code, r.err, ExitError)
	}
}

func TestLoginFixedPort(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	e := newTestEnv(t, nil)
	b := &stubBrowser{}
	w := &urlWatcher{found: func(u string) { _ = e.follow().Browse(u) }}
	r := e.run(runOpts{errOut: w, browser: b}, "login", "--redirect-port", itoa(port))
	if r.code != 0 {
		t.Fatalf("login --redirect-port = exit %d\n%s", r.code, r.err)
	}
	want := url.QueryEscape("http://127.0.0.1:" + itoa(port) + "/callback")
	if !strings.Contains(b.urls[0], "redirect_uri="+want) {
		t.Errorf("authorization URL %q; want redirect_uri=%s", b.urls[0], want)
	}
}

func TestTokenRequireScope(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login("--scope", "user-read-private")
	r := e.run(runOpts{}, "--profile", "default", "token", "--require-scope", "playlist-read-private user-read-private")
	if r.code != ExitAuth {
		t.Errorf("token --require-scope = exit %d; want %d", r.code, ExitAuth)
	}
	if !strings.Contains(r.err, "lacks the scopes playlist-read-private") ||
		!strings.Contains(r.err, "spotauth login --profile default --scope playlist-read-private,user-read-private") {
		t.Errorf("token --require-scope stderr = %q; want the missing scope and the login line", r.err)
	}
	if r.out != "" {
		t.Errorf("token --require-scope stdout = %q; want nothing", r.out)
	}
	e.must("token", "--require-scope", "user-read-private")
}

func TestTokenRefreshAtExpiry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(s *spotauthtest.Server) {
		s.AccessTokenLifetime = 2 * time.Minute
		s.Refresh = spotauthtest.RefreshRotate
	})
	e.login()
	before := loadStored(t, e, userToken)
	first := e.must("token")
	if n := e.srv.Stats().Refreshes; n != 0 {
		t.Fatalf("refreshes = %d with 2 minutes left; want 0", n)
	}
	r := e.must("token", "--min-valid", "1m30s")
	if n := e.srv.Stats().Refreshes; n != 0 {
		t.Fatalf("refreshes = %d after token --min-valid 1m30s with 2 minutes left; want 0", n)
	}
	expireStored(t, e) // 10 s left
	r = e.must("token", "--min-valid", "1m30s")
	if n := e.srv.Stats().Refreshes; n != 1 {
		t.Errorf("refreshes = %d after token --min-valid 1m30s with 10 s left; want 1", n)
	}
	if r.out == first.out {
		t.Errorf("token --min-valid 1m30s printed the old token")
	}
	after := loadStored(t, e, userToken)
	if after.RefreshToken == before.RefreshToken || after.RefreshToken == "" {
		t.Errorf("rotated refresh token not stored")
	}
	if !after.AuthorizedAt.Equal(before.AuthorizedAt) || !after.PKCE {
		t.Errorf("refresh lost AuthorizedAt or PKCE: %v", after)
	}
	// The rotated token works (the old one was revoked by the fake).
	e.must("refresh")
}

func loadStored(t *testing.T, e *testEnv, kind tokenKind) *spotauth.Token {
	t.Helper()
	tok, err := testFileStore(t, e.dir, kind).Load(context.Background())
	if err != nil {
		t.Fatalf("load stored token: %v", err)
	}
	return tok
}

func TestTokenReauthorize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		revoke func(s *spotauthtest.Server)
	}{
		{"revoked", func(s *spotauthtest.Server) { s.RevokeGrants(s.ClientID, spotauthtest.DefaultUser.ID) }},
		{"expired", func(s *spotauthtest.Server) { s.ExpireRefreshTokens() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.login("--scope", "user-top-read")
			tt.revoke(e.srv)
			expireStored(t, e)
			r := e.run(runOpts{}, "token")
			if r.code != ExitAuth {
				t.Errorf("token after %s = exit %d; want %d\n%s", tt.name, r.code, ExitAuth, r.err)
			}
			if !strings.Contains(r.err, "spotauth login --scope user-top-read") || !strings.Contains(r.err, "removed") {
				t.Errorf("token stderr = %q; want the login line and that the token was removed", r.err)
			}
			if r := e.run(runOpts{}, "token"); r.code != ExitAuth || !strings.Contains(r.err, "not logged in") {
				t.Errorf("token again = exit %d %q; want not logged in", r.code, r.err)
			}
		})
	}
}

func TestTokenNetworkErrorKeepsToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	expireStored(t, e)
	r := e.run(runOpts{}, "--accounts-url", dead, "token")
	if r.code != ExitNetwork || !strings.Contains(r.err, "kept") {
		t.Errorf("token with the Accounts service down = exit %d %q; want %d, token kept", r.code, r.err, ExitNetwork)
	}
	e.must("token")
}

func TestTokenServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault spotauthtest.Fault
		code  int
	}{
		{"503", spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable}, ExitNetwork},
		{"html", spotauthtest.Fault{Kind: spotauthtest.FaultHTML}, ExitNetwork},
		{"429 long", spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: time.Hour}, ExitNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.login()
			e.srv.FailToken(10, tt.fault)
			expireStored(t, e)
			r := e.run(runOpts{}, "token")
			if r.code != tt.code {
				t.Errorf("token with fault %s = exit %d; want %d\n%s", tt.name, r.code, tt.code, r.err)
			}
			e.srv.ClearFaults()
			e.must("token")
		})
	}
}

func TestTokenClientCredentials(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.run(runOpts{}, "token", "--client-credentials")
	if r.code != ExitConfig || !strings.Contains(r.err, spotauth.EnvClientSecret) {
		t.Errorf("token --client-credentials without secret = exit %d %q; want %d naming %s", r.code, r.err, ExitConfig, spotauth.EnvClientSecret)
	}
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	a := e.must("token", "--client-credentials")
	b := e.must("token", "--client-credentials", "--json")
	if n := e.srv.Stats().Grants["client_credentials"]; n != 1 {
		t.Errorf("client-credentials requests = %d; want 1 (cached)", n)
	}
	if !strings.Contains(b.out, strings.TrimSpace(a.out)) {
		t.Errorf("second app token %q differs from the first %q", b.out, a.out)
	}
	// The app token does not replace the user's.
	if r := e.run(runOpts{}, "token"); r.code != ExitAuth {
		t.Errorf("user token after app token = exit %d; want %d", r.code, ExitAuth)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.run(runOpts{}, "status")
	if r.code != ExitAuth || !strings.Contains(r.out, "Logged in:      no") {
		t.Errorf("status before login = exit %d %q; want %d, logged in no", r.code, r.out, ExitAuth)
	}
	e.login("--scope", "user-read-email")
	r = e.must("status", "--json", "--check")
	var v statusJSON
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("status --json = %q: %v", r.out, err)
	}
	if !v.LoggedIn || v.Account == nil || v.Account.ID != "spotauthtest-user" || !v.PKCE || !v.HasRefreshToken ||
		v.Check == nil || !v.Check.OK || len(v.Scopes) != 1 || v.AuthorizationEndsAt == "" {
		t.Errorf("status --json --check = %+v", v)
	}
	if e.srv.Stats().MeSucceeded < 2 {
		t.Errorf("/v1/me calls = %d; want login's and --check's", e.srv.Stats().MeSucceeded)
	}
	e.srv.RevokeGrants(e.srv.ClientID, spotauthtest.DefaultUser.ID)
	r = e.run(runOpts{}, "status", "--check")
	if r.code != ExitAuth || !strings.Contains(r.out, "FAILED") {
		t.Errorf("status --check after revocation = exit %d %q; want %d, FAILED", r.code, r.out, ExitAuth)
	}
}

func TestAuthorizationEndWarning(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	st := testFileStore(t, e.dir, userToken)
	tok := loadStored(t, e, userToken)
	tok.AuthorizedAt = time.Now().AddDate(0, -6, 3)
	if err := st.Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"token"}, {"status"}} {
		r := e.must(cmd...)
		if !strings.Contains(r.err, "warning: the 6-month authorization of profile default ends on") || !strings.Contains(r.err, "spotauth login") {
			t.Errorf("spotauth %v stderr = %q; want the 6-month warning", cmd, r.err)
		}
	}
	tok.AuthorizedAt = time.Now().AddDate(0, -5, 0)
	st.Save(context.Background(), tok)
	if r := e.must("token"); r.err != "" {
		t.Errorf("token stderr = %q with 1 month left; want no warning", r.err)
	}
}

func TestProfilesAndLogoutAll(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	e.login("--profile", "work", "--scope", "user-library-read")
	a, b := e.must("token"), e.must("token", "--profile", "work")
	if a.out == b.out {
		t.Errorf("profiles share a token")
	}
	e.vars[envProfile] = "work"
	if r := e.must("token", "--require-scope", "user-library-read"); r.out != b.out {
		t.Errorf("SPOTAUTH_PROFILE=work token = %q; want %q", r.out, b.out)
	}
	r := e.must("logout", "--all")
	if !strings.Contains(r.err, "profile default") || !strings.Contains(r.err, "profile work") {
		t.Errorf("logout --all = %q; want both profiles", r.err)
	}
	matches, _ := filepath.Glob(filepath.Join(e.dir, "*.json"))
	if len(matches) != 0 {
		t.Errorf("files left after logout --all: %v", matches)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	var all strings.Builder
	collect := func(r result) { all.WriteString(r.out + r.err) }
	collect(e.login("--scope", "read"))
	tok := loadStored(t, e, userToken)
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"refresh"}, {"doctor"}, {"logout"}} {
		collect(e.run(runOpts{}, args...))
	}
	collect(e.run(runOpts{}, "token")) // not logged in: error path
	for name, secret := range map[string]string{"client secret": e.srv.ClientSecret, "refresh token": tok.RefreshToken, "access token": tok.AccessToken} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("output shows the %s", name)
		}
	}
}

func TestTokenClientCredentialsConcurrent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	var wg sync.WaitGroup
	outs := make([]result, 6)
	for i := range outs {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i] = e.run(runOpts{}, "token", "--client-credentials") }()
	}
	wg.Wait()
	if n := e.srv.Stats().Grants["client_credentials"]; n != 1 {
		t.Errorf("client-credentials requests from 6 concurrent runs = %d; want 1", n)
	}
	for i, r := range outs {
		if r.code != 0 || r.out != outs[0].out {
			t.Errorf("run %d: exit %d %q; want the shared app token", i, r.code, r.out)
		}
	}
}

// recordingBrowser remembers the URL and then approves like followBrowser.
type recordingBrowser struct {
	*followBrowser
	url string
}

func (b *recordingBrowser) Browse(u string) error {
	b.url = u
	return b.followBrowser.Browse(u)
}

func TestLoginIPv6AndShowDialog(t *testing.T) {
	t.Parallel()
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	e := newTestEnv(t, func(s *spotauthtest.Server) {
		s.ClientID = ""
		if err := s.AddApp(spotauthtest.App{ClientID: "v6-app", RedirectURIs: []string{"http://[::1]/cb", "http://127.0.0.1/cb"}}); err != nil {
			t.Fatal(err)
		}
	})
	e.vars[spotauth.EnvClientID], e.vars[spotauth.EnvRedirectURI] = "v6-app", "http://[::1]/cb"
	b := &recordingBrowser{followBrowser: e.follow()}
	r := e.run(runOpts{browser: b}, "login", "--show-dialog")
	if r.code != 0 {
		t.Fatalf("login on [::1] = exit %d\n%s", r.code, r.err)
	}
	u, _ := url.Parse(b.url)
	if got := u.Query().Get("redirect_uri"); !strings.HasPrefix(got, "http://[::1]:") || !strings.HasSuffix(got, "/cb") {
		t.Errorf("redirect_uri = %q; want http://[::1]:PORT/cb", got)
	}
	if u.Query().Get("show_dialog") != "true" {
		t.Errorf("authorization URL %q lacks show_dialog=true", b.url)
	}
}

func TestConfigFileFlag(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	delete(e.vars, spotauth.EnvClientID)
	ini := filepath.Join(t.TempDir(), "tekore.cfg")
	os.WriteFile(ini, []byte("[DEFAULT]\nSPOTIFY_CLIENT_ID = wrong\n\n[spotauth]\nSPOTIFY_CLIENT_ID = "+e.srv.ClientID+"\n"), 0o600)
	r := e.must("--config", ini, "--config-section", "spotauth", "doctor")
	if !strings.Contains(r.out, "client ID "+e.srv.ClientID+" (from config file "+ini+")") {
		t.Errorf("doctor with --config = %q; want the client ID from the file's section", r.out)
	}
	e.must("--config", ini, "--config-section", "spotauth", "login")
	if r := e.run(runOpts{}, "--config", ini, "--config-section", "nope", "status"); r.code != ExitConfig {
		t.Errorf("status with a missing section = exit %d; want %d", r.code, ExitConfig)
	}
}
