package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type statusOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Now        func() time.Time
	Settings   func() (*settings, error)
	OpenStore  storeOpener

	JSON  bool
	Check bool
	All   bool
}

func newStatusCmd(f *Factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{IO: f.IO, HTTPClient: f.httpClient(), Now: f.clock(), Settings: f.Settings, OpenStore: f.openStore}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the login state of the profile (never a token)",
		Long: `Show the profile, client ID, account, scopes, expiry, whether PKCE was used and
a refresh token is held, and when the 6-month authorization ends. Never shows
a token. --check calls the Web API's /v1/me to prove the token works
(refreshing it first if needed).

With --all, list every profile of the config directory and file store, one
block each: account, scopes, expiry and store (with --json, an array).

Exits 3 when not logged in (with --all: when no profile is) or when --check
finds the authorization invalid.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the status as JSON on stdout")
	cmd.Flags().BoolVar(&opts.Check, "check", false, "call /v1/me to check that the token works")
	cmd.Flags().BoolVar(&opts.All, "all", false, "show every profile")
	return cmd
}

// statusJSON is the --json form of status. It holds no token.
type statusJSON struct {
	Profile             string   `json:"profile"`
	ClientID            string   `json:"client_id"`
	Store               string   `json:"store"`
	LoggedIn            bool     `json:"logged_in"`
	Account             *account `json:"account,omitempty"`
	Scopes              []string `json:"scopes"`
	ExpiresAt           string   `json:"expires_at,omitempty"`
	Expired             bool     `json:"expired"`
	PKCE                bool     `json:"pkce"`
	HasRefreshToken     bool     `json:"has_refresh_token"`
	Encrypted           *bool    `json:"encrypted,omitempty"` // at rest; absent when the store cannot tell
	AuthorizedAt        string   `json:"authorized_at,omitempty"`
	AuthorizationEndsAt string   `json:"authorization_ends_at,omitempty"`
	AppTokenExpiresAt   string   `json:"app_token_expires_at,omitempty"`
	Check               *check   `json:"check,omitempty"`
	Error               string   `json:"error,omitempty"` // status --all: why the profile could not be read

	result error // the profile's failure, for the exit code
}

type check struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func runStatus(ctx context.Context, opts *statusOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	if opts.All {
		return runStatusAll(ctx, opts, s)
	}
	js, t, err := profileStatus(ctx, opts, s)
	if err != nil {
		return err
	}
	result := js.result
	if opts.JSON {
		data, _ := json.MarshalIndent(js, "", "  ")
		fmt.Fprintf(opts.IO.Out, "%s\n", data)
		// The JSON says it all; keep the exit code, print only the hint.
		return result
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Profile:        %s\n", js.Profile)
	fmt.Fprintf(out, "Client ID:      %s\n", orNone(js.ClientID))
	fmt.Fprintf(out, "Token store:    %s\n", js.Store)
	if !js.LoggedIn {
		fmt.Fprintf(out, "Logged in:      no\n")
		return result
	}
	if js.Account != nil {
		fmt.Fprintf(out, "Account:        %s\n", js.Account.describe())
	} else {
		fmt.Fprintf(out, "Account:        (unknown; spotauth status --check asks Spotify)\n")
	}
	fmt.Fprintf(out, "Scopes:         %s\n", scopesText(t.Scope))
	fmt.Fprintf(out, "Access token:   expires %s\n", describeTime(t.Expiry, opts.Now()))
	fmt.Fprintf(out, "Flow:           %s\n", map[bool]string{true: "authorization code with PKCE", false: "authorization code with client secret"}[t.PKCE])
	fmt.Fprintf(out, "Refresh token:  %s\n", map[bool]string{true: "held", false: "none (log in again when the access token expires)"}[js.HasRefreshToken])
	if js.Encrypted != nil {
		fmt.Fprintf(out, "Encrypted:      %s\n", encryptedText(*js.Encrypted))
	}
	if end := authorizationEnd(t); !end.IsZero() {
		fmt.Fprintf(out, "Authorization:  ends %s (6 months after login)\n", describeTime(end, opts.Now()))
	}
	if js.AppTokenExpiresAt != "" {
		fmt.Fprintf(out, "App token:      expires %s\n", js.AppTokenExpiresAt)
	}
	if js.Check != nil {
		if js.Check.OK {
			fmt.Fprintf(out, "Check:          ok, /v1/me answered\n")
		} else {
			fmt.Fprintf(out, "Check:          FAILED\n")
		}
	}
	return result
}

// runStatusAll shows every known profile, like gh auth status: one block
// each, or a JSON array. It fails when no profile is logged in, or with
// the first profile's failure (a store error, a failed --check).
func runStatusAll(ctx context.Context, opts *statusOptions, s *settings) error {
	profiles, err := knownProfiles(s)
	if err != nil {
		return err
	}
	all := []statusJSON{}
	var result error
	loggedIn := false
	out := opts.IO.Out
	for _, p := range profiles {
		ps, err := s.forProfile(p)
		if err != nil {
			return err
		}
		js, t, err := profileStatus(ctx, opts, ps)
		if err != nil {
			js = statusJSON{Profile: p, ClientID: ps.ClientID, Store: storeDesc(ps), Scopes: []string{}, Error: err.Error()}
			js.result = err
		}
		loggedIn = loggedIn || js.LoggedIn
		if result == nil && (err != nil || js.Check != nil && !js.Check.OK) {
			result = js.result
		}
		all = append(all, js)
		if opts.JSON {
			continue
		}
		fmt.Fprintf(out, "%s\n", p)
		switch {
		case js.Error != "":
			fmt.Fprintf(out, "  Error:      %s\n", js.Error)
		case !js.LoggedIn:
			fmt.Fprintf(out, "  Logged in:  no\n")
		default:
			who := "(unknown; spotauth status --check asks Spotify)"
			if js.Account != nil {
				who = js.Account.describe()
			}
			fmt.Fprintf(out, "  Account:    %s\n", who)
			fmt.Fprintf(out, "  Scopes:     %s\n", scopesText(t.Scope))
			fmt.Fprintf(out, "  Expires:    %s\n", describeTime(t.Expiry, opts.Now()))
			if js.Check != nil {
				fmt.Fprintf(out, "  Check:      %s\n", map[bool]string{true: "ok, /v1/me answered", false: "FAILED: " + js.Check.Error}[js.Check.OK])
			}
		}
		fmt.Fprintf(out, "  Client ID:  %s\n", orNone(js.ClientID))
		fmt.Fprintf(out, "  Store:      %s\n", js.Store)
	}
	if opts.JSON {
		data, _ := json.MarshalIndent(all, "", "  ")
		fmt.Fprintf(out, "%s\n", data)
	}
	if result == nil && !loggedIn {
		return withHint(wrapf(spotauth.ErrTokenNotFound, "no profile is logged in"), "Run: spotauth login")
	}
	return result
}

// profileStatus loads what status shows of the profile of s, checking the
// token with --check. js.result is the profile's failure (not logged in,
// a failed check); the error is a store's that stopped the rest.
func profileStatus(ctx context.Context, opts *statusOptions, s *settings) (js statusJSON, t *spotauth.Token, err error) {
	st, err := opts.OpenStore(s, userToken)
	if err != nil {
		return js, nil, err
	}
	js = statusJSON{Profile: s.Profile, ClientID: s.ClientID, Store: storeDesc(s), Scopes: []string{}}
	now := opts.Now()
	t, loadErr := st.Load(ctx)
	if loadErr != nil && !errors.Is(loadErr, spotauth.ErrTokenNotFound) {
		return js, nil, loadFailed(s, loadErr)
	}
	if app, err := opts.OpenStore(s, appToken); err == nil {
		if at, err := app.Load(ctx); err == nil {
			js.AppTokenExpiresAt = rfc3339(at.Expiry)
		}
	}
	if loadErr != nil {
		js.result = notLoggedIn(s, spotauth.Scopes{})
		return js, nil, nil
	}
	warnAuthorizationEnd(opts.IO, now, s, t)
	js.LoggedIn = true
	js.Account = s.Saved.account()
	for sc := range t.Scope.All() {
		js.Scopes = append(js.Scopes, string(sc))
	}
	js.ExpiresAt = rfc3339(t.Expiry)
	js.Expired = !t.Expiry.IsZero() && !t.Expiry.After(now)
	js.PKCE = t.PKCE
	js.HasRefreshToken = t.RefreshToken != ""
	if ss, ok := st.(sealedStore); ok {
		if sealed, err := ss.Sealed(ctx); err == nil {
			js.Encrypted = &sealed
		}
	}
	js.AuthorizedAt = rfc3339(t.AuthorizedAt)
	js.AuthorizationEndsAt = rfc3339(authorizationEnd(t))
	if opts.Check {
		js.Check = &check{OK: true}
		acct, err := checkToken(ctx, opts, s, st, t)
		if err != nil {
			js.Check = &check{Error: redactURL(err.Error())}
			js.result = err
		} else {
			js.Account = acct
			if p := s.Saved; p.hasSettings() {
				p.Account = acct
				_ = writeProfile(s.ConfigDir, s.Profile, p)
			}
		}
	}
	return js, t, nil
}

// checkToken proves the token works: refresh if it is expiring, then
// GET /v1/me.
func checkToken(ctx context.Context, opts *statusOptions, s *settings, st spotauth.TokenStore, t *spotauth.Token) (*account, error) {
	if !validFor(t, expiryMargin, opts.Now()) {
		cfg, err := newConfig(s, opts.HTTPClient, opts.Now)
		if err != nil {
			return nil, err
		}
		if t, err = refreshUser(ctx, s, cfg, st, t, expiryMargin); err != nil {
			return nil, err
		}
	}
	acct, err := fetchMe(ctx, opts.HTTPClient, s.APIURL, t.AccessToken)
	ae, isAPI := errors.AsType[*apiError](err)
	switch {
	case isAPI && ae.Status == http.StatusUnauthorized:
		return nil, withHint(err, "The Web API refused the token; run: %s", loginLine(s, t.Scope))
	case isAPI && ae.Status == http.StatusForbidden:
		return nil, withHint(err, "The token lacks a scope /v1/me needs; run: %s", loginLine(s, t.Scope))
	case err != nil:
		return nil, withHint(err, "Check the network and --api-url (%s).", s.APIURL)
	}
	return acct, nil
}
