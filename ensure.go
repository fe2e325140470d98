package spotauth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EnsureToken returns the user token in store, refreshed first unless valid
// for more than minValid (negative: always refresh). It is the one-shot form
// of a [RefreshingSource]'s refresh, for programs that run once per use: load;
// with a [LockingStore], take the lease (waiting until ctx is done or 30 s,
// then a [*LeaseBusyError]) and load again, adopting a token another process
// refreshed; refresh and save, retrying a failed save until that deadline,
// before returning (a failure is a [*StoreError]); on invalid_grant, delete
// the refused token unless replaced meanwhile and return an error matching
// [ErrReauthorize]. An empty store gives an error wrapping [ErrTokenNotFound].
func (c *Config) EnsureToken(ctx context.Context, store TokenStore, minValid time.Duration) (*Token, error) {
	return c.ensure(ctx, store, minValid, c.refreshUser, true)
}

// EnsureAppToken is EnsureToken for client-credentials (app) tokens: processes
// sharing the store request one new token between them. An empty store is not
// an error.
func (c *Config) EnsureAppToken(ctx context.Context, store TokenStore, minValid time.Duration) (*Token, error) {
	return c.ensure(ctx, store, minValid, c.requestApp, false)
}

// errNotLoggedIn is what an empty store means for a user token.
var errNotLoggedIn = fmt.Errorf("spotauth: no stored token; log in first: %w", ErrTokenNotFound)

// ensure implements EnsureToken and EnsureAppToken: renew obtains a new
// token; with loginFirst, an empty store is an error rather than a reason
// to renew from nothing.
func (c *Config) ensure(ctx context.Context, store TokenStore, minValid time.Duration, renew renewFunc, loginFirst bool) (*Token, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: no token store", ErrInvalidConfig)
	}
	validFor := func(t *Token) bool { return minValid >= 0 && t.validFor(c.now(), minValid) }
	cur, err := store.Load(ctx)
	switch {
	case err == nil && validFor(cur):
		return cur, nil
	case errors.Is(err, ErrTokenNotFound) && loginFirst:
		return nil, fmt.Errorf("spotauth: no stored token; log in first: %w", err)
	case err != nil && !errors.Is(err, ErrTokenNotFound):
		return nil, &StoreError{Op: "load", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, defaultRefreshTimeout)
	defer cancel()
	r := &renewal{
		renew:     renew,
		store:     store,
		stale:     cur,
		stored:    cur != nil,
		loaded:    true,
		now:       c.now,
		retrySave: true,
		adopt: func(t *Token) bool {
			// Another process renewed it since step 1.
			return validFor(t) || minValid < 0 && cur != nil && t != nil && t.AccessToken != cur.AccessToken &&
				usableAt(t, c.now()) && !olderThan(t, cur)
		},
	}
	res, err := r.run(ctx)
	if err == nil && res.saveErr != nil {
		err = res.saveErr
	}
	if err != nil {
		if isInvalidGrant(err) && !errors.Is(err, ErrReauthorize) {
			err = fmt.Errorf("%w: %w", ErrReauthorize, err)
		}
		return nil, err
	}
	return res.tok, nil
}
