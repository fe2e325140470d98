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
	old, err := f.loadUser(ctx, s, st)
	if err != nil {
		return err
	}
	t, err := refreshUser(ctx, f, s, cfg, st, old, -1)
	if err != nil {
		return err
	}
	f.IO.Printf("Refreshed the token of profile %s; it expires %s.\n", s.Profile, describeTime(t.Expiry, f.now()))
	return nil
}

// validFor reports whether t is valid now and stays so for at least
// minValid, by the library's expiry rule; a token without expiry never
// expires. A negative minValid means never (a forced refresh).
func validFor(t *spotauth.Token, minValid time.Duration, now time.Time) bool {
	return minValid >= 0 && t.ValidAt(now) && !t.ExpiresWithinAt(now, minValid)
}

// refreshUser makes sure the stored user token stays valid for minValid
// (minValid < 0 forces a refresh) with the library's one-shot refresh
// protocol, spotauth.Config.EnsureToken: under the store's lease, so that
// concurrent spotauth processes refresh once between them; a rotated
// refresh token saved (and a failed save retried) before the token is
// returned; on invalid_grant the stored token deleted if it is still the
// refused one. old, the token loaded before, gives the hints their scopes.
func refreshUser(ctx context.Context, f *Factory, s *settings, cfg *spotauth.Config, st spotauth.TokenStore, old *spotauth.Token, minValid time.Duration) (*spotauth.Token, error) {
	t, err := cfg.EnsureToken(ctx, st, minValid)
	if err == nil {
		return t, nil
	}
	var scopes spotauth.Scopes
	if old != nil {
		scopes = old.Scope
	}
	return nil, refreshError(err, s, scopes)
}

// refreshError gives a failed refresh (or app-token request) its exit code
// and hint.
func refreshError(err error, s *settings, scopes spotauth.Scopes) error {
	var busy *spotauth.LeaseBusyError
	var se *spotauth.StoreError
	switch {
	case errors.As(err, &busy):
		return withCode(ExitError, fmt.Errorf("spotauth: could not refresh the token: %w", err),
			"%s", busyHint(err, "Try again; if it persists, check the token store ("+storeDesc(s)+")."))
	case errors.Is(err, spotauth.ErrReauthorize) || errors.Is(err, spotauth.ErrInvalidGrant):
		return withCode(ExitAuth, fmt.Errorf("spotauth: the authorization of profile %s is no longer valid (revoked, or past its 6 months); the stored token was removed: %w", s.Profile, err),
			"Log in again: %s", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrTokenNotFound):
		return withCode(ExitAuth, fmt.Errorf("spotauth: not logged in (profile %s)", s.Profile), "Run: %s", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrNoRefreshToken):
		return withCode(ExitAuth, fmt.Errorf("%w (profile %s)", spotauth.ErrNoRefreshToken, s.Profile),
			"Run: %s", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrInvalidClient):
		return withCode(ExitConfig, fmt.Errorf("spotauth: refresh refused: %w", err),
			"Check the client ID and secret: they must be those of the app you logged in with (spotauth doctor).")
	case errors.As(err, &se) && se.Op == "save":
		return withCode(storeErrCode(err), fmt.Errorf("spotauth: could not store the refreshed token: %w", err),
			"Check the token store (%s) and try again.", storeDesc(s))
	case errors.As(err, &se):
		return withCode(storeErrCode(err), err, "Check the token store (%s) and try again.", storeDesc(s))
	}
	return withCode(exitCode(err), fmt.Errorf("spotauth: could not refresh the token: %w", err),
		"Check the network and --accounts-url (%s), then try again; the stored token was kept.", s.AccountsURL)
}
