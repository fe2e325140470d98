package weblogin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/spotauth/spotauth"
)

// RequireUser lets through requests of a logged-in user, whose ID, token
// source and client the handler gets with [UserID], [TokenSource] and
// [Client]. Other requests are sent to log in: a GET or HEAD is redirected
// (303) to the login path with the request's path and query as next; any
// other method gets 401 ([ErrNotLoggedIn]). A session whose stored token is
// gone (a logout with [Options.ForgetOnLogout] elsewhere, a revoked
// authorization) counts as none, and its cookie is deleted. A store or
// Spotify failure gives 503.
func (a *Auth) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, next, true, spotauth.Scopes{})
	})
}

// RequireScopes is [Auth.RequireUser] for handlers that need scopes. When
// the user has not granted all of them, a GET or HEAD is redirected (303)
// to a step-up login asking for the missing ones (the login requests
// the granted ones again, so that none is lost), and other methods get 403
// ([ErrInsufficientScope]).
func (a *Auth) RequireScopes(scopes spotauth.Scopes, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, next, true, scopes)
	})
}

// OptionalUser is [Auth.RequireUser] for pages that anonymous visitors may
// see too: a request without a valid session goes through, with
// [UserID] "".
func (a *Auth) OptionalUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, next, false, spotauth.Scopes{})
	})
}

// serve runs next for the user of r's session; see the middleware.
func (a *Auth) serve(w http.ResponseWriter, r *http.Request, next http.Handler, require bool, scopes spotauth.Scopes) {
	s, buf, present, err := a.readSession(r)
	if err == nil && present {
		var u *user
		var tok *spotauth.Token
		u, tok, err = a.activeUser(r.Context(), &s)
		a.seal.release(buf)
		if err == nil {
			defer a.users.unpin(u)
			if scopes.Len() > 0 && !tok.Scope.ContainsAll(scopes) {
				a.stepUp(w, r, scopes.Difference(tok.Scope))
				return
			}
			next.ServeHTTP(w, r.WithContext(&request{Context: r.Context(), u: u, sid: s.sid, key: s.key}))
			return
		}
		if !loggedOut(err) {
			a.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
	}
	if present {
		a.setCookie(w, a.sessionName, "", 0) // unusable: tampered, expired, or its token gone
	}
	if !require {
		next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		e := ErrNotLoggedIn
		if err != nil {
			e = fmt.Errorf("%w: %w", ErrNotLoggedIn, err)
		}
		a.fail(w, r, http.StatusUnauthorized, e)
		return
	}
	http.Redirect(w, r, a.loginURL(a.here(r), spotauth.Scopes{}), http.StatusSeeOther)
}

// here returns r's path and query, to come back to after a login.
func (a *Auth) here(r *http.Request) string {
	p, ok := localPath(r.URL.RequestURI())
	if !ok {
		return "/"
	}
	return p
}

// stepUp sends the request through a login for the missing scopes.
func (a *Auth) stepUp(w http.ResponseWriter, r *http.Request, missing spotauth.Scopes) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.fail(w, r, http.StatusForbidden, fmt.Errorf("%w: %s", ErrInsufficientScope, missing))
		return
	}
	http.Redirect(w, r, a.loginURL(a.here(r), missing), http.StatusSeeOther)
}

// request is the context of a request that the middleware let through:
// itself the value of ctxKey, so that one allocation carries the user.
type request struct {
	context.Context
	u   *user
	sid [sidSize]byte
	key *sealKey
}

type ctxKey struct{}

// Value returns the request itself for ctxKey.
func (c *request) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func fromRequest(r *http.Request) *request {
	c, _ := r.Context().Value(ctxKey{}).(*request)
	return c
}

// UserID returns the Spotify user ID of the request's user, or "" if the
// request did not pass through [Auth.RequireUser], [Auth.RequireScopes]
// or [Auth.OptionalUser] with a logged-in user.
func UserID(r *http.Request) string {
	if c := fromRequest(r); c != nil {
		return c.u.id
	}
	return ""
}

// TokenSource returns the token source of the request's user, or nil
// without one (see [UserID]). It refreshes the token once per expiry across
// the replicas sharing the user's store, on demand: idle, it costs nothing.
// It is shared with the user's other requests and is valid for the
// request's duration: do not Close it, and do not keep it after the
// handler returns.
func TokenSource(r *http.Request) *spotauth.RefreshingSource {
	if c := fromRequest(r); c != nil {
		return c.u.src
	}
	return nil
}

// Client returns an HTTP client for the Web API on behalf of the request's
// user: it sends the user's token, refreshed once per expiry, and retries a
// request once on 401 (see [spotauth.RefreshingSource.Client]), through
// [Options.HTTPClient]. Without a user (see [UserID]), its requests fail
// with [ErrNotLoggedIn]. Like [TokenSource], it is valid for the request's
// duration.
func Client(r *http.Request) *http.Client {
	if c := fromRequest(r); c != nil {
		return c.u.client
	}
	return noUserClient
}

var noUserClient = &http.Client{Transport: noUserTransport{}}

type noUserTransport struct{}

func (noUserTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, ErrNotLoggedIn
}

// CSRFToken returns the token that a logout form of the request's session
// must carry in the field [CSRFField], or "" without a user (see
// [UserID]). It is derived from the session, and changes at every login:
//
//	<form method="post" action="/logout">
//	  <input type="hidden" name="csrf_token" value="{{.CSRF}}">
//	  <button>Log out</button>
//	</form>
func CSRFToken(r *http.Request) string {
	if c := fromRequest(r); c != nil {
		return c.key.csrfToken(c.sid[:])
	}
	return ""
}
