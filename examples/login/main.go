// Command login logs a user in to Spotify with one call and greets them by
// the display name the Web API gives, through github.com/zmb3/spotify/v2.
//
// Against the fake Accounts service and Web API, offline:
//
//	spotauth accounts-server --auto-approve   # prints settings: export them
//	go run ./examples/login
//
// Against Spotify, register http://127.0.0.1/callback as the app's redirect
// URI, then:
//
//	SPOTIFY_CLIENT_ID=your-client-id go run ./examples/login
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/zmb3/spotify/v2"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
)

func main() {
	ctx := context.Background()
	cfg, _, err := spotauth.ConfigFromEnv() // SPOTIFY_CLIENT_ID, and SPOTIFY_CLIENT_SECRET, SPOTIFY_REDIRECT_URI if set
	if err != nil {
		log.Fatal(err)
	}
	cfg.AccountsURL = os.Getenv("SPOTAUTH_ACCOUNTS_URL") // "" means Spotify's
	tok, err := login.Run(ctx, cfg, &login.Options{Scopes: spotauth.NewScopes(spotauth.ScopeUserReadPrivate), In: os.Stdin})
	if err != nil {
		log.Fatal(err)
	}
	src := cfg.UserSource(tok, nil)
	defer src.Close()
	client := spotify.New(src.Client(nil), spotify.WithBaseURL(apiURL()+"/v1/"))
	user, err := client.CurrentUser(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Hello,", user.DisplayName)
}

// apiURL is the Web API's base URL: SPOTAUTH_API_URL (a fake's), or
// Spotify's.
func apiURL() string {
	if u := os.Getenv("SPOTAUTH_API_URL"); u != "" {
		return u
	}
	return "https://api.spotify.com"
}
