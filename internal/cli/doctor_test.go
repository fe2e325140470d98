package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/filestore"
)

// holdLockEnv makes the test binary hold the lock of the default
// profile's user token in the directory it names, until it is killed.
const holdLockEnv = "SPOTAUTH_TEST_HOLD_LOCK"

func holdLock(dir string) int {
	st, err := filestore.New(dir, "default", nil)
	if err == nil {
		_, err = st.Lock(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hold lock:", err)
		return 1
	}
	fmt.Println("locked")
	select {}
}

// doctor finds a damaged token file (the user's and the app's), says what
// to do, and exits as token would (1, a local file problem).
func TestDoctorDamagedTokenFiles(t *testing.T) {
	t.Parallel()
	for _, kind := range []tokenKind{userToken, appToken} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
			e.login()
			e.must("token", "--client-credentials")
			name := tokenFile(e.dir, "default", kind)
			if err := os.WriteFile(name, []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := e.run(runOpts{}, "doctor")
			want := []string{"[FAIL] cannot load the " + string(kind) + " token of profile default", "damaged", "rm " + name}
			if kind == userToken {
				want = append(want, "log in again: spotauth login")
			} else {
				want = append(want, "spotauth token --client-credentials gets a new one", "[ok  ] the user token of profile default loads")
			}
			if r.code != ExitError || strings.Contains(r.out, "No problems found") {
				t.Errorf("doctor with a damaged %s token file = exit %d; want %d\n%s%s", kind, r.code, ExitError, r.out, r.err)
			}
			for _, w := range want {
				if !strings.Contains(r.out, w) {
					t.Errorf("doctor = %q; want it to contain %q", r.out, w)
				}
			}
			if kind == userToken {
				if tok := e.run(runOpts{}, "token"); tok.code != r.code {
					t.Errorf("token = exit %d, doctor = exit %d; want the same code for the same damaged file", tok.code, r.code)
				}
			}
		})
	}
}

// doctor finds a Redis server that wants a password the --store URL lacks
// or gets wrong, and one that is unreachable, without showing the
// password; it exits as token would against the same store.
func TestDoctorRedis(t *testing.T) {
	t.Parallel()
	quietRedis()
	srv := redistest.StartServer(t, redistest.Options{Args: []string{"--requirepass", "right-password"}})
	tests := []struct {
		name, store string
		code        int
		want        []string
	}{
		{"wrong password", "redis://:hunter2@" + srv.Addr + "/0", ExitError, []string{"WRONGPASS", "refused the credentials", "URL of --store"}},
		{"no password", "redis://" + srv.Addr + "/0", ExitError, []string{"NOAUTH", "refused the credentials"}},
		{"unreachable", "redis://:hunter2@" + strings.TrimPrefix(closedURL(t), "http://") + "/0?max_retries=0", ExitNetwork, []string{"connection refused", "Check that the Redis server at redis://:xxxxx@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.vars[envStore] = tt.store
			r := e.run(runOpts{}, "doctor")
			if r.code != tt.code {
				t.Errorf("doctor = exit %d; want %d\n%s%s", r.code, tt.code, r.out, r.err)
			}
			for _, w := range append(tt.want, "[FAIL] cannot load the user token of profile default") {
				if !strings.Contains(r.out, w) {
					t.Errorf("doctor = %q; want it to contain %q", r.out, w)
				}
			}
			if n := strings.Count(r.out, "[FAIL]"); n != 1 {
				t.Errorf("doctor reports %d failures; want 1 (the store, once)", n)
			}
			tok := e.run(runOpts{}, "token")
			if tok.code != r.code {
				t.Errorf("token = exit %d, doctor = exit %d; want the same code for the same store", tok.code, r.code)
			}
			for _, out := range []string{r.out, r.err, tok.out, tok.err} {
				if strings.Contains(out, "hunter2") {
					t.Errorf("output shows the Redis password: %q", out)
				}
			}
		})
	}
	// The right password: no problem.
	e := newTestEnv(t, nil)
	e.vars[envStore] = "redis://:right-password@" + srv.Addr + "/0"
	if r := e.run(runOpts{}, "doctor"); r.code != 0 || strings.Contains(r.out, "right-password") {
		t.Errorf("doctor with the right Redis password = exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// The same unreachable Accounts service gets the same exit code from
// doctor and from login.
func TestDoctorAndLoginUnreachableSameCode(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[envAccountsURL] = closedURL(t)
	d := e.run(runOpts{}, "doctor")
	l := e.run(runOpts{}, "login")
	if d.code != ExitNetwork || l.code != ExitNetwork {
		t.Errorf("against a closed port: doctor = exit %d, login = exit %d; want both %d\ndoctor: %s%s\nlogin: %s", d.code, l.code, ExitNetwork, d.out, d.err, l.err)
	}
	if !strings.Contains(d.out, "[FAIL] Accounts service "+e.vars[envAccountsURL]+" unreachable") {
		t.Errorf("doctor = %q; want the unreachable Accounts service", d.out)
	}
}

// doctor checks the client secret with a client-credentials request,
// except with --offline, which contacts no service.
func TestDoctorOfflineSendsNothing(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[spotauth.EnvClientSecret] = "wrong-secret"
	r := e.run(runOpts{}, "doctor", "--offline")
	if r.code != 0 || strings.Contains(r.out, "refused the client secret") {
		t.Errorf("doctor --offline = exit %d; want 0 (nothing checked online)\n%s%s", r.code, r.out, r.err)
	}
	if n := e.srv.Stats().Grants[spotauthtest.GrantClientCredentials]; n != 0 {
		t.Errorf("doctor --offline sent %d client-credentials requests; want 0", n)
	}
	if r := e.run(runOpts{}, "doctor"); r.code != ExitConfig || e.srv.Stats().Grants[spotauthtest.GrantClientCredentials] != 1 {
		t.Errorf("doctor with a wrong secret = exit %d after %d client-credentials requests; want %d after 1", r.code, e.srv.Stats().Grants[spotauthtest.GrantClientCredentials], ExitConfig)
	}
}
