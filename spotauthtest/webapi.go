package spotauthtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Playlist is a playlist of the test user, as GET /v1/me/playlists lists
// it (a simplified playlist object).
type Playlist struct {
	ID     string
	Name   string
	Public bool
}

// DefaultPlaylists are the test user's playlists when [Server.Playlists]
// is nil: three public and two private ones.
var DefaultPlaylists = []Playlist{
	{ID: "spotauthtestpl1", Name: "Playlist 1", Public: true},
	{ID: "spotauthtestpl2", Name: "Playlist 2", Public: false},
	{ID: "spotauthtestpl3", Name: "Playlist 3", Public: true},
	{ID: "spotauthtestpl4", Name: "Playlist 4", Public: false},
	{ID: "spotauthtestpl5", Name: "Playlist 5", Public: true},
}

// Web API messages of the endpoints below, as Spotify words them.
const (
	msgInsufficientScope = "Insufficient client scope"
	msgNoActiveDevice    = "Player command failed: No active device found"
	msgServiceNotFound   = "Service not found"
)

// serveWebAPI handles the Web API endpoints besides /v1/me:
//
//   - GET /v1/me/playlists: the user's playlists, paged with limit
//     (1-50, default 20) and offset; private ones only with the
//     playlist-read-private scope, as at Spotify.
//   - POST /v1/users/{user_id}/playlists: creates a playlist from the JSON
//     body {"name":...,"public":...} (public by default), with the scope
//     playlist-modify-public or playlist-modify-private, for the token's
//     user only; 201 with the playlist.
//   - PUT /v1/me/player/pause: 204, or 404 NO_ACTIVE_DEVICE when
//     [Server.NoActiveDevice] is set; needs user-modify-playback-state.
//
// Any other /v1 path answers 404 "Service not found". Faults queued with
// [Server.FailWebAPI] come first.
func (s *Server) serveWebAPI(w http.ResponseWriter, r *http.Request) {
	if s.serveQueuedFault(w, r, &s.faults.webAPI, func() { s.stats.WebAPIRequests[r.Method+" "+r.URL.Path]++ }) {
		return
	}
	var route func(http.ResponseWriter, *http.Request, *grant)
	method := http.MethodGet
	path := r.URL.Path
	switch {
	case path == "/v1/me/playlists":
		route = s.servePlaylists
	case strings.HasPrefix(path, "/v1/users/") && strings.HasSuffix(path, "/playlists") &&
		strings.Count(path, "/") == 4:
		route, method = s.serveCreatePlaylist, http.MethodPost
	case path == "/v1/me/player/pause":
		route, method = s.servePause, http.MethodPut
	default:
		writeAPIError(w, http.StatusNotFound, msgServiceNotFound)
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeAPIError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	g, ok := s.bearerGrant(w, r)
	if ok {
		route(w, r, &g)
	}
}

// bearerGrant checks the request's bearer token as the Web API does and
// returns a copy of the user grant it stands for; otherwise it answers
// 400 or 401 and reports false.
func (s *Server) bearerGrant(w http.ResponseWriter, r *http.Request) (grant, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		unauthorized(w, msgNoToken)
		return grant{}, false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		writeAPIError(w, http.StatusBadRequest, msgNotBearer)
		return grant{}, false
	}
	s.mu.Lock()
	e, ok := s.access.m[strings.TrimSpace(tok)]
	ok = ok && s.accessValid(e, s.Clock.Now())
	var g grant
	if ok && e.grant != nil {
		g = *e.grant
	}
	s.mu.Unlock()
	switch {
	case !ok:
		unauthorized(w, msgInvalidToken)
		return grant{}, false
	case e.grant == nil:
		unauthorized(w, msgAppToken)
		return grant{}, false
	}
	return g, true
}

// hasScope reports whether g grants scope.
func (g *grant) hasScope(scope string) bool {
	return slices.Contains(strings.Fields(g.scope), scope)
}

// playlistsLocked returns the user's playlists, starting from
// DefaultPlaylists on first use; s.mu held.
func (s *Server) playlistsLocked() []Playlist {
	if s.Playlists == nil {
		s.Playlists = slices.Clone(DefaultPlaylists)
	}
	return s.Playlists
}

// playlistJSON is a simplified playlist object.
type playlistJSON struct {
	Collaborative bool              `json:"collaborative"`
	Description   string            `json:"description"`
	ExternalURLs  map[string]string `json:"external_urls"`
	Href          string            `json:"href"`
	ID            string            `json:"id"`
	Images        []string          `json:"images"`
	Name          string            `json:"name"`
	Owner         struct {
		DisplayName string `json:"display_name"`
		ID          string `json:"id"`
		Type        string `json:"type"`
		URI         string `json:"uri"`
	} `json:"owner"`
	Public     bool   `json:"public"`
	SnapshotID string `json:"snapshot_id"`
	Type       string `json:"type"`
	URI        string `json:"uri"`
}

