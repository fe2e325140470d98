package spotauth

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SpotifyAccountsURL is the base URL of Spotify's Accounts service.
const SpotifyAccountsURL = "https://accounts.spotify.com"

// Endpoint holds the URLs of an Accounts service.
type Endpoint struct {
	AuthURL  string // GET: the user's browser goes here
	TokenURL string // POST: code exchange, refresh, client credentials
}

// NewEndpoint returns the endpoint of an Accounts service at base, such as
// [SpotifyAccountsURL] or a spotauthtest server's URL: base+"/authorize" and
// base+"/api/token". A trailing slash on base is ignored.
func NewEndpoint(base string) Endpoint {
	base = strings.TrimRight(base, "/")
	return Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/api/token"}
}

// RetryPolicy bounds the retries of token requests. The zero value means
// the defaults documented on each field.
//
// Which failures are retried depends on the grant:
//
//   - 429 Too Many Requests: every grant, the code exchange included. The
//     wait is the Retry-After header's (a backoff delay when absent). A
//     wait longer than MaxRetryAfter, or one that would outlast ctx's
//     deadline, is not waited out: the [*TokenError] is returned at once
//     with RetryAfter set, for the caller to decide.
//   - 5xx and transport errors (connection refused or dropped, a body cut
//     short): client_credentials and refresh_token only, with full-jitter
//     exponential backoff (waiting at least a 503's Retry-After, if any,
//     under the same cap as a 429's). Both are safe to repeat: the client
//     credentials stay valid through a failed request, and so does the
//     refresh token under Spotify's current behaviour. Where refresh
//     tokens rotate, a refresh whose answer was lost may have spent the
//     old one; the retry then fails with invalid_grant, as any later
//     refresh with it would.
//   - authorization_code after a 5xx or a transport error: never. The
//     code is single-use, and the server may have consumed it before
//     failing; a retry would then get invalid_grant ("Invalid
//     authorization code"), hiding the real error behind a misleading
//     one. A 429 is different: the request was refused before it was
//     processed, so the code is still unspent.
//   - any other 4xx, such as invalid_grant or invalid_client, and
//     malformed success responses: never. Retrying cannot fix them, and
//     invalid_grant on a refresh means the user must authorize again.
//
// Waits end as soon as ctx is done.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, first included
	// (0 means 4; 1 disables retries).
	MaxAttempts int
	// MaxRetryAfter caps the wait a 429's Retry-After may impose
	// (0 means 30 s). A longer Retry-After is returned to the caller as a
	// [*TokenError] with RetryAfter set, instead of being waited out.
	MaxRetryAfter time.Duration
	// BaseDelay is the first backoff delay after a 5xx or transport error
	// (0 means 200 ms); each further delay doubles, with full jitter.
	BaseDelay time.Duration
	// MaxDelay caps a backoff delay (0 means 5 s).
	MaxDelay time.Duration
}

