package spotauthtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spotauth/spotauth/spotauthtest"
)

// findBrowser returns a Chrome or Chromium binary, skipping the test when
// there is none, except under CI, which installs one.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium or Chrome in PATH; CI must install one")
	}
	t.Skip("no Chromium or Chrome in PATH")
	return ""
}

// TestConsentInBrowser drives the consent page with a real headless
// browser: it clicks #approve or #deny and lands on a loopback callback.
func TestConsentInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := findBrowser(t)
	got := make(chan url.Values, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			select {
			case got <- r.URL.Query():
			default:
			}
		}
		_, _ = w.Write([]byte(`<!DOCTYPE html><p id="done">done</p>`))
	}))
	defer callback.Close()
	srv := start(t, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel() // closes the browser and waits for it

	for _, tt := range []struct{ button, wantKey, wantValue string }{
		{"#approve", "code", ""},
		{"#deny", "error", "access_denied"},
	} {
		t.Run(tt.button, func(t *testing.T) {
			q := authParams("redirect_uri", callback.URL+"/callback", "scope", "user-read-email")
			err := chromedp.Do(bctx,
				chromedp.Navigate(srv.URL+"/authorize?"+q.Encode()),
				chromedp.WaitVisible(chromedp.CSS(tt.button)),
				chromedp.Click(chromedp.CSS(tt.button)),
				chromedp.WaitVisible(chromedp.CSS("#done")), // the redirect landed
			)
			if err != nil {
				t.Fatalf("browser: %v", err)
			}
			select {
			case v := <-got:
				if v.Get("state") != "st4te" || v.Get(tt.wantKey) == "" || tt.wantValue != "" && v.Get(tt.wantKey) != tt.wantValue {
					t.Errorf("clicking %s reached the callback with %v; want %s and state=st4te", tt.button, v, tt.wantKey)
				}
				if tt.wantKey == "code" {
					r := postToken(t, srv, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"},
						"code": {v.Get("code")}, "redirect_uri": {callback.URL + "/callback"}})
					if r.status != 200 {
						t.Errorf("exchanging the browser's code = %d %s; want 200", r.status, r.body)
					}
				}
			case <-ctx.Done():
				t.Fatalf("clicking %s never reached the callback", tt.button)
			}
		})
	}
}

var _ = spotauthtest.ConsentParam
