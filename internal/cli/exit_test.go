package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// hintFor is the hint half of classify.
func hintFor(err error) string {
	_, h := classify(err)
	return h
}

func TestClassify(t *testing.T) {
	t.Parallel()
	listenErr := &net.OpError{Op: "listen", Net: "tcp", Err: syscall.EADDRINUSE}
	busy := &spotauth.LeaseBusyError{Store: "/x/default.lock", Holder: "process 1 (stopped)", Hint: "Run: kill -CONT 1", Err: context.DeadlineExceeded}
	tests := []struct {
		name     string
		err      error
		want     int
		wantHint string // a part of the hint; "" checks only that there is one
	}{
		{"nil", nil, ExitOK, ""},
		{"plain", errors.New("x"), ExitError, "spotauth doctor"},
		{"file store damage", &spotauth.StoreError{Op: "load", Err: errors.New("unexpected end of JSON input")}, ExitError, ""},
		{"damaged token file", storeFailed("load", fmt.Errorf("not a spotauth token file: %w", filestore.ErrCorrupt)), ExitError, ""},
		{"unreadable token file", storeFailed("load", &fs.PathError{Op: "open", Path: "/x/default.json", Err: syscall.EACCES}), ExitError, ""},
		{"token file of another user", storeFailed("load", filestore.ErrNotOwned), ExitError, ""},
		{"FIFO at the token path", storeFailed("load", filestore.ErrNotRegular), ExitError, ""},
		{"sealed token without a key", storeFailed("load", storecrypt.ErrNoKey), ExitConfig, ""},
		{"sealed with another key", storeFailed("load", fmt.Errorf("decrypt: %w", storecrypt.ErrWrongKey)), ExitConfig, ""},
		{"invalid store key", fmt.Errorf("SPOTAUTH_STORE_KEY: %w", storecrypt.ErrInvalidKey), ExitConfig, ""},

		{"usage", &usageError{errors.New("x")}, ExitUsage, "--help"},
		{"usage with hint", withHint(&usageError{errors.New("x")}, "Use --scope read."), ExitUsage, "Use --scope read."},
		{"unknown scope", &spotauth.UnknownScopeError{Scopes: []string{"x"}}, ExitUsage, "spotauth scopes"},
		{"wrapped unknown scope", fmt.Errorf("login: %w", &spotauth.UnknownScopeError{Scopes: []string{"x"}}), ExitUsage, "spotauth scopes"},

		{"interrupted", fmt.Errorf("login interrupted: %w", context.Canceled), ExitError, "again"},
		{"interrupted request", &url.Error{Op: "Post", URL: "http://x", Err: context.Canceled}, ExitError, ""},
		{"lease busy", busy, ExitError, "kill -CONT 1"},
		{"lease busy in a store error", &spotauth.StoreError{Op: "lock", Err: busy}, ExitError, "kill -CONT 1"},
		{"lease busy beats a command's hint", withHint(fmt.Errorf("save: %w", busy), "Check the store."), ExitError, "kill -CONT 1"},
		{"busy port", fmt.Errorf("port 80 is busy: %w", listenErr), ExitError, ""},

		{"reauthorize", fmt.Errorf("w: %w", spotauth.ErrReauthorize), ExitAuth, "spotauth login"},
		{"refresh invalid_grant", &spotauth.TokenError{StatusCode: 400, Code: "invalid_grant", Grant: "refresh_token"}, ExitAuth, ""},
		{"not found", spotauth.ErrTokenNotFound, ExitAuth, "spotauth login"},
		{"no refresh token", spotauth.ErrNoRefreshToken, ExitAuth, ""},
		{"missing scopes", &missingScopesError{Profile: "p", Missing: spotauth.NewScopes(spotauth.ScopeUserTopRead)}, ExitAuth, ""},
		{"Web API 401", &apiError{Status: 401}, ExitAuth, ""},
		{"Web API 403", &apiError{Status: 403}, ExitAuth, ""},

		{"access denied", &spotauth.AuthorizeError{Code: "access_denied"}, ExitDenied, "approve"},
		{"other authorize error", &spotauth.AuthorizeError{Code: "invalid_scope"}, ExitDenied, ""},
		{"authorize server_error", &spotauth.AuthorizeError{Code: "server_error"}, ExitDenied, ""},
		{"state mismatch", spotauth.ErrStateMismatch, ExitDenied, ""},
		{"malformed redirect", fmt.Errorf("%w: empty", spotauth.ErrMalformedRedirect), ExitDenied, ""},
		{"missing code", spotauth.ErrMissingCode, ExitDenied, ""},

		{"invalid client", &spotauth.TokenError{StatusCode: 400, Code: "invalid_client"}, ExitConfig, spotauth.EnvClientSecret},
		{"invalid redirect", spotauth.ErrInvalidRedirectURI, ExitConfig, "doctor"},
		{"invalid config", fmt.Errorf("%w: ClientID is empty", spotauth.ErrInvalidConfig), ExitConfig, ""},
		{"config section", errNoSection, ExitConfig, ""},
		{"config error", &configError{errors.New("x")}, ExitConfig, ""},
		{"config error with a command's hint", withHint(&configError{errors.New("x")}, "Fix %s.", "f.ini"), ExitConfig, "Fix f.ini."},

		{"server error", &spotauth.TokenError{StatusCode: 503}, ExitNetwork, "network"},
		{"rate limited", &spotauth.TokenError{StatusCode: 429, RetryAfter: time.Hour}, ExitNetwork, ""},
		{"bad response", fmt.Errorf("GET /v1/me: %w", spotauth.ErrBadResponse), ExitNetwork, ""},
		{"deadline", context.DeadlineExceeded, ExitNetwork, ""},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("refused")}, ExitNetwork, ""},
		{"request failed", &url.Error{Op: "Get", URL: "http://x", Err: errors.New("EOF")}, ExitNetwork, ""},
		{"Redis unreachable", &spotauth.StoreError{Op: "load", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, ExitNetwork, ""},
		{"Redis timing out", storeFailed("save", fmt.Errorf("redis: %w", context.DeadlineExceeded)), ExitNetwork, ""},
		{"Web API 500", &apiError{Status: 500}, ExitNetwork, ""},
		{"Web API 429", &apiError{Status: 429}, ExitNetwork, ""},
		{"Web API 404", &apiError{Status: 404}, ExitError, ""},
		{"Web API 400", &apiError{Status: 400}, ExitError, ""},
		{"unreachable in a finding", finding{level: levelFail, what: "x unreachable", fix: "Check the network.", err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}.asError(), ExitNetwork, "Check the network."},
		{"unknown client in a finding", finding{level: levelFail, what: "unknown client", fix: "Copy the ID.", err: spotauth.ErrInvalidClient}.asError(), ExitConfig, "Copy the ID."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hint := classify(tt.err)
			if code != tt.want {
				t.Errorf("classify(%v) code = %d; want %d", tt.err, code, tt.want)
			}
			if tt.err == nil {
				if hint != "" {
					t.Errorf("classify(nil) hint = %q; want none", hint)
				}
				return
			}
			if hint == "" || !strings.Contains(hint, tt.wantHint) {
				t.Errorf("classify(%v) hint = %q; want one containing %q (every error says what to do next)", tt.err, hint, tt.wantHint)
			}
		})
	}
}

