package spotauthtest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

const (
	errGrantMissing  = `{"error":"unsupported_grant_type","error_description":"grant_type parameter is missing"}`
	errInvalidClient = `{"error":"invalid_client","error_description":"Invalid client"}`
	errInvalidSecret = `{"error":"invalid_client","error_description":"Invalid client secret"}`
	errInvalidCode   = `{"error":"invalid_grant","error_description":"Invalid authorization code"}`
	errCodeExpired   = `{"error":"invalid_grant","error_description":"Authorization code expired"}`
	errRedirect      = `{"error":"invalid_grant","error_description":"Invalid redirect URI"}`
	errVerifierReq   = `{"error":"invalid_request","error_description":"code_verifier required"}`
	errVerifierBad   = `{"error":"invalid_grant","error_description":"code_verifier was incorrect"}`
	errRefreshBad    = `{"error":"invalid_grant","error_description":"Invalid refresh token"}`
	errRevoked       = `{"error":"invalid_grant","error_description":"Refresh token revoked"}`
	errExpired       = `{"error":"invalid_grant","error_description":"Refresh token expired"}`
)

// TestTokenErrors covers every row of the spec's token error table, and
// the order grant_type → client authentication → grant parameters.
func TestTokenErrors(t *testing.T) {
	clock := spotauthtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := start(t, func(s *spotauthtest.Server) { s.Clock = clock })
	if err := s.AddApp(spotauthtest.App{ClientID: "other", ClientSecret: "other-secret", RedirectURIs: []string{spotauthtest.DefaultRedirectURI}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddApp(spotauthtest.App{ClientID: "public", RedirectURIs: []string{spotauthtest.DefaultRedirectURI}}); err != nil {
		t.Fatal(err)
	}
	good := basicAuth(cid, secret)
	acForm := func(code string, kv ...string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	_, rt := s.IssueUserToken(cid, nil, false)
	_, pkceRT := s.IssueUserToken("public", nil, true)
	_, revokedRT := s.IssueUserToken(cid, nil, false)
	s.RevokeGrant(revokedRT)

	type tc struct {
		name  string
		auth  string
		ctype string
		body  string
		want  string
	}
	tests := []tc{
		{"grant_type missing", good, "", "code=x", errGrantMissing},
		{"grant_type empty", good, "", "grant_type=", errGrantMissing},
		{"JSON body", good, "application/json", `{"grant_type":"client_credentials"}`, errGrantMissing},
		{"no content type", good, "-", "grant_type=client_credentials", errGrantMissing},
		{"bad escape", good, "", "grant_type=client_credentials&x=%zz", errGrantMissing},
		{"raw semicolon", good, "", "grant_type=client_credentials;x=1", errGrantMissing},
		{"multipart body", good, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n", errGrantMissing},
		{"unsupported grant", good, "", "grant_type=password", `{"error":"unsupported_grant_type","error_description":"grant_type password is not supported"}`},
		{"implicit", good, "", "grant_type=implicit", `{"error":"unsupported_grant_type","error_description":"grant_type implicit is not supported"}`},
		{"grant value escaped in JSON", good, "", "grant_type=%22a%5Cb%22", `{"error":"unsupported_grant_type","error_description":"grant_type \"a\\b\" is not supported"}`},
		{"grant_type checked before client", "", "", "grant_type=password", `{"error":"unsupported_grant_type","error_description":"grant_type password is not supported"}`},
		{"no client auth", "", "", "grant_type=client_credentials", errInvalidClient},
		{"unknown client basic", basicAuth("nope", "x"), "", "grant_type=client_credentials", errInvalidClient},
		{"unknown client body", "", "", "grant_type=client_credentials&client_id=nope&client_secret=x", errInvalidClient},
		{"wrong secret basic", basicAuth(cid, "wrong"), "", "grant_type=client_credentials", errInvalidSecret},
		{"wrong secret body", "", "", "grant_type=client_credentials&client_id=" + cid + "&client_secret=wrong", errInvalidSecret},
		{"client_id alone for client_credentials", "", "", "grant_type=client_credentials&client_id=" + cid, errInvalidClient},
		{"public client with a secret", basicAuth("public", "s"), "", "grant_type=client_credentials", errInvalidSecret},
		{"public client credentials", "", "", "grant_type=client_credentials&client_id=public", errInvalidClient},
		{"basic and body disagree on id", good, "", "grant_type=client_credentials&client_id=other", errInvalidClient},
		{"basic and body disagree on secret", good, "", "grant_type=client_credentials&client_secret=x", errInvalidClient},
		{"malformed basic", "Basic !!!", "", "grant_type=client_credentials", errInvalidClient},
		{"basic with two spaces", "Basic  " + strings.TrimPrefix(good, "Basic "), "", "grant_type=client_credentials", errInvalidClient},
		{"basic without colon", "Basic " + "c3BvdA==", "", "grant_type=client_credentials", errInvalidClient},
		{"bearer on token endpoint", "Bearer abc", "", "grant_type=client_credentials", errInvalidClient},
		{"client checked before code", basicAuth(cid, "wrong"), "", acForm("nope").Encode(), errInvalidSecret},
		{"code missing", good, "", acForm("<del>").Encode(), errInvalidCode},
		{"code unknown", good, "", acForm("AQnope").Encode(), errInvalidCode},
		{"refresh missing", good, "", "grant_type=refresh_token", errRefreshBad},
		{"refresh unknown", good, "", "grant_type=refresh_token&refresh_token=AQnope", errRefreshBad},
		{"first refresh_token wins, even empty", good, "", "grant_type=refresh_token&refresh_token=&refresh_token=" + rt, errRefreshBad},
		{"refresh of another client", basicAuth("other", "other-secret"), "", "grant_type=refresh_token&refresh_token=" + rt, errRefreshBad},
		{"refresh without secret, non-PKCE grant", "", "", "grant_type=refresh_token&client_id=" + cid + "&refresh_token=" + rt, errInvalidClient},
		{"refresh revoked", good, "", "grant_type=refresh_token&refresh_token=" + revokedRT, errRevoked},
		{"pkce refresh by another client id", "", "", "grant_type=refresh_token&client_id=" + cid + "&refresh_token=" + pkceRT, errRefreshBad},
	}
	// Rows needing fresh codes.
	used := code(t, s)
	exchange(t, s, used)
	tests = append(tests,
		tc{"code used", good, "", acForm(used).Encode(), errInvalidCode},
		tc{"code of another client", basicAuth("other", "other-secret"), "", acForm(code(t, s)).Encode(), errInvalidCode},
		tc{"redirect_uri differs (port)", good, "", acForm(code(t, s), "redirect_uri", "http://127.0.0.1:43118/callback").Encode(), errRedirect},
		tc{"redirect_uri missing", good, "", acForm(code(t, s), "redirect_uri", "<del>").Encode(), errRedirect},
		tc{"redirect_uri registered form", good, "", acForm(code(t, s), "redirect_uri", spotauthtest.DefaultRedirectURI).Encode(), errRedirect},
		tc{"non-PKCE code without secret", "", "", acForm(code(t, s), "client_id", cid).Encode(), errInvalidClient},
		tc{"PKCE verifier missing", "", "", acForm(code(t, s, "code_challenge_method", "S256", "code_challenge", rfcChallenge), "client_id", cid).Encode(), errVerifierReq},
		tc{"PKCE verifier wrong", "", "", acForm(code(t, s, "code_challenge_method", "S256", "code_challenge", rfcChallenge), "client_id", cid, "code_verifier", strings.Repeat("a", 43)).Encode(), errVerifierBad},
		tc{"PKCE verifier too short", "", "", acForm(code(t, s, "code_challenge_method", "S256", "code_challenge", rfcChallenge), "client_id", cid, "code_verifier", rfcVerifier[:42]).Encode(), errVerifierBad},
		tc{"PKCE verifier bad char", "", "", acForm(code(t, s, "code_challenge_method", "S256", "code_challenge", rfcChallenge), "client_id", cid, "code_verifier", rfcVerifier+"+").Encode(), errVerifierBad},
	)
	expiring := code(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype := "application/x-www-form-urlencoded"
			switch tt.ctype {
			case "-":
				ctype = ""
			case "":
			default:
				ctype = tt.ctype
			}
			r := postTokenRaw(t, s, tt.auth, ctype, tt.body)
			if r.status != 400 || r.body != tt.want {
				t.Errorf("POST /api/token = %d %s; want 400 %s", r.status, r.body, tt.want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
		})
	}
	t.Run("code expired", func(t *testing.T) {
		clock.Advance(10 * time.Minute)
		r := postToken(t, s, good, acForm(expiring))
		if r.status != 400 || r.body != errCodeExpired {
			t.Errorf("POST /api/token with a 10-minute-old code = %d %s; want 400 %s", r.status, r.body, errCodeExpired)
		}
	})
	t.Run("refresh expired", func(t *testing.T) {
		clock.Advance(200 * 24 * time.Hour)
		r := refresh(t, s, rt)
		if r.status != 400 || r.body != errExpired {
			t.Errorf("refresh after 200 days = %d %s; want 400 %s", r.status, r.body, errExpired)
		}
	})
	t.Run("rotated away", func(t *testing.T) {
		s.Update(func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate })
		defer s.Update(func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshStable })
		_, old := s.IssueUserToken(cid, nil, false)
		if r := refresh(t, s, old); r.status != 200 {
			t.Fatalf("first refresh = %d %s", r.status, r.body)
		}
		if r := refresh(t, s, old); r.status != 400 || r.body != errRevoked {
			t.Errorf("reusing a rotated refresh token = %d %s; want 400 %s", r.status, r.body, errRevoked)
		}
	})
}

func TestClientAuthStyles(t *testing.T) {
	s := start(t, nil)
	tests := []struct {
		name, auth, body string
		wantStyle        spotauthtest.AuthStyle
	}{
		{"basic", basicAuth(cid, secret), "grant_type=client_credentials", spotauthtest.AuthBasic},
		{"basic lowercase scheme", "basic " + strings.TrimPrefix(basicAuth(cid, secret), "Basic "), "grant_type=client_credentials", spotauthtest.AuthBasic},
		{"body", "", "grant_type=client_credentials&client_id=" + cid + "&client_secret=" + secret, spotauthtest.AuthBody},
		{"both agreeing", basicAuth(cid, secret), "grant_type=client_credentials&client_id=" + cid + "&client_secret=" + secret, spotauthtest.AuthBoth},
		{"basic plus client_id", basicAuth(cid, secret), "grant_type=client_credentials&client_id=" + cid, spotauthtest.AuthBoth},
		{"first grant_type wins", basicAuth(cid, secret), "grant_type=client_credentials&grant_type=password", spotauthtest.AuthBasic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetStats()
			r := postTokenRaw(t, s, tt.auth, "application/x-www-form-urlencoded", tt.body)
			if r.status != 200 {
				t.Fatalf("POST /api/token = %d %s; want 200", r.status, r.body)
			}
			log := s.TokenLog()
			if len(log) != 1 || log[0].Auth != tt.wantStyle || log[0].ClientID != cid {
				t.Errorf("TokenLog() = %+v; want one entry with Auth %q, ClientID %q", log, tt.wantStyle, cid)
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	s := start(t, nil)
	r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"client_credentials"}, "scope": {"user-read-private"}})
	if r.status != 200 {
		t.Fatalf("POST /api/token = %d %s", r.status, r.body)
	}
	m := r.json(t)
	tok, _ := m["access_token"].(string)
	want := fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, tok)
	if r.body != want || !strings.HasPrefix(tok, "BQ") || len(tok) != 45 {
		t.Errorf("client_credentials body = %s; want %s with a BQ token of 45 characters", r.body, want)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", got)
	}
}

func TestCodeExchange(t *testing.T) {
	s := start(t, nil)
	c := code(t, s, "scope", "user-read-private playlist-read-private")
	r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}})
	m := r.json(t)
	at, _ := m["access_token"].(string)
	rt, _ := m["refresh_token"].(string)
	want := fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","scope":"user-read-private playlist-read-private","expires_in":3600,"refresh_token":"%s"}`, at, rt)
	if r.status != 200 || r.body != want {
		t.Errorf("code exchange = %d %s; want 200 %s", r.status, r.body, want)
	}
	if !strings.HasPrefix(rt, "AQ") || len(rt) != 45 || at == rt {
		t.Errorf("refresh token %d chars with prefix %.2s; want AQ and 45 characters", len(rt), rt)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
	if me := getMe(t, s, "Bearer "+at); me.status != 200 {
		t.Errorf("GET /v1/me with the new token = %d %s; want 200", me.status, me.body)
	}
	// Codes are single use: a second exchange fails.
	r = postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}})
	if r.body != errInvalidCode {
		t.Errorf("second exchange = %s; want %s", r.body, errInvalidCode)
	}
	// ... and does not revoke the tokens already issued.
	if me := getMe(t, s, "Bearer "+at); me.status != 200 {
		t.Errorf("GET /v1/me after a reused code = %d; want 200", me.status)
	}
}

