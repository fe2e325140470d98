package cli

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/filestore"
)

// newClockEnv is a test environment whose fake and commands read one
// clock, which the test advances.
func newClockEnv(t *testing.T, configure func(*spotauthtest.Server)) (*testEnv, *spotauthtest.Clock) {
	t.Helper()
	clock := spotauthtest.NewClock(time.Now())
	e := newTestEnv(t, func(srv *spotauthtest.Server) {
		srv.Clock = clock
		if configure != nil {
			configure(srv)
		}
	})
	e.now = clock.Now
	return e, clock
}

// storedToken reads the user token of profile from the file store of e.
func storedToken(t *testing.T, e *testEnv, profile string) *spotauth.Token {
	t.Helper()
	st, err := filestore.New(e.dir, storeName(profile, userToken), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := st.Load(context.Background())
	if err != nil {
		t.Fatalf("token of profile %s: %v", profile, err)
	}
	return tok
}

// Issue 11, item 1: a profile logged in with --client-id (and nothing in
// the environment) refreshes after its access token expired, with an empty
// environment, and keeps its app when the shell names another one.
func TestProfileRemembersItsApp(t *testing.T) {
	t.Parallel()
	e, clock := newClockEnv(t, nil)
	e.vars = map[string]string{envConfigDir: e.dir}
	e.login("--profile", "work", "--client-id", e.srv.ClientID, "--accounts-url", e.srv.URL, "--api-url", e.srv.URL, "--scope", "user-read-private")
	loginToken := storedToken(t, e, "work")

	path := profileFile(e.dir, "work")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("profile file: %v, %v; want mode 0600", err, fi)
	}
	data, _ := os.ReadFile(path)
	var p profile
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.ClientID != e.srv.ClientID || p.AccountsURL != e.srv.URL || p.APIURL != e.srv.URL || p.RedirectURI != defaultRedirectURI || !p.PKCE || p.Account == nil || p.Account.ID != spotauthtest.DefaultUser.ID {
		t.Errorf("profile file = %s; want the login's client ID, URLs, PKCE and account", data)
	}
	if strings.Contains(string(data), loginToken.RefreshToken) || strings.Contains(string(data), loginToken.AccessToken) {
		t.Errorf("profile file holds a token: %s", data)
	}

	clock.Advance(2 * time.Hour)
	r := e.must("token", "--profile", "work")
	access := strings.TrimSpace(r.out)
	if !strings.HasPrefix(access, "BQ") || access == loginToken.AccessToken {
		t.Fatalf("token --profile work after expiry = %q; want a new access token", r.out)
	}
	if n := e.srv.Stats().RefreshesSucceeded; n != 1 {
		t.Errorf("refreshes = %d; want 1", n)
	}
	if _, err := fetchMe(context.Background(), e.srv.Client(), e.srv.URL, access); err != nil {
		t.Errorf("the refreshed token does not work: %v", err)
	}

	// A client ID in the shell is another app's: the profile keeps its own.
	e.vars[spotauth.EnvClientID] = "someone-elses-app"
	clock.Advance(2 * time.Hour)
	e.must("token", "--profile", "work")
	if n := e.srv.Stats().RefreshesSucceeded; n != 2 {
		t.Errorf("refreshes = %d; want 2", n)
	}
	st := e.must("status", "--profile", "work")
	for _, want := range []string{"Client ID:      " + e.srv.ClientID, "Account:        Test User (spotauthtest-user)"} {
		if !strings.Contains(st.out, want) {
			t.Errorf("status = %q; want it to contain %q", st.out, want)
		}
	}

	// logout forgets the profile with its tokens.
	e.must("logout", "--profile", "work")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("profile file after logout: %v; want it removed", err)
	}
}

