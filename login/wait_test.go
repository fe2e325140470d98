package login_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

// No redirect arrives: Options.Timeout, ctx's deadline and ctx's
// cancellation each end the wait with a *WaitError that says which, and
// nothing is exchanged.
func TestRunNoRedirect(t *testing.T) {
	errStop := errors.New("the program is stopping")
	tests := []struct {
		name        string
		timeout     time.Duration
		ctx         func(*watcher) (context.Context, context.CancelFunc)
		wantTimeout bool
		wantField   time.Duration
		wantErr     error
	}{
		{
			name:        "timeout option",
			timeout:     50 * time.Millisecond,
			ctx:         func(*watcher) (context.Context, context.CancelFunc) { return context.WithCancel(background) },
			wantTimeout: true, wantField: 50 * time.Millisecond, wantErr: context.DeadlineExceeded,
		},
		{
			name:    "ctx deadline",
			timeout: -1,
			ctx: func(*watcher) (context.Context, context.CancelFunc) {
				return context.WithTimeout(background, 50*time.Millisecond)
			},
			wantTimeout: true, wantErr: context.DeadlineExceeded,
		},
		{
			name:    "ctx cancelled",
			timeout: time.Hour,
			ctx: func(w *watcher) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancelCause(background)
				w.onURL = func(string) { cancel(errStop) }
				return ctx, func() { cancel(nil) }
			},
			wantErr: errStop,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx, cancel := tt.ctx(f.out)
			defer cancel()
			tok, err := login.Run(ctx, f.cfg, &login.Options{Browser: idleBrowser, Out: f.out, Timeout: tt.timeout})
			var we *login.WaitError
			if tok != nil || !errors.As(err, &we) {
				t.Fatalf("Run = %v, %v; want a *WaitError", tok, err)
			}
			if errors.Is(err, login.ErrTimeout) != tt.wantTimeout || !errors.Is(err, tt.wantErr) || we.Timeout != tt.wantField {
				t.Errorf("Run error %v (Timeout %v): matches ErrTimeout %v, %v %v; want %v, %v, Timeout %v",
					err, we.Timeout, errors.Is(err, login.ErrTimeout), tt.wantErr, errors.Is(err, tt.wantErr), tt.wantTimeout, true, tt.wantField)
			}
			if errors.Is(err, spotauth.ErrStateMismatch) || we.StateMismatches != 0 {
				t.Errorf("Run error %v matches ErrStateMismatch; want not, no redirect came", err)
			}
			if n := f.srv.Stats().Grants[spotauthtest.GrantAuthorizationCode]; n != 0 {
				t.Errorf("code exchanges = %d; want 0", n)
			}
			f.noLeaks()
		})
	}
}

// Requests that are not the genuine redirect, sent before it, get a page
// saying why and leave the login waiting; the genuine redirect then logs
// the user in, and its code is exchanged once. Each stray request carries
// the genuine code where it can, so that one consumed by mistake would fail
// the login.
func TestRunStrayRequestsBeforeTheRedirect(t *testing.T) {
	f := newFixture(t, nil)
	type stray struct {
		name      string
		method    string
		url       func(genuine url.URL) string
		host      func(genuine url.URL) string
		status    int
		title     string
		mismatch  bool
		wantInMsg string
	}
	with := func(u url.URL, set map[string]string, del ...string) string {
		q := u.Query()
		for k, v := range set {
			q.Set(k, v)
		}
		for _, k := range del {
			q.Del(k)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	strays := []stray{
		{name: "HEAD", method: http.MethodHead, url: func(g url.URL) string { return g.String() }, status: http.StatusMethodNotAllowed},
		{name: "POST", method: http.MethodPost, url: func(g url.URL) string { return g.String() }, status: http.StatusMethodNotAllowed, title: "Method not allowed"},
		{name: "bare callback", url: func(g url.URL) string { g.RawQuery = ""; return g.String() }, status: http.StatusBadRequest, title: "Not a login redirect"},
		{name: "code without state", url: func(g url.URL) string { return with(g, nil, "state") }, status: http.StatusBadRequest, title: "Not a login redirect"},
		{name: "forged state", url: func(g url.URL) string { return with(g, map[string]string{"state": "forged"}) }, status: http.StatusBadRequest, title: "Not this login", mismatch: true},
		{name: "forged denial", url: func(g url.URL) string {
			return with(g, map[string]string{"state": "forged", "error": "access_denied"}, "code")
		}, status: http.StatusBadRequest, title: "Not this login", mismatch: true},
		{name: "state without code", url: func(g url.URL) string { return with(g, nil, "code") }, status: http.StatusBadRequest, title: "Not a login redirect"},
		{name: "repeated code", url: func(g url.URL) string { g.RawQuery += "&code=AQx"; return g.String() }, status: http.StatusBadRequest, title: "Not a login redirect"},
		{name: "other path", url: func(g url.URL) string { g.Path = "/favicon.ico"; return g.String() }, status: http.StatusNotFound, title: "Not found"},
		{name: "other host (DNS rebinding)", url: func(g url.URL) string { return g.String() },
			host: func(g url.URL) string { return "attacker.example:" + g.Port() }, status: http.StatusMisdirectedRequest, title: "Wrong address"},
		{name: "localhost", url: func(g url.URL) string { return g.String() },
			host: func(g url.URL) string { return "localhost:" + g.Port() }, status: http.StatusMisdirectedRequest, title: "Wrong address"},
	}
	mismatches := 0
	u := &user{t: t, srv: f.srv, before: func(genuine *url.URL) {
		for _, s := range strays {
			method := s.method
			if method == "" {
				method = http.MethodGet
			}
			host := ""
			if s.host != nil {
				host = s.host(*genuine)
			}
			p, err := send(method, s.url(*genuine), host)
			if err != nil {
				t.Errorf("%s: %v", s.name, err)
				continue
			}
			if p.status != s.status || (method != http.MethodHead && p.title() != s.title) {
				t.Errorf("%s: page %d %q; want %d %q", s.name, p.status, p.title(), s.status, s.title)
			}
			if s.mismatch {
				mismatches++
			}
		}
	}}
	tok, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out})
	if err != nil || !tok.Valid() {
		t.Fatalf("Run after stray requests = %v, %v; want a token", tok, err)
	}
	if p := u.lastPage(); p.status != http.StatusOK || p.title() != "Logged in" {
		t.Errorf("genuine redirect's page = %d %q; want 200 Logged in", p.status, p.title())
	}
	st := f.srv.Stats()
	if st.Grants[spotauthtest.GrantAuthorizationCode] != 1 || st.GrantsSucceeded[spotauthtest.GrantAuthorizationCode] != 1 {
		t.Errorf("code exchanges = %d (%d succeeded); want 1: no stray request may be exchanged",
			st.Grants[spotauthtest.GrantAuthorizationCode], st.GrantsSucceeded[spotauthtest.GrantAuthorizationCode])
	}
	if mismatches != 2 {
		t.Errorf("test sent %d forged states; want 2", mismatches)
	}
	// After Run returned, nothing listens any more.
	if _, err := send(http.MethodGet, redirectParam(t, u.urls[0]), ""); err == nil {
		t.Errorf("GET the redirect URI after Run returned succeeded; want the listener closed")
	}
	f.noLeaks()
}

