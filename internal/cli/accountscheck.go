package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type finding struct {
	level string // "ok", "warn", "FAIL"
	what  string
	fix   string
}

// checkAccounts asks /authorize about the client ID and redirect URI,
// without following redirects: Spotify (and spotauthtest) answer 400 with
// a text body for an unknown client or an unregistered redirect URI, and
// redirect (or show a page) otherwise.
func checkAccounts(ctx context.Context, f *Factory, s *settings) finding {
	q := url.Values{"client_id": {s.ClientID}, "response_type": {"code"}, "redirect_uri": {s.RedirectURI}, "state": {"spotauth-doctor"}}
	hc := *f.httpClient()
	hc.Timeout = 10 * time.Second
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.AccountsURL+"/authorize?"+q.Encode(), nil)
	if err != nil {
		return finding{"FAIL", fmt.Sprintf("accounts URL %q: %v", s.AccountsURL, err), "Fix --accounts-url / " + envAccountsURL + "."}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return finding{"FAIL", fmt.Sprintf("Accounts service %s unreachable: %v", s.AccountsURL, err), "Check the network, proxy settings and --accounts-url / " + envAccountsURL + "."}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	text := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode < 400:
		return finding{"ok", fmt.Sprintf("Accounts service %s knows client ID and redirect URI", s.AccountsURL), ""}
	case strings.Contains(text, "Invalid client") && !strings.Contains(text, "redirect"):
		return finding{"FAIL", fmt.Sprintf("Accounts service %s does not know client ID %s", s.AccountsURL, s.ClientID), "Copy the client ID from your app's page at https://developer.spotify.com/dashboard."}
	case strings.Contains(text, "Invalid redirect URI"):
		return finding{"FAIL", fmt.Sprintf("redirect URI %s is not registered for the app", s.RedirectURI), "Add exactly " + s.RedirectURI + " to the app's Redirect URIs at https://developer.spotify.com/dashboard (no port: any port works)."}
	case strings.Contains(text, "Insecure redirect URI"):
		return finding{"FAIL", fmt.Sprintf("Accounts service calls redirect URI %s insecure", s.RedirectURI), "Use http://127.0.0.1/callback: loopback IP literals may use http, localhost may not."}
	default:
		return finding{"warn", fmt.Sprintf("Accounts service %s answered %d to the authorization check", s.AccountsURL, resp.StatusCode), "Check --accounts-url / " + envAccountsURL + "; it should be https://accounts.spotify.com or a spotauth accounts-server."}
	}
}

// reachable checks only that the token endpoint answers.
func reachable(ctx context.Context, f *Factory, s *settings) finding {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.AccountsURL+"/api/token", strings.NewReader(""))
	if err != nil {
		return finding{"FAIL", fmt.Sprintf("accounts URL %q: %v", s.AccountsURL, err), "Fix --accounts-url / " + envAccountsURL + "."}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.httpClient().Do(req)
	if err != nil {
		return finding{"FAIL", fmt.Sprintf("Accounts service %s unreachable: %v", s.AccountsURL, err), "Check the network, proxy settings and --accounts-url / " + envAccountsURL + "."}
	}
	resp.Body.Close()
	return finding{"ok", fmt.Sprintf("Accounts service %s reachable", s.AccountsURL), ""}
}
