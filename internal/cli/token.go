package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/atomicfile"
)

type tokenOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Now        func() time.Time
	Settings   func() (*settings, error)
	OpenStore  storeOpener

	JSON              bool
	ClientCredentials bool
	MinValid          time.Duration
	// MinValidSet: --min-valid was given, and a fresh token that does not
	// meet it is an error.
	MinValidSet   bool
	RequireScopes []string
}

func newTokenCmd(f *Factory, runF func(context.Context, *tokenOptions) error) *cobra.Command {
	opts := &tokenOptions{IO: f.IO, HTTPClient: f.httpClient(), Now: f.clock(), Settings: f.Settings, OpenStore: f.openStore}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token",
		Long: `Print a valid access token and a newline on stdout, refreshing it first when it
expires within --min-valid. A rotated refresh token is stored before the token
is printed. Concurrent spotauth processes refresh once between them.

With --client-credentials, print an app token (client-credentials grant,
needs the client secret), cached and reused until it expires.`,
		Example: `  curl -H "Authorization: Bearer $(spotauth token)" https://api.spotify.com/v1/me
  spotauth token --json --require-scope playlist-read-private
  spotauth token --client-credentials`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.MinValid < 0 {
				return usageErrorf("Pass a duration of 0 or more, e.g. --min-valid 5m.", "invalid --min-valid %v", opts.MinValid)
			}
			if opts.MinValid >= spotifyTokenLifetime {
				return usageErrorf(fmt.Sprintf("Pass a duration shorter than %v, e.g. --min-valid 5m.", spotifyTokenLifetime),
					"--min-valid %v cannot be met: Spotify's access tokens are valid for %v", opts.MinValid, spotifyTokenLifetime)
			}
			if opts.ClientCredentials && len(opts.RequireScopes) > 0 {
				return usageErrorf("App tokens carry no scopes; drop --require-scope or --client-credentials.", "--require-scope cannot be used with --client-credentials")
			}
			opts.MinValidSet = cmd.Flags().Changed("min-valid")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runToken(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print JSON: access_token, token_type, expires_at, scope (never the refresh token)")
	fl.BoolVar(&opts.ClientCredentials, "client-credentials", false, "print an app token (client-credentials grant) instead of the user's")
	fl.DurationVar(&opts.MinValid, "min-valid", expiryMargin, "refresh first if the token expires within this duration (less than 1h, the life of Spotify's tokens)")
	fl.StringArrayVar(&opts.RequireScopes, "require-scope", nil, "fail unless the token has these scopes (names or presets; repeatable)")
	registerScopeCompletion(cmd, "require-scope")
	return cmd
}

// tokenJSON is the --json form: never the refresh token.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresAt   string `json:"expires_at,omitempty"`
	Scope       string `json:"scope"`
}

func printToken(out io.Writer, t *spotauth.Token, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(out, t.AccessToken)
		return err
	}
	j := tokenJSON{AccessToken: t.AccessToken, TokenType: t.TokenType, Scope: t.Scope.String()}
	if j.TokenType == "" {
		j.TokenType = "Bearer"
	}
	if !t.Expiry.IsZero() {
		j.ExpiresAt = t.Expiry.UTC().Format(time.RFC3339)
	}
	data, _ := json.Marshal(j)
	_, err := fmt.Fprintf(out, "%s\n", data)
	return err
}

func runToken(ctx context.Context, opts *tokenOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	if opts.ClientCredentials {
		return runAppToken(ctx, opts, s)
	}
	required, err := parseScopeArgs(opts.RequireScopes)
	if err != nil {
		return err
	}
	st, t, err := openUser(ctx, s, opts.OpenStore, opts.IO, opts.Now())
	if err != nil {
		return err
	}
	if missing := required.Difference(t.Scope); missing.Len() > 0 {
		return withHint(&missingScopesError{Profile: s.Profile, Missing: missing},
			"Log in again with them: %s", loginLine(s, t.Scope.Union(required)))
	}
	if !validFor(t, opts.MinValid, opts.Now()) {
		if err := opts.knownShort(s, userToken, t); err != nil {
			return err
		}
		// Only now is the configuration needed: the cached path stays light.
		cfg, err := newConfig(s, opts.HTTPClient, opts.Now)
		if err != nil {
			return err
		}
		if t, err = refreshUser(ctx, s, cfg, st, t, opts.MinValid); err != nil {
			return err
		}
		if err := opts.checkFresh(s, userToken, t); err != nil {
			return err
		}
	}
	return printToken(opts.IO.Out, t, opts.JSON)
}

