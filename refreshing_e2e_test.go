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
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	tok := &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(time.Hour),
		Scope: spotauth.NewScopes(spotauth.ScopeUserReadPrivate)}
	return srv, cfg, tok
}

func closeSource(t *testing.T, s *spotauth.RefreshingSource) {
	t.Cleanup(func() { s.Close() })
}

// forceRefresh refreshes src's token now, whatever its expiry: it loads the
// token first if none is loaded yet, then invalidates it. Invalidate does
// not refresh a token that a refresh produced less than a second before:
// advance an offsetClock between two calls.
func forceRefresh(src *spotauth.RefreshingSource) (*spotauth.Token, error) {
	ctx := context.Background()
	cur, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	return src.Invalidate(ctx, cur)
}

// offsetClock is the system clock moved forward by Advance (timers are the
// system's), so that a test gets past a source's one-second guard against
// refresh loops without sleeping.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func (c *offsetClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
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
			nt, err := src.Token(context.Background())
			if err != nil {
				t.Errorf("Token() error: %v", err)
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
	_, err = forceRefresh(src)
	if !errors.Is(err, spotauth.ErrReauthorize) {
		t.Errorf("Invalidate() of a revoked grant = %v; want ErrReauthorize", err)
	}
	var te *spotauth.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Errorf("Invalidate() error = %v; want a *TokenError with code invalid_grant", err)
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
	clock := &offsetClock{}
	cfg.Clock = clock
	dir := t.TempDir()
	store, _ := file.New(dir, "default", nil)
	store.Save(context.Background(), tok)
	var refreshed []*spotauth.Token
	src := cfg.UserSource(nil, &spotauth.SourceOptions{Store: store, OnRefresh: func(t *spotauth.Token) { refreshed = append(refreshed, t) }})
	closeSource(t, src)
	prev := tok
	for range 3 {
		nt, err := forceRefresh(src)
		if err != nil {
			t.Fatalf("Invalidate() error: %v", err)
		}
		if nt.AccessToken == prev.AccessToken {
			t.Fatalf("Invalidate() returned the invalidated token")
		}
		prev = nt
		clock.Advance(2 * time.Second) // past the guard against refresh loops
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
	if got, err := forceRefresh(src2); err != nil || got.AccessToken == prev.AccessToken {
		t.Errorf("second source's Invalidate() = %v, %v; want a new token", got, err)
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
		got, err := src.Token(context.Background())
		if err != nil {
			t.Fatalf("Token() during failing refreshes = %v; want the valid token", err)
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

// TestNoSecretsInOutput: sources, stores, login attempts, configs, tokens
// and errors never print a token, the client secret or a PKCE verifier,
// whatever the verb. RefreshingSource and MemoryStore have no Format
// method: fmt prints their fields, which hold tokens only behind pointers.
func TestNoSecretsInOutput(t *testing.T) {
	srv, cfg, tok := e2e(t, spotauthtest.RefreshStable)
	clock := &offsetClock{}
	cfg.Clock = clock
	cfg.RedirectURL = srv.RedirectURI
	mem := memoryStore(tok)
	fs, _ := file.New(t.TempDir(), "p", nil)
	fs.Save(context.Background(), tok)
	src := cfg.UserSource(tok, &spotauth.SourceOptions{Store: mem})
	closeSource(t, src)
	refreshed, err := forceRefresh(src)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second) // past the guard against refresh loops
	srv.RevokeGrant(tok.RefreshToken)
	_, rerr := forceRefresh(src)
	if !errors.Is(rerr, spotauth.ErrReauthorize) {
		t.Fatalf("Invalidate() of a revoked grant = %v; want ErrReauthorize", rerr)
	}
	appStore := &spotauth.MemoryStore{}
	app := cfg.AppSource(&spotauth.SourceOptions{Store: appStore})
	closeSource(t, app)
	appTok, err := app.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ua, err := cfg.NewUserAuth(true)
	if err != nil {
		t.Fatal(err)
	}
	storeErr := &spotauth.StoreError{Op: "save", Err: errors.New("disk full")}
	secrets := []string{tok.AccessToken, tok.RefreshToken, refreshed.AccessToken, appTok.AccessToken, cfg.ClientSecret, ua.Verifier}
	allVerbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}
	check := func(t *testing.T, verbs []string, values ...any) {
		t.Helper()
		for _, v := range values {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				for _, secret := range secrets {
					if len(secret) >= 8 && (strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) || strings.Contains(out, fmt.Sprintf("%X", secret))) {
						t.Errorf("Sprintf(%q, %T) shows a secret: %s", verb, v, out)
					}
				}
			}
		}
	}
	check(t, allVerbs, fs, rerr, storeErr, cfg, *cfg, tok, *tok, refreshed, appTok, ua)
	// Sources and stores in use, printed while their goroutines run: no
	// secret, and (under -race) no data race.
	check(t, allVerbs, src.Client(nil), src.Client(nil).Transport, src.OAuth2(), []any{src, app, mem, appStore, ua, cfg, tok},
		struct {
			Src *spotauth.RefreshingSource
			Mem *spotauth.MemoryStore
			UA  *spotauth.UserAuth
			Cfg *spotauth.Config
			Tok *spotauth.Token
		}{src, mem, ua, cfg, tok})
	check(t, allVerbs, src, app, mem, appStore)
	src.Close()
	app.Close()
	check(t, allVerbs, src, app, mem, appStore)
}

// TestE2EAppSourceSharedStore: two app sources sharing a store (two
// processes, say) request one client-credentials token between them, and
// request a new one, once, when it expires.
func TestE2EAppSourceSharedStore(t *testing.T) {
	srv := spotauthtest.NewUnstartedServer()
	srv.AccessTokenLifetime = 2 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	store := &spotauth.MemoryStore{}
	a := cfg.AppSource(&spotauth.SourceOptions{Store: store})
	closeSource(t, a)
	b := cfg.AppSource(&spotauth.SourceOptions{Store: store})
	closeSource(t, b)
	ta, err := a.Token(context.Background())
	if err != nil {
		t.Fatalf("a.Token() = %v", err)
	}
	tb, err := b.Token(context.Background())
	if err != nil || tb.AccessToken != ta.AccessToken {
		t.Fatalf("b.Token() = %v; want a's token from the store", err)
	}
	if ta.RefreshToken != "" {
		t.Errorf("app token has a refresh token")
	}
	if n := srv.Stats().Grants["client_credentials"]; n != 1 {
		t.Errorf("client_credentials requests = %d; want 1", n)
	}
	// Past the expiry both need a new token: one request between them.
	time.Sleep(time.Until(ta.Expiry) + 50*time.Millisecond)
	na, err := a.Token(context.Background())
	if err != nil {
		t.Fatalf("a.Token() after expiry = %v", err)
	}
	nb, err := b.Token(context.Background())
	if err != nil || nb.AccessToken != na.AccessToken || na.AccessToken == ta.AccessToken {
		t.Fatalf("after expiry: b's token differs from a's new token (err %v)", err)
	}
	if n := srv.Stats().Grants["client_credentials"]; n != 2 {
		t.Errorf("client_credentials requests after one expiry = %d; want 2", n)
	}
}