// Config describes a Spotify app and how to reach the Accounts service.
// Its methods are safe for concurrent use. String, GoString, Format and
// LogValue never show ClientSecret. fmt cannot call them on a Config held
// by value in an unexported struct field, and prints its fields raw there,
// secret included: such fields should hold a *Config, which fmt prints as
// an address.
//
// Each flow authenticates the client in exactly one way, and a failed
// request is never re-sent with another (unlike golang.org/x/oauth2's
// AuthStyleAutoDetect, which would send the secret a second time and hide
// the real error): a confidential client sends
// "Authorization: Basic base64(client_id:client_secret)"; a PKCE exchange
// or the refresh of a PKCE token sends client_id in the body, with no
// secret and no Authorization header.
//
// Token requests are retried as [RetryPolicy] describes.
type Config struct {
	// ClientID is the app's client ID, from Spotify's developer dashboard.
	ClientID string
	// ClientSecret is the app's secret; empty for a public (PKCE-only) client.
	ClientSecret string
	// RedirectURL is the redirect URI registered for the app, sent to
	// /authorize and with the code exchange.
	RedirectURL string
	// Scopes are requested by [Config.AuthCodeURL] unless overridden.
	Scopes Scopes
	// Endpoint is the Accounts service; the zero value means
	// NewEndpoint(SpotifyAccountsURL). An empty AuthURL or TokenURL alone
	// takes Spotify's.
	Endpoint Endpoint
	// HTTPClient sends the token requests; nil means http.DefaultClient.
	// Its redirect policy is not used: a token request never follows a
	// redirect, which is reported as a bad response.
	HTTPClient *http.Client
	// Retry bounds retries of token requests; the zero value means defaults.
	Retry RetryPolicy
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// An AuthCodeOption changes an authorization URL or a code exchange. The
// interface is sealed: use the values and constructors of this package.
type AuthCodeOption interface {
	setAuthCode(*authCodeParams)
}

type authCodeParams struct {
	showDialog  bool
	challenge   string
	verifier    string
	scopes      *Scopes
	redirectURL *string
}

type authCodeOptionFunc func(*authCodeParams)

func (f authCodeOptionFunc) setAuthCode(p *authCodeParams) { f(p) }

// ShowDialog makes Spotify show the consent dialog even when the user has
// already approved the app (show_dialog=true). Exchange ignores it.
var ShowDialog AuthCodeOption = showDialogOption{}

type showDialogOption struct{}

func (showDialogOption) setAuthCode(p *authCodeParams) { p.showDialog = true }

// S256ChallengeOption adds the PKCE S256 challenge derived from verifier to
// an authorization URL (code_challenge_method=S256 and code_challenge).
// Exchange ignores it; pass the same verifier there with [VerifierOption].
func S256ChallengeOption(verifier string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.challenge = S256Challenge(verifier) })
}

// VerifierOption sends the PKCE code verifier with a code exchange, which
// then authenticates with the client ID alone: client_id and code_verifier
// in the body, no secret, no Authorization header. An invalid verifier
// makes Exchange fail with [ErrInvalidVerifier] before sending anything.
// AuthCodeURL ignores it.
func VerifierOption(verifier string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.verifier = verifier })
}

// ScopesOption requests scopes instead of [Config.Scopes]. Exchange
// ignores it.
func ScopesOption(scopes Scopes) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.scopes = &scopes })
}

// RedirectURLOption uses uri instead of [Config.RedirectURL], in the
// authorization URL and in the exchange alike. A command-line tool that
// listens on a dynamic loopback port sets it to the URI with that port
// (see [WithRedirectPort]): Spotify requires the exact same string in both
// requests.
func RedirectURLOption(uri string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.redirectURL = &uri })
}

func collect(opts []AuthCodeOption) authCodeParams {
	var p authCodeParams
	for _, o := range opts {
		if o != nil {
			o.setAuthCode(&p)
		}
	}
	return p
}

func (c *Config) endpoint() Endpoint {
	e := c.Endpoint
	def := NewEndpoint(SpotifyAccountsURL)
	if e.AuthURL == "" {
		e.AuthURL = def.AuthURL
	}
	if e.TokenURL == "" {
		e.TokenURL = def.TokenURL
	}
	return e
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) redirectURL(p *authCodeParams) string {
	if p.redirectURL != nil {
		return *p.redirectURL
	}
	return c.RedirectURL
}

