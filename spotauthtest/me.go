package spotauthtest

import (
	"cmp"
	"net/http"
	"net/url"
)

// Web API 401/400 messages (spec §3).
const (
	msgInvalidToken = "Missing/invalid/expired access token"
	msgNoToken      = "No token provided"
	msgNotBearer    = "Only valid bearer authentication supported"
	// msgAppToken answers /v1/me with a client-credentials token, which has
	// no user. Spotify answers 401 here; the message text is the fake's
	// choice (reports show "Unauthorized."). Clients decide on the status.
	msgAppToken = "Unauthorized."
)

// meResponse is the Web API's private user object.
type meResponse struct {
	Country      string            `json:"country,omitempty"`
	DisplayName  string            `json:"display_name"`
	Email        string            `json:"email,omitempty"`
	ExternalURLs map[string]string `json:"external_urls"`
	Followers    struct {
		Href  *string `json:"href"`
		Total int     `json:"total"`
	} `json:"followers"`
	Href    string   `json:"href"`
	ID      string   `json:"id"`
	Images  []string `json:"images"`
	Product string   `json:"product,omitempty"`
	Type    string   `json:"type"`
	URI     string   `json:"uri"`
}

// serveMe handles GET /v1/me: the current user's profile, for a valid,
// unexpired, unrevoked user token. email needs user-read-email; country and
// product need user-read-private, as at Spotify.
func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	if s.serveQueuedFault(w, r, &s.faults.me, func() { s.stats.MeRequests++ }) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeAPIError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	g, ok := s.bearerGrant(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.stats.MeSucceeded++
	s.mu.Unlock()

	u := g.user
	resp := meResponse{
		DisplayName:  u.DisplayName,
		ExternalURLs: map[string]string{"spotify": "https://open.spotify.com/user/" + url.PathEscape(u.ID)},
		Href:         cmp.Or(s.URL, "http://"+r.Host) + "/v1/users/" + url.PathEscape(u.ID),
		ID:           u.ID,
		Images:       []string{},
		Type:         "user",
		URI:          "spotify:user:" + u.ID,
	}
	if g.email {
		resp.Email = u.Email
	}
	if g.private {
		resp.Country, resp.Product = u.Country, u.Product
	}
	writeJSON(w, http.StatusOK, resp)
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="spotify"`)
	writeAPIError(w, http.StatusUnauthorized, msg)
}