// A profile logged in with the client secret cannot refresh without it:
// the error says where the secret came from at login and how to give it.
func TestProfileSecretMissingAtRefresh(t *testing.T) {
	t.Parallel()
	e, clock := newClockEnv(t, nil)
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	e.login("--profile", "work")
	delete(e.vars, spotauth.EnvClientSecret)
	clock.Advance(2 * time.Hour)

	r := e.run(runOpts{}, "token", "--profile", "work")
	if r.code != ExitConfig {
		t.Fatalf("token without the secret = exit %d, %q; want %d", r.code, r.err, ExitConfig)
	}
	for _, want := range []string{"needs it to refresh", "came from environment " + spotauth.EnvClientSecret, "--client-secret", "set " + spotauth.EnvClientSecret, e.dir} {
		if !strings.Contains(r.err, want) {
			t.Errorf("token stderr = %q; want it to contain %q", r.err, want)
		}
	}
	if r.out != "" || e.srv.Stats().Refreshes != 0 {
		t.Errorf("token printed %q after %d refresh requests; want nothing, and no request", r.out, e.srv.Stats().Refreshes)
	}
	d := e.run(runOpts{}, "doctor", "--offline", "--profile", "work")
	if d.code != r.code || !strings.Contains(d.out, "[FAIL] profile work logged in with the client secret, and none is configured") ||
		!strings.Contains(d.out, "came from environment "+spotauth.EnvClientSecret) {
		t.Errorf("doctor without the secret = exit %d\n%s; want %d, a FAIL line and where the secret came from", d.code, d.out, r.code)
	}

	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	e.must("token", "--profile", "work")
	if log := e.srv.TokenLog(); log[len(log)-1].Auth != spotauthtest.AuthBasic {
		t.Errorf("refresh authenticated with %q; want the secret (%q)", log[len(log)-1].Auth, spotauthtest.AuthBasic)
	}
}

// A PKCE profile refreshes as a public client even with a client secret in
// the environment (here a wrong one, which would be refused if sent).
func TestProfilePKCEIgnoresSecretInEnvironment(t *testing.T) {
	t.Parallel()
	e, clock := newClockEnv(t, nil)
	e.login("--profile", "work")
	e.vars[spotauth.EnvClientSecret] = "not-the-secret"
	clock.Advance(2 * time.Hour)
	e.must("token", "--profile", "work")
	st := e.srv.Stats()
	log := e.srv.TokenLog()
	if st.RefreshesSucceeded != 1 || log[len(log)-1].Grant != spotauthtest.GrantRefreshToken || log[len(log)-1].Auth != spotauthtest.AuthPublic {
		t.Errorf("refreshes %d, last request %+v; want one public (PKCE) refresh", st.RefreshesSucceeded, log[len(log)-1])
	}
}

// Issue 11, item 8: logging in again says what it replaces, before the
// browser step.
func TestLoginAgainSaysWhatItReplaces(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.login("--scope", "user-read-private")
	if strings.Contains(r.err, "replacing") {
		t.Errorf("first login says %q; want no replacing notice", r.err)
	}
	r = e.login("--scope", "user-read-email")
	notice := "spotauth: replacing the login of Test User (spotauthtest-user) (profile default, scopes user-read-private)\n"
	i, j := strings.Index(r.err, notice), strings.Index(r.err, "/authorize?")
	if i < 0 || j < 0 || i > j {
		t.Errorf("second login stderr = %q; want %q before the authorization URL", r.err, notice)
	}
}

// loginDuringBrowser plays a browser that, before its user approves, lets
// during run (another command on the same profile) and then approves.
type loginDuringBrowser struct {
	*followBrowser
	during func()
}

func (b *loginDuringBrowser) Browse(u string) error {
	b.during()
	return b.followBrowser.Browse(u)
}

// Two concurrent logins on one profile: the one that finishes second is
// refused and stores nothing; a refresh meanwhile is no other login.
func TestConcurrentLoginsOnOneProfile(t *testing.T) {
	t.Parallel()
	e, clock := newClockEnv(t, func(srv *spotauthtest.Server) { srv.Refresh = spotauthtest.RefreshRotate })
	e.login("--scope", "user-read-private")

	var other *spotauth.Token
	b := &loginDuringBrowser{followBrowser: e.follow(), during: func() {
		clock.Advance(time.Minute) // token files keep the authorization time to the second
		e.login("--scope", "user-read-email")
		other = storedToken(t, e, "default")
	}}
	r := e.run(runOpts{browser: b}, "login", "--scope", "playlist-read-private")
	if r.code != ExitError {
		t.Fatalf("the login that finished second = exit %d; want %d\n%s", r.code, ExitError, r.err)
	}
	for _, want := range []string{"another login of profile default finished first, as Test User (spotauthtest-user)", "this login was not stored",
		"To replace that login with a new one, run: spotauth login --scope playlist-read-private"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr = %q; want it to contain %q", r.err, want)
		}
	}
	if got := storedToken(t, e, "default"); got.RefreshToken != other.RefreshToken || got.Scope.String() != "user-read-email" {
		t.Errorf("stored token has scopes %q; want the first finished login's (user-read-email)", got.Scope)
	}

	// A refresh (rotating the refresh token) during a login is not a login.
	b = &loginDuringBrowser{followBrowser: e.follow(), during: func() {
		clock.Advance(time.Minute)
		e.must("refresh")
	}}
	r = e.run(runOpts{browser: b}, "login", "--scope", "playlist-read-private")
	if r.code != 0 {
		t.Fatalf("login during a refresh = exit %d; want 0\n%s", r.code, r.err)
	}
	if got := storedToken(t, e, "default"); got.Scope.String() != "playlist-read-private" {
		t.Errorf("stored token has scopes %q; want the new login's", got.Scope)
	}
}

