package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// TestTokenMinValidLongerThanSpotifyTokens: Spotify's tokens live an hour,
// so --min-valid 1h or more can never be met: refused before any request.
func TestTokenMinValidLongerThanSpotifyTokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	before := e.srv.Stats().TokenRequests
	for _, d := range []string{"2h", "1h"} {
		r := e.run(runOpts{}, "token", "--min-valid", d)
		if r.code != ExitUsage || r.out != "" || !strings.Contains(r.err, "cannot be met") || !strings.Contains(r.err, "valid for 1h0m0s") {
			t.Errorf("token --min-valid %s = exit %d, stdout %q, stderr %q; want exit %d saying tokens are valid for 1h", d, r.code, r.out, r.err, ExitUsage)
		}
	}
	if n := e.srv.Stats().TokenRequests - before; n != 0 {
		t.Errorf("token --min-valid 2h made %d token requests; want 0", n)
	}
}

// TestTokenMinValidLongerThanIssuedTokens: a service that issues shorter
// tokens than --min-valid asks gets one refresh, whose token is not
// printed, and no other until that token expires.
func TestTokenMinValidLongerThanIssuedTokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(s *spotauthtest.Server) { s.AccessTokenLifetime = 10 * time.Minute })
	e.login()
	before := e.srv.Stats().Refreshes
	for i := range 2 {
		r := e.run(runOpts{}, "token", "--min-valid", "30m")
		if r.code != ExitUsage || r.out != "" || !strings.Contains(r.err, "issues access tokens valid for 10m0s") {
			t.Errorf("call %d: token --min-valid 30m with 10m tokens = exit %d, stdout %q, stderr %q; want exit %d saying why",
				i+1, r.code, r.out, r.err, ExitUsage)
		}
	}
	if n := e.srv.Stats().Refreshes - before; n != 1 {
		t.Errorf("two calls of token --min-valid 30m made %d refreshes; want 1", n)
	}
	if r := e.must("token", "--min-valid", "5m"); r.out == "" {
		t.Error("token --min-valid 5m printed nothing")
	}
	if n := e.srv.Stats().Refreshes - before; n != 1 {
		t.Errorf("token --min-valid 5m after them refreshed (%d refreshes); want the stored token", n)
	}
	// The record of the short token is no profile, and logout removes it.
	rec := shortTokenFile(&settings{ConfigDir: e.dir, Profile: defaultProfile}, userToken)
	if _, err := os.Stat(rec); err != nil {
		t.Fatalf("the record of the short token: %v", err)
	}
	if r := e.must("status", "--all"); strings.Contains(r.out, "short") {
		t.Errorf("status --all = %q; want no profile of the short-token record", r.out)
	}
	e.must("logout")
	if _, err := os.Stat(rec); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the record of the short token after logout: %v; want it removed", err)
	}
}

// TestAppTokenMinValidLongerThanIssuedTokens: the same for app tokens.
func TestAppTokenMinValidLongerThanIssuedTokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(s *spotauthtest.Server) { s.AccessTokenLifetime = 10 * time.Minute })
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	for i := range 2 {
		r := e.run(runOpts{}, "token", "--client-credentials", "--min-valid", "30m")
		if r.code != ExitUsage || r.out != "" || !strings.Contains(r.err, "issues access tokens valid for 10m0s") {
			t.Errorf("call %d: token --client-credentials --min-valid 30m with 10m tokens = exit %d, stdout %q, stderr %q; want exit %d saying why",
				i+1, r.code, r.out, r.err, ExitUsage)
		}
	}
	if n := e.srv.Stats().GrantsSucceeded[spotauthtest.GrantClientCredentials]; n != 1 {
		t.Errorf("two calls of token --client-credentials --min-valid 30m got %d app tokens; want 1", n)
	}
}

// expireStored makes the stored user token expire within seconds, so
// that the next spotauth token refreshes it (--min-valid cannot force
// that any more for a fresh one-hour token).
func expireStored(t *testing.T, e *testEnv) {
	t.Helper()
	tok := loadStored(t, e, userToken)
	tok.Expiry = time.Now().Add(10 * time.Second)
	if err := testFileStore(t, e.dir, userToken).Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}
