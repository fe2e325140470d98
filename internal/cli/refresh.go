package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type refreshOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Now        func() time.Time
	Settings   func() (*settings, error)
	OpenStore  storeOpener
}

func newRefreshCmd(f *Factory, runF func(context.Context, *refreshOptions) error) *cobra.Command {
	opts := &refreshOptions{IO: f.IO, HTTPClient: f.httpClient(), Now: f.clock(), Settings: f.Settings, OpenStore: f.openStore}
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
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	cfg, err := newConfig(s, opts.HTTPClient, opts.Now)
	if err != nil {
		return err
	}
	st, old, err := openUser(ctx, s, opts.OpenStore, opts.IO, opts.Now())
	if err != nil {
		return err
	}
	t, err := refreshUser(ctx, s, cfg, st, old, -1)
	if err != nil {
		return err
	}
	opts.IO.Printf("Refreshed the token of profile %s; it expires %s.\n", s.Profile, describeTime(t.Expiry, opts.Now()))
	return nil
}

// validFor reports whether t is valid now and stays so for at least
// minValid, as EnsureToken judges it, so that a cached token is printed
// without building a Config. A token without expiry never expires; a
// negative minValid means never (a forced refresh).
func validFor(t *spotauth.Token, minValid time.Duration, now time.Time) bool {
	return minValid >= 0 && t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || t.Expiry.Sub(now) > minValid)
}

// refreshUser makes sure the stored user token stays valid for minValid
// (minValid < 0 forces a refresh) with the library's one-shot refresh
// protocol, spotauth.Config.EnsureToken: under the store's lease, so that
// concurrent spotauth processes refresh once between them; a rotated
// refresh token saved (and a failed save retried) before the token is
// returned; on invalid_grant the stored token deleted if it is still the
// refused one. old, the token loaded before, gives the hints their scopes.
func refreshUser(ctx context.Context, s *settings, cfg *spotauth.Config, st spotauth.TokenStore, old *spotauth.Token, minValid time.Duration) (*spotauth.Token, error) {
	if old != nil && old.RefreshToken != "" && !old.PKCE && cfg.ClientSecret == "" {
		return nil, missingSecret(s)
	}
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

// missingSecret is the error of a profile whose login used the client
// secret (its refresh needs it too) when none is configured: it says
// where the secret came from at login and where to give it.
func missingSecret(s *settings) error {
	from := ""
	if s.Saved != nil && s.Saved.SecretFrom != "" {
		from = fmt.Sprintf("At login it came from %s. ", s.Saved.SecretFrom)
	}
	return withHint(&configError{fmt.Errorf("spotauth: the token of profile %s was issued with the client secret and needs it to refresh, but none is configured", s.Profile)},
		"%sProvide it: pass --client-secret, set %s, or add %s = ... to %s.", from, spotauth.EnvClientSecret, spotauth.EnvClientSecret, configFilePathHint(s))
}

// refreshError says what went wrong with a refresh (or app-token
// request), with the profile's login line where logging in again helps.
func refreshError(err error, s *settings, scopes spotauth.Scopes) error {
	store := fmt.Sprintf("Check the token store (%s) and try again.", storeDesc(s))
	se, isStore := errors.AsType[*spotauth.StoreError](err)
	switch {
	case errors.Is(err, spotauth.ErrLeaseBusy):
		return withHint(wrapf(err, "could not refresh the token"),
			"Try again; if it persists, check the token store (%s).", storeDesc(s))
	case errors.Is(err, spotauth.ErrReauthorize) || errors.Is(err, spotauth.ErrInvalidGrant):
		return withHint(wrapf(err, "the authorization of profile %s is no longer valid (revoked, or past its 6 months); the stored token was removed", s.Profile),
			"Log in again: %s", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrTokenNotFound):
		return notLoggedIn(s, scopes)
	case errors.Is(err, spotauth.ErrNoRefreshToken):
		return withHint(fmt.Errorf("%w (profile %s)", spotauth.ErrNoRefreshToken, s.Profile), "Run: %s", loginLine(s, scopes))
	case errors.Is(err, spotauth.ErrInvalidClient):
		return withHint(wrapf(err, "refresh refused"),
			"Check the client ID and secret: they must be those of the app you logged in with (spotauth doctor).")
	case isStore && se.Op == "save":
		return withHint(wrapf(err, "could not store the refreshed token"), "%s", store)
	case isStore:
		return withHint(err, "%s", store)
	}
	return withHint(wrapf(err, "could not refresh the token"),
		"Check the network and --accounts-url (%s), then try again; the stored token was kept.", s.AccountsURL)
}

// exchangeHint says what to do after a failed request for a new token (a
// code exchange, client credentials); "" leaves the hint to [classify].
func exchangeHint(err error, s *settings) string {
	switch {
	case errors.Is(err, spotauth.ErrInvalidClient):
		return "" // classify's
	case errors.Is(err, spotauth.ErrInvalidGrant):
		return "The code expired or the redirect URI differs from the registered one; run " + loginLine(s, spotauth.Scopes{}) + " again."
	}
	return "Check the network and --accounts-url (" + s.AccountsURL + "), then run spotauth login again."
}

// expiryMargin is how long a token must stay valid for status and token
// (by default) to use it without a refresh: Spotify advises refreshing when
// less than a minute remains.
const expiryMargin = time.Minute
