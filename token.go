package spotauth

import "time"

// DefaultExpiryMargin is the margin [Token.IsExpiring] uses: a token that
// expires within it should be refreshed before use. Spotify and tekore use 60 s.
const DefaultExpiryMargin = 60 * time.Second

// Token is an access token with the information Spotify returns beside it.
//
// Its String, GoString and Format methods and its slog LogValue never show the
// access or refresh token in full. Its JSON form uses Spotify's field names
// plus absolute "expires_at" and "authorized_at" times.
type Token struct {
	// AccessToken authorizes Web API requests as "Authorization: Bearer ...".
	AccessToken string
	// TokenType is "Bearer".
	TokenType string
	// Scope holds the scopes Spotify granted. Empty for client-credentials tokens.
	Scope Scopes
	// Expiry is when the access token expires. The zero value means unknown,
	// which is treated as never expiring, as in golang.org/x/oauth2.
	Expiry time.Time
	// RefreshToken renews a user token. Empty for client-credentials tokens.
	RefreshToken string
	// PKCE reports that the token came from a PKCE authorization, so its
	// refresh is authenticated with the client ID alone, without a secret.
	PKCE bool
	// AuthorizedAt is when the user authorized the app. Spotify's refresh
	// tokens die 6 months after it, whatever the refreshes. Zero if unknown.
	AuthorizedAt time.Time
}

// Valid reports whether t is non-nil, has an access token and has not
// expired.
func (t *Token) Valid() bool { panic("unimplemented") }
