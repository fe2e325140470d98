package cli

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/cli/browser"
)

// A Browser opens a URL for the user. Tests replace the system browser
// with a stub or with an HTTP client that follows the redirects.
type Browser interface {
	Browse(url string) error
}

// systemBrowser opens URLs with $BROWSER when set (a colon-separated list
// of commands, tried in order; "%s" in a command is replaced by the URL,
// else the URL is appended), and with xdg-open and friends otherwise
// (github.com/cli/browser). Command output goes to stderr, never to stdout,
// which carries data.
type systemBrowser struct {
	env    LookupEnv
	stderr io.Writer
}

func (b *systemBrowser) Browse(url string) error {
	if env := b.env.get("BROWSER"); env != "" {
		var errs []error
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
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
			if err := cmd.Run(); err != nil {
				errs = append(errs, fmt.Errorf("$BROWSER %s: %w", args[0], err))
				continue
			}
			return nil
		}
		return errors.Join(errs...)
	}
	browser.Stdout, browser.Stderr = b.stderr, b.stderr
	return browser.OpenURL(url)
}
