package spotauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds the token request body the fake reads.
const maxBody = 64 << 10

// AuthStyle is how a token request authenticated its client, as recorded
// in [LogEntry].
type AuthStyle string

// Client authentication styles.
const (
	AuthNone      AuthStyle = "none"       // no client_id at all
	AuthBasic     AuthStyle = "basic"      // Authorization: Basic
	AuthBody      AuthStyle = "body"       // client_id and client_secret in the body
	AuthBoth      AuthStyle = "basic+body" // both, agreeing or not
	AuthPublic    AuthStyle = "public"     // client_id in the body, no secret (PKCE)
	AuthMalformed AuthStyle = "malformed"  // an Authorization header that is not valid Basic
)

// Grant types, as sent in grant_type.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Token error descriptions, exactly as the fake (and where known Spotify)
// sends them.
const (
	descGrantMissing      = "grant_type parameter is missing"
	descInvalidClient     = "Invalid client"
	descInvalidSecret     = "Invalid client secret"
	descInvalidCode       = "Invalid authorization code"
	descCodeExpired       = "Authorization code expired"
	descInvalidRedirect   = "Invalid redirect URI"
	descVerifierRequired  = "code_verifier required"
	descVerifierIncorrect = "code_verifier was incorrect"
	descInvalidRefresh    = "Invalid refresh token"
	descRefreshRevoked    = "Refresh token revoked"
	descRefreshExpired    = "Refresh token expired"
)

// tokenForm holds the parameters the token endpoint reads.
type tokenForm struct {
	grantType, code, redirectURI, clientID, clientSecret, codeVerifier, refreshToken string
}

// readTokenForm reads the form body of a POST with net/http's parser: the
// first occurrence of a parameter wins. A body that is not a well-formed
// application/x-www-form-urlencoded form of at most maxBody bytes (JSON, a
// bad %-escape, a raw semicolon) gives an empty form, as if it had no
// parameters at all; so does a malformed query string.
func readTokenForm(w http.ResponseWriter, r *http.Request) tokenForm {
	if r.Method != http.MethodPost {
		return tokenForm{}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return tokenForm{}
	}
	v := r.PostForm
	return tokenForm{
		grantType:    v.Get("grant_type"),
		code:         v.Get("code"),
		redirectURI:  v.Get("redirect_uri"),
		clientID:     v.Get("client_id"),
		clientSecret: v.Get("client_secret"),
		codeVerifier: v.Get("code_verifier"),
		refreshToken: v.Get("refresh_token"),
	}
}

// clientAuth is the Authorization header of a token request.
type clientAuth struct {
	present, bad bool // bad: present but not valid Basic credentials
	id, secret   string
}

// readClientAuth reads the header with [http.Request.BasicAuth]: the
// credentials are not URL-decoded.
func readClientAuth(r *http.Request) clientAuth {
	if r.Header.Get("Authorization") == "" {
		return clientAuth{}
	}
	id, secret, ok := r.BasicAuth()
	return clientAuth{present: true, bad: !ok, id: id, secret: secret}
}

// tokenResult is the outcome of a token request.
type tokenResult struct {
	status    int
	errCode   string
	errDesc   string
	grantIdx  int
	clientID  string // a registered client's ID, or a sanitized copy
	auth      AuthStyle
	fault     FaultKind
	faulted   bool
	access    string
	scope     *string // nil: no "scope" member
	refresh   string  // empty: no "refresh_token" member
	expiresIn int64
}

// serveToken handles POST /api/token: grant_type, then client
// authentication, then the grant's own parameters (spec §2.1).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	cfg := s.conf()
	st := s.st
	n := st.stats.token.Add(1)
	now := s.now()

	f := readTokenForm(w, r)
	a := readClientAuth(r)
	res := tokenResult{grantIdx: grantIndex(f.grantType)}
	res.auth = authStyle(&f, &a)
	res.clientID = f.clientID
	if a.present && !a.bad {
		res.clientID = a.id
	}
	if ap := s.app(res.clientID); ap != nil {
		res.clientID = ap.id
	} else {
		res.clientID = sanitizeForLog(res.clientID)
	}

	if st.faults.armed(true) {
		req := TokenRequest{N: n, Grant: grantName(res.grantIdx, f.grantType), ClientID: res.clientID, Auth: res.auth}
		if fault := st.faults.nextToken(req); fault != nil {
			if s.serveFault(w, r, fault, false, func(status int) {
				res.faulted, res.fault, res.status = true, fault.Kind, status
				s.record(now, n, f.grantType, &res)
			}) {
				return
			}
			st.stats.faults[FaultNone].Add(1)
		}
	}

	if r.Method != http.MethodPost {
		w.Header()["Allow"] = []string{"POST"}
		res.status, res.errCode, res.errDesc = http.StatusMethodNotAllowed, "invalid_request", "Only POST is supported"
	} else {
		s.grantToken(now, cfg, &f, &a, &res)
	}
	s.record(now, n, f.grantType, &res) // before the client can see the answer
	s.writeTokenResult(w, &res)
}

