package spotauthtest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

func TestAuthorizeErrorPages(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.AutoApprove = true })
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"client_id missing", authParams("client_id", "<del>"), "Missing required parameter: client_id"},
		{"client_id empty", authParams("client_id", ""), "Missing required parameter: client_id"},
		{"client_id missing beats everything", authParams("client_id", "<del>", "redirect_uri", "http://localhost/cb", "scope", "openid"), "Missing required parameter: client_id"},
		{"unknown client", authParams("client_id", "nope"), "INVALID_CLIENT: Invalid client"},
		{"unknown client beats insecure redirect", authParams("client_id", "nope", "redirect_uri", "http://localhost/cb"), "INVALID_CLIENT: Invalid client"},
		{"http non-loopback", authParams("redirect_uri", "http://example.com/callback"), "INVALID_CLIENT: Insecure redirect URI"},
		{"localhost", authParams("redirect_uri", "http://localhost:43117/callback"), "INVALID_CLIENT: Insecure redirect URI"},
		{"https localhost", authParams("redirect_uri", "https://localhost/callback"), "INVALID_CLIENT: Insecure redirect URI"},
		{"insecure beats illegal scope", authParams("redirect_uri", "http://localhost/callback", "scope", "openid"), "INVALID_CLIENT: Insecure redirect URI"},
		{"redirect missing", authParams("redirect_uri", "<del>"), "INVALID_CLIENT: Invalid redirect URI"},
		{"redirect unregistered", authParams("redirect_uri", "https://example.com/callback"), "INVALID_CLIENT: Invalid redirect URI"},
		{"redirect beats illegal scope", authParams("redirect_uri", "https://example.com/cb", "scope", "openid"), "INVALID_CLIENT: Invalid redirect URI"},
		{"unknown scope", authParams("scope", "user-read-private user-read-birthdate"), "Illegal scope"},
		{"first-party scope", authParams("scope", "openid"), "Illegal scope"},
		{"open access scope, standard app", authParams("scope", "user-soa-link"), "Illegal scope"},
		{"comma separated", authParams("scope", "user-read-private,user-read-email"), "Illegal scope"},
		{"illegal scope beats response_type", authParams("scope", "playlist-read", "response_type", "token"), "Illegal scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s, "/authorize", tt.q)
			if r.status != http.StatusBadRequest || r.body != tt.want {
				t.Errorf("GET /authorize?%s = %d %q; want 400 %q", tt.q.Encode(), r.status, r.body, tt.want)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q; want text/plain; charset=utf-8", ct)
			}
			if loc := r.header.Get("Location"); loc != "" {
				t.Errorf("Location = %q; want none (no redirect on an invalid request)", loc)
			}
		})
	}
}

func TestAuthorizeRedirectedErrors(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.AutoApprove = true })
	tests := []struct {
		name      string
		q         url.Values
		wantError string
	}{
		{"response_type missing", authParams("response_type", "<del>"), "unsupported_response_type"},
		{"implicit grant", authParams("response_type", "token"), "unsupported_response_type"},
		{"response_type case", authParams("response_type", "CODE"), "unsupported_response_type"},
		{"plain method", authParams("code_challenge_method", "plain", "code_challenge", rfcChallenge), "invalid_request"},
		{"method lowercase", authParams("code_challenge_method", "s256", "code_challenge", rfcChallenge), "invalid_request"},
		{"challenge without method", authParams("code_challenge", rfcChallenge), "invalid_request"},
		{"method without challenge", authParams("code_challenge_method", "S256"), "invalid_request"},
		{"challenge too short", authParams("code_challenge_method", "S256", "code_challenge", rfcChallenge[:42]), "invalid_request"},
		{"padded challenge", authParams("code_challenge_method", "S256", "code_challenge", rfcChallenge+"="), "invalid_request"},
		{"challenge std alphabet", authParams("code_challenge_method", "S256", "code_challenge", strings.ReplaceAll(rfcChallenge, "-", "+")), "invalid_request"},
		{"response_type before PKCE", authParams("response_type", "token", "code_challenge_method", "plain"), "unsupported_response_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s, "/authorize", tt.q)
			loc := location(t, r)
			if !strings.HasPrefix(r.header.Get("Location"), redirect+"?") {
				t.Errorf("Location = %q; want it to start with %q", r.header.Get("Location"), redirect+"?")
			}
			if got := loc.Get("error"); got != tt.wantError {
				t.Errorf("redirect error = %q; want %q", got, tt.wantError)
			}
			if got := loc.Get("state"); got != "st4te" {
				t.Errorf("redirect state = %q; want st4te", got)
			}
			if loc.Has("code") {
				t.Errorf("redirect has a code: %v", loc)
			}
		})
	}
}