func TestCodeSingleUseConcurrent(t *testing.T) {
	s := start(t, nil)
	c := code(t, s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}})
			if r.status == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("8 concurrent exchanges of one code: %d succeeded; want 1", ok)
	}
}

func TestPKCE(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.ClientSecret = "" }) // a public default app
	c := code(t, s, "code_challenge_method", "S256", "code_challenge", rfcChallenge, "scope", "user-read-email")
	r := postToken(t, s, "", url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect},
		"client_id": {cid}, "code_verifier": {rfcVerifier}})
	if r.status != 200 {
		t.Fatalf("PKCE exchange with the RFC 7636 verifier = %d %s; want 200", r.status, r.body)
	}
	m := r.json(t)
	rt, _ := m["refresh_token"].(string)
	if m["scope"] != "user-read-email" || rt == "" {
		t.Errorf("PKCE exchange body = %s; want scope user-read-email and a refresh token", r.body)
	}
	// PKCE refresh: client_id only.
	r = postToken(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {cid}})
	want := fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","scope":"user-read-email","expires_in":3600}`, r.json(t)["access_token"])
	if r.status != 200 || r.body != want {
		t.Errorf("PKCE refresh = %d %s; want 200 %s", r.status, r.body, want)
	}
	// A public client cannot run a non-PKCE exchange.
	c = code(t, s)
	r = postToken(t, s, "", url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect},
		"client_id": {cid}, "code_verifier": {rfcVerifier}})
	if r.body != errInvalidClient {
		t.Errorf("non-PKCE code, public client = %s; want %s", r.body, errInvalidClient)
	}
}