func authStyle(f *tokenForm, a *clientAuth) AuthStyle {
	switch {
	case a.present && a.bad:
		return AuthMalformed
	case a.present && (f.clientID != "" || f.clientSecret != ""):
		return AuthBoth
	case a.present:
		return AuthBasic
	case f.clientSecret != "":
		return AuthBody
	case f.clientID != "":
		return AuthPublic
	}
	return AuthNone
}

// Grant indexes for counters.
const (
	grantAC = iota
	grantRT
	grantCC
	grantOther
	numGrants
)

var grantNames = [numGrants]string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, "other"}

func grantIndex(g string) int {
	switch g {
	case GrantAuthorizationCode:
		return grantAC
	case GrantRefreshToken:
		return grantRT
	case GrantClientCredentials:
		return grantCC
	}
	return grantOther
}

// grantName returns a constant for the known grants and a short, cloned
// copy of anything else, so that logs do not pin request bodies.
func grantName(idx int, raw string) string {
	if idx != grantOther {
		return grantNames[idx]
	}
	return sanitizeForLog(raw)
}

// sanitizeForLog returns a copy of s cut to 64 bytes.
func sanitizeForLog(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Clone(s)
}

func (res *tokenResult) fail(status int, code, desc string) {
	res.status, res.errCode, res.errDesc = status, code, desc
}

// grantToken runs the checks in Spotify's order and fills res.
func (s *Server) grantToken(now time.Time, cfg *config, f *tokenForm, a *clientAuth, res *tokenResult) {
	// 1. grant_type.
	if f.grantType == "" {
		res.fail(400, "unsupported_grant_type", descGrantMissing)
		return
	}
	if res.grantIdx == grantOther {
		res.fail(400, "unsupported_grant_type", "grant_type "+f.grantType+" is not supported")
		return
	}

	// 2. Client authentication: what can be checked without the grant.
	if a.bad {
		res.fail(400, "invalid_client", descInvalidClient)
		return
	}
	id, secret := f.clientID, f.clientSecret
	if a.present {
		if (f.clientID != "" && f.clientID != a.id) || (f.clientSecret != "" && f.clientSecret != a.secret) {
			res.fail(400, "invalid_client", descInvalidClient)
			return
		}
		id, secret = a.id, a.secret
	}
	ap := s.app(id)
	if ap == nil {
		res.fail(400, "invalid_client", descInvalidClient)
		return
	}
	authed := false
	if secret != "" {
		if ap.secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(ap.secret)) != 1 {
			res.fail(400, "invalid_client", descInvalidSecret)
			return
		}
		authed = true
	}

	// 3. The grant's own parameters.
	switch res.grantIdx {
	case grantCC:
		if !authed {
			res.fail(400, "invalid_client", descInvalidClient)
			return
		}
		res.access = s.issueAccess(now, cfg, ap.id, nil)
	case grantAC:
		s.exchangeCode(now, cfg, ap, authed, f, res)
		if res.status != 0 {
			return
		}
	case grantRT:
		s.refreshGrant(now, cfg, ap, authed, f, res)
		if res.status != 0 {
			return
		}
	}
	res.status = http.StatusOK
	res.expiresIn = cfg.expiresIn
}

func (s *Server) exchangeCode(now time.Time, cfg *config, ap *app, authed bool, f *tokenForm, res *tokenResult) {
	st := s.st
	ce, ok := st.codes.get(f.code)
	if !ok || ce.clientID != ap.id {
		res.fail(400, "invalid_grant", descInvalidCode)
		return
	}
	if !now.Before(ce.expires) {
		res.fail(400, "invalid_grant", descCodeExpired)
		return
	}
	if f.redirectURI != ce.redirectURI {
		res.fail(400, "invalid_grant", descInvalidRedirect)
		return
	}
	if ce.challenge != "" {
		if f.codeVerifier == "" {
			res.fail(400, "invalid_request", descVerifierRequired)
			return
		}
		if !validVerifier(f.codeVerifier) || subtle.ConstantTimeCompare([]byte(s256(f.codeVerifier)), []byte(ce.challenge)) != 1 {
			res.fail(400, "invalid_grant", descVerifierIncorrect)
			return
		}
	} else if !authed {
		res.fail(400, "invalid_client", descInvalidClient)
		return
	}
	// Single use: only one exchange can take the code.
	if _, ok := st.codes.take(f.code); !ok {
		res.fail(400, "invalid_grant", descInvalidCode)
		return
	}
	g := s.newGrant(now, ap.id, ce.user, ce.scopes, ce.challenge != "")
	res.scope = &g.scope
	res.refresh = g.current
	res.access = s.issueAccess(now, cfg, ap.id, g)
}

