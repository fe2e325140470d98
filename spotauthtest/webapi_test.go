package spotauthtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

// call sends method url (a full URL or a path on s) with a bearer token
// and an optional JSON body.
func call(t testing.TB, s *spotauthtest.Server, method, u, token, body string) response {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = s.URL + u
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, s, req)
}

type playlistsPage struct {
	Href   string
	Items  []struct{ ID, Name string }
	Limit  int
	Next   *string
	Offset int
	Total  int
}

func TestPlaylistsPaging(t *testing.T) {
	s := start(t, nil)
	private, _ := s.IssueUserToken(cid, []string{"playlist-read-private"}, false)
	var names []string
	pages := 0
	for next := "/v1/me/playlists?limit=2"; next != ""; pages++ {
		r := call(t, s, http.MethodGet, next, private, "")
		if r.status != 200 {
			t.Fatalf("GET %s = %d %s", next, r.status, r.body)
		}
		var p playlistsPage
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatal(err)
		}
		if p.Total != 5 || p.Limit != 2 || p.Offset != 2*pages {
			t.Errorf("page %d: total %d, limit %d, offset %d; want 5, 2, %d", pages, p.Total, p.Limit, p.Offset, 2*pages)
		}
		for _, it := range p.Items {
			names = append(names, it.Name)
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
			if !strings.HasPrefix(next, s.URL+"/v1/me/playlists?") {
				t.Errorf("next = %q; want a full URL on the server", next)
			}
		}
	}
	if pages != 3 || strings.Join(names, ",") != "Playlist 1,Playlist 2,Playlist 3,Playlist 4,Playlist 5" {
		t.Errorf("paging gave %d pages of %q; want 3 pages of the 5 playlists", pages, names)
	}

	// Without playlist-read-private, as at Spotify: only public playlists.
	none, _ := s.IssueUserToken(cid, nil, false)
	var p playlistsPage
	r := call(t, s, http.MethodGet, "/v1/me/playlists", none, "")
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Total != 3 || len(p.Items) != 3 || p.Next != nil {
		t.Errorf("GET /v1/me/playlists without playlist-read-private = %d %s; want the 3 public ones", r.status, r.body)
	}
	for _, q := range []string{"limit=0", "limit=51", "offset=-1", "limit=x"} {
		if r := call(t, s, http.MethodGet, "/v1/me/playlists?"+q, none, ""); r.status != 400 {
			t.Errorf("GET /v1/me/playlists?%s = %d; want 400", q, r.status)
		}
	}
	if r := call(t, s, http.MethodGet, "/v1/me/playlists", "", ""); r.status != 401 {
		t.Errorf("GET /v1/me/playlists without a token = %d; want 401", r.status)
	}
	if st := s.Stats(); st.WebAPIRequests["GET /v1/me/playlists"] != 9 || st.WebAPISucceeded != 4 {
		t.Errorf("stats: %v requests, %d succeeded; want 9 GET /v1/me/playlists, 4 succeeded", st.WebAPIRequests, st.WebAPISucceeded)
	}
}

