// Command webapp is a small web app where people log in with Spotify: it
// greets the user by display name, lists the user's playlists (asking for
// the playlist-read-private scope only then, with a step-up login) and
// logs out. It is built on package weblogin.
//
// Against spotauth's fake Spotify, in one command (the fake prints its
// settings, which webapp reads with -env -):
//
//	go run ./cmd/spotauth accounts-server | go run ./examples/webapp -env -
//
// then open http://127.0.0.1:8080. Against Spotify, register the redirect
// URI http://127.0.0.1:8080/callback for your app at
// https://developer.spotify.com/dashboard, then:
//
//	SPOTIFY_CLIENT_ID=your-client-id go run ./examples/webapp
//
// Settings come from the environment (or the -env file, which wins):
//
//	SPOTIFY_CLIENT_ID      the app's client ID (required)
//	SPOTIFY_REDIRECT_URI   default http://127.0.0.1:8080/callback; a
//	                       loopback URI without port gets port 8080
//	SPOTAUTH_ACCOUNTS_URL  the Accounts service; default Spotify's
//	SPOTAUTH_API_URL       the Web API; default Spotify's
//	SESSION_KEYS           cookie keys, base64, newest first; default a
//	                       new random key (sessions end with the process)
//	ADDR                   where to listen; default the redirect URI's
//	                       host and port
//
// Tokens are kept in memory: a deployment with replicas gives
// weblogin.Options.Store a Redis store per user instead.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/weblogin"
)

// settings configure the app.
type settings struct {
	ClientID    string
	RedirectURI string
	AccountsURL string // "": Spotify's
	APIURL      string // "": Spotify's
	Keys        [][]byte
	// HTTPClient, if set, sends the requests to Spotify (tests).
	HTTPClient *http.Client
}

// app is the web app.
type app struct {
	auth   *weblogin.Auth
	apiURL string
	pages  *template.Template
}

// newApp returns the app's handler, and a function that releases it.
func newApp(s settings) (http.Handler, func(), error) {
	cfg := &spotauth.Config{
		ClientID:    s.ClientID,
		RedirectURL: s.RedirectURI,
		AccountsURL: s.AccountsURL,
		HTTPClient:  s.HTTPClient,
		Scopes:      spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
	}
	auth, err := weblogin.New(cfg, weblogin.Options{
		Keys:       s.Keys,
		Store:      new(weblogin.MemoryStores).Store,
		APIURL:     s.APIURL,
		HTTPClient: s.HTTPClient,
	})
	if err != nil {
		return nil, nil, err
	}
	a := &app{auth: auth, apiURL: strings.TrimRight(s.APIURL, "/"), pages: template.Must(template.New("").Parse(pages))}
	if a.apiURL == "" {
		a.apiURL = weblogin.SpotifyAPIURL
	}
	callback, err := url.Parse(s.RedirectURI)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", auth.Login)
	mux.HandleFunc("GET "+callback.Path, auth.Callback)
	mux.HandleFunc("POST /logout", auth.Logout)
	mux.Handle("GET /{$}", auth.OptionalUser(http.HandlerFunc(a.home)))
	mux.Handle("GET /playlists", auth.RequireScopes(spotauth.NewScopes(spotauth.ScopePlaylistReadPrivate), http.HandlerFunc(a.playlists)))
	return mux, func() { auth.Close() }, nil
}

