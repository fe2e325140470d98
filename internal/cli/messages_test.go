package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// A password in --store, --accounts-url or --api-url is never printed:
// not by doctor, status, a usage error (cobra echoes a bad flag value and
// an extra argument), nor a failing command and its hint (which repeats
// the flags in its login line).
func TestPasswordsInURLsNeverPrinted(t *testing.T) {
	t.Parallel()
	quietRedis()
	e := newTestEnv(t, nil)
	closed := strings.TrimPrefix(closedURL(t), "http://")
	accounts := "http://user:hunter2@" + closed
	api := "https://user:hunter2@" + closed
	redis := "redis://user:hunter2@" + closed + "/0?max_retries=0"
	flags := []string{"--accounts-url", accounts, "--api-url", api}
	runs := [][]string{
		{"doctor"},
		{"doctor", "--offline"},
		{"status"},
		{"status", "--json"},
		{"token"},
		{"token", "--client-credentials", "--client-secret", "s"},
		{"login"},
		{"refresh"},
		{"token", "--min-valid", api}, // cobra: invalid argument "https://user:hunter2@..."
		{"token", accounts},           // an extra argument
		{"--store", "file://user:hunter2@host/dir", "token"},
	}
	for _, store := range []string{redis, ""} {
		for _, args := range runs {
			all := append(append([]string{}, flags...), args...)
			if store != "" {
				all = append([]string{"--store", store}, all...)
			}
			r := e.run(runOpts{}, all...)
			if r.code == 0 && args[0] != "doctor" && args[0] != "status" {
				t.Errorf("spotauth %q = exit 0; want a failure", all)
			}
			if strings.Contains(r.out+r.err, "hunter2") {
				t.Errorf("spotauth %q shows the password:\nstdout: %s\nstderr: %s", all, r.out, r.err)
			}
		}
	}
	// The same through the environment, with a login whose hint repeats
	// the flags: status --check with a token the Web API refuses.
	e.login("--scope", "read")
	e.srv.FailMe(1, spotauthtest.Fault{Kind: spotauthtest.FaultError, Status: 401, Description: "The access token expired"})
	r := e.run(runOpts{}, "--api-url", "http://user:hunter2@"+strings.TrimPrefix(e.srv.URL, "http://"), "status", "--check", "--json")
	if strings.Contains(r.out+r.err, "hunter2") {
		t.Errorf("status --check --json shows the password:\nstdout: %s\nstderr: %s", r.out, r.err)
	}
}

// Every printed error line says "spotauth:" once, and so does the error
// itself (status --json and doctor show its text): a denied login (the
// library's refusal inside the CLI's message), an unreachable Redis store
// (the store's error inside the library's StoreError).
func TestErrorsSaySpotauthOnce(t *testing.T) {
	t.Parallel()
	once := func(t *testing.T, what, text string) {
		t.Helper()
		for _, line := range strings.Split(text, "\n") {
			if n := strings.Count(line, "spotauth: "); n > 1 {
				t.Errorf("%s: line %q says \"spotauth:\" %d times; want once", what, line, n)
			}
		}
	}

	e := newTestEnv(t, nil)
	b := &followBrowser{srv: e.srv, approve: false}
	r := e.run(runOpts{browser: b}, "login")
	if r.code != ExitDenied || strings.Count(r.err, "spotauth:") != 1 {
		t.Errorf("denied login = exit %d, stderr %q; want %d and \"spotauth:\" once", r.code, r.err, ExitDenied)
	}
	once(t, "denied page", b.lastPage())
	denied := loginError(context.Background(), &spotauth.AuthorizeError{Code: "access_denied"}, &settings{source: map[string]string{}}, spotauth.Scopes{}, 0)
	if n := strings.Count(denied.Error(), "spotauth:"); n != 1 {
		t.Errorf("denied login's error %q says \"spotauth:\" %d times; want once", denied, n)
	}

	quietRedis()
	e.vars[envStore] = "redis://" + strings.TrimPrefix(closedURL(t), "http://") + "/0?max_retries=0"
	for _, args := range [][]string{{"token"}, {"status"}, {"refresh"}, {"doctor"}, {"status", "--json"}} {
		r := e.run(runOpts{}, args...)
		if r.code != ExitNetwork {
			t.Errorf("spotauth %s with an unreachable Redis = exit %d; want %d", args, r.code, ExitNetwork)
		}
		once(t, fmt.Sprint("spotauth ", args, " stdout"), r.out)
		once(t, fmt.Sprint("spotauth ", args, " stderr"), r.err)
	}
	if err := storeFailed("load", wrapf(errors.New("unexpected end of JSON input"), "token file x")); strings.Count(err.Error(), "spotauth:") != 1 {
		t.Errorf("a store error says %q; want \"spotauth:\" once", err)
	}
}