// queryEscape escapes s for a query, with spaces as %20 rather than "+":
// Spotify's documentation and examples use %20 in scope.
func queryEscape(s string) string {
	// QueryEscape turns a literal "+" into %2B, so every "+" left stands for a space.
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// AuthCodeURL returns the URL of Spotify's consent page, to which the user's
// browser is sent. state must be the unguessable value later compared with
// the redirect's (see [GenState]); an empty state is left out, which
// Spotify allows but spotauth's [UserAuth] never does.
//
// The query holds, in this order: client_id, response_type=code,
// redirect_uri, state, scope (space-separated, spaces encoded as %20;
// left out when no scope is requested), show_dialog=true with
// [ShowDialog], and code_challenge_method=S256 with code_challenge with
// [S256ChallengeOption].
func (c *Config) AuthCodeURL(state string, opts ...AuthCodeOption) string {
	p := collect(opts)
	var b strings.Builder
	auth := c.endpoint().AuthURL
	b.WriteString(auth)
	switch {
	case !strings.Contains(auth, "?"):
		b.WriteByte('?')
	case !strings.HasSuffix(auth, "?") && !strings.HasSuffix(auth, "&"):
		b.WriteByte('&')
	}
	first := true
	add := func(k, v string) {
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(queryEscape(v))
	}
	add("client_id", c.ClientID)
	add("response_type", "code")
	if r := c.redirectURL(&p); r != "" {
		add("redirect_uri", r)
	}
	if state != "" {
		add("state", state)
	}
	scopes := c.Scopes
	if p.scopes != nil {
		scopes = *p.scopes
	}
	if scopes.Len() > 0 {
		add("scope", scopes.String())
	}
	if p.showDialog {
		add("show_dialog", "true")
	}
	if p.challenge != "" {
		add("code_challenge_method", "S256")
		add("code_challenge", p.challenge)
	}
	return b.String()
}

// BasicAuth returns the value of the Authorization header with which a
// confidential client authenticates to the token endpoint:
// "Basic " + base64(clientID + ":" + clientSecret), with standard base64
// (RFC 4648 §4, "+" "/" and "=" padding), as Spotify documents it.
//
// The Python package spotify (spotify.oauth.build_auth_token) computes the
// same credential but differs twice: it returns it without the "Basic "
// prefix (its callers add "Basic "), and it encodes with
// base64.urlsafe_b64encode ("-" and "_" instead of "+" and "/"), which
// gives the same text only when the encoding contains neither "+" nor "/".
func BasicAuth(clientID, clientSecret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret))
}

// requireClient checks the client ID, and the secret when needSecret.
func (c *Config) requireClient(grant string, needSecret bool) error {
	if c.ClientID == "" {
		return fmt.Errorf("%w: ClientID is empty", ErrInvalidConfig)
	}
	if needSecret && c.ClientSecret == "" {
		switch grant {
		case GrantAuthorizationCode:
			return fmt.Errorf("%w: a code exchange needs ClientSecret, or a PKCE verifier (VerifierOption)", ErrInvalidConfig)
		case GrantRefreshToken:
			return fmt.Errorf("%w: refreshing a token that did not come from PKCE needs ClientSecret", ErrInvalidConfig)
		default:
			return fmt.Errorf("%w: the client-credentials grant needs ClientSecret", ErrInvalidConfig)
		}
	}
	return nil
}

// authenticate gives r its one client authentication: client_id in the
// body for a public (PKCE) request, or the Basic header with the secret,
// which is then redacted from errors with its base64 form. Every flow
// calls it once, so no request carries two styles and none is re-sent
// with the other.
func (c *Config) authenticate(r *tokenRequest, public bool) {
	if public {
		r.form.Set("client_id", c.ClientID)
		return
	}
	r.auth = BasicAuth(c.ClientID, c.ClientSecret)
	r.secrets = append(r.secrets, c.ClientSecret, strings.TrimPrefix(r.auth, "Basic "))
}

// Exchange trades an authorization code for a user token, at once: codes
// are single-use and short-lived.
//
// Without options it authenticates with the client secret (Basic). With
// [VerifierOption] it is a PKCE exchange: client_id and code_verifier in
// the body, no secret. The redirect_uri sent is [Config.RedirectURL], or
// that of [RedirectURLOption], which must be the exact string sent to
// /authorize.
//
// The token's Expiry is the time the request was sent plus expires_in
// (conservative: never later than Spotify's), its AuthorizedAt that same
// send time, and PKCE is set for a PKCE exchange.
//
// A code exchange is retried only after a 429: a rate-limited request is
// refused before it is processed, so the single-use code was not spent.
// It is never retried after a 5xx or a transport error, because the code
// may have been consumed by then: a retry would fail with invalid_grant
// ("Invalid authorization code") and hide the real error. Start a new
// authorization instead.
func (c *Config) Exchange(ctx context.Context, code string, opts ...AuthCodeOption) (*Token, error) {
	p := collect(opts)
	pkce := p.verifier != ""
	if err := c.requireClient(GrantAuthorizationCode, !pkce); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, fmt.Errorf("%w: the authorization code is empty", ErrMissingCode)
	}
	redirect := c.redirectURL(&p)
	if redirect == "" {
		return nil, fmt.Errorf("%w: RedirectURL is empty; the exchange must send the redirect URI used at /authorize", ErrInvalidConfig)
	}
	r := tokenRequest{
		grant: GrantAuthorizationCode,
		form: url.Values{
			"grant_type":   {GrantAuthorizationCode},
			"code":         {code},
			"redirect_uri": {redirect},
		},
		secrets: []string{code},
	}
	if pkce {
		if err := ValidateVerifier(p.verifier); err != nil {
			return nil, err
		}
		r.form.Set("code_verifier", p.verifier)
		r.secrets = append(r.secrets, p.verifier)
	}
	c.authenticate(&r, pkce)
	wt, sent, err := c.retrieve(ctx, &r)
	if err != nil {
		return nil, err
	}
	t := newToken(wt, sent)
	t.PKCE = pkce
	t.AuthorizedAt = sent
	return t, nil
}

