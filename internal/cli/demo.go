package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redact"
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
		return withHint(fmt.Errorf("spotauth: demo: %s: %w", what, err), "This is a bug in spotauth; please report it with the output above.")
	}

	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true
	srv.Start()
	defer srv.Close()
	step("started a fake Accounts service and Web API at %s (app %s)", srv.URL, srv.ClientID)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail("listen on 127.0.0.1", err)
	}
	redirect := "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/callback"
	results := make(chan redirectResult)
	done := make(chan struct{})
	stop := serveCallback(ln, &callbackServer{path: "/callback", results: results, done: done})
	defer stop()
	defer close(done)
	step("listening for the redirect on %s", redirect)

	cfg := &spotauth.Config{
		ClientID:    srv.ClientID,
		RedirectURL: redirect,
		AccountsURL: srv.URL,
		HTTPClient:  srv.Client(),
	}
	scopes := spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserReadEmail)
	ua, err := cfg.NewUserAuth(true, spotauth.ScopesOption(scopes))
	if err != nil {
		return fail("authorization URL", err)
	}
	authURL := ua.URL
	step("PKCE authorization URL (public client, no secret; verifier %s):\n           %s", shown(ua.Verifier), authURL)

	// The "browser": follows /authorize's redirect to the loopback listener.
	browserDone := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
		if err == nil {
			var resp *http.Response
			browser := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			if resp, err = browser.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		browserDone <- err
	}()
	var res redirectResult
	select {
	case res = <-results:
	case err := <-browserDone:
		if err == nil {
			err = errors.New("the browser finished without reaching the redirect URI")
		}
		return fail("consent", err)
	case <-time.After(30 * time.Second):
		return fail("consent", errors.New("no redirect within 30s"))
	case <-ctx.Done():
		return fail("consent", ctx.Err())
	}
	code, err := spotauth.ParseCode(res.raw)
	if err != nil {
		res.reply <- err
		return fail("redirect", err)
	}
	step("consent auto-approved; the redirect brought code %s and the state", shown(code))

	tok, err := ua.Exchange(ctx, res.raw)
	res.reply <- err
	if err != nil {
		return fail("code exchange", err)
	}
	<-browserDone
	step("checked the state and exchanged the code with the verifier: access token %s, refresh token %s, scopes %q, expires in %v",
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
