package spotauth

import (
	"context"
	"time"

	"golang.org/x/oauth2"
)

// SourceOptions configure a [RefreshingSource]. The zero value is usable.
type SourceOptions struct {
	// Store persists refreshed tokens; nil keeps them in memory only. With a
	// [LockingStore], processes sharing the store refresh once per expiry
	// between them.
	Store TokenStore
	// RefreshWindow is how long before expiry the background refresh starts
	// (0 means 5 minutes, at least DefaultExpiryMargin).
	RefreshWindow time.Duration
	// Jitter spreads the refresh start of a fleet: each refresh starts at a
	// random point in the first Jitter of the window (0 means a fifth of
	// RefreshWindow; negative disables jitter).
	Jitter time.Duration
	// OnRefresh, if set, is called with every token obtained by a refresh,
	// after it was saved to Store.
	OnRefresh func(*Token)
	// OnError, if set, is called with every failed refresh or save, at once,
	// including permanent ones such as [ErrReauthorize].
	OnError func(error)
	// Clock drives expiry decisions; nil means the system clock. Tests use a
	// controllable one.
	Clock Clock
}

// A Clock tells time to a [RefreshingSource]. Tests replace the system clock
// with a controllable one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, like [time.AfterFunc].
	AfterFunc(d time.Duration, f func()) interface{ Stop() bool }
}

// RefreshingSource is a token that refreshes itself.
//
// It implements [oauth2.TokenSource]; [RefreshingSource.TokenContext] is the
// context-aware form. Create one with [Config.UserSource] or
// [Config.AppSource], and Close it when done.
type RefreshingSource struct {
	_ struct{}
}

// UserSource returns a RefreshingSource for a user token (secret or PKCE).
// If t is nil, the token is loaded from opts.Store on first use.
func (c *Config) UserSource(t *Token, opts *SourceOptions) *RefreshingSource {
	panic("unimplemented")
}

// AppSource returns a RefreshingSource of client-credentials tokens, which
// it re-requests before they expire (they carry no refresh token).
func (c *Config) AppSource(opts *SourceOptions) *RefreshingSource { panic("unimplemented") }

// Token returns a valid token; it implements [oauth2.TokenSource].
func (s *RefreshingSource) Token() (*oauth2.Token, error) { panic("unimplemented") }

// TokenContext returns a valid token, waiting at most until ctx is done
// when a refresh is needed.
func (s *RefreshingSource) TokenContext(ctx context.Context) (*Token, error) {
	panic("unimplemented")
}

// Close stops background work. Later calls fail with [ErrClosed].
func (s *RefreshingSource) Close() error { panic("unimplemented") }
