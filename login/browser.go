package login

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/cli/browser"
)

// browserMu guards github.com/cli/browser's Stdout and Stderr variables,
// which systemBrowser points at its own buffer while it opens a URL.
var browserMu sync.Mutex

// systemBrowser returns the opener Run uses when Options.Browser is nil:
// the commands of $BROWSER when it is set (a colon-separated list tried in
// order; "%s" in a command is replaced by the URL, otherwise the URL is
// appended), else github.com/cli/browser (xdg-open and the like, open,
// start). The commands' output is captured, so that a failure shows as one
// line of Run's output (with the last line the opener wrote) instead of
// the opener's diagnostics.
func systemBrowser(getenv func(string) string) func(url string) error {
	return func(url string) error {
		if env := getenv("BROWSER"); env != "" {
			return browseEnv(env, url)
		}
		var out limitedBuffer
		browserMu.Lock()
		defer browserMu.Unlock()
		stdout, stderr := browser.Stdout, browser.Stderr
		browser.Stdout, browser.Stderr = &out, &out
		defer func() { browser.Stdout, browser.Stderr = stdout, stderr }()
		if err := browser.OpenURL(url); err != nil {
			var ee *exec.Error
			if errors.As(err, &ee) && errors.Is(ee.Err, exec.ErrNotFound) {
				return fmt.Errorf("none of %s found", strings.ReplaceAll(ee.Name, ",", ", "))
			}
			return fmt.Errorf("the system's URL opener failed: %v%s", err, out.lastLine(url))
		}
		return nil
	}
}

// browseEnv runs the commands of a $BROWSER value in turn until one
// succeeds.
func browseEnv(env, url string) error {
	var errs []string
	for _, c := range strings.Split(env, ":") {
		args := strings.Fields(c)
		if len(args) == 0 {
			continue
		}
		substituted := false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i] = strings.ReplaceAll(a, "%s", url)
				substituted = true
			}
		}
		if !substituted {
			args = append(args, url)
		}
		var out limitedBuffer
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v%s", args[0], err, out.lastLine(url)))
			continue
		}
		return nil
	}
	if len(errs) == 0 {
		return errors.New("$BROWSER names no command")
	}
	return errors.New("$BROWSER " + strings.Join(errs, "; "))
}

// limitedBuffer keeps the first 4 KiB written to it and discards the rest,
// so that a chatty opener cannot grow it without bound.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := 4096 - len(b.buf); n > 0 {
		b.buf = append(b.buf, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// lastLine returns ": " and the last non-blank line written, with url
// replaced by "URL", cut to 120 bytes and without control characters; ""
// when nothing was written.
func (b *limitedBuffer) lastLine(url string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.ReplaceAll(string(b.buf), url, "URL"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f || r == 0xfffd {
				return -1
			}
			return r
		}, lines[i])
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 120 {
				line = strings.ToValidUTF8(line[:120], "") + "..."
			}
			return ": " + line
		}
	}
	return ""
}
