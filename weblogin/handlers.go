package weblogin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spotauth/spotauth"
)

// Errors of the handlers and middleware, given to [Options.Error] (wrapped,
// with the details) and matched with errors.Is.
var (
	// ErrNotLoggedIn: the request has no valid session (none, tampered
	// with, expired, sealed with other keys), or the user's stored token
	// is gone (a logout elsewhere, or the authorization ended).
	ErrNotLoggedIn = errors.New("spotauth: web login: not logged in")
	// ErrNoLoginAttempt: a callback without a valid login cookie: none
	// (another browser, or the login finished already), tampered with,
	// expired or sealed with other keys.
	ErrNoLoginAttempt = errors.New("spotauth: web login: no login in progress in this browser")
	// ErrUnsafeNext: a "next" URL that is not a path on this site.
	ErrUnsafeNext = errors.New("spotauth: web login: next is not a path on this site")
	// ErrCSRF: a logout without the session's CSRF token.
	ErrCSRF = errors.New("spotauth: web login: missing or wrong CSRF token")
	// ErrInsufficientScope: the user has not granted a scope the handler
	// requires, and the request cannot be sent through a login to ask for
	// it (see [Auth.RequireScopes]).
	ErrInsufficientScope = errors.New("spotauth: web login: scopes not granted")
)

// noStore marks an answer as not cacheable: it sets or clears cookies.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

// Login starts a login: it answers GET or POST with a redirect to Spotify's
// consent page, after setting a login cookie that seals a new state and PKCE
// code verifier (valid 10 minutes). The query or form may carry:
//
//   - next: where to send the browser after the login, a path on this site
//     ("/" if absent; anything else is refused with 400);
//   - scope: scopes to request beyond Config.Scopes, separated by spaces or
//     commas (unknown ones are refused with 400).
//
// The scopes a logged-in user has granted are requested again, so that a
// step-up login ([Auth.RequireScopes]) keeps them.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		a.fail(w, r, http.StatusMethodNotAllowed, errors.New("spotauth: web login: a login is started with GET or POST"))
		return
	}
	noStore(w)
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	}
	next, ok := localPath(r.FormValue("next"))
	if !ok {
		a.fail(w, r, http.StatusBadRequest, ErrUnsafeNext)
		return
	}
	extra, err := spotauth.ParseScopes(r.FormValue("scope"))
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, err)
		return
	}
	scopes := a.cfg.Scopes.Union(extra).Union(a.granted(r))
	ua, err := a.cfg.NewUserAuth(true, spotauth.ScopesOption(scopes))
	if err != nil {
		a.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	l := loginAttempt{
		exp:      a.now().Add(DefaultLoginMaxAge).Unix(),
		state:    ua.State,
		verifier: ua.Verifier,
		next:     next,
		scopes:   extra.String(),
	}
	a.setCookie(w, a.loginName, a.seal.seal(purposeLogin, appendLogin(nil, &l)), DefaultLoginMaxAge)
	http.Redirect(w, r, ua.URL, http.StatusSeeOther)
}

// granted returns the scopes the user of r's session has granted, if any.
func (a *Auth) granted(r *http.Request) spotauth.Scopes {
	s, buf, _, err := a.readSession(r)
	if err != nil || buf == nil {
		return spotauth.Scopes{}
	}
	defer a.seal.release(buf)
	u, tok, err := a.activeUser(r.Context(), &s)
	if err != nil {
		return spotauth.Scopes{}
	}
	defer a.users.unpin(u)
	return tok.Scope
}