// Issue 11, item 9: --with-token imports a refresh token from standard
// input like a login; the token never shows.
func TestLoginWithToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	_, refresh := e.srv.IssueUserToken(e.srv.ClientID, []string{"user-read-private", "playlist-read-private"}, true)
	b := &stubBrowser{}
	r := e.run(runOpts{browser: b, stdin: strings.NewReader("  " + refresh + "\n")}, "login", "--with-token", "--profile", "imported")
	if r.code != 0 {
		t.Fatalf("login --with-token = exit %d\n%s", r.code, r.err)
	}
	if strings.Contains(r.out+r.err, refresh) {
		t.Errorf("login --with-token shows the refresh token: %q", r.err)
	}
	for _, want := range []string{"Logged in to Spotify as Test User (spotauthtest-user) (profile imported)", "playlist-read-private user-read-private"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr = %q; want it to contain %q", r.err, want)
		}
	}
	if len(b.urls) != 0 {
		t.Errorf("browser opened %q; want none", b.urls)
	}
	if p, err := loadProfile(e.dir, "imported"); err != nil || !p.hasSettings() || p.Account == nil {
		t.Errorf("profile file = %+v, %v; want the login's settings and account", p, err)
	}
	tok := e.must("token", "--profile", "imported")
	if _, err := fetchMe(context.Background(), e.srv.Client(), e.srv.URL, strings.TrimSpace(tok.out)); err != nil {
		t.Errorf("the imported token does not work: %v", err)
	}

	// A token of a login with the client secret is refreshed with it.
	_, confidential := e.srv.IssueUserToken(e.srv.ClientID, []string{"user-read-email"}, false)
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	r = e.run(runOpts{stdin: strings.NewReader(confidential)}, "login", "--with-token", "--profile", "secret")
	if r.code != 0 || !strings.Contains(r.err, "with client secret") {
		t.Errorf("login --with-token of a confidential token = exit %d, %q; want 0 and the secret flow", r.code, r.err)
	}
}

func TestLoginWithTokenRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	_, revoked := e.srv.IssueUserToken(e.srv.ClientID, []string{"user-read-private"}, true)
	e.srv.RevokeGrant(revoked)
	_, good := e.srv.IssueUserToken(e.srv.ClientID, []string{"user-read-private"}, true)

	tests := []struct {
		name  string
		stdin string
		env   string
		args  []string
		code  int
		want  []string
	}{
		{name: "empty input", stdin: " \n", args: []string{"--with-token"}, code: ExitUsage, want: []string{"standard input is empty", "--with-token <"}},
		{name: "two words", stdin: good + " " + good, args: []string{"--with-token"}, code: ExitUsage, want: []string{"more than one word"}},
		{name: "revoked", stdin: revoked, args: []string{"--with-token"}, code: ExitAuth, want: []string{"refused the refresh token", "nothing was stored"}},
		{name: "revoked in the environment", env: revoked, code: ExitAuth, want: []string{"refused the refresh token"}},
		{name: "with --scope", stdin: good, args: []string{"--with-token", "--scope", "read"}, code: ExitUsage, want: []string{"takes no --scope"}},
		{name: "environment with --scope", env: good, args: []string{"--scope", "read"}, code: ExitUsage, want: []string{"unset " + spotauth.EnvUserRefresh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := &testEnv{t: t, srv: e.srv, dir: dir, vars: map[string]string{
				envConfigDir: dir, envAccountsURL: e.srv.URL, envAPIURL: e.srv.URL, spotauth.EnvClientID: e.srv.ClientID}}
			if tt.env != "" {
				e.vars[spotauth.EnvUserRefresh] = tt.env
			}
			r := e.run(runOpts{stdin: strings.NewReader(tt.stdin)}, append([]string{"login"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d; want %d\n%s", r.code, tt.code, r.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr = %q; want it to contain %q", r.err, w)
				}
			}
			if strings.Contains(r.err, revoked) || strings.Contains(r.err, good) {
				t.Errorf("stderr shows the refresh token: %q", r.err)
			}
			if _, err := os.Stat(tokenFile(e.dir, "default", userToken)); !os.IsNotExist(err) {
				t.Errorf("token file: %v; want none", err)
			}
		})
	}
}

