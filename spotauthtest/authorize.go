package spotauthtest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
)

// AuthorizeRequest is a valid request to GET /authorize, as given to
// [Server.Decide].
type AuthorizeRequest struct {
	ClientID      string
	RedirectURI   string // the exact string sent
	State         string
	Scopes        []string // requested, deduplicated, in request order
	CodeChallenge string   // empty without PKCE
	ShowDialog    bool

	hasState bool
}

// ConsentParam is the extra /authorize parameter that decides consent for
// one request, at once: "approve" or "deny".
const ConsentParam = "spotauthtest_consent"

// consentPath receives the consent page's form.
const consentPath = "/authorize/consent"

// serveAuthorize handles GET /authorize (spec §1).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	s.lockApps()
	s.stats.AuthorizeRequests++
	ap := s.apps[clientID] // an app never changes once registered
	auto, approve, decide := s.AutoApprove, !s.Deny, s.Decide
	s.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeText(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}

	// Checks answered with an error page, in Spotify's order.
	if clientID == "" {
		writeText(w, http.StatusBadRequest, "Missing required parameter: client_id")
		return
	}
	if ap == nil {
		writeText(w, http.StatusBadRequest, "INVALID_CLIENT: Invalid client")
		return
	}
	redirect := q.Get("redirect_uri")
	if insecureRedirect(redirect) {
		writeText(w, http.StatusBadRequest, "INVALID_CLIENT: Insecure redirect URI")
		return
	}
	if !ap.matchRedirect(redirect) {
		writeText(w, http.StatusBadRequest, "INVALID_CLIENT: Invalid redirect URI")
		return
	}
	scopes, illegal := ap.grantable(strings.Fields(q.Get("scope")))
	if illegal != "" {
		writeText(w, http.StatusBadRequest, "Illegal scope")
		return
	}

	req := AuthorizeRequest{
		ClientID:    ap.id,
		RedirectURI: redirect,
		State:       q.Get("state"),
		Scopes:      scopes,
		ShowDialog:  q.Get("show_dialog") == "true",
		hasState:    q.Has("state"),
	}

	// Errors redirected to the client (the fake's choice, spec §1.2).
	if q.Get("response_type") != "code" {
		redirectTo(w, &req, url.Values{"error": {"unsupported_response_type"}})
		return
	}
	if q.Has("code_challenge_method") || q.Has("code_challenge") {
		req.CodeChallenge = q.Get("code_challenge")
		if q.Get("code_challenge_method") != "S256" || !validChallenge(req.CodeChallenge) {
			redirectTo(w, &req, url.Values{"error": {"invalid_request"}})
			return
		}
	}

	switch q.Get(ConsentParam) {
	case "approve":
		s.decide(w, &req, true)
		return
	case "deny":
		s.decide(w, &req, false)
		return
	}
	if !auto {
		s.serveConsentPage(w, &req, ap.name)
		return
	}
	if decide != nil {
		approve = decide(req)
	}
	s.decide(w, &req, approve)
}