// spotifyTokenLifetime is how long Spotify's access tokens are valid
// (expires_in 3600): --min-valid must be shorter.
const spotifyTokenLifetime = time.Hour

// A shortToken is a token of the profile, fresh from the Accounts
// service, that was valid for less than --min-valid asked. It is
// remembered beside the profile file (logout removes it), so that while
// it is the stored token spotauth token fails at once instead of getting
// another one just as short on every call.
type shortToken struct {
	ExpiresAt time.Time     `json:"expires_at"`
	Lifetime  time.Duration `json:"lifetime"`
}

func shortTokenFile(s *settings, kind tokenKind) string {
	// Not .json: the profile files are the .json files of the directory.
	return filepath.Join(profileDir(s.ConfigDir), storeName(s.Profile, kind)+".short-token")
}

// knownShort fails when t, the stored token, does not meet an explicit
// --min-valid and is the remembered short one: a refresh would bring one
// just as short.
func (opts *tokenOptions) knownShort(s *settings, kind tokenKind, t *spotauth.Token) error {
	now := opts.Now()
	if !opts.MinValidSet || t == nil || validFor(t, opts.MinValid, now) {
		return nil
	}
	data, err := os.ReadFile(shortTokenFile(s, kind))
	if err != nil {
		return nil
	}
	var short shortToken
	if json.Unmarshal(data, &short) == nil && short.ExpiresAt.Equal(t.Expiry) && t.Expiry.After(now) && short.Lifetime <= opts.MinValid {
		return tooShort(short.Lifetime, opts.MinValid)
	}
	return nil
}

// checkFresh fails when t, just obtained, does not meet an explicit
// --min-valid, and remembers it for knownShort. The default --min-valid
// takes a service's shorter tokens as they are.
func (opts *tokenOptions) checkFresh(s *settings, kind tokenKind, t *spotauth.Token) error {
	now := opts.Now()
	if !opts.MinValidSet || validFor(t, opts.MinValid, now) {
		return nil
	}
	lifetime := t.Expiry.Sub(now).Round(time.Second)
	data, _ := json.Marshal(shortToken{ExpiresAt: t.Expiry, Lifetime: lifetime})
	if os.MkdirAll(filepath.Dir(shortTokenFile(s, kind)), 0o700) == nil {
		_ = atomicfile.WriteFile(shortTokenFile(s, kind), data, 0o600)
	}
	return tooShort(lifetime, opts.MinValid)
}

// tooShort says that the Accounts service issues tokens valid for less
// than --min-valid.
func tooShort(lifetime, minValid time.Duration) error {
	return usageErrorf(fmt.Sprintf("Pass a --min-valid shorter than %v.", lifetime),
		"--min-valid %v cannot be met: the Accounts service issues access tokens valid for %v", minValid, lifetime)
}

// runAppToken prints a client-credentials token, cached in the profile's
// app-token slot and reused until it expires.
func runAppToken(ctx context.Context, opts *tokenOptions, s *settings) error {
	cfg, err := newConfig(s, opts.HTTPClient, opts.Now)
	if err != nil {
		return err
	}
	if cfg.ClientSecret == "" {
		return withHint(&configError{errors.New("spotauth: app tokens (client credentials) need the client secret")},
			"Pass --client-secret or set %s (it is on the app's page at https://developer.spotify.com/dashboard).", spotauth.EnvClientSecret)
	}
	st, err := opts.OpenStore(s, appToken)
	if err != nil {
		return err
	}
	if opts.MinValidSet {
		if cur, err := st.Load(ctx); err == nil {
			if err := opts.knownShort(s, appToken, cur); err != nil {
				return err
			}
		}
	}
	// One request between concurrent processes, under the store's lease.
	t, err := cfg.EnsureAppToken(ctx, st, opts.MinValid)
	if err != nil {
		if isA[*spotauth.StoreError](err) || errors.Is(err, spotauth.ErrLeaseBusy) {
			return refreshError(err, s, spotauth.Scopes{})
		}
		hint := "" // classify's, for a refused client ID or secret
		if !errors.Is(err, spotauth.ErrInvalidClient) {
			// No login involved: the request can simply be made again.
			hint = "Check the network and --accounts-url (" + s.AccountsURL + "), then try again."
		}
		return withHint(wrapf(err, "could not get an app token"), "%s", hint)
	}
	if err := opts.checkFresh(s, appToken, t); err != nil {
		return err
	}
	return printToken(opts.IO.Out, t, opts.JSON)
}