// SPOTIFY_USER_REFRESH (tekore's) is imported like --with-token, which wins
// over it.
func TestLoginImportsUserRefreshVariable(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	_, fromEnv := e.srv.IssueUserToken(e.srv.ClientID, []string{"user-read-private"}, true)
	_, fromStdin := e.srv.IssueUserToken(e.srv.ClientID, []string{"user-read-email"}, true)
	e.vars[spotauth.EnvUserRefresh] = fromEnv
	b := &stubBrowser{}
	r := e.run(runOpts{browser: b}, "login")
	if r.code != 0 || len(b.urls) != 0 || !strings.Contains(r.err, "Scopes:  user-read-private") {
		t.Fatalf("login with %s = exit %d, browser %q, %q; want the import, no browser", spotauth.EnvUserRefresh, r.code, b.urls, r.err)
	}
	r = e.run(runOpts{stdin: strings.NewReader(fromStdin)}, "login", "--with-token")
	if r.code != 0 || !strings.Contains(r.err, "Scopes:  user-read-email") {
		t.Errorf("login --with-token with %s set = exit %d, %q; want standard input's token", spotauth.EnvUserRefresh, r.code, r.err)
	}
	if !strings.Contains(r.err, "replacing the login of Test User (spotauthtest-user) (profile default, scopes user-read-private)") {
		t.Errorf("stderr = %q; want the replacing notice", r.err)
	}
}

// status --all lists every profile, like gh auth status.
func TestStatusAll(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.run(runOpts{}, "status", "--all")
	if r.code != ExitAuth || !strings.Contains(r.err, "no profile is logged in") {
		t.Errorf("status --all before any login = exit %d, %q; want %d", r.code, r.err, ExitAuth)
	}
	e.login("--scope", "user-read-private")
	e.login("--profile", "work", "--scope", "user-read-email")
	e.login("--profile", "gone")
	e.must("logout", "--profile", "gone")

	r = e.must("status", "--all")
	want := []string{
		"default\n  Account:    Test User (spotauthtest-user)\n  Scopes:     user-read-private\n  Expires:    ",
		"work\n  Account:    Test User (spotauthtest-user)\n  Scopes:     user-read-email\n",
		"  Store:      " + e.dir + "\n",
	}
	for _, w := range want {
		if !strings.Contains(r.out, w) {
			t.Errorf("status --all = %q; want it to contain %q", r.out, w)
		}
	}
	if strings.Contains(r.out, "gone") || strings.Contains(r.out, "BQ") || strings.Contains(r.out, "AQ") {
		t.Errorf("status --all = %q; want no logged-out profile and no token", r.out)
	}

	r = e.must("status", "--all", "--json")
	var all []statusJSON
	if err := json.Unmarshal([]byte(r.out), &all); err != nil {
		t.Fatalf("status --all --json = %q: %v", r.out, err)
	}
	var names []string
	for _, s := range all {
		if s.LoggedIn {
			names = append(names, s.Profile+":"+strings.Join(s.Scopes, ","))
		}
	}
	if !slices.Equal(names, []string{"default:user-read-private", "work:user-read-email"}) {
		t.Errorf("status --all --json logged-in profiles = %q", names)
	}
}

// Shell completion of scopes (names, presets, the last element of a list)
// and of profile names.
func TestCompletion(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login("--profile", "work")
	tests := []struct {
		args    []string
		want    []string
		notWant []string
	}{
		{[]string{"login", "--scope", "user-read-p"}, []string{"user-read-private", "user-read-playback-state", "user-read-playback-position"}, []string{"user-read-email"}},
		{[]string{"login", "--scope", "re"}, []string{"read\t"}, nil},
		{[]string{"login", "-s", "read,user-read-e"}, []string{"read,user-read-email"}, []string{"\nuser-read-email"}},
		{[]string{"token", "--require-scope", "playlist-read-c"}, []string{"playlist-read-collaborative"}, nil},
		{[]string{"status", "--profile", "w"}, []string{"work"}, []string{"default"}},
		{[]string{"token", "--profile", ""}, []string{"default", "work"}, nil},
	}
	for _, tt := range tests {
		r := e.must(append([]string{"__complete"}, tt.args...)...)
		for _, w := range tt.want {
			if !strings.Contains(r.out, w) {
				t.Errorf("spotauth __complete %q = %q; want it to contain %q", tt.args, r.out, w)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(r.out, w) {
				t.Errorf("spotauth __complete %q = %q; want no %q", tt.args, r.out, w)
			}
		}
	}
}
