package spotauthtest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// consentPath receives the consent page's form.
const consentPath = "/authorize/consent"

// ConsentParam is the extra /authorize parameter that decides consent for
// one request, at once: "approve" or "deny".
const ConsentParam = "spotauthtest_consent"

// /authorize error pages, exactly as the spec's table.
const (
	pageMissingClient   = "Missing required parameter: client_id"
	pageInvalidClient   = "INVALID_CLIENT: Invalid client"
	pageInsecure        = "INVALID_CLIENT: Insecure redirect URI"
	pageInvalidRedirect = "INVALID_CLIENT: Invalid redirect URI"
	pageIllegalScope    = "Illegal scope"
)

// serveAuthorize handles GET /authorize (spec §1).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	cfg := s.conf()
	s.st.stats.authorize.Add(1)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header()["Allow"] = []string{"GET, HEAD"}
		writeText(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	q := r.URL.Query()
	first := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}

	// Checks answered with an error page, in Spotify's order.
	clientID := first("client_id")
	if clientID == "" {
		writeText(w, http.StatusBadRequest, pageMissingClient)
		return
	}
	ap := s.app(clientID)
	if ap == nil {
		writeText(w, http.StatusBadRequest, pageInvalidClient)
		return
	}
	redirect := first("redirect_uri")
	if insecureRedirect(redirect) {
		writeText(w, http.StatusBadRequest, pageInsecure)
		return
	}
	if !ap.matchRedirect(redirect) {
		writeText(w, http.StatusBadRequest, pageInvalidRedirect)
		return
	}
	var scopes []string
	for _, sc := range strings.Fields(first("scope")) {
		if !ap.allows(sc) {
			writeText(w, http.StatusBadRequest, pageIllegalScope)
			return
		}
		dup := false
		for _, have := range scopes {
			dup = dup || have == sc
		}
		if !dup {
			scopes = append(scopes, sc)
		}
	}

	req := AuthorizeRequest{
		ClientID:    ap.id,
		RedirectURI: redirect,
		Scopes:      scopes,
		ShowDialog:  first("show_dialog") == "true",
	}
	if v, ok := q["state"]; ok {
		req.State, req.hasState = v[0], true
	}

	// Errors redirected to the client (the fake's choice, spec §1.2).
	if first("response_type") != "code" {
		s.redirectError(w, &req, "unsupported_response_type")
		return
	}
	if q.Has("code_challenge_method") || q.Has("code_challenge") {
		req.CodeChallenge = first("code_challenge")
		if first("code_challenge_method") != "S256" || !validChallenge(req.CodeChallenge) {
			s.redirectError(w, &req, "invalid_request")
			return
		}
	}

	switch first(ConsentParam) {
	case "approve":
		s.decide(w, cfg, &req, true)
		return
	case "deny":
		s.decide(w, cfg, &req, false)
		return
	}
	if cfg.autoApprove {
		approve := !cfg.deny
		if cfg.decide != nil {
			approve = cfg.decide(req)
		}
		s.decide(w, cfg, &req, approve)
		return
	}
	s.serveConsentPage(w, cfg, &req)
}

