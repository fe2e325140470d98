package spotauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// The common path: a user logs in with PKCE (no client secret needed), and
// a RefreshingSource keeps the token valid for Web API requests.
func Example() {
	srv := spotauthtest.NewServer() // a fake Accounts service: leave AccountsURL "" in production
	defer srv.Close()
	cfg := &spotauth.Config{ClientID: srv.ClientID, RedirectURL: srv.RedirectURI, AccountsURL: srv.URL, HTTPClient: srv.Client()}

	ua, err := cfg.NewUserAuth(true) // send the user's browser to ua.URL
	if err != nil {
		log.Fatal(err)
	}
	landed, err := srv.Authorize(ua.URL, true) // the user approves; the browser lands on the redirect URI
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ua.Exchange(context.Background(), landed.String())
	if err != nil {
		log.Fatal(err)
	}

	src := cfg.UserSource(tok, nil) // refreshes before expiry; Close when done
	defer src.Close()
	resp, err := src.Client(srv.Client()).Get(srv.URL + "/v1/me")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 200 OK
}

// Spotify accepts https, http on a loopback IP literal, and custom schemes;
// it refuses localhost whatever the scheme.
func ExampleValidateRedirectURI() {
	for _, uri := range []string{
		"https://example.com/callback",
		"http://127.0.0.1:8888/callback",
		"myapp://callback",
		"http://localhost:8888/callback",
		"http://example.com/callback",
	} {
		if err := spotauth.ValidateRedirectURI(uri); err != nil {
			fmt.Println("refused:", errors.Is(err, spotauth.ErrInvalidRedirectURI), err)
			continue
		}
		fmt.Println("ok:", uri)
	}
	// Output:
	// ok: https://example.com/callback
	// ok: http://127.0.0.1:8888/callback
	// ok: myapp://callback
	// refused: true spotauth: invalid redirect URI: "http://localhost:8888/callback" uses localhost, which Spotify refuses whatever the scheme; use the loopback IP literal instead, http://127.0.0.1:PORT/... (or http://[::1]:PORT/...)
	// refused: true spotauth: invalid redirect URI: "http://example.com/callback" uses http on a host other than a loopback IP literal; use https, or http://127.0.0.1:PORT/... for a local listener
}

// A command-line tool registers http://127.0.0.1/callback without a port,
// listens on a free port, and sends the URI with that port to both
// /authorize and the code exchange.
func ExampleWithRedirectPort() {
	uri, err := spotauth.WithRedirectPort("http://127.0.0.1/callback", 43117)
	if err != nil {
		panic(err)
	}
	fmt.Println(uri)
	// Output:
	// http://127.0.0.1:43117/callback
}

// ParseRedirect accepts the whole URL or just the query a user pastes. An
// error redirect gives its state and an *AuthorizeError; the state is the
// caller's to check (UserAuth.Exchange does) before anything else.
func ExampleParseRedirect() {
	for _, pasted := range []string{
		"http://127.0.0.1:43117/callback?code=AQBxyz&state=Zk3q",
		"code=AQBxyz&state=Zk3q",
		"?error=access_denied&state=Zk3q",
		"?code=AQBxyz&state=Zk3q&state=other",
	} {
		code, state, err := spotauth.ParseRedirect(pasted)
		fmt.Printf("code=%q state=%q err=%v\n", code, state, err)
	}
	// Output:
	// code="AQBxyz" state="Zk3q" err=<nil>
	// code="AQBxyz" state="Zk3q" err=<nil>
	// code="" state="Zk3q" err=spotauth: authorization failed: access_denied (the user denied access)
	// code="" state="" err=spotauth: malformed redirect URL: parameter "state" appears 2 times, want once
}

func ExampleBasicAuth() {
	fmt.Println(spotauth.BasicAuth("abc123", "s3cr3t"))
	// Output:
	// Basic YWJjMTIzOnMzY3IzdA==
}

