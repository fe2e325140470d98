package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redact"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

type demoOptions struct {
	IO *IOStreams
}

func newDemoCmd(f *Factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	opts := &demoOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "demo",
		Short: "Run a whole login offline against an embedded fake Accounts service",
		Long: `Run every flow offline against an embedded spotauthtest server, printing each
step and its time, tokens redacted:

  PKCE authorization URL -> consent (auto-approved) -> redirect to spotauth's
  loopback listener -> code exchange -> /v1/me -> refresh -> client-credentials
  token.

It needs no flags, environment, network or Spotify account, and stores nothing.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			return runDemo(ctx, opts)
		},
	}
}

// shown shows what a token looks like without revealing it.
func shown(tok string) string {
	if tok == "" {
		return "(none)"
	}
	return redact.Secret(tok)
}

func runDemo(ctx context.Context, opts *demoOptions) (err error) {
	out := opts.IO.Out
	start := time.Now()
	last := start
	step := func(format string, args ...any) {
		now := time.Now()
		fmt.Fprintf(out, "[%8s] %s\n", now.Sub(last).Round(10*time.Microsecond), fmt.Sprintf(format, args...))
		last = now
	}
	fail := func(what string, err error) error {
		return withHint(wrapf(err, "demo: %s", what), "This is a bug in spotauth; please report it with the output above.")
	}

	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true
	srv.HTTPServer = newHTTPServer()
	srv.Start()
	defer srv.Close()
	step("started a fake Accounts service and Web API at %s (app %s)", srv.URL, srv.ClientID)

	cfg := &spotauth.Config{
		ClientID:    srv.ClientID,
		RedirectURL: "http://127.0.0.1/callback",
		AccountsURL: srv.URL,
		HTTPClient:  srv.Client(),
	}
	// The "browser": its user approves at once, and it follows the
	// redirect to the loopback listener of login.Run.
	browser := func(authURL string) error {
		step("PKCE authorization URL (public client, no secret):\n           %s", authURL)
		if u, err := url.Parse(authURL); err == nil {
			step("listening for the redirect on %s", u.Query().Get("redirect_uri"))
		}
		c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(authURL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		code, err := spotauth.ParseCode(loc)
		if err != nil {
			return err
		}
		step("consent auto-approved; the redirect brings code %s and the state", shown(code))
		if resp, err = c.Get(loc); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	scopes := spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserReadEmail)
	tok, err := login.Run(ctx, cfg, &login.Options{Scopes: scopes, Browser: browser, Out: io.Discard, Timeout: 30 * time.Second})
	if err != nil {
		return fail("login", err)
	}
	step("login.Run checked the state and exchanged the code with the verifier: access token %s, refresh token %s, scopes %q, expires in %v",
		shown(tok.AccessToken), shown(tok.RefreshToken), tok.Scope.String(), time.Until(tok.Expiry).Round(time.Second))

	acct, err := fetchMe(ctx, srv.Client(), srv.URL, tok.AccessToken)
	if err != nil {
		return fail("/v1/me", err)
	}
	step("GET /v1/me with the access token: %s", acct.describe())

	nt, err := cfg.Refresh(ctx, tok)
	if err != nil {
		return fail("refresh", err)
	}
	step("refreshed: new access token %s (different: %v), refresh token kept: %v",
		shown(nt.AccessToken), nt.AccessToken != tok.AccessToken, nt.RefreshToken == tok.RefreshToken || nt.RefreshToken == "")

	app := *cfg
	app.ClientSecret = srv.ClientSecret
	at, err := app.ClientCredentials(ctx)
	if err != nil {
		return fail("client credentials", err)
	}
	step("client-credentials app token (with the client secret): %s, expires in %v",
		shown(at.AccessToken), time.Until(at.Expiry).Round(time.Second))
	fmt.Fprintf(out, "Done in %v. Every flow ran offline; nothing was stored.\n", time.Since(start).Round(time.Millisecond))
	return nil
}