func TestPKCEConfidentialClient(t *testing.T) {
	s := start(t, nil)
	// With a secret and a PKCE code, the verifier is still required.
	c := code(t, s, "code_challenge_method", "S256", "code_challenge", rfcChallenge)
	r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}})
	if r.body != errVerifierReq {
		t.Errorf("PKCE code with secret, no verifier = %s; want %s", r.body, errVerifierReq)
	}
	// A failed attempt does not consume the code.
	r = postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}, "code_verifier": {rfcVerifier}})
	if r.status != 200 {
		t.Errorf("PKCE code with secret and verifier = %d %s; want 200", r.status, r.body)
	}
	// Without a challenge, a verifier is ignored.
	c = code(t, s)
	r = postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}, "code_verifier": {"short"}})
	if r.status != 200 {
		t.Errorf("non-PKCE code with a stray verifier = %d %s; want 200", r.status, r.body)
	}
}

func TestRedirectURIBinding(t *testing.T) {
	s := start(t, nil)
	for _, port := range []string{"1", "43117", "65535"} {
		uri := "http://127.0.0.1:" + port + "/callback"
		c := code(t, s, "redirect_uri", uri)
		r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {uri}})
		if r.status != 200 {
			t.Errorf("exchange with redirect_uri %s = %d %s; want 200", uri, r.status, r.body)
		}
	}
	// The portless registered URI itself is also usable, and bound exactly.
	c := code(t, s, "redirect_uri", spotauthtest.DefaultRedirectURI)
	r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}})
	if r.body != errRedirect {
		t.Errorf("exchange with another port than at /authorize = %s; want %s", r.body, errRedirect)
	}
}