func TestAuthorizeState(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.AutoApprove = true })
	tests := []struct {
		name     string
		q        url.Values
		wantLoc  string // regexp
		wantHas  bool
		wantDeny bool
	}{
		{"no state, approve", authParams("state", "<del>"), `^http://127\.0\.0\.1:43117/callback\?code=AQ[A-Za-z0-9_-]{43}$`, false, false},
		{"state", authParams("state", "a b&c"), `^http://127\.0\.0\.1:43117/callback\?code=AQ[A-Za-z0-9_-]{43}&state=a\+b%26c$`, true, false},
		{"empty state kept", authParams("state", ""), `^http://127\.0\.0\.1:43117/callback\?code=AQ[A-Za-z0-9_-]{43}&state=$`, true, false},
		{"no state, error", authParams("state", "<del>", "response_type", "token"), `^http://127\.0\.0\.1:43117/callback\?error=unsupported_response_type$`, false, false},
		{"no state, deny", authParams("state", "<del>", spotauthtest.ConsentParam, "deny"), `^http://127\.0\.0\.1:43117/callback\?error=access_denied$`, false, true},
		{"state, deny", authParams(spotauthtest.ConsentParam, "deny"), `^http://127\.0\.0\.1:43117/callback\?error=access_denied&state=st4te$`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s, "/authorize", tt.q)
			if r.status != http.StatusFound {
				t.Fatalf("status = %d; want 302", r.status)
			}
			if loc := r.header.Get("Location"); !regexp.MustCompile(tt.wantLoc).MatchString(loc) {
				t.Errorf("Location = %q; want match %q", loc, tt.wantLoc)
			}
		})
	}
}

