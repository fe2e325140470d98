package spotauthtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzServer is an unstarted server whose handler the fuzz targets call
// directly, with a default app, a public app and some live grants.
func fuzzServer(t testing.TB) (s *Server, code, rt string) {
	s = NewUnstartedServer()
	s.Clock = NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := s.AddApp(App{ClientID: "public", RedirectURIs: []string{"http://127.0.0.1/cb"}}); err != nil {
		t.Fatal(err)
	}
	code = s.IssueCode(DefaultClientID, "http://127.0.0.1:5000/callback", []string{"user-read-email"}, "")
	_, rt = s.IssueUserToken("public", nil, true)
	return s, code, rt
}

var knownTokenErrors = map[string]bool{
	"unsupported_grant_type": true, "invalid_client": true, "invalid_grant": true, "invalid_request": true,
}

// FuzzTokenEndpoint feeds arbitrary bodies, Authorization headers and
// content types to POST /api/token: it must never panic or answer 5xx, and
// must always answer JSON of the documented shapes.
func FuzzTokenEndpoint(f *testing.F) {
	s, code, rt := fuzzServer(f)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultClientID+":"+DefaultClientSecret))
	const form = "application/x-www-form-urlencoded"
	f.Add("grant_type=client_credentials", basic, form)
	f.Add("grant_type=client_credentials&client_id="+DefaultClientID+"&client_secret="+DefaultClientSecret, "", form)
	f.Add("grant_type=authorization_code&code="+code+"&redirect_uri="+url.QueryEscape("http://127.0.0.1:5000/callback"), basic, form)
	f.Add("grant_type=refresh_token&client_id=public&refresh_token="+rt, "", form+"; charset=UTF-8")
	f.Add("grant_type=authorization_code&code=AQx&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&client_id=public", "", form)
	f.Add(`{"grant_type":"client_credentials"}`, basic, "application/json")
	f.Add("grant_type=%zz", "Basic %%%", form)
	f.Add("grant_type=\x00\xff&&==&", "Basic "+base64.StdEncoding.EncodeToString([]byte("no-colon")), "text/plain; ===")
	f.Add("grant_type=refresh_token&refresh_token=", "Bearer x", "application/x-www-form-urlencoded;;")
	f.Add(strings.Repeat("a=b&", 100), "basic "+base64.StdEncoding.EncodeToString([]byte(":")), form)
	f.Fuzz(func(t *testing.T, body, auth, ctype string) {
		req := httptest.NewRequest(http.MethodPost, "/api/token", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		s.serveHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("POST /api/token %q (auth %q, type %q) = %d; want 200 or 400", body, auth, ctype, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q; want application/json", ct)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("body %q is not a JSON object: %v", rec.Body, err)
		}
		if rec.Code == 200 {
			if m["token_type"] != "Bearer" || !strings.HasPrefix(m["access_token"].(string), "BQ") {
				t.Fatalf("success body %q lacks a Bearer BQ token", rec.Body)
			}
			return
		}
		code, _ := m["error"].(string)
		if !knownTokenErrors[code] || len(m) > 2 {
			t.Fatalf("error body %q: want one of the documented errors", rec.Body)
		}
		if strings.Contains(rec.Body.String(), DefaultClientSecret) && !strings.Contains(body, DefaultClientSecret) {
			t.Fatalf("error body %q shows the client secret", rec.Body)
		}
	})
}

