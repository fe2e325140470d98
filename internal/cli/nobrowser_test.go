package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/spotauthtest"
)

// TestE2ENoBrowser: with no display and no working opener (xdg-open
// missing, or one that prints its noise and fails), login says so in one
// line, not with the opener's output, and goes on with the URL and the
// paste prompt.
func TestE2ENoBrowser(t *testing.T) {
	t.Parallel()
	srv := spotauthtest.NewServer()
	defer srv.Close()
	noisy := t.TempDir()
	xdg := "#!/bin/sh\n" + strings.Repeat("echo \"/usr/bin/xdg-open: 882: w3m: not found\" >&2\n", 6) +
		"echo \"xdg-open: no method available for opening '$1'\" >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(noisy, "xdg-open"), []byte(xdg), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path string }{
		{"no xdg-open", t.TempDir()},
		{"xdg-open without a display", noisy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProc(t, srv)
			delete(p.vars, "BROWSER")
			p.vars["PATH"] = tt.path
			r := p.run("login", "--timeout", "1s")
			if r.code != ExitError {
				t.Errorf("login = exit %d; want %d (no redirect)\n%s", r.code, ExitError, r.err)
			}
			var said []string
			for _, line := range strings.Split(r.err, "\n") {
				if strings.Contains(line, "browser") && strings.Contains(line, "open") {
					said = append(said, line)
				}
				if strings.Contains(line, "not found") && !strings.HasPrefix(line, "Could not open a browser") {
					t.Errorf("login shows the opener's noise %q:\n%s", line, r.err)
				}
			}
			if len(said) != 1 || !strings.HasPrefix(said[0], "Could not open a browser") {
				t.Errorf("login says about the browser %q; want one line, Could not open a browser ...\n%s", said, r.err)
			}
			for _, want := range []string{srv.URL + "/authorize?", "paste"} {
				if !strings.Contains(r.err, want) {
					t.Errorf("login stderr lacks %q:\n%s", want, r.err)
				}
			}
		})
	}
}