func TestRefreshStable(t *testing.T) {
	s := start(t, nil)
	m := exchange(t, s, code(t, s, "scope", "user-top-read"))
	rt := m["refresh_token"].(string)
	for i := range 3 {
		r := refresh(t, s, rt)
		mm := r.json(t)
		want := fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","scope":"user-top-read","expires_in":3600}`, mm["access_token"])
		if r.status != 200 || r.body != want {
			t.Errorf("refresh #%d = %d %s; want 200 %s", i+1, r.status, r.body, want)
		}
		if mm["access_token"] == m["access_token"] {
			t.Errorf("refresh #%d returned the same access token", i+1)
		}
	}
}

func TestRefreshRotate(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate; s.ClientSecret = "" })
	_, rt := s.IssueUserToken(cid, []string{"user-read-private"}, true)
	form := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {cid}}
	}
	r := postToken(t, s, "", form(rt))
	m := r.json(t)
	next, _ := m["refresh_token"].(string)
	want := fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","scope":"user-read-private","expires_in":3600,"refresh_token":"%s"}`, m["access_token"], next)
	if r.status != 200 || r.body != want || next == rt {
		t.Fatalf("rotate refresh = %d %s; want 200 %s with a new refresh token", r.status, r.body, want)
	}
	if r := postToken(t, s, "", form(rt)); r.body != errRevoked {
		t.Errorf("old refresh token after rotation = %s; want %s", r.body, errRevoked)
	}
	if r := postToken(t, s, "", form(next)); r.status != 200 {
		t.Errorf("new refresh token = %d %s; want 200", r.status, r.body)
	}

	// Concurrent refreshes with one token: exactly one wins.
	_, rt = s.IssueUserToken(cid, nil, true)
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = postToken(t, s, "", form(rt)).body
		}()
	}
	wg.Wait()
	wins := 0
	for _, b := range results {
		switch {
		case strings.Contains(b, `"refresh_token"`):
			wins++
		case b != errRevoked:
			t.Errorf("concurrent rotate refresh = %s; want success or %s", b, errRevoked)
		}
	}
	if wins != 1 {
		t.Errorf("8 concurrent rotate refreshes: %d succeeded; want 1", wins)
	}
}