// redirectTo sends the browser to the client's redirect URI with params,
// and the request's state if it had one, added to its query.
func redirectTo(w http.ResponseWriter, req *AuthorizeRequest, params url.Values) {
	if req.hasState {
		params.Set("state", req.State)
	}
	sep := "?"
	switch {
	case strings.HasSuffix(req.RedirectURI, "?"):
		sep = ""
	case strings.Contains(req.RedirectURI, "?"):
		sep = "&"
	}
	w.Header().Set("Location", req.RedirectURI+sep+params.Encode())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// decide answers with the user's decision: a code, or access_denied.
func (s *Server) decide(w http.ResponseWriter, req *AuthorizeRequest, approve bool) {
	s.mu.Lock()
	s.stats.Consents++
	var code string
	if approve {
		code = s.issueCodeLocked(s.Clock.Now(), req)
	}
	s.mu.Unlock()
	if !approve {
		redirectTo(w, req, url.Values{"error": {"access_denied"}})
		return
	}
	redirectTo(w, req, url.Values{"code": {code}})
}

// issueCodeLocked mints a code for an approved request; s.mu held. An
// expired code is kept an hour, to be answered "Authorization code
// expired".
func (s *Server) issueCodeLocked(now time.Time, req *AuthorizeRequest) string {
	code := newToken(prefixCode)
	s.codes.put(code, &codeEntry{
		clientID:    req.ClientID,
		redirectURI: req.RedirectURI,
		scopes:      req.Scopes,
		challenge:   req.CodeChallenge,
		expires:     now.Add(s.codeLifetime()),
		user:        s.user(),
	}, func(e *codeEntry) bool { return now.Sub(e.expires) > time.Hour })
	return code
}

// serveConsentPage shows the consent page, like Spotify's: the app's
// name, each requested scope with its description, and Agree (id
// "approve") and Cancel (id "deny"). Its id is kept server side with the
// request, for one use within the code lifetime.
func (s *Server) serveConsentPage(w http.ResponseWriter, req *AuthorizeRequest, appName string) {
	id := newToken(prefixConsent)
	s.mu.Lock()
	now := s.Clock.Now()
	s.consents.put(id, &consentEntry{req: *req, expires: now.Add(s.codeLifetime())},
		func(e *consentEntry) bool { return !now.Before(e.expires) })
	user := s.user()
	s.mu.Unlock()
	e := html.EscapeString
	var items strings.Builder
	for _, sc := range req.Scopes {
		desc := spotauth.Scope(sc).Description()
		if desc == "" {
			desc = sc
		}
		fmt.Fprintf(&items, `<li><span class="description">%s</span> <code>%s</code></li>`, e(desc), e(sc))
	}
	if len(req.Scopes) == 0 {
		items.WriteString(`<li><span class="description">Read public data only</span></li>`)
	}
	page := fmt.Appendf(nil, consentPage, e(appName), e(appName), items.String(), e(user.DisplayName), e(user.ID), e(req.ClientID), e(id))
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", page)
}

// consentPage is styled like the success page of spotauth's login
// (login.DefaultPage). Its style names no id: chromedp's default query
// (DOM.performSearch) also matches text, so "#approve" in the style would
// be a second, invisible match for tests that wait for the button. fmt
// fills it in with escaped values, not html/template: every spotauth
// command links this package, and text/template's reflection would turn
// off the linker's dead-code elimination of unused methods, doubling the
// binary and slowing "spotauth token".
const consentPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8">
<title>Authorize %s (spotauthtest)</title>
<style>body{font-family:system-ui,sans-serif;background:#121212;color:#fff;display:flex;align-items:center;justify-content:center;min-height:100vh;margin:0}
main{max-width:32em;padding:2em;border-radius:8px;background:#181818}h1{font-size:1.5em}.app{color:#1db954}
.note{color:#a7a7a7;font-size:.875em}ul{list-style:none;padding:0}li{padding:.6em 0;border-bottom:1px solid #282828}
li code{display:block;color:#a7a7a7;font-size:.8em}form{display:flex;gap:1em;margin-top:1.5em}
button{font:inherit;font-weight:700;border-radius:500px;padding:.75em 2em;cursor:pointer}
.agree{background:#1db954;color:#000;border:0}.cancel{background:none;color:#fff;border:1px solid #878787}</style></head>
<body><main>
<p class="note">spotauthtest: a fake Spotify Accounts service</p>
<h1><span id="app" class="app">%s</span> would like to:</h1>
<ul id="scopes">%s</ul>
<p class="note">Logged in as <span id="user">%s</span> (<code>%s</code>). App client ID <code id="client">%s</code>.</p>
<form id="consent" method="post" action="/authorize/consent">
<input type="hidden" name="consent" value="%s">
<button type="submit" id="approve" class="agree" name="decision" value="approve">Agree</button>
<button type="submit" id="deny" class="cancel" name="decision" value="deny">Cancel</button>
</form>
</main></body>
</html>
`

// serveConsent receives the consent form.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeText(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeText(w, http.StatusBadRequest, "Malformed consent form")
		return
	}
	s.lockApps()
	e, ok := s.consents.take(r.PostForm.Get("consent"))
	ok = ok && s.Clock.Now().Before(e.expires)
	s.mu.Unlock()
	if !ok {
		writeText(w, http.StatusBadRequest, "Unknown or expired consent request")
		return
	}
	switch r.PostForm.Get("decision") {
	case "approve":
		s.decide(w, &e.req, true)
	case "deny":
		s.decide(w, &e.req, false)
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
