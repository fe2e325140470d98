package spotauthtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

// tokenJSON decodes a token endpoint response.
func tokenJSON(resp *http.Response) map[string]any {
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// A client-credentials token from the fake, with plain net/http.
func ExampleNewServer() {
	srv := spotauthtest.NewServer()
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(srv.ClientID, srv.ClientSecret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Cache-Control"))
	tok := tokenJSON(resp)
	fmt.Println(tok["token_type"], tok["expires_in"], strings.HasPrefix(tok["access_token"].(string), "BQ"))
	// Output:
	// 200 OK no-store
	// Bearer 3600 true
}

// A whole PKCE login without a browser: Authorize plays the user who
// approves, then the code is exchanged with the verifier.
func ExampleServer_Authorize() {
	srv := spotauthtest.NewServer()
	defer srv.Close()

	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636's example
	const redirectURI = "http://127.0.0.1:43117/callback"          // any port: registered without one
	authURL := srv.URL + "/authorize?" + url.Values{
		"client_id":             {srv.ClientID},
		"response_type":         {"code"},
		"redirect_uri":          {redirectURI},
		"state":                 {"xyz"},
		"scope":                 {"user-read-private user-read-email"},
		"code_challenge_method": {"S256"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
	}.Encode()
	callback, err := srv.Authorize(authURL, true)
	if err != nil {
		panic(err)
	}
	fmt.Println("state:", callback.Query().Get("state"))

	resp, err := srv.Client().PostForm(srv.URL+"/api/token", url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {callback.Query().Get("code")},
		"redirect_uri":  {redirectURI},
		"client_id":     {srv.ClientID},
		"code_verifier": {verifier},
	})
	if err != nil {
		panic(err)
	}
	tok := tokenJSON(resp)
	fmt.Println("scope:", tok["scope"])
	fmt.Println("refresh token:", tok["refresh_token"] != nil)
	// Output:
	// state: xyz
	// scope: user-read-private user-read-email
	// refresh token: true
}

// Start from a valid grant, then revoke it as a user removing the app would.
func ExampleServer_IssueUserToken() {
	srv := spotauthtest.NewServer()
	defer srv.Close()

	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	me := func() string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if resp.StatusCode != 200 {
			return fmt.Sprint(resp.StatusCode, " ", string(body))
		}
		return fmt.Sprint(resp.StatusCode, " ", m["display_name"], " ", m["product"])
	}
	fmt.Println(me())
	srv.RevokeGrant(refresh)
	fmt.Println(me())
	// Output:
	// 200 Test User premium
	// 401 {"error":{"status":401,"message":"Missing/invalid/expired access token"}}
}

// Inject a 429 into the next token request.
func ExampleServer_FailToken() {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	srv.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: 5 * time.Second})

	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(srv.ClientID, srv.ClientSecret)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	st := srv.Stats()
	fmt.Println("requests:", st.TokenRequests, "faulted:", st.Faulted, "succeeded:", st.Succeeded)
	// Output:
	// 429 Retry-After="5"
	// 200 Retry-After=""
	// requests: 2 faulted: 1 succeeded: 1
}

// Test the 6-month refresh-token lifetime with a controlled clock.
func ExampleClock() {
	clock := spotauthtest.NewClock(time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC))
	srv := spotauthtest.NewUnstartedServer()
	srv.Clock = clock
	srv.Start()
	defer srv.Close()

	_, refresh := srv.IssueUserToken(srv.ClientID, nil, false)
	try := func() string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/token",
			strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(srv.ClientID, srv.ClientSecret)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		tok := tokenJSON(resp)
		if resp.StatusCode != 200 {
			return fmt.Sprint(resp.StatusCode, " ", tok["error"], ": ", tok["error_description"])
		}
		return fmt.Sprint(resp.StatusCode)
	}
	clock.Set(time.Date(2026, 7, 15, 8, 59, 0, 0, time.UTC))
	fmt.Println(try())
	clock.Advance(time.Minute)
	fmt.Println(try())
	// Output:
	// 200
	// 400 invalid_grant: Refresh token expired
}
