package spotauth

import (
	"context"
	"strconv"
)

// A TokenStore persists one token: one user's, or one app's, under one
// profile. Implementations are safe for concurrent use. Errors for a missing
// token wrap [ErrTokenNotFound].
//
// The root package declares the interface so that [RefreshingSource] can
// save rotated tokens without importing any store; see [MemoryStore], the
// store/filestore and store/redisstore packages, and store/storetest for the
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
	// waiting until it is free. If ctx is done first, it returns a
	// [*LeaseBusyError] naming the holder as far as the store knows it. A
	// lease that its holder stops renewing (the process died) expires
	// after a short time.
	Lock(ctx context.Context) (Lease, error)
}

// A Lease is an exclusive permission to refresh one stored token. A Lease
// may also implement [LeaseDeleter], to delete a refused refresh token
// while held.
type Lease interface {
	// Load returns the stored token, or an error wrapping ErrTokenNotFound.
	Load(ctx context.Context) (*Token, error)
	// Save stores t if no other holder stored (or deleted) a token since
	// the lease was acquired (fencing); otherwise it fails with an error
	// wrapping ErrLeaseLost and stores nothing. A holder whose lease
	// expired (a stall) may still save while nobody else stored: its
	// token is then the newest. After Release, Save fails.
	Save(ctx context.Context, t *Token) error
	// Release gives the lease up. Releasing twice is not an error.
	Release(ctx context.Context) error
}

// A WatchingStore is a [TokenStore] that reports changes of the stored
// token, made by any process sharing it, as they happen. The store/redisstore
// package's Store is one (through Redis pub/sub), and so is [MemoryStore].
//
// A [RefreshingSource] whose store is a WatchingStore watches it from
// creation to Close:
//   - [StoreDeleted]: the stored token was deleted — a logout, or another
//     replica found that the authorization ended (invalid_grant, such as
//     at the 6-month limit). The source drops its token at once, even a
//     valid one, and its calls fail with an error matching both
//     [ErrReauthorize] and [ErrTokenNotFound], reported to
//     [SourceOptions.OnError] too. It sends no refresh request: a
//     refresh would store a token again and undo the logout. A token
//     stored later (a new login) is adopted.
//   - [StoreSaved]: another process stored a token; the source adopts it
//     if it is newer than its own, without a network call, and stops
//     waiting for the refresh lease if it was.
//
// Events are hints: one may be lost (while the store is unreachable, say),
// so the store stays the truth. Without events, a source learns of a
// deletion at its next refresh, when [Lease.Load] finds no token: it then
// fails the same way, also without a refresh request, if its token came
// from the store.
type WatchingStore interface {
	TokenStore
	// Watch reports the store's changes until ctx is done or the store
	// is closed, and then closes the channel. It returns an error if it
	// cannot start watching. Events may be dropped, never invented.
	Watch(ctx context.Context) (<-chan StoreEvent, error)
}

// StoreEventKind is the kind of a [StoreEvent].
type StoreEventKind int

// Store event kinds.
const (
	// StoreSaved: a token was stored.
	StoreSaved StoreEventKind = iota + 1
	// StoreDeleted: the stored token was deleted (a logout, or the end of
	// the authorization).
	StoreDeleted
	// StoreReleased: the refresh lease of a [LockingStore] was released;
	// the token did not change.
	StoreReleased
)

// String returns "saved", "deleted" or "released".
func (k StoreEventKind) String() string {
	switch k {
	case StoreSaved:
		return "saved"
	case StoreDeleted:
		return "deleted"
	case StoreReleased:
		return "released"
	}
	return "StoreEventKind(" + strconv.Itoa(int(k)) + ")"
}

// A StoreEvent is a change of a stored token, reported by a
// [WatchingStore].
type StoreEvent struct {
	// Kind says what happened.
	Kind StoreEventKind
	// Version is the stored token's version after the change, for a store
	// that keeps versions (0 otherwise, and for StoreReleased).
	Version int64
}

// A LeaseDeleter is a [Lease] that can also delete the stored token while
// held, fenced like [Lease.Save]. A refresh uses it to delete a refresh
// token refused with invalid_grant, as Spotify's rules require, only if it
// is still the stored one. With a Lease that lacks it, the lease is
// released first and [TokenStore.Delete] is called if the stored refresh
// token is still the refused one (a store's Delete may wait for the lease).
type LeaseDeleter interface {
	Delete(ctx context.Context) error
}
