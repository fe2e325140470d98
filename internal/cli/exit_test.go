package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("x"), ExitError},
		{"cliError", withCode(ExitConfig, errors.New("x"), "fix"), ExitConfig},
		{"wrapped cliError", fmt.Errorf("outer: %w", withCode(ExitDenied, errors.New("x"), "")), ExitDenied},
		{"reauthorize", fmt.Errorf("w: %w", spotauth.ErrReauthorize), ExitAuth},
		{"not found", spotauth.ErrTokenNotFound, ExitAuth},
		{"access denied", &spotauth.AuthorizeError{Code: "access_denied"}, ExitDenied},
		{"other authorize error", &spotauth.AuthorizeError{Code: "invalid_scope"}, ExitDenied},
		{"state mismatch", spotauth.ErrStateMismatch, ExitDenied},
		{"invalid client", &spotauth.TokenError{StatusCode: 400, Code: "invalid_client"}, ExitConfig},
		{"invalid redirect", spotauth.ErrInvalidRedirectURI, ExitConfig},
		{"unknown scope", &spotauth.UnknownScopeError{Scopes: []string{"x"}}, ExitUsage},
		{"server error", &spotauth.TokenError{StatusCode: 503}, ExitNetwork},
		{"rate limited", &spotauth.TokenError{StatusCode: 429, RetryAfter: time.Hour}, ExitNetwork},
		{"deadline", context.DeadlineExceeded, ExitNetwork},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("refused")}, ExitNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d; want %d", tt.err, got, tt.want)
			}
			if tt.err != nil && hintFor(tt.err) == "" {
				t.Errorf("hintFor(%v) is empty; every error says what to do next", tt.err)
			}
		})
	}
}

func TestPrintError(t *testing.T) {
	t.Parallel()
	s, _, errOut := TestStreams("")
	printError(s, withCode(ExitAuth, errors.New("not logged in"), "Run: spotauth login\nor ask a friend"))
	want := "spotauth: not logged in\n  Run: spotauth login\n  or ask a friend\n"
	if errOut.String() != want {
		t.Errorf("printError wrote %q; want %q", errOut.String(), want)
	}
}

func TestHumanTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "unknown"},
		{now.Add(90 * time.Second), "(in 1m30s)"},
		{now.Add(-time.Hour), "(1h0m0s ago)"},
		{now.AddDate(0, 6, 0), "(in 181 days)"},
	}
	for _, tt := range tests {
		if got := describeTime(tt.t, now); !strings.Contains(got, tt.want) {
			t.Errorf("describeTime(%v) = %q; want it to contain %q", tt.t, got, tt.want)
		}
	}
}

func TestLoginLine(t *testing.T) {
	t.Parallel()
	s := &settings{Profile: "work", ClientID: "abc", AccountsURL: "http://127.0.0.1:1", source: map[string]string{
		"profile": "flag --profile", "client-id": "environment SPOTIFY_CLIENT_ID", "accounts-url": "flag --accounts-url", "client-secret": "flag --client-secret"}}
	got := loginLine(s, spotauth.NewScopes(spotauth.ScopeUserTopRead, spotauth.ScopeUserReadEmail))
	want := "spotauth login --profile work --accounts-url http://127.0.0.1:1 --client-secret ... --scope user-read-email,user-top-read"
	if got != want {
		t.Errorf("loginLine() = %q; want %q", got, want)
	}
	if q := shellQuote("it's"); q != `'it'\''s'` {
		t.Errorf("shellQuote(it's) = %s", q)
	}
}

func TestSettingsNeverShowSecret(t *testing.T) {
	t.Parallel()
	s := &settings{ClientSecret: "hunter2"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(f, s); strings.Contains(got, "hunter2") {
			t.Errorf("Sprintf(%q, settings) = %q shows the secret", f, got)
		}
	}
}
