package spotauthtest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/spotauthtest"
)

const (
	cid    = spotauthtest.DefaultClientID
	secret = spotauthtest.DefaultClientSecret
	// RFC 7636 appendix B.
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	redirect     = "http://127.0.0.1:43117/callback"
)

// start starts a server after setup and closes it when the test ends.
func start(t testing.TB, setup func(*spotauthtest.Server)) *spotauthtest.Server {
	t.Helper()
	s := spotauthtest.NewUnstartedServer()
	if setup != nil {
		setup(s)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func do(t testing.TB, s *spotauthtest.Server, req *http.Request) response {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// postToken posts form to /api/token with an optional Authorization header.
func postToken(t testing.TB, s *spotauthtest.Server, auth string, form url.Values) response {
	t.Helper()
	return postTokenRaw(t, s, auth, "application/x-www-form-urlencoded", form.Encode())
}

func postTokenRaw(t testing.TB, s *spotauthtest.Server, auth, ctype, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, s, req)
}

// get sends GET path?query without following redirects.
func get(t testing.TB, s *spotauthtest.Server, path string, q url.Values) response {
	t.Helper()
	u := s.URL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, s, req)
}

func getMe(t testing.TB, s *spotauthtest.Server, auth string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, s, req)
}

// authParams returns valid /authorize parameters for the default app.
func authParams(mods ...string) url.Values {
	q := url.Values{
		"client_id":     {cid},
		"response_type": {"code"},
		"redirect_uri":  {redirect},
		"state":         {"st4te"},
	}
	for i := 0; i+1 < len(mods); i += 2 {
		if mods[i+1] == "<del>" {
			q.Del(mods[i])
		} else {
			q.Set(mods[i], mods[i+1])
		}
	}
	return q
}

// location parses the Location of a 302.
func location(t testing.TB, r response) url.Values {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("status = %d (body %q); want 302", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatalf("Location %q: %v", r.header.Get("Location"), err)
	}
	return u.Query()
}

// code runs /authorize with approval forced and returns the code.
func code(t testing.TB, s *spotauthtest.Server, mods ...string) string {
	t.Helper()
	q := authParams(mods...)
	q.Set(spotauthtest.ConsentParam, "approve")
	loc := location(t, get(t, s, "/authorize", q))
	if loc.Get("code") == "" {
		t.Fatalf("/authorize redirect %v has no code", loc)
	}
	return loc.Get("code")
}

// exchange exchanges a code with the default app's secret.
func exchange(t testing.TB, s *spotauthtest.Server, code string) map[string]any {
	t.Helper()
	r := postToken(t, s, basicAuth(cid, secret), url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}})
	if r.status != 200 {
		t.Fatalf("exchange: status %d body %s", r.status, r.body)
	}
	return r.json(t)
}

func refresh(t testing.TB, s *spotauthtest.Server, rt string) response {
	t.Helper()
	return postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}