// Callback completes a login: mount it at the path of Config.RedirectURL.
// In this order, it:
//
//  1. opens the login cookie (none, tampered with, expired or sealed with
//     other keys: 400, [ErrNoLoginAttempt]);
//  2. checks the redirect's state against the cookie's, in constant time
//     (a mismatch: 400, and the login stays open for the genuine redirect);
//  3. ends the attempt on Spotify's error (access_denied: 403) or a missing
//     code (400);
//  4. exchanges the code with the verifier (a code refused, such as one
//     used already: 400; Spotify unreachable: 502);
//  5. reads the user's ID from /v1/me (failure: 502);
//  6. saves the token in the user's store (failure: 503);
//  7. starts a session with a new session ID, deletes the login cookie and
//     redirects (303) to the login's next URL.
//
// Nothing is stored, and no session starts, unless every step succeeds.
// If Spotify granted fewer scopes than the login asked for beyond
// Config.Scopes, the session starts but the answer is 403, so that
// [Auth.RequireScopes] cannot send the browser round in a loop.
func (a *Auth) Callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		a.fail(w, r, http.StatusMethodNotAllowed, errors.New("spotauth: web login: Spotify redirects to the callback with GET"))
		return
	}
	noStore(w)
	l, present, err := a.readLogin(r)
	switch {
	case !present:
		a.fail(w, r, http.StatusBadRequest, fmt.Errorf("%w: the login cookie is missing (expired, another browser, or the login is over); start again", ErrNoLoginAttempt))
		return
	case err != nil:
		a.setCookie(w, a.loginName, "", 0)
		a.fail(w, r, http.StatusBadRequest, fmt.Errorf("%w: %w", ErrNoLoginAttempt, err))
		return
	}
	ua := &spotauth.UserAuth{Config: a.cfg, State: l.state, RedirectURL: a.cfg.RedirectURL, Verifier: l.verifier}
	tok, err := ua.Exchange(r.Context(), r.URL.RequestURI())
	if err != nil {
		status := http.StatusBadGateway
		var te *spotauth.TokenError
		switch {
		case errors.Is(err, spotauth.ErrStateMismatch), errors.Is(err, spotauth.ErrMalformedRedirect):
			// A forged or stray redirect: the genuine one may follow, so
			// the login cookie stays.
			a.fail(w, r, http.StatusBadRequest, err)
			return
		case errors.Is(err, spotauth.ErrAccessDenied):
			status = http.StatusForbidden
		case errors.As(err, new(*spotauth.AuthorizeError)), errors.Is(err, spotauth.ErrMissingCode):
			status = http.StatusBadRequest
		case errors.As(err, &te) && te.StatusCode == http.StatusBadRequest && !errors.Is(err, spotauth.ErrInvalidClient):
			status = http.StatusBadRequest // a code used already or expired
		}
		a.setCookie(w, a.loginName, "", 0)
		a.fail(w, r, status, err)
		return
	}
	me, err := a.me(r.Context(), tok.AccessToken)
	if err != nil {
		a.setCookie(w, a.loginName, "", 0)
		a.fail(w, r, http.StatusBadGateway, err)
		return
	}
	if err := a.save(r, me.ID, tok); err != nil {
		a.setCookie(w, a.loginName, "", 0)
		a.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	s := session{exp: a.now().Add(a.sessionMaxAge).Unix(), authAt: unixNano(tok.AuthorizedAt), uid: []byte(me.ID)}
	rand.Read(s.sid[:])
	a.setCookie(w, a.loginName, "", 0)
	a.setCookie(w, a.sessionName, a.seal.seal(purposeSession, appendSession(nil, &s)), a.sessionMaxAge)
	if want, _ := spotauth.ParseScopes(l.scopes); !tok.Scope.ContainsAll(want) {
		a.fail(w, r, http.StatusForbidden, fmt.Errorf("%w: Spotify did not grant %s", ErrInsufficientScope, want.Difference(tok.Scope)))
		return
	}
	http.Redirect(w, r, l.next, http.StatusSeeOther)
}

// Logout ends the session of the request: it answers POST only (405
// otherwise) and requires the session's CSRF token in the form field
// [CSRFField] or the X-CSRF-Token header (403 without it, and the session
// stays). It deletes the session cookie and, with [Options.ForgetOnLogout],
// the user's stored token (a store failure: 503, and the session stays),
// then redirects (303) to the form's "next" path, or to
// [Options.LogoutRedirect]. A request without a valid session is simply
// redirected: there is nothing to end.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		a.fail(w, r, http.StatusMethodNotAllowed, errors.New("spotauth: web login: log out with POST and the CSRF token"))
		return
	}
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next, ok := localPath(r.PostFormValue("next"))
	if !ok || r.PostFormValue("next") == "" {
		next = a.logoutRedirect
	}
	s, buf, present, err := a.readSession(r)
	if buf != nil {
		defer a.seal.release(buf)
	}
	if !present || err != nil {
		if present {
			a.setCookie(w, a.sessionName, "", 0)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	token := r.PostFormValue(CSRFField)
	if token == "" {
		token = r.Header.Get("X-CSRF-Token")
	}
	if !a.seal.checkCSRF(s.sid[:], token) {
		a.fail(w, r, http.StatusForbidden, ErrCSRF)
		return
	}
	if a.opts.ForgetOnLogout {
		if err := a.forget(r, string(s.uid)); err != nil {
			a.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
	}
	a.setCookie(w, a.sessionName, "", 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// save stores tok, from a new login, as user id's token. This replica's
// cached source of the user, if any, is dropped: the next request loads
// the new token (the source then knows it as the store's, so that a later
// deletion, a logout, is final). Other replicas see from the session's
// authorization time that their token is older, and load it too.
func (a *Auth) save(r *http.Request, id string, tok *spotauth.Token) error {
	store, err := a.opts.Store(id)
	if err != nil {
		return fmt.Errorf("spotauth: web login: open the token store of a user: %w", err)
	}
	defer closeStore(store)
	if err := store.Save(r.Context(), tok); err != nil {
		return fmt.Errorf("spotauth: web login: save the token: %w", err)
	}
	a.users.remove(id)
	return nil
}

// forget deletes user id's stored token, and this replica's source of it.
func (a *Auth) forget(r *http.Request, id string) error {
	store, err := a.opts.Store(id)
	if err != nil {
		return fmt.Errorf("spotauth: web login: open the token store of a user: %w", err)
	}
	defer closeStore(store)
	if err := store.Delete(r.Context()); err != nil {
		return fmt.Errorf("spotauth: web login: forget the token: %w", err)
	}
	a.users.remove(id)
	return nil
}

// loginURL returns the URL of the login path with next and, if any, scopes.
func (a *Auth) loginURL(next string, scopes spotauth.Scopes) string {
	q := url.Values{"next": {next}}
	if scopes.Len() > 0 {
		q.Set("scope", scopes.String())
	}
	return a.loginPath + "?" + q.Encode()
}
