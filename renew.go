package spotauth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A renewFunc obtains a new token from base: a user token by refreshing
// base, an app token by a client-credentials request (base is then
// ignored).
type renewFunc func(ctx context.Context, base *Token) (*Token, error)

// refreshUser is the renewFunc of user tokens.
func (c *Config) refreshUser(ctx context.Context, base *Token) (*Token, error) {
	if base == nil {
		return nil, errNotLoggedIn
	}
	return c.Refresh(ctx, base)
}

// requestApp is the renewFunc of app tokens.
func (c *Config) requestApp(ctx context.Context, _ *Token) (*Token, error) {
	return c.ClientCredentials(ctx)
}

// authorization reports whether t stands for a user's authorization: it
// has a refresh token. Deleting such a token from its store ends the
// authorization (a logout), which a source must not undo by storing a
// refreshed token; an app token (none) is simply requested again.
func authorization(t *Token) bool { return t != nil && t.RefreshToken != "" }

// renew obtains a new token from base with fn and completes it from base,
// so that nothing Spotify's answer leaves out (the refresh token, unless
// rotated; the scopes; PKCE; the authorization time) is lost.
func renew(ctx context.Context, fn renewFunc, base *Token) (*Token, error) {
	nt, err := fn(ctx, base)
	if err != nil {
		return nil, err
	}
	if nt == nil || nt.AccessToken == "" {
		return nil, fmt.Errorf("spotauth: refresh returned no access token: %w", ErrBadResponse)
	}
	c := *nt
	if authorization(base) {
		if c.RefreshToken == "" {
			c.RefreshToken = base.RefreshToken
		}
		if c.AuthorizedAt.IsZero() {
			c.AuthorizedAt = base.AuthorizedAt
		}
		if c.Scope.Len() == 0 {
			c.Scope = base.Scope
		}
		c.PKCE = c.PKCE || base.PKCE
	}
	return &c, nil
}

// A renewal is one renewal of a token kept in a store: the refresh protocol,
// written once, which [RefreshingSource] and [Config.EnsureToken] share.
// With a [LockingStore]: Load (adopt?), Lock, Lease.Load (adopt?), renew,
// Lease.Save (retried, fenced), Release; on invalid_grant, delete the stored
// token if it is still the refused one. With a plain [TokenStore] the same
// steps run without the lease; without a store, renew alone.
type renewal struct {
	renew renewFunc
	store TokenStore // nil: none
	// stale is the token to replace (nil if none was loaded yet); stored
	// says it is the store's, so that finding the store empty means that
	// it was deleted (a logout): no request is then sent, since a new
	// token would be stored again and undo the logout.
	stale  *Token
	stored bool
	// unsaved: stale came from a refresh whose save has not succeeded
	// yet, so its refresh token may be newer than the store's.
	unsaved bool
	// leased: the renewal holds the store's lease (set by run), under
	// which the stored token is the newest saved one.
	leased bool
	// loaded: stale was just loaded from the store, so that reading it
	// again before taking the lease would learn nothing.
	loaded bool
	// adopt reports whether a stored token, renewed by another process,
	// is taken instead of renewing.
	adopt func(*Token) bool
	now   func() time.Time
	// lock takes the lease; nil means LockingStore.Lock. RefreshingSource
	// passes one that store events can interrupt (errAdopted, errDeleted).
	lock func(context.Context, LockingStore) (Lease, error)
	// retrySave: a failed save is retried until ctx is done, holding the
	// lease. (A RefreshingSource instead hands the token out and retries
	// the save later, with resave.)
	retrySave bool
	// report receives errors that do not end the renewal (a failed
	// release); nil drops them.
	report func(error)
}

// renewResult is what a renewal produced.
type renewResult struct {
	tok       *Token // the new or adopted token
	base      *Token // the token tok was renewed from (nil if adopted)
	stored    bool   // the store held a token when the renewal read it
	refreshed bool   // tok comes from a request, not from the store
	saveErr   error  // tok is valid but was not stored (a *StoreError)
}

// errDeleted is returned, and reported, by a user source whose stored
// token was deleted (see [WatchingStore]).
var errDeleted = fmt.Errorf("spotauth: the stored token was deleted (a logout, or the authorization ended): %w (%w)", ErrReauthorize, ErrTokenNotFound)

// errAdopted stops a flight's wait for the lease: a newer stored token
// was adopted.
var errAdopted = errors.New("spotauth: a newer stored token was adopted")

func isInvalidGrant(err error) bool {
	return errors.Is(err, ErrInvalidGrant) || errors.Is(err, ErrReauthorize)
}

