package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/spotauth/spotauth/internal/chromiumtest"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/weblogin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// webAPI serves the playlists of a valid token's user, and passes every
// other request (/v1/me) to the fake Spotify, which checks tokens.
func webAPI(t *testing.T, spotify *spotauthtest.Server) *httptest.Server {
	fake, _ := url.Parse(spotify.URL)
	proxy := httputil.NewSingleHostReverseProxy(fake)
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("GET /v1/me/playlists", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", spotify.URL+"/v1/me", nil)
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		resp, err := spotify.Client().Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			w.WriteHeader(resp.StatusCode)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[{"name":"Road trip"},{"name":"Focus"},{"name":"Discover Weekly"}]}`)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// TestChromium drives the example app with a real headless Chromium: log
// in on the fake's consent page, see the display name, step up to the
// playlist-read-private scope and see the list, log out, and find the
// session gone. Screenshots of each page are saved as artifacts.
func TestChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	path := chromiumtest.Path(t)
	spotify := spotauthtest.NewServer() // consent page with Agree and Cancel
	defer spotify.Close()
	api := webAPI(t, spotify)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	keys, _ := weblogin.ParseKeys(weblogin.GenerateKey())
	handler, release, err := newApp(settings{
		ClientID:    spotify.ClientID,
		RedirectURI: appURL + "/callback",
		AccountsURL: spotify.URL,
		APIURL:      api.URL,
		Keys:        keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	app.Start()
	defer app.Close()
	defer release()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(800, 600),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(browser); err != nil { // start the browser, without a timeout
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()

	dir := chromiumtest.ArtifactsDir(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s: %v (page %s)", what, err, loc)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	sessionCookies := func() []string {
		t.Helper()
		get := func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
			res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL}})
			if err != nil {
				return nil, err
			}
			return res.Cookies, nil
		}
		cookies, err := chromedp.Run(ctx, chromedp.Action[[]*network.Cookie](get))
		if err != nil {
			t.Fatalf("cookies: %v", err)
		}
		var names []string
		for _, c := range cookies {
			if strings.HasPrefix(c.Name, weblogin.DefaultCookieName) {
				names = append(names, c.Name)
				if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
					t.Errorf("cookie %s: HttpOnly %v, SameSite %q; want HttpOnly, Lax", c.Name, c.HTTPOnly, c.SameSite)
				}
			}
		}
		return names
	}

	do("open the app", chromedp.Navigate(appURL), chromedp.WaitVisible("#login"))
	shot("webapp-1-anonymous.png")
	do("log in", chromedp.Click("#login"), chromedp.WaitVisible("#approve"))
	if s := text("#scopes"); !strings.Contains(s, "user-read-private") {
		t.Errorf("consent page scopes = %q; want user-read-private", s)
	}
	shot("webapp-2-consent.png")
	do("approve", chromedp.Click("#approve"), chromedp.WaitVisible("#hello"))
	if s := text("#hello"); s != "Hello, Test User" {
		t.Errorf("home page #hello = %q; want Hello, Test User", s)
	}
	if s := text("#user"); s != spotauthtest.DefaultUser.ID {
		t.Errorf("home page #user = %q; want %q", s, spotauthtest.DefaultUser.ID)
	}
	if names := sessionCookies(); len(names) != 1 || names[0] != "spotauth" {
		t.Errorf("cookies after login = %v; want the session cookie alone", names)
	}
	shot("webapp-3-hello.png")

	do("step up", chromedp.Click("#playlists"), chromedp.WaitVisible("#approve"))
	if s := text("#scopes"); !strings.Contains(s, "playlist-read-private") || !strings.Contains(s, "user-read-private") {
		t.Errorf("step-up consent page scopes = %q; want playlist-read-private and user-read-private", s)
	}
	shot("webapp-4-step-up-consent.png")
	do("approve the step-up", chromedp.Click("#approve"), chromedp.WaitVisible("#playlist-list"))
	if s := text("#playlist-list"); !strings.Contains(s, "Road trip") || !strings.Contains(s, "Discover Weekly") {
		t.Errorf("playlists = %q; want the three playlists", s)
	}
	shot("webapp-5-playlists.png")
	do("go home", chromedp.Click("#home"), chromedp.WaitVisible("#hello"))
	if s := text("#scopes"); s != "playlist-read-private user-read-private" {
		t.Errorf("scopes after the step-up = %q; want both", s)
	}

	do("log out", chromedp.Click("#logout-button"), chromedp.WaitVisible("#anonymous"))
	shot("webapp-6-logged-out.png")
	if names := sessionCookies(); len(names) != 0 {
		t.Errorf("cookies after logout = %v; want none", names)
	}
	// The session is gone: the playlists page sends the browser to log in.
	do("playlists after logout", chromedp.Navigate(appURL+"/playlists"), chromedp.WaitVisible("#approve"))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, spotify.URL+"/authorize") {
		t.Errorf("playlists after logout went to %s; want Spotify's consent page", loc)
	}

	st := spotify.Stats()
	if st.Consents != 2 || st.GrantsSucceeded["authorization_code"] != 2 || st.Refreshes != 0 {
		t.Errorf("fake stats: consents %d, code exchanges %d, refreshes %d; want 2, 2, 0",
			st.Consents, st.GrantsSucceeded["authorization_code"], st.Refreshes)
	}
	for _, name := range []string{"webapp-1-anonymous.png", "webapp-2-consent.png", "webapp-3-hello.png",
		"webapp-4-step-up-consent.png", "webapp-5-playlists.png", "webapp-6-logged-out.png"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	t.Logf("screenshots in %s", dir)
	cancelTab()
	cancelAlloc()
}

func TestLoadSettings(t *testing.T) {
	t.Setenv("SPOTIFY_CLIENT_ID", "")
	t.Setenv("SESSION_KEYS", "")
	t.Setenv("ADDR", "")
	// The output of spotauth accounts-server, which keeps running (the
	// pipe stays open): reading stops after its last line.
	r, w := io.Pipe()
	defer w.Close()
	go fmt.Fprint(w, "SPOTAUTH_ACCOUNTS_URL=http://127.0.0.1:9\nSPOTAUTH_API_URL=http://127.0.0.1:9\n"+
		"SPOTIFY_CLIENT_ID=spotauthtest-client\nSPOTIFY_CLIENT_SECRET=s\nSPOTIFY_REDIRECT_URI=http://127.0.0.1/callback\n")
	type result struct {
		s    settings
		addr string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		s, addr, err := loadSettings("-", r)
		done <- result{s, addr, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		w.Close() // end the read, so that nothing is left running
		<-done
		t.Fatal("loadSettings waited for the end of standard input; want it to stop after SPOTIFY_REDIRECT_URI")
	}
	s, addr, err := res.s, res.addr, res.err
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "spotauthtest-client" || s.RedirectURI != "http://127.0.0.1:8080/callback" ||
		s.AccountsURL != "http://127.0.0.1:9" || s.APIURL != "http://127.0.0.1:9" || addr != "127.0.0.1:8080" || len(s.Keys) != 1 {
		t.Errorf("loadSettings = %+v, %q", s, addr)
	}
	if _, _, err := loadSettings("", strings.NewReader("")); err == nil {
		t.Error("loadSettings without a client ID = nil error")
	}
}