func TestRefreshLifetime(t *testing.T) {
	t0 := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		lifetime time.Duration
		deadline time.Time
	}{
		{"six calendar months", 0, t0.AddDate(0, 6, 0)},
		{"configured", 90 * time.Minute, t0.Add(90 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := spotauthtest.NewClock(t0)
			s := start(t, func(s *spotauthtest.Server) { s.Clock, s.RefreshTokenLifetime = clock, tt.lifetime })
			_, rt := s.IssueUserToken(cid, nil, false)
			clock.Set(tt.deadline.Add(-time.Second))
			if r := refresh(t, s, rt); r.status != 200 {
				t.Errorf("refresh 1 s before the deadline = %d %s; want 200", r.status, r.body)
			}
			clock.Set(tt.deadline)
			if r := refresh(t, s, rt); r.body != errExpired {
				t.Errorf("refresh at the deadline = %s; want %s (refreshing does not extend the lifetime)", r.body, errExpired)
			}
		})
	}
	t.Run("ExpireRefreshTokens", func(t *testing.T) {
		s := start(t, nil)
		_, old := s.IssueUserToken(cid, nil, false)
		s.ExpireRefreshTokens()
		_, fresh := s.IssueUserToken(cid, nil, false)
		if r := refresh(t, s, old); r.body != errExpired {
			t.Errorf("refresh after ExpireRefreshTokens = %s; want %s", r.body, errExpired)
		}
		if r := refresh(t, s, fresh); r.status != 200 {
			t.Errorf("refresh of a token issued after ExpireRefreshTokens = %d %s; want 200", r.status, r.body)
		}
	})
}