func ExampleS256Challenge() {
	// The test vector of RFC 7636, Appendix B.
	fmt.Println(spotauth.S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
	// Output:
	// E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
}

// The authorization-code flow of a confidential client (one with a client
// secret), against the fake Accounts service.
func ExampleConfig_Exchange() {
	srv := spotauthtest.NewServer()
	defer srv.Close()

	cfg := &spotauth.Config{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		RedirectURL:  srv.RedirectURI,
		Scopes:       spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserReadEmail),
		AccountsURL:  srv.URL, // "" (SpotifyAccountsURL) in production
		HTTPClient:   srv.Client(),
	}
	ctx := context.Background()

	// 1. Send the user's browser to the consent page, with a fresh state.
	state := spotauth.GenerateState()
	authURL := cfg.AuthCodeURL(state)

	// 2. Spotify redirects the browser to RedirectURL; the fake's Authorize
	// plays the browser and returns the redirect.
	redirect, err := srv.Authorize(authURL, true)
	if err != nil {
		log.Fatal(err)
	}

	// 3. Check the state, then exchange the code at once.
	code, gotState, err := spotauth.ParseRedirect(redirect.String())
	if gotState != state {
		log.Fatal("state mismatch")
	}
	if err != nil {
		log.Fatal(err) // an *AuthorizeError if the user refused
	}
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.TokenType)
	fmt.Println("scopes:", tok.Scope)
	fmt.Println("refresh token:", tok.RefreshToken != "")
	fmt.Println("PKCE:", tok.PKCE)
	// Output:
	// token type: Bearer
	// scopes: user-read-email user-read-private
	// refresh token: true
	// PKCE: false
}

// The authorization-code flow with PKCE, for a public client such as a
// command-line tool: no client secret anywhere.
func ExampleConfig_Exchange_pkce() {
	srv := spotauthtest.NewUnstartedServer()
	srv.ClientSecret = "" // a public client
	srv.Start()
	defer srv.Close()

	cfg := &spotauth.Config{
		ClientID:    srv.ClientID,
		RedirectURL: srv.RedirectURI,
		AccountsURL: srv.URL,
		HTTPClient:  srv.Client(),
	}
	verifier := spotauth.GenerateVerifier()
	state := spotauth.GenerateState()
	authURL := cfg.AuthCodeURL(state, spotauth.S256ChallengeOption(verifier))

	redirect, err := srv.Authorize(authURL, true)
	if err != nil {
		log.Fatal(err)
	}
	if got, _ := spotauth.ParseState(redirect.String()); got != state {
		log.Fatal("state mismatch")
	}
	code, err := spotauth.ParseCode(redirect.String())
	if err != nil {
		log.Fatal(err)
	}
	tok, err := cfg.Exchange(context.Background(), code, spotauth.VerifierOption(verifier))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("PKCE:", tok.PKCE)
	fmt.Println("refresh token:", tok.RefreshToken != "")
	// Output:
	// PKCE: true
	// refresh token: true
}

// An app token with the client-credentials grant: no user, no refresh token.
func ExampleConfig_ClientCredentials() {
	srv := spotauthtest.NewServer()
	defer srv.Close()

	cfg := &spotauth.Config{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		AccountsURL:  srv.URL,
		HTTPClient:   srv.Client(),
	}
	tok, err := cfg.ClientCredentials(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.TokenType)
	fmt.Println("valid for about an hour:", time.Until(tok.Expiry) > 59*time.Minute)
	fmt.Println("refresh token:", tok.RefreshToken != "")
	// Output:
	// token type: Bearer
	// valid for about an hour: true
	// refresh token: false
}

// Refreshing a user token. Spotify today returns no new refresh token, so
// the old one is kept; when a refresh token is revoked or older than six
// months, the error matches ErrReauthorize and the user must log in again.
func ExampleConfig_Refresh() {
	srv := spotauthtest.NewServer()
	defer srv.Close()

	cfg := &spotauth.Config{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		AccountsURL:  srv.URL,
		HTTPClient:   srv.Client(),
	}
	ctx := context.Background()
	_, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	old := &spotauth.Token{RefreshToken: refresh}

	tok, err := cfg.Refresh(ctx, old)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new access token:", tok.AccessToken != "")
	fmt.Println("same refresh token:", tok.RefreshToken == old.RefreshToken)
	fmt.Println("scopes:", tok.Scope)

	srv.RevokeGrant(refresh) // the user removed the app's access
	_, err = cfg.Refresh(ctx, tok)
	fmt.Println("log in again:", errors.Is(err, spotauth.ErrReauthorize))
	// Output:
	// new access token: true
	// same refresh token: true
	// scopes: user-read-private
	// log in again: true
}

