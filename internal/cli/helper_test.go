package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

// helperEnv makes the test binary act as the user's browser for the
// end-to-end tests: $BROWSER is the test binary, and the value says what
// the user does.
const helperEnv = "SPOTAUTH_TEST_BROWSER"

// browserHelper is the "browser": args[0] is the /authorize URL.
//
//	approve   agree on the consent page, follow the redirect to spotauth
//	deny      refuse, follow the redirect
//	mismatch  agree, but send spotauth a redirect with another state; as
//	          spotauth ignores it and waits on, give up with Ctrl-C
//	          (SIGINT to spotauth, the parent)
//	fail      fail to start (exit 1), as when no browser is installed
//	ignore    open nothing and succeed (the user walks away)
func browserHelper(mode string, args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "browser helper: want one URL, got %q\n", args)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "browser helper: %v\n", err)
		return 1
	}
	switch mode {
	case "fail":
		return fail(fmt.Errorf("no display"))
	case "ignore":
		return 0
	}
	u, err := url.Parse(args[0])
	if err != nil {
		return fail(err)
	}
	q := u.Query()
	q.Set(spotauthtest.ConsentParam, map[bool]string{true: "deny", false: "approve"}[mode == "deny"])
	u.RawQuery = q.Encode()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if mode == "mismatch" {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := c.Get(u.String())
	if err != nil {
		return fail(err)
	}
	resp.Body.Close()
	if mode == "mismatch" {
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return fail(err)
		}
		q := loc.Query()
		q.Set("state", "forged-by-an-attacker")
		loc.RawQuery = q.Encode()
		resp, err = c.Get(loc.String())
		if err != nil {
			return fail(err)
		}
		resp.Body.Close()
		p, err := os.FindProcess(os.Getppid())
		if err != nil {
			return fail(err)
		}
		if err := p.Signal(os.Interrupt); err != nil {
			return fail(err)
		}
	}
	return 0
}