// ClientCredentials requests an app token with the client-credentials
// grant, authenticated with the client secret (Basic). The token has no
// refresh token and no scopes; request a new one when it expires.
// Failures after a 5xx or transport error are retried with backoff, and
// a 429 honours Retry-After (see [RetryPolicy]).
func (c *Config) ClientCredentials(ctx context.Context) (*Token, error) {
	if err := c.requireClient(GrantClientCredentials, true); err != nil {
		return nil, err
	}
	r := tokenRequest{
		grant: GrantClientCredentials,
		form:  url.Values{"grant_type": {GrantClientCredentials}},
		retry: true,
	}
	c.authenticate(&r, false)
	wt, sent, err := c.retrieve(ctx, &r)
	if err != nil {
		return nil, err
	}
	t := newToken(wt, sent)
	t.RefreshToken = "" // this grant has none; never keep a stray one
	return t, nil
}

// Refresh renews a user token. t is not modified.
//
// A PKCE token (t.PKCE) is refreshed with client_id in the body and no
// secret; any other with the client secret (Basic). When the response
// holds a refresh token, it replaces t's (Spotify has rotated refresh
// tokens and may again, revoking the old one at once); when it holds
// none, t's is kept. PKCE and AuthorizedAt carry over, and so do t's
// scopes when the response has none.
//
// invalid_grant (revoked, rotated away or past the 6-month lifetime)
// returns a [*TokenError] that matches [ErrReauthorize] and is never
// retried. 5xx and transport errors are retried with backoff, and a 429
// honours Retry-After (see [RetryPolicy]): a refresh token stays valid
// through a failed refresh, so a retry is safe (with rotating refresh
// tokens, see the caveat there).
//
// Refresh fails with [ErrNoRefreshToken] for a nil token or one without a
// refresh token, before sending anything.
func (c *Config) Refresh(ctx context.Context, t *Token) (*Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, fmt.Errorf("%w: the token has no refresh token (client-credentials tokens are requested again instead)", ErrNoRefreshToken)
	}
	if err := c.requireClient(GrantRefreshToken, !t.PKCE); err != nil {
		return nil, err
	}
	r := tokenRequest{
		grant: GrantRefreshToken,
		form: url.Values{
			"grant_type":    {GrantRefreshToken},
			"refresh_token": {t.RefreshToken},
		},
		secrets: []string{t.RefreshToken, t.AccessToken},
		retry:   true,
	}
	c.authenticate(&r, t.PKCE)
	wt, sent, err := c.retrieve(ctx, &r)
	if err != nil {
		return nil, err
	}
	nt := newToken(wt, sent)
	if nt.RefreshToken == "" {
		nt.RefreshToken = t.RefreshToken
	}
	if wt.Scope == "" {
		nt.Scope = t.Scope
	}
	nt.PKCE = t.PKCE
	nt.AuthorizedAt = t.AuthorizedAt
	return nt, nil
}

// String returns the config with ClientSecret redacted.
func (c Config) String() string {
	return fmt.Sprintf("spotauth.Config{ClientID: %q, ClientSecret: %s, RedirectURL: %q, Endpoint: %q}",
		c.ClientID, redactedSecret(c.ClientSecret), c.RedirectURL, c.endpoint().TokenURL)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb, so that %v, %+v, %#v, %s and %q
// never show ClientSecret.
func (c Config) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), c.GoString())
}

// LogValue implements [slog.LogValuer] with ClientSecret redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", redactedSecret(c.ClientSecret)),
		slog.String("redirect_url", c.RedirectURL),
		slog.String("token_url", c.endpoint().TokenURL),
	)
}

func redactedSecret(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}