// redirectTo sends the browser to the client's redirect URI with params
// added to its query.
func redirectTo(w http.ResponseWriter, redirectURI string, params ...string) {
	var b strings.Builder
	b.WriteString(redirectURI)
	switch {
	case strings.HasSuffix(redirectURI, "?"):
	case strings.Contains(redirectURI, "?"):
		b.WriteByte('&')
	default:
		b.WriteByte('?')
	}
	for i := 0; i < len(params); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(params[i])
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(params[i+1]))
	}
	w.Header().Set("Location", b.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

func (s *Server) redirectError(w http.ResponseWriter, req *AuthorizeRequest, code string) {
	if req.hasState {
		redirectTo(w, req.RedirectURI, "error", code, "state", req.State)
	} else {
		redirectTo(w, req.RedirectURI, "error", code)
	}
}

// decide answers with the user's decision: a code, or access_denied.
func (s *Server) decide(w http.ResponseWriter, cfg *config, req *AuthorizeRequest, approve bool) {
	s.st.stats.consents.Add(1)
	if !approve {
		s.redirectError(w, req, "access_denied")
		return
	}
	code := s.issueCode(s.now(), cfg, req)
	if req.hasState {
		redirectTo(w, req.RedirectURI, "code", code, "state", req.State)
	} else {
		redirectTo(w, req.RedirectURI, "code", code)
	}
}

func (s *Server) issueCode(now time.Time, cfg *config, req *AuthorizeRequest) string {
	code := newToken(prefixCode)
	s.st.codes.put(code, &codeEntry{
		clientID:    req.ClientID,
		redirectURI: req.RedirectURI,
		scopes:      req.Scopes,
		challenge:   req.CodeChallenge,
		expires:     now.Add(cfg.codeLife),
		user:        cfg.user,
	}, func(e *codeEntry) bool { return now.Sub(e.expires) > time.Hour })
	return code
}

// serveConsentPage shows the Approve/Deny form. Its id is stored server
// side with the request, single use, for the code lifetime.
func (s *Server) serveConsentPage(w http.ResponseWriter, cfg *config, req *AuthorizeRequest) {
	now := s.now()
	id := newToken(prefixConsent)
	s.st.consents.put(id, &consentEntry{req: *req, expires: now.Add(cfg.codeLife)},
		func(e *consentEntry) bool { return !now.Before(e.expires) })
	var scopes strings.Builder
	if len(req.Scopes) == 0 {
		scopes.WriteString("<li>Public data only</li>")
	}
	for _, sc := range req.Scopes {
		fmt.Fprintf(&scopes, "<li><code>%s</code></li>", html.EscapeString(sc))
	}
	page := fmt.Sprintf(consentHTML,
		html.EscapeString(req.ClientID), html.EscapeString(cfg.user.DisplayName),
		html.EscapeString(cfg.user.ID), scopes.String(), consentPath, html.EscapeString(id))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", []byte(page))
}

const consentHTML = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Authorize app (spotauthtest)</title></head>
<body>
<h1>Authorize <span id="client">%s</span></h1>
<p>Logged in as <span id="user">%s</span> (<code>%s</code>).</p>
<p>The app asks to:</p>
<ul id="scopes">%s</ul>
<form id="consent" method="post" action="%s">
<input type="hidden" name="consent" value="%s">
<button type="submit" id="approve" name="decision" value="approve">Agree</button>
<button type="submit" id="deny" name="decision" value="deny">Cancel</button>
</form>
</body>
</html>
`

// serveConsent receives the consent form.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	cfg := s.conf()
	if r.Method != http.MethodPost {
		w.Header()["Allow"] = []string{"POST"}
		writeText(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeText(w, http.StatusBadRequest, "Malformed consent form")
		return
	}
	e, ok := s.st.consents.take(r.PostForm.Get("consent"))
	if !ok || !s.now().Before(e.expires) {
		writeText(w, http.StatusBadRequest, "Unknown or expired consent request")
		return
	}
	switch r.PostForm.Get("decision") {
	case "approve":
		s.decide(w, cfg, &e.req, true)
	case "deny":
		s.decide(w, cfg, &e.req, false)
	default:
		writeText(w, http.StatusBadRequest, "Missing decision")
	}
}

// Authorize plays the user's browser for tests that do not run one: it
// sends GET authURL (an /authorize URL of this server) with the decision
// forced by [ConsentParam], and returns the redirect's URL, which carries
// code and state, or error=access_denied. When the server answers with an
// error page instead of a redirect, the error holds the page's text.
func (s *Server) Authorize(authURL string, approve bool) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("spotauthtest: Authorize: %w", err)
	}
	q := u.Query()
	q.Set(ConsentParam, map[bool]string{true: "approve", false: "deny"}[approve])
	u.RawQuery = q.Encode()
	resp, err := s.Client().Get(u.String())
	if err != nil {
		return nil, fmt.Errorf("spotauthtest: Authorize: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("spotauthtest: Authorize: %s: %q", resp.Status, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("spotauthtest: Authorize: bad Location: %w", err)
	}
	return loc, nil
}
