package spotauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxBody bounds the form bodies the fake reads.
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

// readTokenForm reads the form body of a POST with net/http's parser. A
// body that is not a well-formed application/x-www-form-urlencoded form of
// at most maxBody bytes (JSON, a bad %-escape, a raw semicolon) gives an
// empty form, as if it had no parameters at all; so does a malformed query
// string. The first occurrence of a parameter wins (url.Values.Get).
func readTokenForm(w http.ResponseWriter, r *http.Request) url.Values {
	if r.Method != http.MethodPost {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return nil
	}
	return r.PostForm
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

func authStyle(f url.Values, a clientAuth) AuthStyle {
	switch id, secret := f.Get("client_id"), f.Get("client_secret"); {
	case a.bad:
		return AuthMalformed
	case a.present && (id != "" || secret != ""):
		return AuthBoth
	case a.present:
		return AuthBasic
	case secret != "":
		return AuthBody
	case id != "":
		return AuthPublic
	}
	return AuthNone
}

// errInvalidClient answers an unknown client, or one that did not
// authenticate where it must. Spotify answers 400 here, never 401.
var errInvalidClient = &oauthError{"invalid_client", "Invalid client"}

// logSafe returns s as the log and fault rules may keep it: one of known,
// or a copy cut to 64 bytes, so that no entry pins a request's body.
func logSafe(s string, known ...string) string {
	if i := slices.Index(known, s); i >= 0 {
		return known[i]
	}
	return strings.Clone(s[:min(len(s), 64)])
}

// tokenResponse is the body of a successful token request (spec §2.4).
type tokenResponse struct {
	AccessToken  string  `json:"access_token"`
	TokenType    string  `json:"token_type"`
	Scope        *string `json:"scope,omitempty"` // nil: no scope member
	ExpiresIn    int64   `json:"expires_in"`
	RefreshToken string  `json:"refresh_token,omitempty"`
}

// serveToken handles POST /api/token: an injected fault, or grant_type,
// then client authentication, then the grant's own parameters (spec §2.1).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	f := readTokenForm(w, r)
	a := readClientAuth(r)
	clientID := f.Get("client_id")
	if a.present && !a.bad {
		clientID = a.id
	}

	s.lockApps()
	now := s.Clock.Now()
	s.stats.TokenRequests++
	e := LogEntry{Time: now, N: int64(s.stats.TokenRequests), Auth: authStyle(f, a),
		Grant: logSafe(f.Get("grant_type"), GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials)}
	if ap := s.apps[clientID]; ap != nil {
		e.ClientID = ap.id
	} else {
		e.ClientID = logSafe(clientID)
	}
	fault, rule := s.faults.nextToken(e.Grant)
	s.mu.Unlock()

	if fault == nil && rule != nil {
		fault = rule(TokenRequest{N: e.N, Grant: e.Grant, ClientID: e.ClientID, Auth: e.Auth})
	}
	if fault != nil && s.serveFault(w, r, fault, false, func(status int) {
		e.Status, e.Fault, e.Faulted = status, fault.Kind, true
		s.mu.Lock()
		s.recordLocked(e)
		s.mu.Unlock()
	}) {
		return
	}

	var resp *tokenResponse
	var fail *oauthError
	e.Status = http.StatusBadRequest
	s.mu.Lock()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		e.Status, fail = http.StatusMethodNotAllowed, &oauthError{"invalid_request", "Only POST is supported"}
	} else if resp, fail = s.grantLocked(now, f, a); fail == nil {
		e.Status = http.StatusOK
	}
	if fail != nil {
		e.Error = fail.Error
	}
	s.recordLocked(e) // before the client can see the answer
	s.mu.Unlock()
	if fail != nil {
		writeJSON(w, e.Status, fail)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// grantLocked runs the checks in Spotify's order and issues the tokens;
// s.mu held.
func (s *Server) grantLocked(now time.Time, f url.Values, a clientAuth) (*tokenResponse, *oauthError) {
	// 1. grant_type.
	grantType := f.Get("grant_type")
	switch grantType {
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
	case "":
		return nil, &oauthError{"unsupported_grant_type", "grant_type parameter is missing"}
	default:
		return nil, &oauthError{"unsupported_grant_type", "grant_type " + grantType + " is not supported"}
	}

	// 2. Client authentication, as far as it can be checked without the grant.
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if a.present {
		if a.bad || id != "" && id != a.id || secret != "" && secret != a.secret {
			return nil, errInvalidClient
		}
		id, secret = a.id, a.secret
	}
	ap := s.apps[id]
	if ap == nil {
		return nil, errInvalidClient
	}
	authed := secret != ""
	if authed && (ap.secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(ap.secret)) != 1) {
		return nil, &oauthError{"invalid_client", "Invalid client secret"}
	}

	// 3. The grant's own parameters.
	var g *grant
	var refresh string
	var fail *oauthError
	switch grantType {
	case GrantClientCredentials:
		if !authed {
			fail = errInvalidClient
		}
	case GrantAuthorizationCode:
		if g, fail = s.exchangeCodeLocked(now, ap, authed, f); g != nil {
			refresh = g.current
		}
	case GrantRefreshToken:
		g, refresh, fail = s.refreshLocked(now, ap, authed, f)
	}
	if fail != nil {
		return nil, fail
	}
	resp := &tokenResponse{
		AccessToken:  s.issueAccessLocked(now, g),
		TokenType:    "Bearer",
		ExpiresIn:    int64((s.accessLifetime() + time.Second - 1) / time.Second),
		RefreshToken: refresh,
	}
	if g != nil {
		resp.Scope = &g.scope
	}
	return resp, nil
}