// A redirect with another state leaves the login waiting; when the
// deadline passes with nothing else, the *WaitError says that a forgery was
// seen.
func TestRunForgedStateThenTimeout(t *testing.T) {
	f := newFixture(t, nil)
	ctx := newManualDeadline()
	u := &user{t: t, srv: f.srv, rewrite: func(loc *url.URL) {
		q := loc.Query()
		q.Set("state", "forged")
		loc.RawQuery = q.Encode()
	}, after: ctx.expire}
	tok, err := login.Run(ctx, f.cfg, &login.Options{Browser: u.Browse, Out: f.out})
	var we *login.WaitError
	if tok != nil || !errors.As(err, &we) || !errors.Is(err, login.ErrTimeout) || !errors.Is(err, spotauth.ErrStateMismatch) || we.StateMismatches != 1 {
		t.Fatalf("Run with a forged state = %v, %v; want a *WaitError matching ErrTimeout and ErrStateMismatch, StateMismatches 1", tok, err)
	}
	if !strings.Contains(err.Error(), "another login's state") {
		t.Errorf("error %q; want it to mention the refused redirect", err)
	}
	if p := u.lastPage(); p.status != http.StatusBadRequest || p.title() != "Not this login" {
		t.Errorf("forged redirect's page = %d %q; want 400 Not this login", p.status, p.title())
	}
	if n := f.srv.Stats().Grants[spotauthtest.GrantAuthorizationCode]; n != 0 {
		t.Errorf("code exchanges = %d; want 0", n)
	}
	f.noLeaks()
}

// Requests that arrive while the code is being exchanged wait, and those
// after the end are told that the login is over.
func TestRunRequestAfterTheEnd(t *testing.T) {
	f := newFixture(t, nil)
	var genuine string
	u := &user{t: t, srv: f.srv, before: func(loc *url.URL) { genuine = loc.String() }}
	// A PageFunc sees the ending request before the listener closes:
	// request the redirect again from there.
	var again page
	var againErr error
	opts := &login.Options{Browser: u.Browse, Out: f.out, Page: func(w http.ResponseWriter, r *http.Request, d *login.PageData) {
		if d.Outcome == login.Success {
			done := make(chan struct{})
			go func() { defer close(done); again, againErr = send(http.MethodGet, genuine, "") }()
			<-done
		}
		login.DefaultPage(w, r, d)
	}}
	if _, err := login.Run(background, f.cfg, opts); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if againErr != nil || again.status != http.StatusGone || again.title() != "Login over" {
		t.Errorf("the redirect again, after the login ended = %d %q, %v; want 410 Login over", again.status, again.title(), againErr)
	}
	if n := f.srv.Stats().Grants[spotauthtest.GrantAuthorizationCode]; n != 1 {
		t.Errorf("code exchanges = %d; want 1", n)
	}
	f.noLeaks()
}
