package spotauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spotauth/spotauth/internal/redact"
)

// SpotifyAccountsURL is the base URL of Spotify's Accounts service.
const SpotifyAccountsURL = "https://accounts.spotify.com"

// Config describes a Spotify app and how to reach the Accounts service. Its
// methods are safe for concurrent use; it must not be modified while in use.
// No fmt verb or slog handler shows ClientSecret (except fmt printing a Config
// held by value in an unexported field: hold a *Config there).
//
// Each request authenticates the client in exactly one way and is never re-
// sent with another: Basic with the client secret, or client_id alone for a
// PKCE exchange and the refresh of a PKCE token.
type Config struct {
	ClientID     string       // from Spotify's developer dashboard
	ClientSecret string       `json:"-"` // empty for a public (PKCE-only) client
	RedirectURL  string       // the registered redirect URI
	Scopes       Scopes       // requested by AuthCodeURL and NewUserAuth unless overridden
	AccountsURL  string       // the Accounts service, such as a spotauthtest server's URL; "" means Spotify's
	HTTPClient   *http.Client // sends token requests (never following redirects); nil means http.DefaultClient
	Retry        RetryPolicy
	Clock        Clock // nil means the system clock; tests use a controllable one
}

// An AuthCodeOption changes an authorization URL or a code exchange.
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

// ShowDialog makes Spotify ask for consent again even if the user approved the
// app before.
var ShowDialog AuthCodeOption = showDialogOption{}

type showDialogOption struct{}

func (showDialogOption) setAuthCode(p *authCodeParams) { p.showDialog = true }

// S256ChallengeOption adds the PKCE challenge of verifier to an authorization
// URL; pass the verifier to the exchange with [VerifierOption].
func S256ChallengeOption(verifier string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.challenge = S256Challenge(verifier) })
}

// VerifierOption makes a code exchange a PKCE one: it sends the verifier and
// the client ID, and no secret. AuthCodeURL ignores it.
func VerifierOption(verifier string) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.verifier = verifier })
}

// ScopesOption requests scopes instead of [Config.Scopes]. Exchange
// ignores it.
func ScopesOption(scopes Scopes) AuthCodeOption {
	return authCodeOptionFunc(func(p *authCodeParams) { p.scopes = &scopes })
}

// RedirectURLOption uses uri instead of Config.RedirectURL in the URL and the
// exchange alike, such as a loopback URI with the port a listener got (see
// [WithRedirectPort]).
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

// accountsURL returns c.AccountsURL, or Spotify's, without a trailing
// slash.
func (c *Config) accountsURL() string {
	if c.AccountsURL == "" {
		return SpotifyAccountsURL
	}
	return strings.TrimRight(c.AccountsURL, "/")
}

func (c *Config) now() time.Time {
	if c.Clock != nil {
		return c.Clock.Now()
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

// AuthCodeURL returns the URL of Spotify's consent page for state (see
// [GenerateState]); [Config.NewUserAuth] does all of this.
func (c *Config) AuthCodeURL(state string, opts ...AuthCodeOption) string {
	p := collect(opts)
	var b strings.Builder
	b.WriteString(c.accountsURL())
	b.WriteString("/authorize?")
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

// Format implements [fmt.Formatter] so that no verb shows ClientSecret.
func (c Config) Format(f fmt.State, verb rune) {
	s := fmt.Sprintf("spotauth.Config{ClientID: %q, ClientSecret: %s, RedirectURL: %q, AccountsURL: %q}",
		c.ClientID, redactedSecret(c.ClientSecret), c.RedirectURL, c.accountsURL())
	redact.Format(f, verb, s, s)
}

func redactedSecret(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}