// Login hints name the presets the scopes hold (read, write, every), as
// the user typed them, instead of expanding them.
func TestLoginLineKeepsPresets(t *testing.T) {
	t.Parallel()
	s := &settings{source: map[string]string{}}
	tests := []struct {
		scopes spotauth.Scopes
		want   string
	}{
		{spotauth.ReadScopes(), "spotauth login --scope read"},
		{spotauth.WriteScopes(), "spotauth login --scope write"},
		{spotauth.ReadScopes().Union(spotauth.WriteScopes()), "spotauth login --scope every"},
		{spotauth.ReadScopes().Union(spotauth.NewScopes(spotauth.ScopeStreaming)), "spotauth login --scope read,streaming"},
		{spotauth.NewScopes(spotauth.ScopeUserTopRead, spotauth.ScopeUserReadEmail), "spotauth login --scope user-read-email,user-top-read"},
	}
	for _, tt := range tests {
		if got := loginLine(s, tt.scopes); got != tt.want {
			t.Errorf("loginLine(%v) = %q; want %q", tt.scopes, got, tt.want)
		}
	}

	// In a hint: logged in with read, a command requiring write.
	e := newTestEnv(t, nil)
	e.login("--scope", "read")
	r := e.run(runOpts{}, "token", "--require-scope", "write")
	if r.code != ExitAuth || !strings.Contains(r.err, "spotauth login --scope every") || strings.Contains(r.err, "user-read-private") {
		t.Errorf("token --require-scope write after login --scope read = exit %d %q; want %d and the hint spotauth login --scope every", r.code, r.err, ExitAuth)
	}
}

// A network failure of token --client-credentials says to check the
// network and try again; no login is involved, so it does not say to log
// in again.
func TestTokenClientCredentialsNetworkHint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	e.vars[envAccountsURL] = closedURL(t)
	r := e.run(runOpts{}, "token", "--client-credentials")
	if r.code != ExitNetwork || strings.Contains(r.err, "login") || !strings.Contains(r.err, "try again") || !strings.Contains(r.err, "network") {
		t.Errorf("token --client-credentials against a closed port = exit %d %q; want %d and a hint to check the network and try again, not to log in", r.code, r.err, ExitNetwork)
	}
}

// closedURL returns an http URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"redis://:hunter2@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"https://user:hunter2@example.com/x?a=b", "https://user:xxxxx@example.com/x?a=b"},
		{"redis://user@host/0", "redis://user@host/0"},
		{"http://127.0.0.1:8080/callback", "http://127.0.0.1:8080/callback"},
		{"http://u:hun%zzter2@h", "http://u:xxxxx@h"}, // does not parse
		{`Get "http://u:hunter2@h/authorize": refused; see http://a:b@c and /plain/path`, `Get "http://u:xxxxx@h/authorize": refused; see http://a:xxxxx@c and /plain/path`},
		{"redis://:pass/word@h/0", "redis://:xxxxx@h/0"}, // a '/' in the password
		{"no URL here: a:b@c", "no URL here: a:b@c"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
