package spotauth

import (
	"context"
	"net/http"
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
func NewEndpoint(base string) Endpoint { panic("unimplemented") }

// RetryPolicy bounds the retries of token requests. The zero value means
// the defaults documented on each field.
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
// LogValue never show ClientSecret.
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
	// NewEndpoint(SpotifyAccountsURL).
	Endpoint Endpoint
	// HTTPClient sends the token requests; nil means http.DefaultClient.
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
	showDialog bool
	challenge  string
	verifier   string
	scopes     *Scopes
}

type authCodeOptionFunc func(*authCodeParams)

func (f authCodeOptionFunc) setAuthCode(p *authCodeParams) { f(p) }

// ShowDialog makes Spotify show the consent dialog even when the user has
// already approved the app (show_dialog=true).
var ShowDialog AuthCodeOption = authCodeOptionFunc(func(p *authCodeParams) { p.showDialog = true })

// S256ChallengeOption adds the PKCE S256 challenge derived from verifier to
// an authorization URL.
func S256ChallengeOption(verifier string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.challenge = S256Challenge(verifier) })
}

// VerifierOption sends the PKCE code verifier with a code exchange, which
// then authenticates with the client ID alone.
func VerifierOption(verifier string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.verifier = verifier })
}

// ScopesOption requests scopes instead of [Config.Scopes].
func ScopesOption(scopes Scopes) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.scopes = &scopes })
}

// AuthCodeURL returns the URL of Spotify's consent page, to which the user's
// browser is sent. state must be the unguessable value later compared with
// the redirect's (see [GenState]).
func (c *Config) AuthCodeURL(state string, opts ...AuthCodeOption) string { panic("unimplemented") }

// Exchange trades an authorization code for a user token.
func (c *Config) Exchange(ctx context.Context, code string, opts ...AuthCodeOption) (*Token, error) {
	panic("unimplemented")
}

// ClientCredentials requests an app token with the client-credentials grant.
func (c *Config) ClientCredentials(ctx context.Context) (*Token, error) { panic("unimplemented") }

// Refresh renews a user token.
func (c *Config) Refresh(ctx context.Context, t *Token) (*Token, error) { panic("unimplemented") }

// GenerateVerifier returns a new PKCE code verifier: 32 bytes from
// crypto/rand, base64url without padding (43 characters).
func GenerateVerifier() string { panic("unimplemented") }

// S256Challenge returns base64url-nopad(SHA-256(verifier)).
func S256Challenge(verifier string) string { panic("unimplemented") }

// GenState returns a new CSRF state: 32 bytes from crypto/rand, base64url
// without padding.
func GenState() string { panic("unimplemented") }
