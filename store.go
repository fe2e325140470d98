package spotauth

import "context"

// A TokenStore persists one token: one user's, or one app's, under one
// profile. Implementations are safe for concurrent use. Errors for a missing
// token wrap [ErrTokenNotFound].
//
// The root package declares the interface so that [RefreshingSource] can
// save rotated tokens without importing any store; see [MemoryStore], the
// store/file and store/redis packages, and store/storetest for the
// conformance suite every implementation passes.
type TokenStore interface {
	// Load returns the stored token, or an error wrapping ErrTokenNotFound.
	Load(ctx context.Context) (*Token, error)
	// Save stores t, replacing any stored token.
	Save(ctx context.Context, t *Token) error
	// Delete removes the stored token. Deleting a missing token is not an error.
	Delete(ctx context.Context) error
}

// A LockingStore is a TokenStore shared by several processes, which
// coordinates them so that one refresh happens per expiry across all.
//
// A [RefreshingSource] with a LockingStore refreshes like this:
//  1. Lock: wait for the lease (in the background while the current token
//     is still valid; callers wait only once it has expired).
//  2. Lease.Load: if another holder stored a token that is still fresh,
//     adopt it and release without a network call.
//  3. Otherwise refresh with the stored refresh token (which another
//     process may have rotated), then Lease.Save before anyone uses the new
//     token, then Release.
type LockingStore interface {
	TokenStore
	// Lock acquires the exclusive refresh lease of the stored token,
	// waiting until it is free or ctx is done. A lease that its holder
	// stops renewing (the process died) expires after a short time.
	Lock(ctx context.Context) (Lease, error)
}

// A Lease is an exclusive permission to refresh one stored token. A Lease
// may also implement [LeaseDeleter], to delete a refused refresh token
// while held.
type Lease interface {
	// Load returns the stored token, or an error wrapping ErrTokenNotFound.
	Load(ctx context.Context) (*Token, error)
	// Save stores t if this lease is still held and no other holder stored
	// a token since the lease was acquired (fencing); otherwise it fails
	// with an error wrapping ErrLeaseLost and stores nothing.
	Save(ctx context.Context, t *Token) error
	// Release gives the lease up. Releasing twice is not an error.
	Release(ctx context.Context) error
}