// exchangeCodeLocked redeems an authorization code for a new grant. Only a
// successful exchange consumes the code.
func (s *Server) exchangeCodeLocked(now time.Time, ap *app, authed bool, f url.Values) (*grant, *oauthError) {
	code, verifier := f.Get("code"), f.Get("code_verifier")
	c, ok := s.codes.m[code]
	pkce := ok && c.challenge != ""
	switch {
	case !ok || c.clientID != ap.id:
		return nil, &oauthError{"invalid_grant", "Invalid authorization code"}
	case !now.Before(c.expires):
		return nil, &oauthError{"invalid_grant", "Authorization code expired"}
	case f.Get("redirect_uri") != c.redirectURI:
		return nil, &oauthError{"invalid_grant", "Invalid redirect URI"}
	case pkce && verifier == "":
		return nil, &oauthError{"invalid_request", "code_verifier required"}
	case pkce && (!validVerifier(verifier) || subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(c.challenge)) != 1):
		return nil, &oauthError{"invalid_grant", "code_verifier was incorrect"}
	case !pkce && !authed:
		return nil, errInvalidClient
	}
	s.codes.take(code)
	return s.newGrantLocked(now, ap.id, c.user, c.scopes, pkce), nil
}

// refreshLocked checks a refresh token and, in rotate mode, replaces it:
// rotated is then the new one.
func (s *Server) refreshLocked(now time.Time, ap *app, authed bool, f url.Values) (g *grant, rotated string, fail *oauthError) {
	rt := f.Get("refresh_token")
	g, ok := s.grants.m[rt]
	switch {
	case !ok || g.clientID != ap.id:
		return nil, "", &oauthError{"invalid_grant", "Invalid refresh token"}
	case !g.pkce && !authed:
		return nil, "", errInvalidClient
	case g.revoked || g.current != rt:
		return nil, "", &oauthError{"invalid_grant", "Refresh token revoked"}
	case s.refreshExpired(g, now):
		return nil, "", &oauthError{"invalid_grant", "Refresh token expired"}
	}
	if s.Refresh == RefreshRotate {
		g.current = newToken(prefixRefresh)
		s.putGrantLocked(now, g.current, g)
		rotated = g.current
	}
	return g, rotated, nil
}

// validVerifier applies RFC 7636 §4.1: 43 to 128 characters from
// A-Z a-z 0-9 - . _ ~.
func validVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && strings.Trim(v, base64URL+".~") == ""
}

// validChallenge: 43 characters of base64url (an S256 digest, no padding).
func validChallenge(c string) bool {
	return len(c) == 43 && strings.Trim(c, base64URL) == ""
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// s256 is the server's own BASE64URL-NOPAD(SHA256(verifier)).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