func TestAccessTokenLifetime(t *testing.T) {
	tests := []struct {
		lifetime      time.Duration
		wantExpiresIn float64
	}{
		{0, 3600},
		{2 * time.Second, 2},
		{1500 * time.Millisecond, 2},
		{time.Millisecond, 1},
		{90 * time.Minute, 5400},
	}
	for _, tt := range tests {
		t.Run(tt.lifetime.String(), func(t *testing.T) {
			clock := spotauthtest.NewClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
			s := start(t, func(s *spotauthtest.Server) { s.Clock, s.AccessTokenLifetime = clock, tt.lifetime })
			r := postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"client_credentials"}})
			if got := r.json(t)["expires_in"]; got != tt.wantExpiresIn {
				t.Errorf("expires_in = %v; want %v", got, tt.wantExpiresIn)
			}
			at, _ := s.IssueUserToken(cid, nil, false)
			life := tt.lifetime
			if life == 0 {
				life = time.Hour
			}
			clock.Advance(life - time.Nanosecond)
			if r := getMe(t, s, "Bearer "+at); r.status != 200 {
				t.Errorf("GET /v1/me 1 ns before expiry = %d; want 200", r.status)
			}
			clock.Advance(time.Nanosecond)
			if r := getMe(t, s, "Bearer "+at); r.status != 401 {
				t.Errorf("GET /v1/me at expiry = %d; want 401", r.status)
			}
		})
	}
}

func TestExpireAccessTokens(t *testing.T) {
	s := start(t, nil)
	old, _ := s.IssueUserToken(cid, nil, false)
	s.ExpireAccessTokens()
	fresh, _ := s.IssueUserToken(cid, nil, false)
	if r := getMe(t, s, "Bearer "+old); r.status != 401 {
		t.Errorf("GET /v1/me with a token expired by ExpireAccessTokens = %d; want 401", r.status)
	}
	if r := getMe(t, s, "Bearer "+fresh); r.status != 200 {
		t.Errorf("GET /v1/me with a later token = %d; want 200", r.status)
	}
}

func TestRevocation(t *testing.T) {
	s := start(t, nil)
	if err := s.AddApp(spotauthtest.App{ClientID: "other", ClientSecret: "o"}); err != nil {
		t.Fatal(err)
	}
	at1, rt1 := s.IssueUserToken(cid, nil, false)
	at2, rt2 := s.IssueUserToken(cid, nil, false)
	at3, _ := s.IssueUserToken("other", nil, false)

	if !s.RevokeGrant(rt1) {
		t.Errorf("RevokeGrant(known token) = false; want true")
	}
	if s.RevokeGrant("AQunknown") {
		t.Errorf("RevokeGrant(unknown token) = true; want false")
	}
	if r := refresh(t, s, rt1); r.body != errRevoked {
		t.Errorf("refresh of a revoked grant = %s; want %s", r.body, errRevoked)
	}
	if r := getMe(t, s, "Bearer "+at1); r.status != 401 {
		t.Errorf("GET /v1/me with a revoked grant's token = %d; want 401", r.status)
	}
	if r := getMe(t, s, "Bearer "+at2); r.status != 200 {
		t.Errorf("GET /v1/me with another grant's token = %d; want 200", r.status)
	}
	if n := s.RevokeGrants(cid, spotauthtest.DefaultUser.ID); n != 1 {
		t.Errorf("RevokeGrants(%q, user) = %d; want 1 (one grant left)", cid, n)
	}
	if r := refresh(t, s, rt2); r.body != errRevoked {
		t.Errorf("refresh after RevokeGrants = %s; want %s", r.body, errRevoked)
	}
	if r := getMe(t, s, "Bearer "+at3); r.status != 200 {
		t.Errorf("GET /v1/me with another app's token = %d; want 200", r.status)
	}
	if n := s.RevokeGrants("", ""); n != 1 {
		t.Errorf(`RevokeGrants("", "") = %d; want 1`, n)
	}
	if r := getMe(t, s, "Bearer "+at3); r.status != 401 {
		t.Errorf("GET /v1/me after revoking all = %d; want 401", r.status)
	}
}

