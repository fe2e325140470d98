package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/spotauth/spotauth/internal/chromiumtest"
)

// chromeBrowser is a real headless Chromium driven by chromedp: it opens
// the login URL, screenshots the consent page, clicks Approve, waits for
// spotauth's result page and screenshots it.
type chromeBrowser struct {
	ctx  context.Context
	dir  string
	done chan error
	page string // text of #result
}

func (b *chromeBrowser) Browse(u string) error {
	err := b.browse(u)
	b.done <- err
	return err
}

func (b *chromeBrowser) browse(u string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible("#approve")); err != nil {
		return err
	}
	consent, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "consent-page.png"), consent, 0o644); err != nil {
		return err
	}
	if err := chromedp.Do(ctx, chromedp.Click("#approve"), chromedp.WaitVisible("#result")); err != nil {
		return err
	}
	if b.page, err = chromedp.Run(ctx, chromedp.Text("#result")); err != nil {
		return err
	}
	success, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.dir, "success-page.png"), success, 0o644)
}

func TestChromiumLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	path := chromiumtest.Path(t)
	e := newTestEnv(t, nil) // the fake serves its consent page: no auto-approval

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
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(ctx); err != nil { // start the browser, without a timeout
		t.Fatalf("start chromium: %v", err)
	}

	dir := chromiumtest.ArtifactsDir(t)
	b := &chromeBrowser{ctx: ctx, dir: dir, done: make(chan error, 1)}
	r := e.run(runOpts{browser: b}, "login", "--scope", "user-read-private", "--timeout", "60s")
	if r.code != 0 {
		t.Fatalf("login with chromium = exit %d\n%s", r.code, r.err)
	}
	if err := <-b.done; err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if b.page != "Logged in" {
		t.Errorf("result page #result = %q; want Logged in", b.page)
	}
	if !strings.Contains(r.err, "Logged in to Spotify as Test User") {
		t.Errorf("login stderr = %q", r.err)
	}
	if c := e.srv.Stats().Consents; c != 1 {
		t.Errorf("consents = %d; want 1 (the click on #approve)", c)
	}
	for _, name := range []string{"consent-page.png", "success-page.png"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	t.Logf("screenshots of the consent and success pages in %s", dir)
	e.must("token", "--require-scope", "user-read-private")

	cancelTab()
	cancelAlloc()
}
