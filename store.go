package spotauth

import (
	"context"
)

// A TokenStore persists one token: one user's, or one app's, under one
// profile. Implementations are safe for concurrent use. See [MemoryStore],
// the packages store/filestore and store/redisstore, and store/storetest,
// the conformance suite every implementation passes.
type TokenStore interface {
	// Load returns the stored token, or an error wrapping ErrTokenNotFound.
	Load(ctx context.Context) (*Token, error)
	// Save stores t, replacing any stored token.
	Save(ctx context.Context, t *Token) error
	// Delete removes the stored token; a missing one is not an error.
	Delete(ctx context.Context) error
}

// A LockingStore is a TokenStore that processes share, with a lease that
// lets one of them at a time refresh the token: under it a refresh loads
// the stored token, adopts it if another process refreshed meanwhile, or
// refreshes with the stored refresh token and saves before anyone uses the
// new token (see [Config.EnsureToken]).
type LockingStore interface {
	TokenStore
	// Lock waits for the refresh lease and takes it. If ctx is done first,
	// it returns a [*LeaseBusyError]. If another holder stored a token
	// since the caller's Load, it may return a [*NewerTokenError]. A lease
	// its holder stops renewing (a dead process) expires after a short
	// time.
	Lock(ctx context.Context) (Lease, error)
}

// A Lease is the exclusive permission to refresh one stored token. Save
// and Delete are fenced: they fail with an error wrapping [ErrLeaseLost],
// and change nothing, if another holder stored or deleted a token since
// Lock. After Release, they fail.
type Lease interface {
	Load(ctx context.Context) (*Token, error)
	Save(ctx context.Context, t *Token) error
	Delete(ctx context.Context) error
	// Release gives the lease up; releasing twice is not an error.
	Release(ctx context.Context) error
}

// A WatchingStore is a TokenStore that reports changes of the stored token,
// made by any process, as they happen. A [RefreshingSource] watches it: it
// adopts a newer stored token without a request, and on a deletion (a
// logout, or another process found the authorization ended) it drops its
// token at once, fails with an error matching [ErrReauthorize] and
// [ErrTokenNotFound], and sends no request that would store a token again.
// Events are hints that may be lost; the store stays the truth.
type WatchingStore interface {
	TokenStore
	// Watch reports changes until ctx is done or the store is closed, and
	// then closes the channel. Events may be dropped, never invented.
	Watch(ctx context.Context) (<-chan StoreEvent, error)
}

// A StoreEvent is a change of a stored token, reported by a
// [WatchingStore]. Version is the stored token's version after the change,
// for a store that keeps versions (0 otherwise).
type StoreEvent struct {
	Kind    StoreEventKind
	Version int64
}

// StoreEventKind is the kind of a [StoreEvent].
type StoreEventKind int

// Store event kinds. StoreReleased reports the release of a
// [LockingStore]'s lease, which did not change the token.
const (
	StoreSaved StoreEventKind = iota + 1
	StoreDeleted
	StoreReleased
)
