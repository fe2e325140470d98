package spotauthtest_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

func fmtAll(v any) string {
	return fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v)
}

func fmtStats(st spotauthtest.Stats) string {
	m := func(mm map[string]int) string {
		var ks []string
		for k, v := range mm {
			ks = append(ks, fmt.Sprintf("%s:%d", k, v))
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	var fs []string
	for k, v := range st.Faults {
		fs = append(fs, fmt.Sprintf("%v:%d", k, v))
	}
	sort.Strings(fs)
	return fmt.Sprintf("req=%d ok=%d failed=%d faulted=%d grants={%s} grantsOK={%s} refreshes=%d/%d errors={%s} faults={%s} authorize=%d consents=%d me=%d/%d",
		st.TokenRequests, st.Succeeded, st.Failed, st.Faulted, m(st.Grants), m(st.GrantsSucceeded), st.Refreshes, st.RefreshesSucceeded,
		m(st.Errors), strings.Join(fs, ","), st.AuthorizeRequests, st.Consents, st.MeRequests, st.MeSucceeded)
}

func TestLifecycle(t *testing.T) {
	t.Run("zero Close", func(t *testing.T) {
		var s spotauthtest.Server
		s.Close()
		s.Close()
	})
	t.Run("unstarted Close", func(t *testing.T) {
		s := spotauthtest.NewUnstartedServer()
		_ = s.Client()
		s.Close()
	})
	t.Run("URL and Client", func(t *testing.T) {
		s := spotauthtest.NewServer()
		defer s.Close()
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, "/") {
			t.Errorf("URL = %q; want http://127.0.0.1:port without a trailing slash", s.URL)
		}
		if s.Client() != s.Client() {
			t.Errorf("Client() returns a new client each call; want one")
		}
	})
	t.Run("Listener", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := spotauthtest.NewUnstartedServer()
		s.Listener = l
		s.Start()
		defer s.Close()
		if want := "http://" + l.Addr().String(); s.URL != want {
			t.Errorf("URL = %q; want %q", s.URL, want)
		}
	})
	t.Run("unspecified address", func(t *testing.T) {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			t.Skip(err)
		}
		s := spotauthtest.NewUnstartedServer()
		s.Listener = l
		s.Start()
		defer s.Close()
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
			t.Errorf("URL = %q; want the loopback address", s.URL)
		}
	})
	t.Run("Update and IssueUserToken before Start", func(t *testing.T) {
		s := spotauthtest.NewUnstartedServer()
		s.Update(func(s *spotauthtest.Server) { s.AutoApprove = true })
		at, rt := s.IssueUserToken(cid, nil, false) // registers the default app
		s.Start()
		defer s.Close()
		if r := getMe(t, s, "Bearer "+at); r.status != 200 {
			t.Errorf("GET /v1/me with a token issued before Start = %d; want 200", r.status)
		}
		if r := refresh(t, s, rt); r.status != 200 {
			t.Errorf("refresh of a token issued before Start = %d %s; want 200", r.status, r.body)
		}
		if loc := location(t, get(t, s, "/authorize", authParams())); loc.Get("code") == "" {
			t.Errorf("AutoApprove set by Update before Start: redirect %v; want a code", loc)
		}
	})
	panics := []struct {
		name string
		f    func()
	}{
		{"Start twice", func() {
			s := spotauthtest.NewServer()
			defer s.Close()
			s.Start()
		}},
		{"Start after Close", func() {
			s := spotauthtest.NewUnstartedServer()
			s.Close()
			s.Start()
		}},
		{"default app with a localhost redirect URI", func() {
			s := spotauthtest.NewUnstartedServer()
			defer s.Close()
			s.RedirectURI = "http://localhost:8080/callback"
			s.Start()
		}},
		{"IssueUserToken unknown client", func() {
			s := spotauthtest.NewUnstartedServer()
			defer s.Close()
			s.IssueUserToken("nope", nil, false)
		}},
		{"IssueUserToken illegal scope", func() {
			s := spotauthtest.NewUnstartedServer()
			defer s.Close()
			s.IssueUserToken(cid, []string{"openid"}, false)
		}},
		{"IssueCode unregistered redirect", func() {
			s := spotauthtest.NewUnstartedServer()
			defer s.Close()
			s.IssueCode(cid, "http://localhost/callback", nil, "")
		}},
		{"Advance nil Clock", func() { (*spotauthtest.Clock)(nil).Advance(time.Second) }},
	}
	for _, p := range panics {
		t.Run(p.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.HasPrefix(msg, "spotauthtest: ") {
					t.Errorf("%s panicked with %v; want a panic starting with spotauthtest: ", p.name, r)
				}
			}()
			p.f()
		})
	}
}

