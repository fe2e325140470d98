package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
)

// Levels of a finding.
const (
	levelOK   = "ok"
	levelWarn = "warn"
	levelFail = "FAIL"
)

// A finding is the result of one check of doctor, or of login's check of
// the Accounts service: what was seen and, unless it is ok, what to change.
type finding struct {
	level string // levelOK, levelWarn or levelFail
	what  string
	fix   string
	err   error // for a failure: the cause, whose type gives the exit code
}

// asError returns a failed finding as an error: "spotauth: " and what was
// seen, matching its cause, with the fix as hint.
func (f finding) asError() error {
	return withHint(&findingError{f.what, f.err}, "%s", f.fix)
}

type findingError struct {
	what string
	err  error
}

func (e *findingError) Error() string { return "spotauth: " + e.what }
func (e *findingError) Unwrap() error { return e.err }

// checkAccounts asks /authorize about the client ID and redirect URI,
// without following redirects: Spotify (and spotauthtest) answer 400 with
// a text body for an unknown client or an unregistered redirect URI, and
// redirect (or show a page) otherwise.
func checkAccounts(ctx context.Context, client *http.Client, s *settings) finding {
	q := url.Values{"client_id": {s.ClientID}, "response_type": {"code"}, "redirect_uri": {s.RedirectURI}, "state": {"spotauth-doctor"}}
	hc := *client
	hc.Timeout = 10 * time.Second
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.AccountsURL+"/authorize?"+q.Encode(), nil)
	if err != nil {
		return badAccountsURL(s, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return unreachable(s, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	text := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode < 400:
		return finding{level: levelOK, what: fmt.Sprintf("Accounts service %s knows client ID and redirect URI", s.AccountsURL)}
	case strings.Contains(text, "Invalid client") && !strings.Contains(text, "redirect"):
		return unknownClient(s)
	case strings.Contains(text, "Invalid redirect URI"):
		return unregisteredRedirect(s)
	case strings.Contains(text, "Insecure redirect URI"):
		return insecureRedirect(s)
	default:
		return finding{level: levelWarn, what: fmt.Sprintf("Accounts service %s answered %d to the authorization check", s.AccountsURL, resp.StatusCode),
			fix: "Check --accounts-url / " + envAccountsURL + "; it should be https://accounts.spotify.com or a spotauth accounts-server."}
	}
}

// reachable checks only that the token endpoint answers.
func reachable(ctx context.Context, client *http.Client, s *settings) finding {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.AccountsURL+"/api/token", strings.NewReader(""))
	if err != nil {
		return badAccountsURL(s, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return unreachable(s, err)
	}
	resp.Body.Close()
	return finding{level: levelOK, what: fmt.Sprintf("Accounts service %s reachable", s.AccountsURL)}
}

// The findings of an Accounts service's refusal, shared with login, whose
// check before the browser opens finds the same problems.

func unknownClient(s *settings) finding {
	return finding{levelFail, fmt.Sprintf("Accounts service %s does not know client ID %s", s.AccountsURL, s.ClientID),
		"Copy the client ID from your app's page at https://developer.spotify.com/dashboard.", spotauth.ErrInvalidClient}
}

func unregisteredRedirect(s *settings) finding {
	return finding{levelFail, fmt.Sprintf("redirect URI %s is not registered for the app", s.RedirectURI),
		"Add exactly " + s.RedirectURI + " to the app's Redirect URIs at https://developer.spotify.com/dashboard (no port: any port works).", spotauth.ErrInvalidRedirectURI}
}

func insecureRedirect(s *settings) finding {
	return finding{levelFail, fmt.Sprintf("Accounts service calls redirect URI %s insecure", s.RedirectURI),
		"Use http://127.0.0.1/callback: loopback IP literals may use http, localhost may not.", spotauth.ErrInvalidRedirectURI}
}

func badAccountsURL(s *settings, err error) finding {
	return finding{levelFail, fmt.Sprintf("accounts URL %q: %v", s.AccountsURL, err), "Fix --accounts-url / " + envAccountsURL + ".", &configError{err}}
}

func unreachable(s *settings, err error) finding {
	return finding{levelFail, fmt.Sprintf("Accounts service %s unreachable: %v", s.AccountsURL, err),
		"Check the network, proxy settings and --accounts-url / " + envAccountsURL + ".", err}
}