// run performs the renewal.
func (r *renewal) run(ctx context.Context) (renewResult, error) {
	if r.store == nil {
		tok, err := renew(ctx, r.renew, r.stale)
		return renewResult{tok: tok, base: r.stale, refreshed: err == nil}, err
	}
	ls, ok := r.store.(LockingStore)
	if !ok {
		del := func(ctx context.Context, base *Token) error {
			if cur, err := r.store.Load(ctx); err != nil || cur.RefreshToken != base.RefreshToken {
				return nil // gone already, or replaced by another process
			}
			return r.store.Delete(ctx)
		}
		return r.locked(ctx, r.store.Load, r.store.Save, del)
	}
	if !r.loaded {
		// Without the lease first: another process may have renewed
		// already.
		if cur, err := ls.Load(ctx); err == nil && r.adopt(cur) {
			return renewResult{tok: cur}, nil
		} else if r.deleted(err) {
			return renewResult{}, errDeleted
		}
	}
	lease, adopted, err := r.acquire(ctx, ls)
	if err != nil || adopted != nil {
		return renewResult{tok: adopted}, err
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := lease.Release(rctx); err != nil && r.report != nil {
			// A lease that cannot be released expires, but say so.
			r.report(&StoreError{Op: "release", Err: err})
		}
	}
	defer release()
	del := func(ctx context.Context, base *Token) error {
		return lease.Delete(ctx) // fenced: only the token seen under the lease
	}
	r.leased = true
	return r.locked(ctx, lease.Load, lease.Save, del)
}

// acquire takes ls's lease, or returns adopted, a token another process
// stored meanwhile that r.adopt accepts. A store event (errAdopted or
// errDeleted from r.lock) stops the wait.
func (r *renewal) acquire(ctx context.Context, ls LockingStore) (lease Lease, adopted *Token, err error) {
	lock := r.lock
	if lock == nil {
		lock = func(ctx context.Context, ls LockingStore) (Lease, error) { return ls.Lock(ctx) }
	}
	for {
		lease, err = lock(ctx, ls)
		var newer *NewerTokenError
		switch {
		case err == nil:
			return lease, nil, nil
		case err == errDeleted:
			return nil, nil, errDeleted
		case errors.As(err, &newer) && newer.Token != nil:
			// The store says which token another process stored while
			// we waited: take it if it is one to adopt, or wait again.
			if r.adopt(newer.Token) {
				return nil, newer.Token, nil
			}
		case err == errAdopted || newer != nil:
			// Another process stored a newer token: take it if it is
			// one to adopt, or wait for the lease again.
			if cur, lerr := ls.Load(ctx); lerr == nil && r.adopt(cur) {
				return nil, cur, nil
			}
		default:
			return nil, nil, &StoreError{Op: "lock", Err: err}
		}
	}
}

// deleted reports whether a load error means that the stale token, the
// store's, was deleted.
func (r *renewal) deleted(lerr error) bool {
	return r.stored && authorization(r.stale) && errors.Is(lerr, ErrTokenNotFound)
}

// locked runs the steps after the lease is held (or without a lease, for a
// plain store): load, adopt or renew, save, or delete a refused token.
func (r *renewal) locked(ctx context.Context, load func(context.Context) (*Token, error),
	save func(context.Context, *Token) error, del func(context.Context, *Token) error) (renewResult, error) {
	cur, lerr := load(ctx)
	if r.deleted(lerr) {
		return renewResult{}, errDeleted
	}
	if lerr != nil {
		cur = nil
		if !errors.Is(lerr, ErrTokenNotFound) && r.stale == nil {
			return renewResult{}, &StoreError{Op: "load", Err: lerr}
		}
	}
	if cur != nil && r.adopt(cur) {
		return renewResult{tok: cur}, nil
	}
	r.stored = r.stored || cur != nil
	// Renew from the newer of the stale and the stored token: the stored
	// refresh token is the current one if another process rotated it.
	// Under the lease the stored token is the newest saved one (fenced
	// saves never put back an older one), so it is the base unless stale
	// was never saved: expiries cannot tell, since one computed after a
	// stall is late by the stall, and may pass a later token's.
	base := newer(r.stale, cur)
	if r.leased && cur != nil && !r.unsaved {
		base = cur
	}
	// From here on nothing is abandoned when ctx is canceled (a
	// RefreshingSource being closed, a program interrupted), only at ctx's
	// deadline, or after defaultRefreshTimeout: a refresh request that was
	// sent may rotate the refresh token, and then its answer holds the only
	// valid one, which must be read and saved.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultRefreshTimeout)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	tok, err := renew(ctx, r.renew, base)
	if err != nil {
		var saveErr error
		if isInvalidGrant(err) && cur != nil && cur.RefreshToken == base.RefreshToken {
			// Compare-and-delete: only the refused token, never a newer one.
			if derr := del(context.WithoutCancel(ctx), base); derr != nil {
				saveErr = &StoreError{Op: "delete", Err: derr}
			}
		}
		return renewResult{saveErr: saveErr}, err
	}
	res := renewResult{tok: tok, base: base, refreshed: true, stored: r.stored}
	serr := save(ctx, tok)
	if serr == nil {
		return res, nil
	}
	res.saveErr = &StoreError{Op: "save", Err: serr}
	if errors.Is(serr, ErrLeaseLost) {
		return r.afterLost(ctx, load, res)
	}
	if !r.retrySave {
		return res, nil
	}
	delay := 20 * time.Millisecond
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, nil
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
		adopted, ferr := r.saveFenced(ctx, load, save, base, tok)
		switch {
		case ferr == nil && adopted != nil:
			return renewResult{tok: adopted, saveErr: res.saveErr}, nil
		case ferr == nil:
			res.saveErr = nil
			return res, nil
		case ferr == errDeleted:
			return renewResult{saveErr: res.saveErr}, errDeleted
		case errors.Is(ferr, ErrLeaseLost):
			res.saveErr = &StoreError{Op: "save", Err: ferr}
			return r.afterLost(ctx, load, res)
		}
		if ctx.Err() == nil || !errors.Is(ferr, ctx.Err()) {
			// An attempt cut short by the deadline says less than the
			// store's own error before it.
			res.saveErr = &StoreError{Op: "save", Err: ferr}
		}
	}
}