func TestAddApp(t *testing.T) {
	tests := []struct {
		name    string
		app     spotauthtest.App
		wantErr error
	}{
		{"ok", spotauthtest.App{ClientID: "a", ClientSecret: "topsecret", RedirectURIs: []string{"http://127.0.0.1/cb", "https://x.example/cb", "myapp://cb", "http://[::1]:8080/cb"}}, nil},
		{"no redirect URIs", spotauthtest.App{ClientID: "b"}, nil},
		{"duplicate", spotauthtest.App{ClientID: cid}, spotauthtest.ErrInvalidApp},
		{"empty id", spotauthtest.App{ClientSecret: "topsecret"}, spotauthtest.ErrInvalidApp},
		{"colon in id", spotauthtest.App{ClientID: "a:b", ClientSecret: "topsecret"}, spotauthtest.ErrInvalidApp},
		{"http host", spotauthtest.App{ClientID: "c", ClientSecret: "topsecret", RedirectURIs: []string{"http://example.com/cb"}}, spotauthtest.ErrInsecureRedirectURI},
		{"localhost", spotauthtest.App{ClientID: "d", ClientSecret: "topsecret", RedirectURIs: []string{"http://localhost:8080/cb"}}, spotauthtest.ErrInsecureRedirectURI},
		{"https localhost", spotauthtest.App{ClientID: "e", RedirectURIs: []string{"https://localhost/cb"}}, spotauthtest.ErrInsecureRedirectURI},
		{"custom scheme localhost", spotauthtest.App{ClientID: "e2", RedirectURIs: []string{"myapp://localhost/cb"}}, spotauthtest.ErrInsecureRedirectURI},
		{"fragment", spotauthtest.App{ClientID: "f", RedirectURIs: []string{"https://x.example/cb#frag"}}, spotauthtest.ErrInvalidRedirectURI},
		{"relative", spotauthtest.App{ClientID: "g", RedirectURIs: []string{"/callback"}}, spotauthtest.ErrInvalidRedirectURI},
		{"unparsable", spotauthtest.App{ClientID: "h", RedirectURIs: []string{"http://[::1/cb"}}, spotauthtest.ErrInvalidRedirectURI},
		{"https without host", spotauthtest.App{ClientID: "i", RedirectURIs: []string{"https:///cb"}}, spotauthtest.ErrInvalidRedirectURI},
		{"unknown allowed scope", spotauthtest.App{ClientID: "j", AllowedScopes: []string{"openid"}}, spotauthtest.ErrInvalidApp},
		{"open access scope without OpenAccess", spotauthtest.App{ClientID: "k", AllowedScopes: []string{"user-soa-link"}}, spotauthtest.ErrInvalidApp},
		{"open access scope with OpenAccess", spotauthtest.App{ClientID: "l", OpenAccess: true, AllowedScopes: []string{"user-soa-link"}}, nil},
	}
	s := start(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AddApp(tt.app)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errorsIs(err, tt.wantErr) {
				t.Errorf("AddApp(%v) = %v; want %v", tt.app, err, tt.wantErr)
			}
			if err != nil && (!strings.HasPrefix(err.Error(), "spotauthtest: ") || strings.Contains(err.Error(), "topsecret")) {
				t.Errorf("AddApp error %q: want the spotauthtest: prefix and no secret", err)
			}
		})
	}
}

func TestNoSecretsInFormat(t *testing.T) {
	app := spotauthtest.App{ClientID: "x", ClientSecret: "topsecret"}
	if s := fmtAll(app); strings.Contains(s, "topsecret") || !strings.Contains(s, "x") {
		t.Errorf("formatting App gives %s; want the ID and no secret", s)
	}
	if s := fmtAll(&app); strings.Contains(s, "topsecret") {
		t.Errorf("formatting *App gives %s; want no secret", s)
	}
	s := start(t, func(s *spotauthtest.Server) { s.ClientSecret = "topsecret" })
	at, rt := s.IssueUserToken(cid, nil, false)
	if out := fmtAll(s); strings.Contains(out, "topsecret") || strings.Contains(out, at) || strings.Contains(out, rt) {
		t.Errorf("formatting Server gives %s; want no secret or token", out)
	}
}

// TestConcurrent mixes every endpoint from several goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.AutoApprove = true })
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				switch (w + i) % 4 {
				case 0:
					if r := do(t, s, ccRequest(t, s)); r.status != 200 {
						errs <- r.body
					}
				case 1:
					m := exchange(t, s, code(t, s))
					if r := refresh(t, s, m["refresh_token"].(string)); r.status != 200 {
						errs <- r.body
					}
				case 2:
					at, rt := s.IssueUserToken(cid, nil, i%2 == 0)
					if r := getMe(t, s, "Bearer "+at); r.status != 200 {
						errs <- r.body
					}
					s.RevokeGrant(rt)
				case 3:
					s.Update(func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshMode(i % 2) })
					_ = s.Stats()
					_ = s.TokenLog()
					postToken(t, s, "", url.Values{"grant_type": {"password"}})
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent request failed: %s", e)
	}
	st := s.Stats()
	if st.TokenRequests != st.Succeeded+st.Failed+st.Faulted || st.Errors["unsupported_grant_type"] != workers*rounds/4 {
		t.Errorf("Stats() = %s; want consistent totals and %d unsupported_grant_type", fmtStats(st), workers*rounds/4)
	}
}

func errorsIs(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

var _ = http.StatusOK
