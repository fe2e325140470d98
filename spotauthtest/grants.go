package spotauthtest

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"strings"
	"time"
)

// state is what a server remembers, guarded by Server.mu.
type state struct {
	apps         map[string]*app
	codes        table[*codeEntry]    // authorization codes, until exchanged
	grants       table[*grant]        // by every refresh token a grant has had
	access       table[*accessEntry]  // access tokens
	consents     table[*consentEntry] // consent pages waiting for a decision
	accessEpoch  int                  // see Server.ExpireAccessTokens
	refreshEpoch int                  // see Server.ExpireRefreshTokens
}

// table maps tokens to entries. put drops the dead entries whenever the
// table has doubled since it was last swept, so that a long-running server
// does not keep every expired token.
type table[V any] struct {
	m       map[string]V
	sweepAt int
}

func (t *table[V]) put(k string, v V, dead func(V) bool) {
	if t.m == nil {
		t.m = make(map[string]V)
	}
	if len(t.m) >= max(t.sweepAt, 1024) {
		maps.DeleteFunc(t.m, func(_ string, v V) bool { return dead(v) })
		t.sweepAt = 2 * len(t.m)
	}
	t.m[k] = v
}

// take removes and returns the entry under k.
func (t *table[V]) take(k string) (V, bool) {
	v, ok := t.m[k]
	delete(t.m, k)
	return v, ok
}

// codeEntry is an authorization code waiting to be exchanged.
type codeEntry struct {
	clientID    string
	redirectURI string // the exact string sent to /authorize
	scopes      []string
	challenge   string // S256 challenge; empty without PKCE
	expires     time.Time
	user        User
}

// grant is a user's authorization of an app: what a refresh token stands for.
type grant struct {
	clientID     string
	user         User
	scope        string // granted scopes, space-separated, request order
	email        bool   // user-read-email granted
	private      bool   // user-read-private granted
	pkce         bool
	authorizedAt time.Time
	epoch        int    // refreshEpoch at creation
	revoked      bool   // by RevokeGrant or RevokeGrants
	current      string // the refresh token that works now
}

// accessEntry is an issued access token.
type accessEntry struct {
	grant   *grant // nil for a client-credentials token
	expires time.Time
	epoch   int // accessEpoch at issue
}

// consentEntry is an /authorize request waiting at the consent page.
type consentEntry struct {
	req     AuthorizeRequest
	expires time.Time
}

// Token prefixes, as Spotify's (clients must not parse tokens).
const (
	prefixAccess  = "BQ"
	prefixRefresh = "AQ"
	prefixCode    = "AQ"
	prefixConsent = "CS"
)

// newToken returns prefix followed by 32 random bytes in base64url without
// padding (43 characters): 256 bits of entropy, URL-safe.
func newToken(prefix string) string {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // never fails
	return string(base64.RawURLEncoding.AppendEncode([]byte(prefix), raw[:]))
}

// codeLifetime and accessLifetime are the lifetimes in force; s.mu held.
func (s *Server) codeLifetime() time.Duration {
	return cmp.Or(max(s.CodeLifetime, 0), 10*time.Minute)
}

func (s *Server) accessLifetime() time.Duration {
	return cmp.Or(max(s.AccessTokenLifetime, 0), time.Hour)
}

// refreshDeadline is when g's refresh tokens expire: their lifetime
// counts from the authorization, whatever the refreshes.
func (s *Server) refreshDeadline(g *grant) time.Time {
	if s.RefreshTokenLifetime > 0 {
		return g.authorizedAt.Add(s.RefreshTokenLifetime)
	}
	return g.authorizedAt.AddDate(0, 6, 0)
}

// refreshExpired reports whether g's refresh tokens have expired at now,
// or were expired by ExpireRefreshTokens.
func (s *Server) refreshExpired(g *grant, now time.Time) bool {
	return g.epoch < s.refreshEpoch || !now.Before(s.refreshDeadline(g))
}

// accessValid reports whether e is a live access token at now.
func (s *Server) accessValid(e *accessEntry, now time.Time) bool {
	return now.Before(e.expires) && e.epoch >= s.accessEpoch && (e.grant == nil || !e.grant.revoked)
}

// issueAccessLocked mints an access token of grant g, nil for client
// credentials.
func (s *Server) issueAccessLocked(now time.Time, g *grant) string {
	tok := newToken(prefixAccess)
	s.access.put(tok, &accessEntry{grant: g, expires: now.Add(s.accessLifetime()), epoch: s.accessEpoch},
		func(e *accessEntry) bool { return !s.accessValid(e, now) })
	return tok
}

// putGrantLocked files g under refresh token rt. A grant is forgotten a
// month after its refresh tokens expired: until then they are answered
// with "Refresh token expired" or "revoked", not "Invalid".
func (s *Server) putGrantLocked(now time.Time, rt string, g *grant) {
	s.grants.put(rt, g, func(g *grant) bool { return now.After(s.refreshDeadline(g).AddDate(0, 1, 0)) })
}

