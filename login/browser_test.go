package login_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth/login"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// noise is what xdg-open and the like print when there is no display.
const noise = `echo "/usr/bin/xdg-open: 882: www-browser: not found" >&2
echo "/usr/bin/xdg-open: 882: links2: not found" >&2
echo "/usr/bin/xdg-open: 882: elinks: not found" >&2
echo "/usr/bin/xdg-open: 882: links: not found" >&2
echo "/usr/bin/xdg-open: 882: lynx: not found" >&2
echo "/usr/bin/xdg-open: 882: w3m: not found" >&2
echo "xdg-open: no method available for opening '$1'" >&2
exit 3
`

// Without Options.Browser, Run opens the system browser: $BROWSER's
// commands (from Options.Getenv) in order, with %s replaced by the URL, or
// the system's opener from PATH through github.com/cli/browser. Their
// output never reaches Out; a failure is one line of Out, with the last
// line the opener wrote.
func TestRunSystemBrowser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake openers are shell scripts on PATH, as xdg-open is on Linux")
	}
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	ok := script(t, dir, "ok-browser", `echo "$@" > `+args+"\necho chatter\necho chatter >&2\n")
	failing := script(t, dir, "failing-browser", noise)
	xdgDir := filepath.Join(dir, "xdg")
	if err := os.Mkdir(xdgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	script(t, xdgDir, "xdg-open", noise)
	emptyDir := t.TempDir()

	tests := []struct {
		name     string
		browser  string // $BROWSER
		path     string // PATH, if set
		wantArgs string // what ok-browser was given
		wantLine string // the one line of a failure; "" for none
	}{
		{name: "BROWSER", browser: ok, wantArgs: "URL"},
		{name: "BROWSER with %s and a missing first command", browser: "/nonexistent/browser:" + ok + " --new-tab %s", wantArgs: "--new-tab URL"},
		{name: "BROWSER that fails", browser: failing,
			wantLine: "Could not open a browser ($BROWSER " + failing + ": exit status 3: xdg-open: no method available for opening 'URL'); open the URL above yourself."},
		{name: "xdg-open that fails", path: xdgDir,
			wantLine: "Could not open a browser (the system's URL opener failed: exit status 3: xdg-open: no method available for opening 'URL'); open the URL above yourself."},
		{name: "no opener", path: emptyDir,
			wantLine: "Could not open a browser (none of xdg-open, x-www-browser, www-browser, wslview found); open the URL above yourself."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(args)
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
			}
			f := newFixture(t, nil)
			getenv := func(k string) string {
				if k == "BROWSER" {
					return tt.browser
				}
				return ""
			}
			// Once the opener has run (or failed), the program gives up.
			ctx, cancel := context.WithCancel(background)
			defer cancel()
			var authURL string
			f.out.onURL = func(u string) {
				authURL = u
				if tt.wantLine != "" {
					f.out.await("Could not open a browser")
				} else {
					waitForFile(t, args)
				}
				cancel()
			}
			_, err := login.Run(ctx, f.cfg, &login.Options{Out: f.out, Getenv: getenv})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v; want context.Canceled, as nothing follows the URL", err)
			}
			f.out.wait()
			if tt.wantArgs != "" {
				got, _ := os.ReadFile(args)
				if want := strings.ReplaceAll(tt.wantArgs, "URL", authURL); strings.TrimSpace(string(got)) != want {
					t.Errorf("browser got %q; want %q", got, want)
				}
			}
			out := f.out.String()
			if strings.Contains(out, "chatter") || strings.Contains(out, "not found\n") {
				t.Errorf("Out = %q; want none of the opener's output", out)
			}
			var failures []string
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "Could not open") || strings.Contains(line, "xdg-open") {
					failures = append(failures, line)
				}
			}
			if tt.wantLine == "" && len(failures) != 0 || tt.wantLine != "" && (len(failures) != 1 || failures[0] != tt.wantLine) {
				t.Errorf("failure lines %q; want %q", failures, tt.wantLine)
			}
			f.noLeaks()
		})
	}
}

// waitForFile waits until a file exists: the system opener runs
// concurrently with Run, which does not wait for it.
func waitForFile(t *testing.T, name string) {
	t.Helper()
	for {
		if fi, err := os.Stat(name); err == nil && fi.Size() > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
