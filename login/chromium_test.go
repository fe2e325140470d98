package login_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/chromiumtest"
	"github.com/spotauth/spotauth/login"
)

// startChromium starts a headless Chromium and returns a context of one
// of its tabs, and a function that stops it and waits for it.
func startChromium(t *testing.T) (ctx context.Context, stop func()) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumtest.Path(t)),
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
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // start the browser, without a timeout
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			_ = chromedp.Cancel(ctx) // closes the browser and waits for it
			cancelTab()
			cancelAlloc()
		})
	}
}

// chromeUser is a person at a real browser: they open the URL, look at
// the consent page, click one of its buttons (#approve or #deny), and
// read the page they land on.
type chromeUser struct {
	ctx    context.Context
	button string
	shots  string // directory of the screenshots

	result, message string // #result and #message of the landing page
}

// Browse is an Options.Browser. Run waits for it, and it returns once the
// landing page is read, so what it saw is settled when Run returns.
func (u *chromeUser) Browse(authURL string) error {
	ctx := u.ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible("#approve")); err != nil {
		return err
	}
	consent, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	if err := chromedp.Do(ctx, chromedp.Click(u.button), chromedp.WaitVisible("#result")); err != nil {
		return err
	}
	if u.result, err = chromedp.Run(ctx, chromedp.Text("#result")); err != nil {
		return err
	}
	if u.message, err = chromedp.Run(ctx, chromedp.Text("#message")); err != nil {
		return err
	}
	landing, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	name := map[string]string{"#approve": "approved", "#deny": "denied"}[u.button]
	if err := os.WriteFile(filepath.Join(u.shots, "login-consent.png"), consent, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(u.shots, "login-"+name+".png"), landing, 0o644)
}

// A real headless Chromium on the fake's consent page: approving logs the
// user in and shows the success page; denying ends the login with
// ErrAccessDenied and the failure page. Nothing of Run is left running,
// and the consent is the only one the fake recorded.
func TestRunChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromiumtest.Path(t)
	tests := []struct {
		button     string
		wantResult string
		wantErr    error
	}{
		{"#approve", "Logged in", nil},
		{"#deny", "Login failed", spotauth.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.button, func(t *testing.T) {
			f := newFixture(t, nil) // the fake shows its consent page
			ctx, stop := startChromium(t)
			defer stop()
			u := &chromeUser{ctx: ctx, button: tt.button, shots: chromiumtest.ArtifactsDir(t)}
			tok, err := login.Run(background, f.cfg, &login.Options{
				Scopes:  spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
				Browser: u.Browse,
				Out:     f.out,
			})
			switch {
			case tt.wantErr == nil && (err != nil || !tok.Valid() || !tok.Scope.Contains(spotauth.ScopeUserReadPrivate)):
				t.Fatalf("Run with Chromium approving = %v, %v; want a token with user-read-private\nOut:\n%s", tok, err, f.out)
			case tt.wantErr != nil && (tok != nil || !errors.Is(err, tt.wantErr)):
				t.Fatalf("Run with Chromium denying = %v, %v; want %v", tok, err, tt.wantErr)
			}
			if u.result != tt.wantResult {
				t.Errorf("landing page #result = %q (%q); want %q", u.result, u.message, tt.wantResult)
			}
			if c := f.srv.Stats().Consents; c != 1 {
				t.Errorf("consents = %d; want 1, the click", c)
			}
			t.Logf("screenshots in %s", u.shots)
			stop()
			f.noLeaks()
		})
	}
}