// afterLost completes a renewal whose save was refused by the store's fence
// (another holder stored or deleted a token meanwhile): a newer stored token
// wins, and so does a deletion (a logout) of a user token.
func (r *renewal) afterLost(ctx context.Context, load func(context.Context) (*Token, error), res renewResult) (renewResult, error) {
	cur, lerr := load(ctx)
	switch {
	case lerr == nil && r.newerThan(cur, res.tok):
		return renewResult{tok: cur, saveErr: res.saveErr}, nil
	case errors.Is(lerr, ErrTokenNotFound) && authorization(res.tok):
		return renewResult{saveErr: res.saveErr}, errDeleted // a logout wins
	}
	return res, nil
}

// resave stores tok, renewed from base, whose saves failed until an earlier
// renewal ended (a RefreshingSource retries later): under a new lease,
// fenced like saveFenced.
func (r *renewal) resave(ctx context.Context, base, tok *Token) (adopted *Token, err error) {
	ls, ok := r.store.(LockingStore)
	if !ok {
		return r.saveFenced(ctx, r.store.Load, r.store.Save, base, tok)
	}
	lease, adopted, err := r.acquire(ctx, ls)
	if err != nil || adopted != nil {
		return adopted, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = lease.Release(rctx)
	}()
	return r.saveFenced(ctx, lease.Load, lease.Save, base, tok)
}

// saveFenced stores tok, renewed from base, after a first save failed. It
// reads the store first and saves only if the store still holds base (for
// an app token: no newer token), so that a token stored or deleted by
// another process meanwhile is never overwritten. It returns adopted, a
// newer token stored by another process to use instead; or errDeleted if
// the stored token was deleted meanwhile; or an error matching
// ErrLeaseLost if the store moved on to another token; or the store's
// error, to try again.
func (r *renewal) saveFenced(ctx context.Context, load func(context.Context) (*Token, error),
	save func(context.Context, *Token) error, base, tok *Token) (adopted *Token, err error) {
	cur, lerr := load(ctx)
	switch {
	case lerr == nil && cur.AccessToken == tok.AccessToken:
		return nil, nil // an earlier attempt stored it (its answer was lost)
	case lerr == nil && base != nil && cur.AccessToken == base.AccessToken:
		return nil, save(ctx, tok) // the store still holds base
	case lerr == nil && r.newerThan(cur, tok):
		return cur, nil
	case errors.Is(lerr, ErrTokenNotFound) && authorization(tok) && r.stored:
		// The stored token is gone: a logout, or another process found
		// the authorization ended.
		return nil, errDeleted
	case lerr != nil && !errors.Is(lerr, ErrTokenNotFound):
		return nil, lerr // the store cannot be read: try again
	case lerr == nil && authorization(tok) && (base == nil || cur.RefreshToken != base.RefreshToken):
		return nil, fmt.Errorf("%w: the store holds another token", ErrLeaseLost)
	}
	return nil, save(ctx, tok)
}

// newerThan reports whether the stored token cur, not tok, is the one to
// use: usable, another token, and not older.
func (r *renewal) newerThan(cur, tok *Token) bool {
	return cur != nil && cur.AccessToken != tok.AccessToken && usableAt(cur, r.now()) && !olderThan(cur, tok)
}

// usableAt reports whether t has an access token that has not expired, with
// the expiry margin, at now.
func usableAt(t *Token, now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	remaining := t.Expiry.Sub(now)
	return remaining > min(maxExpiryMargin, max(remaining/20, 0))
}

// olderThan reports whether a expires before b, to the second. Stores keep
// whole seconds (the JSON form floors times), so a token read back from a
// store seems to expire up to a second earlier than the same token, or one
// issued a moment later, held in memory: comparing the exact times would
// take a token issued later by another process for an older one, and
// refresh with a refresh token that process had already rotated away.
func olderThan(a, b *Token) bool {
	return a.Expiry.Truncate(time.Second).Before(b.Expiry.Truncate(time.Second))
}

// newer returns the newer of two tokens that may be refreshed: the stored
// one (b) unless a is newer by a whole second (see olderThan).
func newer(a, b *Token) *Token {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	case olderThan(b, a):
		return a
	default:
		return b
	}
}
