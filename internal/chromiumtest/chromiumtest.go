// Package chromiumtest finds the Chromium that the real-browser tests
// drive with chromedp, and the directory their screenshots go to.
package chromiumtest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/spotauth/spotauth/internal/redistest"
)

// Path returns the path of Chromium. Without one the test is skipped,
// unless a missing component must fail it (redistest.Strict: CI or
// SPOTAUTH_INTEGRATION set), as a missing redis-server does.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if redistest.Strict(os.Getenv) {
		t.Fatal("chromium not found; install it (apt-get install chromium) for the real-browser tests")
	}
	t.Skip("chromium not found; set CI=true or SPOTAUTH_INTEGRATION=1 to make this a failure")
	return ""
}

// ArtifactsDir returns where screenshots go: $SPOTAUTH_ARTIFACTS, else a
// temporary directory.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SPOTAUTH_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