// FuzzAuthorize feeds arbitrary queries to GET /authorize: it answers a
// consent page, a redirect to a registered URI, or one of the documented
// error pages.
func FuzzAuthorize(f *testing.F) {
	s, _, _ := fuzzServer(f)
	f.Add("client_id=" + DefaultClientID + "&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A43117%2Fcallback&state=x&scope=user-read-private+user-read-email")
	f.Add("client_id=public&response_type=code&redirect_uri=http://127.0.0.1:1/cb&code_challenge_method=S256&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&spotauthtest_consent=approve")
	f.Add("client_id=public&response_type=token&redirect_uri=http://127.0.0.1/cb")
	f.Add("client_id=" + DefaultClientID + "&redirect_uri=http://localhost/callback")
	f.Add("client_id=%zz&scope=%20%20")
	f.Add("")
	pages := map[string]bool{
		"Missing required parameter: client_id": true, "INVALID_CLIENT: Invalid client": true,
		"INVALID_CLIENT: Insecure redirect URI": true, "INVALID_CLIENT: Invalid redirect URI": true, "Illegal scope": true,
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		s.serveHTTP(rec, req)
		switch rec.Code {
		case 200:
			if !strings.Contains(rec.Body.String(), `id="approve"`) {
				t.Fatalf("200 without the consent form: %q", rec.Body)
			}
		case 302:
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, "http://127.0.0.1") && !strings.HasPrefix(loc, "http://[::1]") {
				t.Fatalf("redirect to %q: not a registered loopback URI", loc)
			}
		case 400:
			if !pages[rec.Body.String()] {
				t.Fatalf("400 with body %q: not a documented error page", rec.Body)
			}
		default:
			t.Fatalf("GET /authorize?%s = %d", rawQuery, rec.Code)
		}
	})
}

// FuzzRedirectMatch checks the matcher: a matching URI is never insecure,
// and registered URIs match themselves.
func FuzzRedirectMatch(f *testing.F) {
	for _, seed := range []string{"http://127.0.0.1/callback", "http://127.0.0.1:8080/callback", "http://[::1]:1/cb",
		"https://example.com/cb", "http://localhost/cb", "myapp://callback", "http://127.0.0.1:99999999999/callback", "http://127.0.0.1:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		ap, err := newApp(App{ClientID: "x", RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/cb", "https://example.com/cb", "myapp://callback"}})
		if err != nil {
			t.Fatal(err)
		}
		if ap.matchRedirect(uri) && insecureRedirect(uri) {
			t.Fatalf("%q matches a registered URI but is insecure", uri)
		}
		if checkRegisteredRedirect(uri) == nil {
			ap2, err := newApp(App{ClientID: "y", RedirectURIs: []string{uri}})
			if err != nil || !ap2.matchRedirect(uri) {
				t.Fatalf("registered %q does not match itself (%v)", uri, err)
			}
		}
	})
}

func TestWriteJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `{"error":"plain"}`},
		{`q"b\`, `{"error":"q\"b\\"}`},
		{"\n\t\r\x00\x1f", `{"error":"\n\t\r\u0000\u001f"}`},
		{"<&>", `{"error":"<&>"}`},
		{"\xff", `{"error":"\ufffd"}`},
		{"é\u2028", `{"error":"é\u2028"}`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		writeJSON(rec, 400, oauthError{Error: tt.in})
		if got := rec.Body.String(); got != tt.want {
			t.Errorf("writeJSON(%q) wrote %s; want %s", tt.in, got, tt.want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("writeJSON: Content-Type = %q; want application/json", ct)
		}
	}
}

func TestS256(t *testing.T) {
	// RFC 7636 appendix B.
	if got := s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("s256(RFC 7636 verifier) = %q; want E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", got)
	}
	tests := []struct {
		v    string
		want bool
	}{
		{strings.Repeat("a", 42), false},
		{strings.Repeat("a", 43), true},
		{strings.Repeat("A", 128), true},
		{strings.Repeat("a", 129), false},
		{strings.Repeat("-._~", 11), true},
		{strings.Repeat("a", 42) + "+", false},
		{strings.Repeat("a", 42) + "=", false},
	}
	for _, tt := range tests {
		if got := validVerifier(tt.v); got != tt.want {
			t.Errorf("validVerifier(%q) = %t; want %t", tt.v, got, tt.want)
		}
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := newToken(prefixAccess)
		if len(tok) != 45 || !strings.HasPrefix(tok, "BQ") || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("newToken = %q; want BQ + 43 base64url characters", tok)
		}
		if seen[tok] {
			t.Fatalf("newToken repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestTableSweep(t *testing.T) {
	var tb table[int]
	for i := range 200000 {
		tb.put(strconv.Itoa(i), i, func(v int) bool { return v < i-1000 })
	}
	if n := len(tb.m); n > 4096 {
		t.Errorf("after 200000 puts, all but the last 1000 dead, %d entries remain; want the sweep to drop most", n)
	}
	if _, ok := tb.m["199999"]; !ok {
		t.Errorf("the newest entry was swept")
	}
}