func TestTokenMethodAndPaths(t *testing.T) {
	s := start(t, nil)
	r := get(t, s, "/api/token", nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET /api/token = %d (Allow %q); want 405, Allow: POST", r.status, r.header.Get("Allow"))
	}
	if r := get(t, s, "/nope", nil); r.status != 404 {
		t.Errorf("GET /nope = %d; want 404", r.status)
	}
	big := "grant_type=client_credentials&x=" + strings.Repeat("a", 70<<10)
	if r := postTokenRaw(t, s, basicAuth(cid, secret), "application/x-www-form-urlencoded", big); r.body != errGrantMissing {
		t.Errorf("POST /api/token with a 70 KiB body = %s; want %s", r.body, errGrantMissing)
	}
	if r := postTokenRaw(t, s, basicAuth(cid, secret), "application/x-www-form-urlencoded; charset=utf-8", "grant_type=client_credentials"); r.status != 200 {
		t.Errorf("form content type with charset: %d %s; want 200", r.status, r.body)
	}
	// Query parameters are not the body.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/token?grant_type=client_credentials", nil)
	req.Header.Set("Authorization", basicAuth(cid, secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, s, req); r.body != errGrantMissing {
		t.Errorf("grant_type in the query only = %s; want %s", r.body, errGrantMissing)
	}
	// A malformed query makes the request malformed, whatever its body.
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/api/token?x=%zz", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Authorization", basicAuth(cid, secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, s, req); r.body != errGrantMissing {
		t.Errorf("POST /api/token?x=%%zz = %s; want %s", r.body, errGrantMissing)
	}
}

func TestIssueCode(t *testing.T) {
	s := start(t, nil)
	c := s.IssueCode(cid, redirect, []string{"user-read-email", "user-read-email"}, rfcChallenge)
	r := postToken(t, s, "", url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect},
		"client_id": {cid}, "code_verifier": {rfcVerifier}})
	if r.status != 200 || r.json(t)["scope"] != "user-read-email" {
		t.Errorf("exchange of IssueCode's PKCE code = %d %s; want 200 with scope user-read-email", r.status, r.body)
	}
	at := s.IssueAppToken(cid)
	if r := getMe(t, s, "Bearer "+at); r.status != 401 {
		t.Errorf("GET /v1/me with IssueAppToken's token = %d; want 401 (no user)", r.status)
	}
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "spotauthtest: ") || strings.Contains(msg, rfcChallenge) {
			t.Errorf("IssueCode with a padded challenge panicked with %q; want a spotauthtest: panic", msg)
		}
	}()
	s.IssueCode(cid, redirect, nil, rfcChallenge+"=")
}

func TestCurrentRefreshToken(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate; s.ClientSecret = "" })
	_, rt := s.IssueUserToken(cid, nil, true)
	if got, ok := s.CurrentRefreshToken(rt); !ok || got != rt {
		t.Errorf("CurrentRefreshToken(new grant) = %q, %v; want its own token", got, ok)
	}
	r := postToken(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {cid}})
	next, _ := r.json(t)["refresh_token"].(string)
	for _, tok := range []string{rt, next} {
		if got, ok := s.CurrentRefreshToken(tok); !ok || got != next || next == "" {
			t.Errorf("CurrentRefreshToken(%s token) after a rotation = %v; want the rotated token", map[bool]string{true: "old", false: "new"}[tok == rt], ok)
		}
	}
	if _, ok := s.CurrentRefreshToken("AQ-unknown"); ok {
		t.Errorf("CurrentRefreshToken(unknown) ok = true; want false")
	}
	s.RevokeGrant(next)
	if _, ok := s.CurrentRefreshToken(rt); ok {
		t.Errorf("CurrentRefreshToken(revoked grant) ok = true; want false")
	}
}