func (s *Server) playlistJSON(base string, p Playlist, u User) playlistJSON {
	j := playlistJSON{
		ExternalURLs: map[string]string{"spotify": "https://open.spotify.com/playlist/" + url.PathEscape(p.ID)},
		Href:         base + "/v1/playlists/" + url.PathEscape(p.ID),
		ID:           p.ID,
		Images:       []string{},
		Name:         p.Name,
		Public:       p.Public,
		SnapshotID:   "MSwwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw",
		Type:         "playlist",
		URI:          "spotify:playlist:" + p.ID,
	}
	j.Owner.DisplayName, j.Owner.ID, j.Owner.Type, j.Owner.URI = u.DisplayName, u.ID, "user", "spotify:user:"+u.ID
	return j
}

// pagingJSON is the Web API's paging object.
type pagingJSON struct {
	Href     string         `json:"href"`
	Items    []playlistJSON `json:"items"`
	Limit    int            `json:"limit"`
	Next     *string        `json:"next"`
	Offset   int            `json:"offset"`
	Previous *string        `json:"previous"`
	Total    int            `json:"total"`
}

// queryInt returns the integer parameter name of q, or def when it is
// absent; ok is false when it is not an integer from lo to hi.
func queryInt(q url.Values, name string, def, lo, hi int) (n int, ok bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= lo && n <= hi
}

// servePlaylists handles GET /v1/me/playlists.
func (s *Server) servePlaylists(w http.ResponseWriter, r *http.Request, g *grant) {
	q := r.URL.Query()
	limit, ok := queryInt(q, "limit", 20, 1, 50)
	if !ok {
		writeAPIError(w, http.StatusBadRequest, "Invalid limit")
		return
	}
	offset, ok := queryInt(q, "offset", 0, 0, 100000)
	if !ok {
		writeAPIError(w, http.StatusBadRequest, "Invalid offset")
		return
	}
	private := g.hasScope("playlist-read-private")
	base := cmp.Or(s.URL, "http://"+r.Host)
	s.mu.Lock()
	var all []Playlist
	for _, p := range s.playlistsLocked() {
		if p.Public || private {
			all = append(all, p)
		}
	}
	s.mu.Unlock()
	page := func(off int) *string {
		u := fmt.Sprintf("%s/v1/me/playlists?offset=%d&limit=%d", base, off, limit)
		return &u
	}
	resp := pagingJSON{Href: *page(offset), Items: []playlistJSON{}, Limit: limit, Offset: offset, Total: len(all)}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		resp.Items = append(resp.Items, s.playlistJSON(base, all[i], g.user))
	}
	if offset+limit < len(all) {
		resp.Next = page(offset + limit)
	}
	if offset > 0 {
		resp.Previous = page(max(offset-limit, 0))
	}
	s.mu.Lock()
	s.stats.WebAPISucceeded++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// serveCreatePlaylist handles POST /v1/users/{user_id}/playlists.
func (s *Server) serveCreatePlaylist(w http.ResponseWriter, r *http.Request, g *grant) {
	userID, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/users/"), "/playlists"))
	var body struct {
		Name        *string `json:"name"`
		Public      *bool   `json:"public"`
		Description string  `json:"description"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(data, &body) != nil {
		writeAPIError(w, http.StatusBadRequest, "Error parsing JSON.")
		return
	}
	if body.Name == nil || *body.Name == "" {
		writeAPIError(w, http.StatusBadRequest, "Missing required field: name")
		return
	}
	public := body.Public == nil || *body.Public
	scope := map[bool]string{true: "playlist-modify-public", false: "playlist-modify-private"}[public]
	switch {
	case !g.hasScope(scope):
		writeAPIError(w, http.StatusForbidden, msgInsufficientScope)
		return
	case userID != g.user.ID:
		writeAPIError(w, http.StatusForbidden, "You cannot create a playlist for another user")
		return
	}
	s.mu.Lock()
	p := Playlist{ID: "spotauthtestpl" + strconv.Itoa(len(s.playlistsLocked())+1), Name: *body.Name, Public: public}
	s.Playlists = append([]Playlist{p}, s.Playlists...) // newest first, as Spotify lists them
	s.stats.WebAPISucceeded++
	s.mu.Unlock()
	j := s.playlistJSON(cmp.Or(s.URL, "http://"+r.Host), p, g.user)
	j.Description = body.Description
	writeJSON(w, http.StatusCreated, j)
}

// servePause handles PUT /v1/me/player/pause.
func (s *Server) servePause(w http.ResponseWriter, r *http.Request, g *grant) {
	if !g.hasScope("user-modify-playback-state") {
		writeAPIError(w, http.StatusForbidden, msgInsufficientScope)
		return
	}
	s.mu.Lock()
	noDevice := s.NoActiveDevice
	if !noDevice {
		s.stats.WebAPISucceeded++
	}
	s.mu.Unlock()
	if noDevice {
		var e struct {
			Error struct {
				Status  int    `json:"status"`
				Message string `json:"message"`
				Reason  string `json:"reason"`
			} `json:"error"`
		}
		e.Error.Status, e.Error.Message, e.Error.Reason = http.StatusNotFound, msgNoActiveDevice, "NO_ACTIVE_DEVICE"
		writeJSON(w, http.StatusNotFound, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
