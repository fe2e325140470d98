package weblogin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/weblogin"
)

// A complete app: the home page greets the logged-in user with the display
// name from the Web API. The fake Spotify approves at once, and a client
// with a cookie jar plays the browser.
func Example() {
	spotify := spotauthtest.NewUnstartedServer()
	spotify.AutoApprove = true
	spotify.Start()
	defer spotify.Close()

	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()

	cfg := &spotauth.Config{
		ClientID:    spotify.ClientID,
		RedirectURL: app.URL + "/callback",
		Scopes:      spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
		AccountsURL: spotify.URL, // "" in production: Spotify's
		HTTPClient:  spotify.Client(),
	}
	auth, err := weblogin.New(cfg, weblogin.Options{
		Keys:       [][]byte{[]byte("an example key, 32 bytes or more")}, // weblogin.ParseKeys(os.Getenv(...))
		Store:      new(weblogin.MemoryStores).Store,
		APIURL:     spotify.URL, // "" in production: Spotify's
		HTTPClient: spotify.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
	mux.HandleFunc("GET /login", auth.Login)
	mux.HandleFunc("GET /callback", auth.Callback)
	mux.HandleFunc("POST /logout", auth.Logout)
	mux.Handle("GET /{$}", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := weblogin.Client(r).Get(spotify.URL + "/v1/me")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var me struct {
			DisplayName string `json:"display_name"`
		}
		json.NewDecoder(resp.Body).Decode(&me)
		fmt.Fprintf(w, "Hello, %s (%s)", me.DisplayName, weblogin.UserID(r))
	})))

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	defer browser.CloseIdleConnections()
	resp, err := browser.Get(app.URL) // -> /login -> Spotify -> /callback -> /
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output: Hello, Test User (spotauthtest-user)
}

// A handler that needs a scope the user has not granted sends the browser
// through a step-up login, which asks for it and for the scopes granted
// before.
func ExampleAuth_RequireScopes() {
	spotify := spotauthtest.NewUnstartedServer()
	spotify.AutoApprove = true
	spotify.Start()
	defer spotify.Close()
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	cfg := &spotauth.Config{ClientID: spotify.ClientID, RedirectURL: app.URL + "/callback", AccountsURL: spotify.URL,
		HTTPClient: spotify.Client(), Scopes: spotauth.NewScopes(spotauth.ScopeUserReadPrivate)}
	auth, err := weblogin.New(cfg, weblogin.Options{
		Keys:  [][]byte{[]byte("an example key, 32 bytes or more")},
		Store: new(weblogin.MemoryStores).Store, APIURL: spotify.URL, HTTPClient: spotify.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
	mux.HandleFunc("GET /login", auth.Login)
	mux.HandleFunc("GET /callback", auth.Callback)
	mux.Handle("GET /top", auth.RequireScopes(spotauth.NewScopes(spotauth.ScopeUserTopRead),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, _ := weblogin.TokenSource(r).Token(r.Context())
			fmt.Fprintf(w, "granted: %s", tok.Scope)
		})))

	jar, _ := cookiejar.New(nil)
	var visited []string
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/authorize" {
			visited = append(visited, "authorize "+req.URL.Query().Get("scope"))
		}
		return nil
	}}
	defer browser.CloseIdleConnections()
	resp, err := browser.Get(app.URL + "/login") // log in with the configured scopes
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	resp, err = browser.Get(app.URL + "/top")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(strings.Join(visited, "\n"))
	fmt.Println(string(body))
	// Output:
	// authorize user-read-private
	// authorize user-read-private user-top-read
	// granted: user-read-private user-top-read
}

// Token stores are opened by user ID; StoreKey gives a name every store
// accepts, here a file per user (with store/filestore, say).
func ExampleStoreKey() {
	for _, id := range []string{"31l77fxeoefbkj3vonfxz5ha7gdy", "Wizzler", "john.doe"} {
		fmt.Printf("%s.json\n", weblogin.StoreKey(id))
	}
	// Output:
	// 31l77fxeoefbkj3vonfxz5ha7gdy.json
	// x-atknkujcclp0.json
	// x-d9nmgrhechnma.json
}
