package cli

import (
	"context"
	"encoding/json"
	"os"
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
