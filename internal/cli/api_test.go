package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// apiScopes are the scopes the endpoints of the fake's Web API check.
const apiScopes = "playlist-read-private,playlist-modify-public,user-modify-playback-state"

// apiRun is one spotauth api run: stdin, whether stdout plays a
// terminal, and the waits it asked for, recorded instead of slept.
type apiRun struct {
	stdin    string
	terminal bool
	client   *http.Client // nil: the fake's
	mu       sync.Mutex
	waits    []time.Duration
}

func (a *apiRun) sleep(ctx context.Context, d time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.waits = append(a.waits, d)
	return ctx.Err()
}

// api runs spotauth args in-process with a's stdin, terminal, client
// and sleep.
func (e *testEnv) api(a *apiRun, args ...string) result {
	e.t.Helper()
	return e.run(runOpts{stdin: strings.NewReader(a.stdin), terminal: a.terminal, sleep: a.sleep, client: a.client}, args...)
}

// mustAPI runs spotauth api args and fails unless it exits 0.
func (e *testEnv) mustAPI(a *apiRun, args ...string) result {
	e.t.Helper()
	r := e.api(a, append([]string{"api"}, args...)...)
	if r.code != 0 {
		e.t.Fatalf("spotauth api %s = exit %d; want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

// loggedIn returns an environment logged in with apiScopes, and its
// stored token.
func loggedIn(t *testing.T, configure func(*spotauthtest.Server)) (*testEnv, *spotauth.Token) {
	t.Helper()
	e := newTestEnv(t, configure)
	e.login("--scope", apiScopes)
	tok, err := testFileStore(t, e.dir, userToken).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ResetStats()
	return e, tok
}

// noToken fails if r shows tok's access or refresh token.
func noToken(t *testing.T, r result, tok *spotauth.Token) {
	t.Helper()
	for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
		if s != "" && (strings.Contains(r.out, s) || strings.Contains(r.err, s)) {
			t.Errorf("spotauth api printed a token:\nstdout: %s\nstderr: %s", r.out, r.err)
		}
	}
}

func TestAPIMe(t *testing.T) {
	t.Parallel()
	e, tok := loggedIn(t, nil)
	for _, ep := range []string{"/me", "me", "/v1/me", e.srv.URL + "/v1/me", "/me?from=https://example.com/"} {
		r := e.mustAPI(&apiRun{}, ep)
		var me struct{ ID string }
		if err := json.Unmarshal([]byte(r.out), &me); err != nil || me.ID != spotauthtest.DefaultUser.ID {
			t.Errorf("spotauth api %s = %q; want the user object of %s", ep, r.out, spotauthtest.DefaultUser.ID)
		}
		if strings.Contains(r.out, "\n") {
			t.Errorf("spotauth api %s not on a terminal = %q; want the body as received (one line)", ep, r.out)
		}
		noToken(t, r, tok)
	}
	if st := e.srv.Stats(); st.MeSucceeded != 5 || st.Refreshes != 0 {
		t.Errorf("/v1/me answered %d times, %d refreshes; want 5, 0", st.MeSucceeded, st.Refreshes)
	}

	// On a terminal: indented; --jq: strings without quotes.
	r := e.mustAPI(&apiRun{terminal: true}, "/me")
	if !strings.HasPrefix(r.out, "{\n  \"display_name\": \"Test User\",\n") || !strings.HasSuffix(r.out, "}\n") {
		t.Errorf("spotauth api /me on a terminal = %q; want indented JSON", r.out)
	}
	if r := e.mustAPI(&apiRun{}, "/me", "--jq", ".display_name"); r.out != "Test User\n" {
		t.Errorf("spotauth api /me --jq .display_name = %q; want %q", r.out, "Test User\n")
	}
	if r := e.mustAPI(&apiRun{}, "/me", "-q", "{id, n: 1}"); r.out != `{"id":"spotauthtest-user","n":1}`+"\n" {
		t.Errorf("spotauth api /me -q '{id, n: 1}' = %q", r.out)
	}
	if r := e.mustAPI(&apiRun{terminal: true}, "/me", "--jq", "{id}"); r.out != "{\n  \"id\": \"spotauthtest-user\"\n}\n" {
		t.Errorf("spotauth api /me --jq {id} on a terminal = %q; want indented", r.out)
	}
	if r := e.mustAPI(&apiRun{}, "-i", "/me"); !strings.HasPrefix(r.out, "HTTP/1.1 200 OK\n") || !strings.Contains(r.out, "\nContent-Type: application/json\n") || !strings.Contains(r.out, "\n\n{") {
		t.Errorf("spotauth api -i /me = %q; want the status line and headers, a blank line, the body", r.out)
	}
}

func TestAPIMethodsAndFields(t *testing.T) {
	t.Parallel()
	e, tok := loggedIn(t, func(s *spotauthtest.Server) { s.Playlists = []spotauthtest.Playlist{} })

	// -X PUT, a 204: nothing printed.
	if r := e.mustAPI(&apiRun{}, "-X", "put", "/me/player/pause"); r.out != "" {
		t.Errorf("spotauth api -X put /me/player/pause printed %q; want nothing", r.out)
	}
	// Fields make a POST with a JSON body; -F sends false as a boolean.
	r := e.mustAPI(&apiRun{}, "/users/spotauthtest-user/playlists", "-f", "name=Road trip", "-F", "public=true", "-F", "n=3", "--jq", ".name, .public")
	if r.out != "Road trip\ntrue\n" {
		t.Errorf("spotauth api POST with fields = %q; want the created playlist's name and public true", r.out)
	}
	// --input from a file and from stdin.
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(`{"name":"From file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustAPI(&apiRun{}, "/users/spotauthtest-user/playlists", "--input", file)
	e.mustAPI(&apiRun{stdin: `{"name":"From stdin"}`}, "/users/spotauthtest-user/playlists", "--input", "-")
	// Fields of a GET are query parameters.
	r = e.mustAPI(&apiRun{}, "-X", "GET", "/me/playlists", "-f", "limit=1", "-F", "offset=1", "--jq", ".limit, .offset, .total, .items[].name")
	if r.out != "1\n1\n3\nFrom file\n" {
		t.Errorf("spotauth api -X GET /me/playlists -f limit=1 -F offset=1 = %q; want limit 1, offset 1, total 3, the second playlist", r.out)
	}
	if r := e.mustAPI(&apiRun{}, "/me/playlists", "--jq", `[.items[].name] | join(",")`); r.out != "From stdin,From file,Road trip\n" {
		t.Errorf("playlists after the POSTs = %q; want the three created, newest first", r.out)
	}
	st := e.srv.Stats()
	if st.WebAPIRequests["POST /v1/users/spotauthtest-user/playlists"] != 3 || st.WebAPIRequests["PUT /v1/me/player/pause"] != 1 || st.WebAPISucceeded != 6 {
		t.Errorf("Web API requests = %v, %d succeeded; want 3 POSTs, 1 PUT, 6 successes", st.WebAPIRequests, st.WebAPISucceeded)
	}
	noToken(t, r, tok)
}

func TestAPIPaginate(t *testing.T) {
	t.Parallel()
	e, _ := loggedIn(t, nil)
	r := e.mustAPI(&apiRun{}, "/me/playlists?limit=2", "--paginate")
	var items []struct{ Name string }
	if err := json.Unmarshal([]byte(r.out), &items); err != nil || len(items) != 5 || items[0].Name != "Playlist 1" || items[4].Name != "Playlist 5" {
		t.Errorf("spotauth api --paginate = %q (%v); want one array of the 5 playlists", r.out, err)
	}
	if n := e.srv.Stats().WebAPIRequests["GET /v1/me/playlists"]; n != 3 {
		t.Errorf("--paginate sent %d requests; want 3 (pages of 2, 2, 1)", n)
	}
	if r := e.mustAPI(&apiRun{}, "-X", "GET", "/me/playlists", "-f", "limit=2", "--paginate", "--jq", ".[].name"); r.out != "Playlist 1\nPlaylist 2\nPlaylist 3\nPlaylist 4\nPlaylist 5\n" {
		t.Errorf("spotauth api --paginate --jq .[].name = %q; want the 5 names", r.out)
	}
	// An answer that is not paged is printed as it is.
	if r := e.mustAPI(&apiRun{}, "/me", "--paginate", "--jq", ".id"); r.out != "spotauthtest-user\n" {
		t.Errorf("spotauth api /me --paginate --jq .id = %q", r.out)
	}
}

// nextRewriter points the next links of the fake's answers at another
// host, and refuses to send anything there.
type nextRewriter struct {
	srv     *spotauthtest.Server
	mu      sync.Mutex
	refused int
}

func (n *nextRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.String(), n.srv.URL+"/") {
		n.mu.Lock()
		n.refused++
		n.mu.Unlock()
		return nil, errors.New("test: request to another host")
	}
	resp, err := n.srv.Client().Transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = bytes.ReplaceAll(body, []byte(`"next":"`+n.srv.URL), []byte(`"next":"https://evil.example`))
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestAPIPaginateStaysOnTheAPIHost(t *testing.T) {
	t.Parallel()
	e, _ := loggedIn(t, nil)
	rw := &nextRewriter{srv: e.srv}
	r := e.api(&apiRun{client: &http.Client{Transport: rw}}, "api", "/me/playlists?limit=2", "--paginate")
	if r.code != ExitNetwork || !strings.Contains(r.err, "refusing to follow a next link off the Web API: https://evil.example/v1/me/playlists") || rw.refused != 0 {
		t.Errorf("spotauth api --paginate with a next link to another host = exit %d, %q, %d requests there; want %d, refused, none", r.code, r.err, rw.refused, ExitNetwork)
	}
}

func TestAPIRefreshOn401(t *testing.T) {
	t.Parallel()
	e, tok := loggedIn(t, func(s *spotauthtest.Server) { s.Refresh = spotauthtest.RefreshRotate })
	// The access token dies at Spotify before its expiry; the refresh
	// token still works.
	e.srv.ExpireAccessTokens()
	r := e.mustAPI(&apiRun{}, "/me", "--jq", ".id")
	if r.out != "spotauthtest-user\n" {
		t.Errorf("spotauth api /me after the access token died = %q", r.out)
	}
	st := e.srv.Stats()
	if st.MeRequests != 2 || st.MeSucceeded != 1 || st.Refreshes != 1 {
		t.Errorf("/v1/me requests %d (ok %d), refreshes %d; want 2 (1 ok), 1", st.MeRequests, st.MeSucceeded, st.Refreshes)
	}
	// The rotated refresh token was stored.
	saved, err := testFileStore(t, e.dir, userToken).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cur, ok := e.srv.CurrentRefreshToken(tok.RefreshToken); !ok || saved.RefreshToken != cur || cur == tok.RefreshToken {
		t.Errorf("stored refresh token is not the rotated one")
	}
	noToken(t, r, saved)
	noToken(t, r, tok)

	// A 401 that a refresh does not cure: one refresh, one retry, exit 3.
	e.srv.ResetStats()
	e.srv.FailMe(2, spotauthtest.Fault{Kind: spotauthtest.FaultError, Status: 401, Description: "The access token expired"})
	r = e.api(&apiRun{}, "api", "/me")
	if r.code != ExitAuth || !strings.Contains(r.err, "The access token expired") || !strings.Contains(r.err, "spotauth login") {
		t.Errorf("spotauth api /me with two 401s = exit %d, %q; want %d with Spotify's message and the login line", r.code, r.err, ExitAuth)
	}
	if st := e.srv.Stats(); st.MeRequests != 2 || st.Refreshes != 1 {
		t.Errorf("with two 401s: %d requests, %d refreshes; want 2, 1", st.MeRequests, st.Refreshes)
	}
	noToken(t, r, saved)

	// Revoked: the refresh after the 401 fails; exit 3 saying so, no retry.
	e.srv.ResetStats()
	e.srv.RevokeGrants("", "")
	e.srv.ExpireAccessTokens()
	r = e.api(&apiRun{}, "api", "/me")
	if r.code != ExitAuth || !strings.Contains(r.err, "no longer valid") {
		t.Errorf("spotauth api /me after a revocation = exit %d, %q; want %d, no longer valid", r.code, r.err, ExitAuth)
	}
	if st := e.srv.Stats(); st.MeRequests != 1 || st.Refreshes != 1 {
		t.Errorf("after a revocation: %d requests, %d refreshes; want 1, 1", st.MeRequests, st.Refreshes)
	}
}

func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	e, _ := loggedIn(t, nil)
	e.srv.FailWebAPI(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: time.Second})
	a := &apiRun{}
	r := e.mustAPI(a, "/me/playlists", "--jq", ".total")
	if r.out != "5\n" || len(a.waits) != 1 || a.waits[0] != time.Second {
		t.Errorf("spotauth api after a 429 (Retry-After 1) = %q, waits %v; want 5 after one wait of 1s", r.out, a.waits)
	}
	if n := e.srv.Stats().WebAPIRequests["GET /v1/me/playlists"]; n != 2 {
		t.Errorf("sent %d requests; want 2", n)
	}

	// A long Retry-After: no wait, exit 5 saying how long.
	e.srv.FailWebAPI(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: time.Hour})
	a = &apiRun{}
	r = e.api(a, "api", "/me/playlists")
	if r.code != ExitNetwork || !strings.Contains(r.err, "API rate limit exceeded") || !strings.Contains(r.err, "1h0m0s") || len(a.waits) != 0 {
		t.Errorf("spotauth api with Retry-After 3600 = exit %d, %q, waits %v; want %d saying 1h0m0s, no wait", r.code, r.err, a.waits, ExitNetwork)
	}
	// 429s that keep coming: a few waits, then exit 5.
	e.srv.FailWebAPI(10, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: time.Second})
	a = &apiRun{}
	if r := e.api(a, "api", "/me/playlists"); r.code != ExitNetwork || len(a.waits) != maxAPIWaits {
		t.Errorf("spotauth api with endless 429s = exit %d, %d waits; want %d after %d waits", r.code, len(a.waits), ExitNetwork, maxAPIWaits)
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e, tok := loggedIn(t, nil)
	tests := []struct {
		name  string
		setup func()
		args  []string
		code  int
		want  string
	}{
		{"404 with Spotify's message", nil, []string{"/nope"}, ExitError, "Web API answered 404: Service not found"},
		{"404 with a reason", func() { e.srv.Update(func(s *spotauthtest.Server) { s.NoActiveDevice = true }) },
			[]string{"-X", "PUT", "/me/player/pause"}, ExitError, "No active device found (NO_ACTIVE_DEVICE)"},
		{"403 missing scope", nil, []string{"/users/spotauthtest-user/playlists", "-f", "name=x", "-F", "public=false"}, ExitAuth, "Insufficient client scope"},
		{"500", func() { e.srv.FailWebAPI(1, spotauthtest.Fault{Kind: spotauthtest.FaultServerError}) }, []string{"/me/playlists"}, ExitNetwork, "500"},
		{"HTML page", func() { e.srv.FailWebAPI(1, spotauthtest.Fault{Kind: spotauthtest.FaultHTML, Status: 200}) }, []string{"/me/playlists"}, ExitNetwork, "unusable answer from the Web API (HTTP 200, text/html"},
		{"HTML error page", func() { e.srv.FailWebAPI(1, spotauthtest.Fault{Kind: spotauthtest.FaultHTML}) }, []string{"/me/playlists"}, ExitNetwork, "502: Bad Gateway (not a Web API error: text/html"},
		{"truncated", func() { e.srv.FailMe(1, spotauthtest.Fault{Kind: spotauthtest.FaultTruncated}) }, []string{"/me"}, ExitNetwork, "cut short"},
		{"another host", nil, []string{"https://evil.example/v1/me"}, ExitUsage, "refusing to send the token to https://evil.example/v1/me"},
		{"no host", nil, []string{"https:///v1/me"}, ExitUsage, "refusing to send the token"},
		{"credentials in the URL", nil, []string{strings.Replace(e.srv.URL, "http://", "http://u:secret@", 1) + "/v1/me"}, ExitUsage, "http://u:xxxxx@"},
		{"another scheme", nil, []string{strings.Replace(e.srv.URL, "http:", "https:", 1) + "/v1/me"}, ExitUsage, "refusing to send the token"},
		{"unknown method", nil, []string{"-X", "FETCH", "/me"}, ExitUsage, `unknown method "FETCH"`},
		{"bad field", nil, []string{"/me", "-f", "novalue"}, ExitUsage, `invalid field "novalue"`},
		{"bad typed field", nil, []string{"/me", "-F", "=1"}, ExitUsage, `invalid field "=1"`},
		{"bad header", nil, []string{"/me", "-H", "no colon"}, ExitUsage, `invalid header "no colon"`},
		{"Authorization header", nil, []string{"/me", "-H", "Authorization: Bearer x"}, ExitUsage, "Authorization"},
		{"missing input", nil, []string{"/me", "-X", "PUT", "--input", filepath.Join(e.dir, "nosuch.json")}, ExitUsage, "cannot read --input"},
		{"jq parse error", nil, []string{"/me", "--jq", ".id |"}, ExitUsage, "invalid --jq expression: unexpected EOF at offset 5"},
		{"jq unknown function", nil, []string{"/me", "--jq", "nosuch(1)"}, ExitUsage, "nosuch/1"},
		{"jq runtime error", nil, []string{"/me", "--jq", ".id | keys"}, ExitError, "--jq"},
		{"paginate with PUT", nil, []string{"-X", "PUT", "/me/player/pause", "--paginate"}, ExitUsage, "--paginate only follows GET"},
		{"no endpoint", nil, nil, ExitUsage, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			r := e.api(&apiRun{}, append([]string{"api"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.err, tt.want) {
				t.Errorf("spotauth api %v = exit %d, stderr %q; want %d with %q", tt.args, r.code, r.err, tt.code, tt.want)
			}
			if lines := strings.Split(strings.TrimSpace(r.err), "\n"); len(lines) < 2 || !strings.HasPrefix(r.err, "spotauth: ") || strings.Count(r.err, "spotauth: ") > 1 {
				t.Errorf("spotauth api %v stderr = %q; want one spotauth: prefix and a hint", tt.args, r.err)
			}
			if r.out != "" {
				t.Errorf("spotauth api %v stdout = %q; want nothing", tt.args, r.out)
			}
			if strings.Contains(r.err, "u:secret") {
				t.Errorf("spotauth api %v showed a password: %q", tt.args, r.err)
			}
			noToken(t, r, tok)
		})
	}
	if n := e.srv.Stats().WebAPIRequests["GET /v1/me"]; n != 0 {
		t.Errorf("a refused URL reached the server %d times", n)
	}
}

func TestAPIJQErrorPosition(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	r := e.api(&apiRun{}, "api", "/me", "--jq", ".a | )")
	if r.code != ExitUsage || !strings.Contains(r.err, `unexpected token ")" at offset 5`) || !strings.Contains(r.err, "  .a | )\n       ^\n") {
		t.Errorf("spotauth api --jq '.a | )' = exit %d, %q; want %d pointing at the )", r.code, r.err, ExitUsage)
	}
}