// One login attempt with UserAuth, completed from the URL the browser
// landed on (as a command-line tool's loopback listener, or a user pasting
// it, sees it). The state check, the error check and the exchange happen
// in Spotify's order.
func ExampleUserAuth_Exchange() {
	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true // the fake redirects at once, without a consent page
	srv.Start()
	defer srv.Close()

	cfg := &spotauth.Config{
		ClientID:    srv.ClientID,
		Scopes:      spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
		AccountsURL: srv.URL,
		HTTPClient:  srv.Client(),
	}
	// The tool listens on a free port and registers no port with Spotify.
	redirectURI, err := spotauth.WithRedirectPort(srv.RedirectURI, 43117)
	if err != nil {
		log.Fatal(err)
	}
	ua, err := cfg.NewUserAuth(true, spotauth.RedirectURLOption(redirectURI))
	if err != nil {
		log.Fatal(err)
	}

	// The browser visits ua.URL; here a client that does not follow
	// redirects plays it and reads where it would go.
	browser := &http.Client{
		Transport:     srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := browser.Get(ua.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	landed := resp.Header.Get("Location")
	fmt.Println("redirected to:", strings.Split(landed, "?")[0])

	tok, err := ua.Exchange(context.Background(), landed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("PKCE:", tok.PKCE)
	fmt.Println("scopes:", tok.Scope)

	// An attempt completes once: a replayed redirect is refused.
	_, err = ua.Exchange(context.Background(), landed)
	fmt.Println(err)
	// Output:
	// redirected to: http://127.0.0.1:43117/callback
	// PKCE: true
	// scopes: user-read-private
	// spotauth: login attempt already completed
}

// The authorization URL of a confidential client, with a state from
// GenerateState in real use (fixed here for the output).
func ExampleConfig_AuthCodeURL() {
	cfg := &spotauth.Config{
		ClientID:    "abc123",
		RedirectURL: "http://127.0.0.1:43117/callback",
		Scopes:      spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopePlaylistReadPrivate),
	}
	fmt.Println(cfg.AuthCodeURL("Zk3q", spotauth.ShowDialog))
	// Output:
	// https://accounts.spotify.com/authorize?client_id=abc123&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A43117%2Fcallback&state=Zk3q&scope=playlist-read-private%20user-read-private&show_dialog=true
}

// Failures of the token endpoint are *TokenError values: branch on them
// with errors.Is, and read Spotify's fields and Retry-After with errors.As.
// A Retry-After beyond RetryPolicy.MaxRetryAfter is returned, not waited
// out; a 503 of a client-credentials request is retried.
func ExampleTokenError() {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	cfg := &spotauth.Config{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		AccountsURL:  srv.URL,
		HTTPClient:   srv.Client(),
		Retry:        spotauth.RetryPolicy{BaseDelay: time.Millisecond},
	}
	ctx := context.Background()

	srv.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: time.Hour})
	_, err := cfg.ClientCredentials(ctx)
	var te *spotauth.TokenError
	if errors.As(err, &te) {
		fmt.Println("rate limited:", errors.Is(err, spotauth.ErrRateLimited), "retry after:", te.RetryAfter)
	}

	srv.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable})
	_, err = cfg.ClientCredentials(ctx)
	fmt.Println("after one 503:", err)

	cfg.ClientSecret = "wrong"
	_, err = cfg.ClientCredentials(ctx)
	if errors.As(err, &te) {
		fmt.Println(errors.Is(err, spotauth.ErrInvalidClient), te.StatusCode, te.Code, te.Description)
	}
	// Output:
	// rate limited: true retry after: 1h0m0s
	// after one 503: <nil>
	// true 400 invalid_client Invalid client secret
}
