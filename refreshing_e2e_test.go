package spotauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/file"
)

// e2e starts a spotauthtest server with a user token issued, and returns a
// Config for it and the token.
func e2e(t *testing.T, mode spotauthtest.RefreshMode) (*spotauthtest.Server, *spotauth.Config, *spotauth.Token) {
	t.Helper()
	srv := spotauthtest.NewUnstartedServer()
	srv.Refresh = mode
	srv.Start()
	t.Cleanup(srv.Close)
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Endpoint: spotauth.NewEndpoint(srv.URL), HTTPClient: srv.Client()}
	tok := &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(time.Hour),
		Scope: spotauth.NewScopes(spotauth.ScopeUserReadPrivate)}
	return srv, cfg, tok
}

func closeSource(t *testing.T, s *spotauth.RefreshingSource) {
	t.Cleanup(func() { s.Close() })
}

// TestE2EConcurrentCallersAtExpiry: 32 callers find the token expired; the
// fake answers the one refresh after 100 ms; all get its token.
func TestE2EConcurrentCallersAtExpiry(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	tok.Expiry = time.Now().Add(-time.Second)
	srv.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: 100 * time.Millisecond})
	src := cfg.UserSource(tok, nil)
	closeSource(t, src)
	const n = 32
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Go(func() {
			nt, err := src.TokenContext(context.Background())
			if err != nil {
				t.Errorf("TokenContext() error: %v", err)
				return
			}
			got[i] = nt.AccessToken
		})
	}
	wg.Wait()
	for i := range n {
		if got[i] == "" || got[i] != got[0] || got[i] == tok.AccessToken {
			t.Fatalf("caller %d got another token than caller 0, or the expired one", i)
		}
	}
	if r := srv.Stats().Grants["refresh_token"]; r != 1 {
		t.Errorf("refresh requests for %d callers at expiry = %d; want 1", n, r)
	}
}

// TestE2E401 covers the Transport against the fake Web API: a 401 from
// /v1/me makes one refresh shared by concurrent requests, each retried once.
func TestE2E401(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	src := cfg.UserSource(tok, nil)
	closeSource(t, src)
	client := src.Client(srv.Client())
	srv.ExpireAccessTokens()
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.Get(srv.URL + "/v1/me")
			if err != nil {
				t.Errorf("Get(/v1/me) error: %v", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("Get(/v1/me) status = %d; want 200 after the refresh", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	st := srv.Stats()
	if r := st.Grants["refresh_token"]; r != 1 {
		t.Errorf("refreshes = %d; want 1 shared by %d requests", r, n)
	}
	if st.MeRequests > 2*n || st.MeSucceeded != n {
		t.Errorf("/v1/me requests, successes = %d, %d; want at most %d, %d", st.MeRequests, st.MeSucceeded, 2*n, n)
	}
	// A 401 at once after the refresh is returned: no loop.
	srv.ExpireAccessTokens()
	resp, err := client.Get(srv.URL + "/v1/me")
	if err != nil {
		t.Fatalf("Get(/v1/me) error: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Get(/v1/me) with the fresh token refused = %d; want 401 returned", resp.StatusCode)
	}
	if r := srv.Stats().Grants["refresh_token"]; r != 1 {
		t.Errorf("refreshes after a 401 on a fresh token = %d; want still 1", r)
	}
}

// TestE2ENotReplayable: a request whose body cannot be sent again gets the
// 401, but the token is refreshed for the next request.
func TestE2ENotReplayable(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	src := cfg.UserSource(tok, nil)
	closeSource(t, src)
	srv.ExpireAccessTokens()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/me", struct{ *strings.Reader }{strings.NewReader("x")})
	resp, err := src.Client(srv.Client()).Do(req)
	if err != nil {
		t.Fatalf("Do() error: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d; want 401 (body not replayable, no retry)", resp.StatusCode)
	}
	if st := srv.Stats(); st.MeRequests != 1 || st.Grants["refresh_token"] != 1 {
		t.Errorf("/v1/me requests, refreshes = %d, %d; want 1, 1", st.MeRequests, st.Grants["refresh_token"])
	}
}

// TestE2ERevoked: a revoked grant gives ErrReauthorize to callers once the
// token is gone, OnError hears it at once, and the stored token is deleted.
func TestE2ERevoked(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	store, err := file.New(t.TempDir(), "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	var reported atomic.Pointer[error]
	src := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store, OnError: func(err error) { reported.CompareAndSwap(nil, &err) }})
	closeSource(t, src)
	srv.RevokeGrant(tok.RefreshToken)
	_, err = src.ForceRefresh(context.Background())
	if !errors.Is(err, spotauth.ErrReauthorize) {
		t.Errorf("ForceRefresh() of a revoked grant = %v; want ErrReauthorize", err)
	}
	var te *spotauth.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Errorf("ForceRefresh() error = %v; want a *TokenError with code invalid_grant", err)
	}
	if p := reported.Load(); p == nil || !errors.Is(*p, spotauth.ErrReauthorize) {
		t.Errorf("OnError got %v; want ErrReauthorize", p)
	}
	if _, err := store.Load(context.Background()); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("store.Load() after invalid_grant = %v; want ErrTokenNotFound (deleted)", err)
	}
	if strings.Contains(fmt.Sprint(err), tok.RefreshToken) || strings.Contains(fmt.Sprint(err), tok.AccessToken) {
		t.Errorf("error shows a token: %v", err)
	}
}