func (s *Server) refreshGrant(now time.Time, cfg *config, ap *app, authed bool, f *tokenForm, res *tokenResult) {
	st := s.st
	g, ok := st.refresh.get(f.refreshToken)
	if !ok || g.clientID != ap.id {
		res.fail(400, "invalid_grant", descInvalidRefresh)
		return
	}
	if !g.pkce && !authed {
		res.fail(400, "invalid_client", descInvalidClient)
		return
	}
	if g.revoked.Load() {
		res.fail(400, "invalid_grant", descRefreshRevoked)
		return
	}
	g.mu.Lock()
	if g.current != f.refreshToken {
		g.mu.Unlock()
		res.fail(400, "invalid_grant", descRefreshRevoked)
		return
	}
	if s.refreshExpired(now, cfg, g) {
		g.mu.Unlock()
		res.fail(400, "invalid_grant", descRefreshExpired)
		return
	}
	if cfg.refresh == RefreshRotate {
		rt := newToken(prefixRefresh)
		g.current = rt
		st.refresh.put(rt, g, s.deadGrant(now, cfg))
		res.refresh = rt
	}
	g.mu.Unlock()
	res.scope = &g.scope
	res.access = s.issueAccess(now, cfg, ap.id, g)
}

// refreshExpired reports whether g's refresh token is past its lifetime,
// counted from the authorization, or was expired by ExpireRefreshTokens.
func (s *Server) refreshExpired(now time.Time, cfg *config, g *grant) bool {
	if g.epoch < s.st.refreshEpoch.Load() {
		return true
	}
	var deadline time.Time
	if cfg.defaultRefreshLifetime {
		deadline = g.authorizedAt.AddDate(0, 6, 0)
	} else {
		deadline = g.authorizedAt.Add(cfg.refreshLife)
	}
	return !now.Before(deadline)
}

// deadGrant reports grants that a long-running server may forget: a month
// past their refresh-token lifetime. Until then their refresh tokens are
// answered with "Refresh token expired" or "revoked", not "Invalid".
func (s *Server) deadGrant(now time.Time, cfg *config) func(*grant) bool {
	return func(g *grant) bool {
		return s.refreshExpired(now.Add(-30*24*time.Hour), cfg, g) && g.epoch >= s.st.refreshEpoch.Load()
	}
}

// validVerifier applies RFC 7636 §4.1: 43 to 128 characters from
// A-Z a-z 0-9 - . _ ~.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// validChallenge: 43 characters of base64url (an S256 digest, no padding).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// s256 is the server's own BASE64URL-NOPAD(SHA256(verifier)).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenResponse is the body of a successful token request (spec §2.4).
type tokenResponse struct {
	AccessToken  string  `json:"access_token"`
	TokenType    string  `json:"token_type"`
	Scope        *string `json:"scope,omitempty"` // nil: no scope member
	ExpiresIn    int64   `json:"expires_in"`
	RefreshToken string  `json:"refresh_token,omitempty"`
}

// writeTokenResult writes a success or an error body.
func (s *Server) writeTokenResult(w http.ResponseWriter, res *tokenResult) {
	if res.status != http.StatusOK {
		writeJSON(w, res.status, oauthError{res.errCode, res.errDesc})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, res.status, tokenResponse{
		AccessToken:  res.access,
		TokenType:    "Bearer",
		Scope:        res.scope,
		ExpiresIn:    res.expiresIn,
		RefreshToken: res.refresh,
	})
}

// issueAccess mints an access token for clientID, of grant g (nil for
// client credentials).
func (s *Server) issueAccess(now time.Time, cfg *config, clientID string, g *grant) string {
	st := s.st
	tok := newToken(prefixAccess)
	epoch := st.accessEpoch.Load()
	st.access.put(tok, &accessEntry{clientID: clientID, grant: g, expires: now.Add(cfg.accessLife), epoch: epoch},
		func(e *accessEntry) bool {
			return !now.Before(e.expires) || e.epoch < epoch || (e.grant != nil && e.grant.revoked.Load())
		})
	return tok
}

// newGrant records a user's authorization of an app and mints its refresh
// token.
func (s *Server) newGrant(now time.Time, clientID string, user User, scopes []string, pkce bool) *grant {
	st := s.st
	g := &grant{
		clientID:     clientID,
		user:         user,
		scope:        strings.Join(scopes, " "),
		pkce:         pkce,
		authorizedAt: now,
		epoch:        st.refreshEpoch.Load(),
		current:      newToken(prefixRefresh),
	}
	for _, sc := range scopes {
		switch sc {
		case "user-read-email":
			g.email = true
		case "user-read-private":
			g.private = true
		}
	}
	st.refresh.put(g.current, g, s.deadGrant(now, s.conf()))
	st.grantsMu.Lock()
	st.grants = append(st.grants, g)
	st.grantsMu.Unlock()
	return g
}
