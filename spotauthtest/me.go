package spotauthtest

import (
	"net/http"
	"net/url"
	"strings"
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
	s.conf()
	st := s.st
	st.stats.me.Add(1)
	if st.faults.armed(false) {
		if f := st.faults.nextMe(); f != nil {
			if s.serveFault(w, r, f, true, func(int) { st.stats.faults[f.Kind].Add(1) }) {
				return
			}
			st.stats.faults[FaultNone].Add(1)
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header()["Allow"] = []string{"GET, HEAD"}
		writeAPIError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	h := r.Header["Authorization"]
	if len(h) == 0 || h[0] == "" {
		s.unauthorized(w, msgNoToken)
		return
	}
	scheme, tok, _ := strings.Cut(h[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		writeAPIError(w, http.StatusBadRequest, msgNotBearer)
		return
	}
	tok = strings.TrimSpace(tok)
	e, ok := st.access.get(tok)
	if !ok || tok == "" || !s.now().Before(e.expires) || e.epoch < st.accessEpoch.Load() ||
		(e.grant != nil && e.grant.revoked.Load()) {
		s.unauthorized(w, msgInvalidToken)
		return
	}
	if e.grant == nil {
		s.unauthorized(w, msgAppToken)
		return
	}
	u := e.grant.user
	base := strings.TrimSuffix(s.URL, "/")
	if base == "" {
		base = "http://" + r.Host
	}
	resp := meResponse{
		DisplayName:  u.DisplayName,
		ExternalURLs: map[string]string{"spotify": "https://open.spotify.com/user/" + url.PathEscape(u.ID)},
		Href:         base + "/v1/users/" + url.PathEscape(u.ID),
		ID:           u.ID,
		Images:       []string{},
		Type:         "user",
		URI:          "spotify:user:" + u.ID,
	}
	if e.grant.email {
		resp.Email = u.Email
	}
	if e.grant.private {
		resp.Country, resp.Product = u.Country, u.Product
	}
	st.stats.meOK.Add(1)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) unauthorized(w http.ResponseWriter, msg string) {
	w.Header()["Www-Authenticate"] = []string{`Bearer realm="spotify"`}
	writeAPIError(w, http.StatusUnauthorized, msg)
}