// TestE2ERotateFileStore: in rotate mode, each refresh stores the new
// refresh token before the access token is used, and a second source
// loading the store later refreshes with it, without invalid_grant.
func TestE2ERotateFileStore(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshRotate)
	dir := t.TempDir()
	store, _ := file.New(dir, "default", nil)
	store.Save(context.Background(), tok)
	var refreshed []*spotauth.Token
	src := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store, OnRefresh: func(t *spotauth.Token) { refreshed = append(refreshed, t) }})
	closeSource(t, src)
	for range 3 {
		nt, err := src.ForceRefresh(context.Background())
		if err != nil {
			t.Fatalf("ForceRefresh() error: %v", err)
		}
		stored, err := store.Load(context.Background())
		if err != nil || stored.RefreshToken != nt.RefreshToken || stored.AccessToken != nt.AccessToken {
			t.Fatalf("stored token is not the refreshed one (err %v)", err)
		}
		if nt.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh token not rotated")
		}
	}
	if len(refreshed) != 3 {
		t.Errorf("OnRefresh calls = %d; want 3", len(refreshed))
	}
	// Another "process" starts from the store.
	store2, _ := file.New(dir, "default", nil)
	src2 := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store2})
	closeSource(t, src2)
	if _, err := src2.ForceRefresh(context.Background()); err != nil {
		t.Errorf("second source's ForceRefresh() = %v; want nil", err)
	}
	if e := srv.Stats().Errors["invalid_grant"]; e != 0 {
		t.Errorf("invalid_grant answers = %d; want 0", e)
	}
}

// TestE2EFailureWithValidToken: the token endpoint answers 503 inside the
// refresh window; callers keep the valid token and the retry succeeds.
func TestE2EFailureWithValidToken(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	tok.Expiry = time.Now().Add(4 * time.Second)     // window: 1 s
	cfg.Retry = spotauth.RetryPolicy{MaxAttempts: 1} // the source's own backoff only
	for i := range 2 {
		srv.FailToken(i+1, spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable})
	}
	var failures atomic.Int32
	src := cfg.UserSource(tok, &spotauth.SourceOptions{Jitter: -1, OnError: func(error) { failures.Add(1) }})
	closeSource(t, src)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got, err := src.TokenContext(context.Background())
		if err != nil {
			t.Fatalf("TokenContext() during failing refreshes = %v; want the valid token", err)
		}
		if got.AccessToken != tok.AccessToken {
			break // refreshed
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f := failures.Load(); f < 1 {
		t.Errorf("OnError calls = %d; want the failed refreshes reported", f)
	}
	st := srv.Stats()
	if st.GrantsSucceeded["refresh_token"] != 1 {
		t.Errorf("successful refreshes = %d; want 1 after the failures", st.GrantsSucceeded["refresh_token"])
	}
}

// TestNoSecretsInOutput: sources, stores, and their errors never print a
// token or the client secret, whatever the verb.
func TestNoSecretsInOutput(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	mem := spotauth.NewMemoryStore(tok)
	fs, _ := file.New(t.TempDir(), "p", nil)
	fs.Save(context.Background(), tok)
	src := cfg.UserSource(tok, &spotauth.SourceOptions{Store: mem})
	closeSource(t, src)
	if _, err := src.ForceRefresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.RevokeGrant(tok.RefreshToken)
	_, rerr := src.ForceRefresh(context.Background())
	storeErr := &spotauth.StoreError{Op: "save", Err: errors.New("disk full")}
	for _, v := range []any{src, mem, fs, rerr, storeErr, &spotauth.Transport{Source: src}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{tok.AccessToken, tok.RefreshToken, cfg.ClientSecret} {
				if strings.Contains(out, secret) {
					t.Errorf("Sprintf(%q, %T) shows a secret: %s", verb, v, out)
				}
			}
		}
	}
}

// TestE2EAppSourceSharedStore: two app sources sharing a store (two
// processes, say) request one client-credentials token between them, and
// request a new one, once, when it expires.
func TestE2EAppSourceSharedStore(t *testing.T) {
	srv := spotauthtest.NewUnstartedServer()
	srv.AccessTokenLifetime = 2 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Endpoint: spotauth.NewEndpoint(srv.URL), HTTPClient: srv.Client()}
	store := spotauth.NewMemoryStore(nil)
	a := cfg.AppSource(&spotauth.SourceOptions{Store: store})
	closeSource(t, a)
	b := cfg.AppSource(&spotauth.SourceOptions{Store: store})
	closeSource(t, b)
	ta, err := a.TokenContext(context.Background())
	if err != nil {
		t.Fatalf("a.TokenContext() = %v", err)
	}
	tb, err := b.TokenContext(context.Background())
	if err != nil || tb.AccessToken != ta.AccessToken {
		t.Fatalf("b.TokenContext() = %v; want a's token from the store", err)
	}
	if ta.RefreshToken != "" {
		t.Errorf("app token has a refresh token")
	}
	if n := srv.Stats().Grants["client_credentials"]; n != 1 {
		t.Errorf("client_credentials requests = %d; want 1", n)
	}
	// Past the expiry both need a new token: one request between them.
	time.Sleep(time.Until(ta.Expiry) + 50*time.Millisecond)
	na, err := a.TokenContext(context.Background())
	if err != nil {
		t.Fatalf("a.TokenContext() after expiry = %v", err)
	}
	nb, err := b.TokenContext(context.Background())
	if err != nil || nb.AccessToken != na.AccessToken || na.AccessToken == ta.AccessToken {
		t.Fatalf("after expiry: b's token differs from a's new token (err %v)", err)
	}
	if n := srv.Stats().Grants["client_credentials"]; n != 2 {
		t.Errorf("client_credentials requests after one expiry = %d; want 2", n)
	}
}
