package spotauth

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Names of the environment variables, and of the config file keys, that
// hold an app's credentials. They are tekore's defaults.
const (
	EnvClientID     = "SPOTIFY_CLIENT_ID"
	EnvClientSecret = "SPOTIFY_CLIENT_SECRET"
	EnvRedirectURI  = "SPOTIFY_REDIRECT_URI"
	EnvUserRefresh  = "SPOTIFY_USER_REFRESH"
)

// Credentials are an app's settings as tekore keeps them: in the
// environment ([CredentialsFromEnv]) or in an INI file ([ReadConfigFile],
// [WriteConfigFile]).
//
// String, GoString, Format and LogValue never show ClientSecret or
// RefreshToken. As with [Config], keep Credentials in unexported struct
// fields by pointer, and log them themselves rather than inside a struct
// that slog's JSON handler would marshal field by field.
type Credentials struct {
	// ClientID is the app's client ID. Always set in credentials read by
	// this package.
	ClientID string
	// ClientSecret is the app's secret; empty for a public (PKCE) client.
	ClientSecret string
	// RedirectURI is the redirect URI registered for the app; may be empty.
	RedirectURI string
	// RefreshToken is a user's refresh token (tekore's "user refresh");
	// may be empty.
	RefreshToken string
}

// CredentialsFromEnv reads credentials from the environment variables
// SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_REDIRECT_URI and
// SPOTIFY_USER_REFRESH, the names tekore uses. See [CredentialsFromLookup].
func CredentialsFromEnv() (Credentials, error) { return CredentialsFromLookup(os.LookupEnv) }

// CredentialsFromLookup reads credentials through lookup, which is called
// with each of tekore's variable names ([EnvClientID] and the others) and
// works like [os.LookupEnv]. Values are trimmed of surrounding white space.
// An unset or empty SPOTIFY_CLIENT_ID is an error wrapping [ErrNoClientID]
// that names the variable; the other values are optional. A nil lookup
// means [os.LookupEnv].
func CredentialsFromLookup(lookup func(string) (string, bool)) (Credentials, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	c := Credentials{
		ClientID:     get(EnvClientID),
		ClientSecret: get(EnvClientSecret),
		RedirectURI:  get(EnvRedirectURI),
		RefreshToken: get(EnvUserRefresh),
	}
	if c.ClientID == "" {
		return Credentials{}, fmt.Errorf("%w: environment variable %s is unset or empty", ErrNoClientID, EnvClientID)
	}
	return c, nil
}

// Config returns a [Config] with the client ID, secret and redirect URI of
// c, and zero values elsewhere (Spotify's Accounts service, no scopes).
func (c Credentials) Config() *Config {
	return &Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURI}
}

// Token returns a token holding only c's refresh token, ready for
// [Config.Refresh], or nil when c has none. It is marked PKCE when c has no
// client secret, so that the refresh authenticates with the client ID
// alone. Its zero Expiry does not matter: it has no access token, so it is
// never [Token.Valid].
func (c Credentials) Token() *Token {
	if c.RefreshToken == "" {
		return nil
	}
	return &Token{RefreshToken: c.RefreshToken, PKCE: c.ClientSecret == ""}
}

// String describes c without its secrets:
//
//	spotauth.Credentials{ClientID:abc123, ClientSecret:set, RedirectURI:"http://127.0.0.1/callback", RefreshToken:unset}
func (c Credentials) String() string {
	return fmt.Sprintf("spotauth.Credentials{ClientID:%s, ClientSecret:%s, RedirectURI:%q, RefreshToken:%s}",
		printable(c.ClientID), setOrUnset(c.ClientSecret), c.RedirectURI, setOrUnset(c.RefreshToken))
}

// GoString describes c in Go syntax without its secrets, for %#v. Unlike a
// token's, no character of the client secret is shown: its first
// characters identify nothing, they are part of the secret.
func (c Credentials) GoString() string {
	return fmt.Sprintf("spotauth.Credentials{ClientID:%q, ClientSecret:%q, RedirectURI:%q, RefreshToken:%q}",
		c.ClientID, redactWhole(c.ClientSecret), c.RedirectURI, RedactSecret(c.RefreshToken))
}

// Format implements [fmt.Formatter] so that no verb prints a secret: %#v
// gives [Credentials.GoString], %q the quoted [Credentials.String], and
// every other verb [Credentials.String].
func (c Credentials) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), c.GoString())
}

// LogValue implements [slog.LogValuer]: a group with the client ID and
// redirect URI, and whether the secrets are set.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", setOrUnset(c.ClientSecret)),
		slog.String("redirect_uri", c.RedirectURI),
		slog.String("refresh_token", setOrUnset(c.RefreshToken)),
	)
}