func TestRedirectMatching(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.AutoApprove = true })
	app := spotauthtest.App{ClientID: "matcher", ClientSecret: "x", RedirectURIs: []string{
		"http://127.0.0.1/callback",
		"http://[::1]/cb",
		"http://127.0.0.1:8080/fixed",
		"https://example.com/cb",
		"https://example.com/q?x=1",
		"myapp://callback",
		"http://127.0.0.1",
	}}
	if err := s.AddApp(app); err != nil {
		t.Fatalf("AddApp(%v) = %v; want nil", app, err)
	}
	const (
		ok       = ""
		insecure = "INVALID_CLIENT: Insecure redirect URI"
		invalid  = "INVALID_CLIENT: Invalid redirect URI"
	)
	tests := []struct{ uri, want string }{
		{"http://127.0.0.1/callback", ok},
		{"http://127.0.0.1:43117/callback", ok},
		{"http://127.0.0.1:1/callback", ok},
		{"http://127.0.0.1:65535/callback", ok},
		{"http://127.0.0.1:65536/callback", invalid},
		{"http://127.0.0.1:0/callback", invalid},
		{"http://127.0.0.1:/callback", invalid},
		{"http://127.0.0.1:80x/callback", invalid},
		{"http://[::1]:5000/cb", ok},
		{"http://[::1]/cb", ok},
		{"http://127.0.0.1:8080/fixed", ok},
		{"http://127.0.0.1:8081/fixed", invalid},
		{"http://127.0.0.1/fixed", invalid},
		{"http://127.0.0.1:43117/callback/", invalid},
		{"http://127.0.0.1:43117/Callback", invalid},
		{"http://127.0.0.1:43117/callback?x=1", invalid},
		{"http://127.0.0.1:9999", ok},
		{"https://127.0.0.1:43117/callback", invalid},
		{"HTTP://127.0.0.1:43117/callback", invalid},
		{"http://localhost:43117/callback", insecure},
		{"http://LocalHost/callback", insecure},
		{"http://127.0.0.2:43117/callback", insecure},
		{"http://[::2]:43117/cb", insecure},
		{"http://0x7f.0.0.1/callback", insecure},
		{"https://example.com/cb", ok},
		{"https://example.com/cb/", invalid},
		{"https://EXAMPLE.com/cb", invalid},
		{"https://example.com:443/cb", invalid},
		{"https://example.com/q?x=1", ok},
		{"https://example.com/q?x=2", invalid},
		{"https://localhost/cb", insecure},
		{"myapp://callback", ok},
		{"myapp://localhost", insecure},
		{"myapp://callback/", invalid},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			q := authParams("client_id", "matcher", "redirect_uri", tt.uri)
			r := get(t, s, "/authorize", q)
			if tt.want == ok {
				loc := r.header.Get("Location")
				if r.status != http.StatusFound || !strings.HasPrefix(loc, tt.uri) {
					t.Errorf("GET /authorize with redirect_uri=%q = %d %q (Location %q); want 302 to it", tt.uri, r.status, r.body, loc)
				}
				return
			}
			if r.status != http.StatusBadRequest || r.body != tt.want {
				t.Errorf("GET /authorize with redirect_uri=%q = %d %q; want 400 %q", tt.uri, r.status, r.body, tt.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.AutoApprove = true })
	if err := s.AddApp(spotauthtest.App{ClientID: "partner", ClientSecret: "p", OpenAccess: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddApp(spotauthtest.App{ClientID: "narrow", ClientSecret: "n", AllowedScopes: []string{"user-read-email"},
		RedirectURIs: []string{"http://127.0.0.1/callback"}}); err != nil {
		t.Fatal(err)
	}
	standard := "ugc-image-upload user-read-playback-state user-modify-playback-state user-read-currently-playing " +
		"app-remote-control streaming playlist-read-private playlist-read-collaborative playlist-modify-private " +
		"playlist-modify-public user-follow-modify user-follow-read user-read-playback-position user-top-read " +
		"user-read-recently-played user-library-modify user-library-read user-read-email user-read-private"
	if n := len(strings.Fields(standard)); n != 19 {
		t.Fatalf("test lists %d standard scopes; want 19", n)
	}
	openAccess := "user-soa-link user-soa-unlink soa-manage-entitlements soa-manage-partner soa-create-partner"
	tests := []struct {
		name, client, rawScope, wantScope string // wantScope "!" means Illegal scope
	}{
		{"all standard", cid, url.QueryEscape(standard), standard},
		{"plus separated", cid, "user-read-private+user-read-email", "user-read-private user-read-email"},
		{"percent-20 separated", cid, "user-read-private%20user-read-email", "user-read-private user-read-email"},
		{"duplicates removed, order kept", cid, "user-top-read%20user-read-email%20user-top-read", "user-top-read user-read-email"},
		{"none", cid, "", ""},
		{"open access, standard app", cid, "user-soa-link", "!"},
		{"open access, partner", "partner", url.QueryEscape(openAccess + " user-read-private"), openAccess + " user-read-private"},
		{"birthdate removed", "partner", "user-read-birthdate", "!"},
		{"first-party", cid, "user-personalized", "!"},
		{"allowed list", "narrow", "user-read-email", "user-read-email"},
		{"outside allowed list", "narrow", "user-read-private", "!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := map[string]string{cid: secret, "partner": "p", "narrow": "n"}
			q := authParams("client_id", tt.client)
			raw := q.Encode()
			if tt.rawScope != "" {
				raw += "&scope=" + tt.rawScope
			}
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/authorize?"+raw, nil)
			r := do(t, s, req)
			if tt.wantScope == "!" {
				if r.status != 400 || r.body != "Illegal scope" {
					t.Errorf("GET /authorize scope=%s = %d %q; want 400 Illegal scope", tt.rawScope, r.status, r.body)
				}
				return
			}
			c := location(t, r).Get("code")
			tr := postToken(t, s, basicAuth(tt.client, secrets[tt.client]), url.Values{
				"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}})
			if got := tr.json(t)["scope"]; got != tt.wantScope {
				t.Errorf("token scope = %q; want %q", got, tt.wantScope)
			}
		})
	}
}

// consentForm fetches the consent page and returns the hidden consent id.
func consentForm(t *testing.T, s *spotauthtest.Server, q url.Values) string {
	t.Helper()
	r := get(t, s, "/authorize", q)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /authorize = %d %s; want 200 text/html", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{`id="approve"`, `id="deny"`, `<form`, `method="post"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("consent page lacks %s:\n%s", want, r.body)
		}
	}
	m := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(r.body)
	if m == nil || m[1] != "/authorize/consent" {
		t.Fatalf("consent form action = %v; want /authorize/consent", m)
	}
	m = regexp.MustCompile(`name="consent" value="([^"]+)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("consent page has no consent id:\n%s", r.body)
	}
	return m[1]
}

func postConsent(t *testing.T, s *spotauthtest.Server, id, decision string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/authorize/consent",
		strings.NewReader(url.Values{"consent": {id}, "decision": {decision}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, s, req)
}

func TestConsentPage(t *testing.T) {
	clock := spotauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := start(t, func(s *spotauthtest.Server) { s.Clock = clock })

	t.Run("approve", func(t *testing.T) {
		id := consentForm(t, s, authParams("scope", "user-read-email"))
		loc := location(t, postConsent(t, s, id, "approve"))
		if loc.Get("state") != "st4te" || !strings.HasPrefix(loc.Get("code"), "AQ") || loc.Has("error") {
			t.Errorf("approve redirect = %v; want code and state=st4te", loc)
		}
		exchange(t, s, loc.Get("code"))
		if r := postConsent(t, s, id, "approve"); r.status != 400 {
			t.Errorf("reusing consent id: status %d; want 400", r.status)
		}
	})
	t.Run("deny", func(t *testing.T) {
		id := consentForm(t, s, authParams())
		loc := location(t, postConsent(t, s, id, "deny"))
		if loc.Get("error") != "access_denied" || loc.Get("state") != "st4te" || loc.Has("code") {
			t.Errorf("deny redirect = %v; want error=access_denied&state=st4te", loc)
		}
	})
	t.Run("expired", func(t *testing.T) {
		id := consentForm(t, s, authParams())
		clock.Advance(10 * time.Minute)
		if r := postConsent(t, s, id, "approve"); r.status != 400 {
			t.Errorf("expired consent: status %d; want 400", r.status)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		id := consentForm(t, s, authParams())
		if r := postConsent(t, s, id, "maybe"); r.status != 400 {
			t.Errorf("decision=maybe: status %d; want 400", r.status)
		}
		if r := postConsent(t, s, "CSnope", "approve"); r.status != 400 {
			t.Errorf("unknown consent id: status %d; want 400", r.status)
		}
		if r := get(t, s, "/authorize/consent", nil); r.status != http.StatusMethodNotAllowed {
			t.Errorf("GET /authorize/consent: status %d; want 405", r.status)
		}
	})
	t.Run("page escapes", func(t *testing.T) {
		s.Update(func(s *spotauthtest.Server) { s.User.DisplayName = `<script>alert("x")</script>` })
		defer s.Update(func(s *spotauthtest.Server) { s.User = spotauthtest.DefaultUser })
		r := get(t, s, "/authorize", authParams())
		if strings.Contains(r.body, "<script>") {
			t.Errorf("consent page does not escape the user name:\n%s", r.body)
		}
	})
}

func TestConsentDecision(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*spotauthtest.Server)
		param string
		want  string // "code", "access_denied" or "page"
	}{
		{"default shows page", nil, "", "page"},
		{"auto approve", func(s *spotauthtest.Server) { s.AutoApprove = true }, "", "code"},
		{"auto deny", func(s *spotauthtest.Server) { s.AutoApprove, s.Deny = true, true }, "", "access_denied"},
		{"deny without auto shows page", func(s *spotauthtest.Server) { s.Deny = true }, "", "page"},
		{"decide func denies", func(s *spotauthtest.Server) {
			s.AutoApprove = true
			s.Decide = func(r spotauthtest.AuthorizeRequest) bool { return r.State != "st4te" }
		}, "", "access_denied"},
		{"decide func approves", func(s *spotauthtest.Server) {
			s.AutoApprove, s.Deny = true, true
			s.Decide = func(r spotauthtest.AuthorizeRequest) bool { return r.ClientID == cid }
		}, "", "code"},
		{"param approves without auto", nil, "approve", "code"},
		{"param denies over auto", func(s *spotauthtest.Server) { s.AutoApprove = true }, "deny", "access_denied"},
		{"param approves over deny", func(s *spotauthtest.Server) { s.AutoApprove, s.Deny = true, true }, "approve", "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.setup)
			q := authParams()
			if tt.param != "" {
				q.Set(spotauthtest.ConsentParam, tt.param)
			}
			r := get(t, s, "/authorize", q)
			var got string
			switch {
			case r.status == 200:
				got = "page"
			case r.status == 302:
				loc := location(t, r)
				got = loc.Get("error")
				if loc.Has("code") {
					got = "code"
				}
			default:
				got = r.body
			}
			if got != tt.want {
				t.Errorf("GET /authorize gave %q; want %q", got, tt.want)
			}
		})
	}
}

func TestUpdateAutoApprove(t *testing.T) {
	s := start(t, nil)
	if r := get(t, s, "/authorize", authParams()); r.status != 200 {
		t.Fatalf("before Update: status %d; want 200 (consent page)", r.status)
	}
	s.Update(func(s *spotauthtest.Server) { s.AutoApprove, s.Deny = true, true })
	if got := location(t, get(t, s, "/authorize", authParams())).Get("error"); got != "access_denied" {
		t.Errorf("after Update: error = %q; want access_denied", got)
	}
}

func TestAuthorizeHelper(t *testing.T) {
	s := start(t, nil)
	u := s.URL + "/authorize?" + authParams().Encode()
	loc, err := s.Authorize(u, true)
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st4te" {
		t.Errorf("Authorize(url, true) = %v, %v; want a code and state", loc, err)
	}
	loc, err = s.Authorize(u, false)
	if err != nil || loc.Query().Get("error") != "access_denied" {
		t.Errorf("Authorize(url, false) = %v, %v; want error=access_denied", loc, err)
	}
	_, err = s.Authorize(s.URL+"/authorize?"+authParams("client_id", "nope").Encode(), true)
	if err == nil || !strings.Contains(err.Error(), "INVALID_CLIENT: Invalid client") || !strings.HasPrefix(err.Error(), "spotauthtest: ") {
		t.Errorf("Authorize(unknown client) error = %v; want the error page text", err)
	}
	if r := postTokenRaw(t, s, "", "", ""); r.status != 400 {
		t.Errorf("empty POST /api/token: %d", r.status)
	}
}