// TestClassifyCobra runs command lines that cobra refuses: their errors
// are usage errors by where they come from (the flag parser, an Args
// check, the root's unknown-command check), whatever cobra's wording.
func TestClassifyCobra(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // in the message
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown command with a suggestion", []string{"tokne"}, "unknown command"},
		{"unknown flag", []string{"token", "--nope"}, "unknown flag"},
		{"unknown shorthand", []string{"token", "-z"}, "unknown shorthand"},
		{"unknown root flag", []string{"--nope", "status"}, "unknown flag"},
		{"flag without its value", []string{"login", "--timeout"}, "needs an argument"},
		{"bad flag value", []string{"token", "--min-valid", "soon"}, "invalid argument"},
		{"missing flag value type", []string{"login", "--redirect-port", "x"}, "invalid argument"},
		{"extra argument", []string{"token", "extra"}, "takes no arguments"},
		{"argument to cobra's completion command", []string{"completion", "bash", "extra"}, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testFactory()
			root := newRootCmd(f, tt.args)
			root.SetArgs(tt.args)
			_, err := root.ExecuteContextC(context.Background())
			if !isA[*usageError](err) {
				t.Fatalf("spotauth %q error %v (%T); want a *usageError", tt.args, err, err)
			}
			code, hint := classify(err)
			if code != ExitUsage || !strings.Contains(err.Error(), tt.want) || !strings.Contains(hint, "--help") {
				t.Errorf("spotauth %q = %d %q, hint %q; want %d, a message with %q and a --help hint", tt.args, code, err, hint, ExitUsage, tt.want)
			}
		})
	}
	f := testFactory()
	root := newRootCmd(f, []string{"tokne"})
	root.SetArgs([]string{"tokne"})
	_, err := root.ExecuteContextC(context.Background())
	if hint := hintFor(err); !strings.Contains(hint, "spotauth token") {
		t.Errorf("spotauth tokne hint = %q; want it to suggest spotauth token", hint)
	}
}

func TestPrintError(t *testing.T) {
	t.Parallel()
	s, _, errOut := TestStreams("")
	err := withHint(wrapf(spotauth.ErrTokenNotFound, "not logged in"), "Run: spotauth login --store redis://:hunter2@h/0\nor ask a friend")
	printError(s, err, hintFor(err))
	want := "spotauth: not logged in: token not found\n  Run: spotauth login --store redis://:xxxxx@h/0\n  or ask a friend\n"
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