func TestCreatePlaylist(t *testing.T) {
	s := start(t, func(s *spotauthtest.Server) { s.Playlists = []spotauthtest.Playlist{} })
	pub, _ := s.IssueUserToken(cid, []string{"playlist-modify-public"}, false)
	path := "/v1/users/spotauthtest-user/playlists"
	tests := []struct {
		name, path, token, body string
		want                    int
		wantBody                string
	}{
		{"public", path, pub, `{"name":"Mix"}`, 201, `"name":"Mix"`},
		{"private without its scope", path, pub, `{"name":"Secret","public":false}`, 403, `Insufficient client scope`},
		{"another user", "/v1/users/bob/playlists", pub, `{"name":"Mix"}`, 403, `another user`},
		{"no name", path, pub, `{"public":true}`, 400, `name`},
		{"not JSON", path, pub, `name=Mix`, 400, `parsing JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, http.MethodPost, tt.path, tt.token, tt.body)
			if r.status != tt.want || !strings.Contains(r.body, tt.wantBody) {
				t.Errorf("POST %s %s = %d %s; want %d with %q", tt.path, tt.body, r.status, r.body, tt.want, tt.wantBody)
			}
		})
	}
	r := call(t, s, http.MethodGet, "/v1/me/playlists", pub, "")
	if !strings.Contains(r.body, `"total":1`) || !strings.Contains(r.body, `"name":"Mix"`) {
		t.Errorf("GET /v1/me/playlists after creating one = %s", r.body)
	}
	if r := call(t, s, http.MethodGet, path, pub, ""); r.status != 405 {
		t.Errorf("GET %s = %d; want 405", path, r.status)
	}
}

func TestPause(t *testing.T) {
	s := start(t, nil)
	playback, _ := s.IssueUserToken(cid, []string{"user-modify-playback-state"}, false)
	none, _ := s.IssueUserToken(cid, nil, false)
	if r := call(t, s, http.MethodPut, "/v1/me/player/pause", playback, ""); r.status != 204 || r.body != "" {
		t.Errorf("PUT /v1/me/player/pause = %d %q; want 204", r.status, r.body)
	}
	if r := call(t, s, http.MethodPut, "/v1/me/player/pause", none, ""); r.status != 403 || !strings.Contains(r.body, "Insufficient client scope") {
		t.Errorf("PUT /v1/me/player/pause without the scope = %d %s; want 403", r.status, r.body)
	}
	s.Update(func(s *spotauthtest.Server) { s.NoActiveDevice = true })
	want := `{"error":{"status":404,"message":"Player command failed: No active device found","reason":"NO_ACTIVE_DEVICE"}}`
	if r := call(t, s, http.MethodPut, "/v1/me/player/pause", playback, ""); r.status != 404 || r.body != want {
		t.Errorf("PUT /v1/me/player/pause with no device = %d %s; want 404 %s", r.status, r.body, want)
	}
	want = `{"error":{"status":404,"message":"Service not found"}}`
	if r := call(t, s, http.MethodGet, "/v1/nope", playback, ""); r.status != 404 || r.body != want {
		t.Errorf("GET /v1/nope = %d %s; want 404 %s", r.status, r.body, want)
	}
}

func TestWebAPIFaults(t *testing.T) {
	s := start(t, nil)
	at, _ := s.IssueUserToken(cid, nil, false)
	s.FailWebAPI(2, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: 3 * time.Second})
	for range 2 {
		r := call(t, s, http.MethodGet, "/v1/me/playlists", at, "")
		if r.status != 429 || r.header.Get("Retry-After") != "3" || !strings.Contains(r.body, "API rate limit exceeded") {
			t.Errorf("GET /v1/me/playlists with a 429 fault = %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	if r := call(t, s, http.MethodGet, "/v1/me/playlists", at, ""); r.status != 200 {
		t.Errorf("GET /v1/me/playlists after the faults = %d; want 200", r.status)
	}
	// /v1/me keeps its own queue.
	s.FailWebAPI(1, spotauthtest.Fault{Kind: spotauthtest.FaultHTML})
	if r := getMe(t, s, "Bearer "+at); r.status != 200 {
		t.Errorf("GET /v1/me with a fault queued for the other endpoints = %d; want 200", r.status)
	}
	if r := call(t, s, http.MethodPut, "/v1/me/player/pause", at, ""); r.status != 502 || !strings.Contains(r.body, "<html>") {
		t.Errorf("PUT /v1/me/player/pause with an HTML fault = %d %s; want 502 HTML", r.status, r.body)
	}
	if st := s.Stats(); st.Faults[spotauthtest.FaultRateLimit] != 2 || st.Faults[spotauthtest.FaultHTML] != 1 {
		t.Errorf("Stats().Faults = %v; want 2 rate-limit, 1 html", st.Faults)
	}
}