// newGrantLocked records the user's authorization of an app and mints its
// refresh token.
func (s *Server) newGrantLocked(now time.Time, clientID string, user User, scopes []string, pkce bool) *grant {
	g := &grant{
		clientID:     clientID,
		user:         user,
		scope:        strings.Join(scopes, " "),
		pkce:         pkce,
		authorizedAt: now,
		epoch:        s.refreshEpoch,
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
	s.putGrantLocked(now, g.current, g)
	return g
}

// user returns the test user; s.mu held.
func (s *Server) user() User {
	if s.User == (User{}) {
		return DefaultUser
	}
	return s.User
}

// IssueUserToken mints a user token for the app clientID as if the test
// user had authorized it now with scopes (through PKCE if pkce is set), so
// that a test can start from a valid grant without the browser flow. It
// returns the access token and the refresh token. It panics if the app is
// unknown or a scope is not allowed for it.
func (s *Server) IssueUserToken(clientID string, scopes []string, pkce bool) (access, refresh string) {
	s.lockApps()
	defer s.mu.Unlock()
	ap := s.mustApp("IssueUserToken", clientID)
	scopes = mustScopes("IssueUserToken", ap, scopes)
	now := s.Clock.Now()
	g := s.newGrantLocked(now, ap.id, s.user(), scopes, pkce)
	return s.issueAccessLocked(now, g), g.current
}

// IssueAppToken mints a client-credentials access token for the app
// clientID. It panics if the app is unknown.
func (s *Server) IssueAppToken(clientID string) string {
	s.lockApps()
	defer s.mu.Unlock()
	s.mustApp("IssueAppToken", clientID)
	return s.issueAccessLocked(s.Clock.Now(), nil)
}

// IssueCode mints an authorization code as if the test user had approved
// an /authorize request with these parameters; codeChallenge is the PKCE
// S256 challenge, empty for none. The code must then be exchanged with the
// same redirectURI string. It panics if the app is unknown, redirectURI
// does not match its registered URIs, a scope is not allowed, or the
// challenge is not 43 characters of base64url.
func (s *Server) IssueCode(clientID, redirectURI string, scopes []string, codeChallenge string) string {
	s.lockApps()
	defer s.mu.Unlock()
	ap := s.mustApp("IssueCode", clientID)
	if insecureRedirect(redirectURI) || !ap.matchRedirect(redirectURI) {
		panic(fmt.Sprintf("spotauthtest: IssueCode: redirect URI %q not registered for %q", redirectURI, clientID))
	}
	if codeChallenge != "" && !validChallenge(codeChallenge) {
		panic("spotauthtest: IssueCode: code challenge is not 43 characters of base64url")
	}
	req := AuthorizeRequest{ClientID: ap.id, RedirectURI: redirectURI, CodeChallenge: codeChallenge,
		Scopes: mustScopes("IssueCode", ap, scopes)}
	return s.issueCodeLocked(s.Clock.Now(), &req)
}

func (s *Server) mustApp(op, clientID string) *app {
	ap := s.apps[clientID]
	if ap == nil {
		panic(fmt.Sprintf("spotauthtest: %s: unknown client ID %q", op, clientID))
	}
	return ap
}

func mustScopes(op string, ap *app, scopes []string) []string {
	out, bad := ap.grantable(scopes)
	if bad != "" {
		panic(fmt.Sprintf("spotauthtest: %s: illegal scope %q for %q", op, bad, ap.id))
	}
	return out
}

// RevokeGrant revokes the grant a refresh token belongs to, as when the
// user removes the app's access: later refreshes with any of its refresh
// tokens fail with "Refresh token revoked", and its access tokens get 401
// at /v1/me. It reports whether the token was known.
func (s *Server) RevokeGrant(refreshToken string) bool {
	s.lock()
	defer s.mu.Unlock()
	g, ok := s.grants.m[refreshToken]
	if ok {
		g.revoked = true
	}
	return ok
}

// RevokeGrants revokes every grant of the app clientID to the user userID,
// as RevokeGrant does; an empty clientID or userID matches any. It returns
// how many grants it revoked (not counting those already revoked).
func (s *Server) RevokeGrants(clientID, userID string) int {
	s.lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.grants.m { // a rotated grant is listed once per token
		if !g.revoked && (clientID == "" || g.clientID == clientID) && (userID == "" || g.user.ID == userID) {
			g.revoked = true
			n++
		}
	}
	return n
}

// ExpireAccessTokens makes every access token issued so far expired, as if
// its lifetime had passed; tokens issued afterwards are unaffected.
func (s *Server) ExpireAccessTokens() {
	s.lock()
	defer s.mu.Unlock()
	s.accessEpoch++
}

// ExpireRefreshTokens makes every refresh token issued so far expired, as
// if its 6-month lifetime had passed ("Refresh token expired").
func (s *Server) ExpireRefreshTokens() {
	s.lock()
	defer s.mu.Unlock()
	s.refreshEpoch++
}

// CurrentRefreshToken returns the refresh token that works now for the
// grant that refreshToken belongs to: refreshToken itself, or in rotate
// mode the one that replaced it. A test can thus tell whether a client
// kept the newest one. ok is false if the token is unknown or its grant
// was revoked.
func (s *Server) CurrentRefreshToken(refreshToken string) (current string, ok bool) {
	s.lock()
	defer s.mu.Unlock()
	g, found := s.grants.m[refreshToken]
	if !found || g.revoked {
		return "", false
	}
	return g.current, true
}
