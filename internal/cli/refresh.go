package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type refreshOptions struct {
	f *Factory
}

func newRefreshCmd(f *Factory, runF func(context.Context, *refreshOptions) error) *cobra.Command {
	opts := &refreshOptions{f: f}
	return &cobra.Command{
		Use:   "refresh",
		Short: "Refresh the user token now",
		Long: `Refresh the profile's user token now, whatever its expiry, and store the
result (including a rotated refresh token). spotauth token refreshes by itself;
this command is for checking that the refresh token still works.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRefresh(cmd.Context(), opts)
		},
	}
}

func runRefresh(ctx context.Context, opts *refreshOptions) error {
	f := opts.f
	s, err := f.Settings()
	if err != nil {
		return err
	}
	cfg, err := f.config(s)
	if err != nil {
		return err
	}
	st, err := f.openStore(ctx, s, userToken)
	if err != nil {
		return err
	}
	if _, err := f.loadUser(ctx, s, st); err != nil {
		return err
	}
	t, err := refreshUser(ctx, f, s, cfg, st, -1)
	if err != nil {
		return err
	}
	f.IO.Printf("Refreshed the token of profile %s; it expires %s.\n", s.Profile, describeTime(t.Expiry, f.now()))
	return nil
}

// fresh reports whether t stays valid for at least minValid. A negative
// minValid means never fresh (forced refresh).
func fresh(t *spotauth.Token, minValid time.Duration, now time.Time) bool {
	if minValid < 0 || t == nil || t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || t.Expiry.Sub(now) > minValid
}

// refreshUser refreshes the stored user token unless the store already
// holds one valid for minValid (minValid < 0 forces a refresh). With a
// LockingStore it holds the store's cross-process lease, so that
// concurrent spotauth processes make one refresh between them: the first
// refreshes and saves, the others find its token when they get the lease.
// The new token (and a rotated refresh token) is saved before it is
// returned. On invalid_grant the stored token is deleted.
func refreshUser(ctx context.Context, f *Factory, s *settings, cfg *spotauth.Config, st spotauth.TokenStore, minValid time.Duration) (*spotauth.Token, error) {
	load, save, del := st.Load, st.Save, st.Delete
	if ls, ok := st.(spotauth.LockingStore); ok {
		lease, err := ls.Lock(ctx)
		if err != nil {
			return nil, withCode(ExitError, fmt.Errorf("spotauth: could not lock the token store: %w", err),
				"Try again; if it persists, check the token store (%s).", storeDesc(s))
		}
		release := func() { lease.Release(context.WithoutCancel(ctx)) }
		defer release()
		load, save = lease.Load, lease.Save
		if d, ok := lease.(interface{ Delete(context.Context) error }); ok {
			del = d.Delete
		} else {
			// The store's Delete may take the lock itself: release first.
			del = func(ctx context.Context) error { release(); return st.Delete(ctx) }
		}
	}
	old, err := load(ctx)
	if errors.Is(err, spotauth.ErrTokenNotFound) {
		return nil, withCode(ExitAuth, fmt.Errorf("spotauth: not logged in (profile %s)", s.Profile), "Run: %s", loginLine(s, spotauth.Scopes{}))
	}
	if err != nil {
		return nil, withCode(storeErrCode(err), err, "Check the token store (%s).", storeDesc(s))
	}
	if fresh(old, minValid, f.now()) {
		return old, nil // another process refreshed meanwhile
	}
	if old.RefreshToken == "" {
		return nil, withCode(ExitAuth, fmt.Errorf("%w (profile %s)", spotauth.ErrNoRefreshToken, s.Profile),
			"Run: %s", loginLine(s, old.Scope))
	}
	nt, err := cfg.Refresh(ctx, old)
	if err != nil {
		if errors.Is(err, spotauth.ErrReauthorize) || errors.Is(err, spotauth.ErrInvalidGrant) {
			_ = del(context.WithoutCancel(ctx))
			return nil, withCode(ExitAuth, fmt.Errorf("spotauth: the authorization of profile %s is no longer valid (revoked, or past its 6 months); the stored token was removed: %w", s.Profile, err),
				"Log in again: %s", loginLine(s, old.Scope))
		}
		if errors.Is(err, spotauth.ErrInvalidClient) {
			return nil, withCode(ExitConfig, fmt.Errorf("spotauth: refresh refused: %w", err),
				"Check the client ID and secret: they must be those of the app you logged in with (spotauth doctor).")
		}
		return nil, withCode(exitCode(err), fmt.Errorf("spotauth: could not refresh the token: %w", err),
			"Check the network and --accounts-url (%s), then try again; the stored token was kept.", s.AccountsURL)
	}
	// cfg.Refresh kept what Spotify's answer leaves out (the refresh
	// token unless rotated, the scopes, PKCE, the authorization time).
	if err := save(ctx, nt); err != nil {
		return nil, withCode(ExitError, fmt.Errorf("spotauth: could not store the refreshed token: %w", err),
			"Check the token store (%s) and try again.", storeDesc(s))
	}
	return nt, nil
}