// page is what the templates show.
type page struct {
	Name, ID, CSRF string
	Scopes         string
	Playlists      []string
	Note           string
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	if weblogin.UserID(r) == "" {
		a.render(w, "anonymous", page{})
		return
	}
	var me struct {
		DisplayName string `json:"display_name"`
	}
	if err := a.get(r, "/v1/me", &me); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	tok, err := weblogin.TokenSource(r).Token(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	a.render(w, "home", page{Name: me.DisplayName, ID: weblogin.UserID(r), CSRF: weblogin.CSRFToken(r), Scopes: tok.Scope.String()})
}

func (a *app) playlists(w http.ResponseWriter, r *http.Request) {
	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	p := page{ID: weblogin.UserID(r), CSRF: weblogin.CSRFToken(r)}
	err := a.get(r, "/v1/me/playlists?limit=20", &list)
	var se statusError
	switch {
	case errors.As(err, &se) && se == http.StatusNotFound:
		p.Note = "The Web API at " + a.apiURL + " has no playlists (spotauth's fake Spotify serves /v1/me only)."
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, it := range list.Items {
		p.Playlists = append(p.Playlists, it.Name)
	}
	a.render(w, "playlists", p)
}

// statusError is a Web API answer other than 200.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("the Web API answered %d", int(e)) }

// get reads a Web API resource for the request's user into v.
func (a *app) get(r *http.Request, path string, v any) error {
	req, err := http.NewRequestWithContext(r.Context(), "GET", a.apiURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := weblogin.Client(r).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return statusError(resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

func (a *app) render(w http.ResponseWriter, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.pages.ExecuteTemplate(w, name, p); err != nil {
		log.Printf("webapp: render %s: %v", name, err)
	}
}

const pages = `
{{define "head"}}<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>spotauth web app</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}</style></head><body>{{end}}
{{define "logout"}}<form id="logout" method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><button id="logout-button">Log out</button></form>{{end}}
{{define "anonymous"}}{{template "head"}}<h1>spotauth web app</h1>
<p id="anonymous">You are not logged in.</p><p><a id="login" href="/login">Log in with Spotify</a></p></body></html>{{end}}
{{define "home"}}{{template "head"}}<h1 id="hello">Hello, {{.Name}}</h1>
<p>Spotify user <code id="user">{{.ID}}</code>; scopes granted: <span id="scopes">{{.Scopes}}</span>.</p>
<p><a id="playlists" href="/playlists">Show my playlists</a> (asks for playlist-read-private the first time)</p>
{{template "logout" .}}</body></html>{{end}}
{{define "playlists"}}{{template "head"}}<h1>Playlists of <code>{{.ID}}</code></h1>
{{if .Note}}<p id="note">{{.Note}}</p>{{end}}
<ul id="playlist-list">{{range .Playlists}}<li>{{.}}</li>{{end}}</ul>
<p><a id="home" href="/">Home</a></p>{{template "logout" .}}</body></html>{{end}}
`

func main() {
	log.SetFlags(0)
	envFile := flag.String("env", "", "read settings (KEY=VALUE lines) from this file, - for standard input,\nsuch as the output of spotauth accounts-server")
	flag.Parse()
	s, addr, err := loadSettings(*envFile, os.Stdin)
	if err != nil {
		log.Fatalf("webapp: %v", err)
	}
	handler, release, err := newApp(s)
	if err != nil {
		log.Fatalf("webapp: %v", err)
	}
	defer release()
	srv := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("webapp: %v", err)
	}
	home := strings.TrimSuffix(s.RedirectURI, mustParse(s.RedirectURI).Path) + "/"
	log.Printf("webapp: open %s (Spotify at %s)", home, orDefault(s.AccountsURL, spotauth.SpotifyAccountsURL))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatalf("webapp: %v", err)
	}
}

// loadSettings reads the settings from the environment and, if envFile is
// set, from KEY=VALUE lines in that file ("-": stdin). From stdin it stops
// after SPOTIFY_REDIRECT_URI, the last line accounts-server prints, since
// that command keeps running. It returns the address to listen on.
func loadSettings(envFile string, stdin io.Reader) (settings, string, error) {
	vals := map[string]string{}
	if envFile != "" {
		var r io.Reader = stdin
		if envFile != "-" {
			f, err := os.Open(envFile)
			if err != nil {
				return settings{}, "", err
			}
			defer f.Close()
			r = f
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(line, "#") {
				continue
			}
			vals[k] = strings.Trim(v, `"'`)
			if envFile == "-" && k == "SPOTIFY_REDIRECT_URI" {
				break
			}
		}
		if err := sc.Err(); err != nil {
			return settings{}, "", err
		}
	}
	get := func(k string) string {
		if v, ok := vals[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	s := settings{
		ClientID:    get("SPOTIFY_CLIENT_ID"),
		RedirectURI: orDefault(get("SPOTIFY_REDIRECT_URI"), "http://127.0.0.1:8080/callback"),
		AccountsURL: get("SPOTAUTH_ACCOUNTS_URL"),
		APIURL:      get("SPOTAUTH_API_URL"),
	}
	if s.ClientID == "" {
		return s, "", errors.New("set SPOTIFY_CLIENT_ID (or pass -env - with the output of spotauth accounts-server)")
	}
	if port, err := spotauth.RedirectPort(s.RedirectURI); err == nil && port == 0 {
		// Registered without a port: Spotify accepts any on loopback.
		if s.RedirectURI, err = spotauth.WithRedirectPort(s.RedirectURI, 8080); err != nil {
			return s, "", err
		}
	}
	if err := spotauth.ValidateRedirectURI(s.RedirectURI); err != nil {
		return s, "", err
	}
	if k := get("SESSION_KEYS"); k != "" {
		keys, err := weblogin.ParseKeys(k)
		if err != nil {
			return s, "", err
		}
		s.Keys = keys
	} else {
		keys, _ := weblogin.ParseKeys(weblogin.GenerateKey())
		s.Keys = keys
		log.Printf("webapp: no SESSION_KEYS: a new random key; sessions end when webapp stops")
	}
	addr := get("ADDR")
	if addr == "" {
		u := mustParse(s.RedirectURI)
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			addr = u.Host
		} else {
			addr = ":8080"
		}
	}
	return s, addr, nil
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
