package spotauthtest_test

import (
	"testing"

	"github.com/spotauth/spotauth/spotauthtest"
)

func TestMe(t *testing.T) {
	s := start(t, nil)
	none, _ := s.IssueUserToken(cid, nil, false)
	email, _ := s.IssueUserToken(cid, []string{"user-read-email"}, false)
	private, _ := s.IssueUserToken(cid, []string{"user-read-private", "user-read-email"}, false)
	app := s.IssueAppToken(cid)
	href := s.URL + "/v1/users/spotauthtest-user"
	common := `"external_urls":{"spotify":"https://open.spotify.com/user/spotauthtest-user"},"followers":{"href":null,"total":0},"href":"` +
		href + `","id":"spotauthtest-user","images":[],`
	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantBody   string
	}{
		{"no header", "", 401, `{"error":{"status":401,"message":"No token provided"}}`},
		{"basic", basicAuth(cid, secret), 400, `{"error":{"status":400,"message":"Only valid bearer authentication supported"}}`},
		{"token without scheme", none, 400, `{"error":{"status":400,"message":"Only valid bearer authentication supported"}}`},
		{"empty bearer", "Bearer ", 401, `{"error":{"status":401,"message":"Missing/invalid/expired access token"}}`},
		{"unknown token", "Bearer BQnope", 401, `{"error":{"status":401,"message":"Missing/invalid/expired access token"}}`},
		{"refresh token as bearer", "Bearer AQnope", 401, `{"error":{"status":401,"message":"Missing/invalid/expired access token"}}`},
		{"app token", "Bearer " + app, 401, `{"error":{"status":401,"message":"Unauthorized."}}`},
		{"no scopes", "Bearer " + none, 200, `{"display_name":"Test User",` + common + `"type":"user","uri":"spotify:user:spotauthtest-user"}`},
		{"lowercase scheme", "bearer " + none, 200, `{"display_name":"Test User",` + common + `"type":"user","uri":"spotify:user:spotauthtest-user"}`},
		{"email scope", "Bearer " + email, 200, `{"display_name":"Test User","email":"test-user@example.com",` + common + `"type":"user","uri":"spotify:user:spotauthtest-user"}`},
		{"private scope", "Bearer " + private, 200, `{"country":"SE","display_name":"Test User","email":"test-user@example.com",` + common + `"product":"premium","type":"user","uri":"spotify:user:spotauthtest-user"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := getMe(t, s, tt.auth)
			if r.status != tt.wantStatus || r.body != tt.wantBody {
				t.Errorf("GET /v1/me = %d %s; want %d %s", r.status, r.body, tt.wantStatus, tt.wantBody)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
		})
	}
}

func TestMeUser(t *testing.T) {
	u := spotauthtest.User{ID: "alice", DisplayName: "Alice", Email: "a@example.org", Country: "FR", Product: "free"}
	s := start(t, func(s *spotauthtest.Server) { s.User = u })
	at, _ := s.IssueUserToken(cid, []string{"user-read-private"}, false)
	m := getMe(t, s, "Bearer "+at).json(t)
	if m["id"] != "alice" || m["country"] != "FR" || m["product"] != "free" || m["uri"] != "spotify:user:alice" {
		t.Errorf("GET /v1/me = %v; want user alice from FR, free", m)
	}
	if _, ok := m["email"]; ok {
		t.Errorf("GET /v1/me shows email without user-read-email: %v", m)
	}
}
