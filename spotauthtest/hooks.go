package spotauthtest

import "fmt"

// IssueUserToken mints a user token for the app clientID as if the test
// user had authorized it now with scopes (through PKCE if pkce is set), so
// that a test can start from a valid grant without the browser flow. It
// returns the access token and the refresh token. It panics if the app is
// unknown or a scope is not allowed for it.
func (s *Server) IssueUserToken(clientID string, scopes []string, pkce bool) (access, refresh string) {
	cfg := s.conf()
	ap := s.app(clientID)
	if ap == nil {
		panic(fmt.Sprintf("spotauthtest: IssueUserToken: unknown client ID %q", clientID))
	}
	scopes = s.checkScopes("IssueUserToken", ap, scopes)
	now := s.now()
	g := s.newGrant(now, ap.id, cfg.user, scopes, pkce)
	return s.issueAccess(now, cfg, ap.id, g), g.current
}

// IssueAppToken mints a client-credentials access token for the app
// clientID. It panics if the app is unknown.
func (s *Server) IssueAppToken(clientID string) string {
	cfg := s.conf()
	if s.app(clientID) == nil {
		panic(fmt.Sprintf("spotauthtest: IssueAppToken: unknown client ID %q", clientID))
	}
	return s.issueAccess(s.now(), cfg, clientID, nil)
}

// IssueCode mints an authorization code as if the test user had approved
// an /authorize request with these parameters; codeChallenge is the PKCE
// S256 challenge, empty for none. The code must then be exchanged with the
// same redirectURI string. It panics if the app is unknown, redirectURI
// does not match its registered URIs, a scope is not allowed, or the
// challenge is not 43 characters of base64url.
func (s *Server) IssueCode(clientID, redirectURI string, scopes []string, codeChallenge string) string {
	cfg := s.conf()
	ap := s.app(clientID)
	if ap == nil {
		panic(fmt.Sprintf("spotauthtest: IssueCode: unknown client ID %q", clientID))
	}
	if insecureRedirect(redirectURI) || !ap.matchRedirect(redirectURI) {
		panic(fmt.Sprintf("spotauthtest: IssueCode: redirect URI %q not registered for %q", redirectURI, clientID))
	}
	if codeChallenge != "" && !validChallenge(codeChallenge) {
		panic("spotauthtest: IssueCode: code challenge is not 43 characters of base64url")
	}
	req := AuthorizeRequest{ClientID: ap.id, RedirectURI: redirectURI, CodeChallenge: codeChallenge,
		Scopes: s.checkScopes("IssueCode", ap, scopes)}
	return s.issueCode(s.now(), cfg, &req)
}

func (s *Server) checkScopes(op string, ap *app, scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if !ap.allows(sc) {
			panic(fmt.Sprintf("spotauthtest: %s: illegal scope %q for %q", op, sc, ap.id))
		}
		dup := false
		for _, have := range out {
			dup = dup || have == sc
		}
		if !dup {
			out = append(out, sc)
		}
	}
	return out
}

// RevokeGrant revokes the grant a refresh token belongs to, as when the
// user removes the app's access: later refreshes with any of its refresh
// tokens fail with "Refresh token revoked", and its access tokens get 401
// at /v1/me. It reports whether the token was known.
func (s *Server) RevokeGrant(refreshToken string) bool {
	s.init()
	g, ok := s.st.refresh.get(refreshToken)
	if ok {
		g.revoked.Store(true)
	}
	return ok
}

// RevokeGrants revokes every grant of the app clientID to the user userID,
// as RevokeGrant does; an empty clientID or userID matches any. It returns
// how many grants it revoked (not counting those already revoked).
func (s *Server) RevokeGrants(clientID, userID string) int {
	s.init()
	st := s.st
	st.grantsMu.Lock()
	defer st.grantsMu.Unlock()
	n := 0
	kept := st.grants[:0]
	for _, g := range st.grants {
		if (clientID == "" || g.clientID == clientID) && (userID == "" || g.user.ID == userID) {
			if !g.revoked.Swap(true) {
				n++
			}
			continue // revoked grants need no more bookkeeping here
		}
		kept = append(kept, g)
	}
	clear(st.grants[len(kept):])
	st.grants = kept
	return n
}

// ExpireAccessTokens makes every access token issued so far expired, as if
// its lifetime had passed; tokens issued afterwards are unaffected.
func (s *Server) ExpireAccessTokens() {
	s.init()
	s.st.accessEpoch.Add(1)
}

// ExpireRefreshTokens makes every refresh token issued so far expired, as
// if its 6-month lifetime had passed ("Refresh token expired").
func (s *Server) ExpireRefreshTokens() {
	s.init()
	s.st.refreshEpoch.Add(1)
}

// CurrentRefreshToken returns the refresh token that works now for the
// grant that refreshToken belongs to: refreshToken itself, or in rotate
// mode the one that replaced it. A test can thus tell whether a client
// kept the newest one. ok is false if the token is unknown or its grant
// was revoked.
func (s *Server) CurrentRefreshToken(refreshToken string) (current string, ok bool) {
	s.init()
	g, found := s.st.refresh.get(refreshToken)
	if !found || g.revoked.Load() {
		return "", false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.current, true
}
