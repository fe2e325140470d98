package spotauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/zmb3/spotify/v2"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// A long-running program keeps one RefreshingSource per user: it refreshes
// the token once per expiry in the background, and its Client adds the
// bearer token to Web API requests, refreshing and retrying once on a 401.
func ExampleConfig_UserSource() {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	// A user authorized the app earlier (normally: Config.Exchange).
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	tok := &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}

	store := &spotauth.MemoryStore{} // or store/file, store/redis
	if err := store.Save(context.Background(), tok); err != nil {
		log.Fatal(err)
	}

	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	src := cfg.UserSource(tok, &spotauth.SourceOptions{
		Store:   store,
		OnError: func(err error) { log.Print(err) },
	})
	defer src.Close()

	client := src.Client(srv.Client())
	srv.ExpireAccessTokens() // the Web API now refuses the token: 401
	resp, err := client.Get(srv.URL + "/v1/me")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, len(body) > 0)
	fmt.Println("refreshes:", srv.Stats().Grants["refresh_token"])
	// Output:
	// 200 true
	// refreshes: 1
}

// AppSource keeps a client-credentials token for app-only requests.
func ExampleConfig_AppSource() {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	src := cfg.AppSource(nil)
	defer src.Close()
	for range 3 {
		if _, err := src.Token(context.Background()); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("token requests:", srv.Stats().Grants["client_credentials"])
	// Output:
	// token requests: 1
}

// github.com/zmb3/spotify/v2 takes any *http.Client: give it the source's.
func Example_zmb3Spotify() {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private", "user-read-email"}, false)
	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	src := cfg.UserSource(&spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}, nil)
	defer src.Close()

	client := spotify.New(src.Client(srv.Client()), spotify.WithBaseURL(srv.URL+"/v1/"))
	user, err := client.CurrentUser(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.ID, user.DisplayName, user.Email)
	// Output:
	// spotauthtest-user Test User test-user@example.com
}

// A program that runs once per use (a cron job, a script) keeps its token in
// a store and asks for one valid for as long as it needs: the stored token
// when it is, else one refresh under the store's lease, saved before it is
// returned, so that concurrent runs refresh once between them.
func ExampleConfig_EnsureToken() {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	ctx := context.Background()
	store := &spotauth.MemoryStore{} // or store/file, store/redis
	if err := store.Save(ctx, &spotauth.Token{AccessToken: access, TokenType: "Bearer",
		RefreshToken: refresh, Expiry: time.Now().Add(2 * time.Minute)}); err != nil {
		log.Fatal(err)
	}

	cfg := &spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, AccountsURL: srv.URL, HTTPClient: srv.Client()}
	for _, minValid := range []time.Duration{time.Minute, 10 * time.Minute, 10 * time.Minute} {
		tok, err := cfg.EnsureToken(ctx, store, minValid)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("valid for %v: %v\n", minValid, time.Until(tok.Expiry) > minValid)
	}
	fmt.Println("refreshes:", srv.Stats().Grants["refresh_token"])
	// Output:
	// valid for 1m0s: true
	// valid for 10m0s: true
	// valid for 10m0s: true
	// refreshes: 1
}
