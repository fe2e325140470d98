package spotauth

import (
	"errors"
	"time"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrInvalidGrant: the code, refresh token or verifier was refused.
	ErrInvalidGrant = errors.New("spotauth: invalid_grant")
	// ErrInvalidClient: wrong client ID or secret (a configuration error).
	ErrInvalidClient = errors.New("spotauth: invalid_client")
	// ErrInvalidRequest: a required parameter was missing or malformed.
	ErrInvalidRequest = errors.New("spotauth: invalid_request")
	// ErrUnsupportedGrantType: the grant_type was refused.
	ErrUnsupportedGrantType = errors.New("spotauth: unsupported_grant_type")
	// ErrInvalidScope: a scope was refused.
	ErrInvalidScope = errors.New("spotauth: invalid_scope")
	// ErrAccessDenied: the user denied consent.
	ErrAccessDenied = errors.New("spotauth: access_denied")
	// ErrRateLimited: HTTP 429 from Spotify.
	ErrRateLimited = errors.New("spotauth: rate limited")
	// ErrServerError: HTTP 5xx from Spotify.
	ErrServerError = errors.New("spotauth: server error")
	// ErrBadResponse: a response that is not the JSON Spotify documents
	// (an HTML page, an empty, truncated or wrongly shaped body).
	ErrBadResponse = errors.New("spotauth: malformed response")
	// ErrReauthorize: the user must authorize the app again, because the
	// refresh token was revoked, rotated away or is past its 6-month life.
	// A refresh that fails with invalid_grant matches both this and
	// [ErrInvalidGrant]. It is never retried.
	ErrReauthorize = errors.New("spotauth: authorization required again")
	// ErrStateMismatch: the redirect's state is not the one sent (CSRF).
	ErrStateMismatch = errors.New("spotauth: state mismatch")
	// ErrMissingCode: the redirect has neither code nor error.
	ErrMissingCode = errors.New("spotauth: redirect has no code")
	// ErrRepeatedParameter: a redirect parameter appears more than once.
	ErrRepeatedParameter = errors.New("spotauth: repeated redirect parameter")
	// ErrNoRefreshToken: the token cannot be refreshed.
	ErrNoRefreshToken = errors.New("spotauth: no refresh token")
	// ErrTokenNotFound: a store holds no token. Stores wrap it.
	ErrTokenNotFound = errors.New("spotauth: token not found")
	// ErrUnknownScope: a scope is neither standard nor Open Access.
	ErrUnknownScope = errors.New("spotauth: unknown scope")
	// ErrInvalidRedirectURI: a redirect URI breaks Spotify's rules.
	ErrInvalidRedirectURI = errors.New("spotauth: invalid redirect URI")
	// ErrInvalidVerifier: a PKCE code verifier breaks RFC 7636's rules.
	ErrInvalidVerifier = errors.New("spotauth: invalid code verifier")
	// ErrLeaseLost: a store refused a save because the refresh lease was
	// lost or a newer token was stored meanwhile.
	ErrLeaseLost = errors.New("spotauth: refresh lease lost")
	// ErrClosed: the [RefreshingSource] was closed.
	ErrClosed = errors.New("spotauth: source closed")
)

// TokenError is an error answer of Spotify's token endpoint, or a response
// that could not be read as one. Match its kind with [errors.Is] against the
// sentinels, and reach it with [errors.As].
type TokenError struct {
	// Grant is the grant_type of the request: "authorization_code",
	// "refresh_token" or "client_credentials".
	Grant string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Spotify's "error" field, such as "invalid_grant"; empty when the
	// body was not Spotify's error JSON.
	Code string
	// Description is Spotify's "error_description", possibly empty.
	Description string
	// RetryAfter is the Retry-After header's delay, zero when absent.
	RetryAfter time.Duration
	// Body is a short excerpt of the response body, sanitized: control
	// characters removed, secrets sent in the request redacted.
	Body string
}

// AuthorizeError is an error redirect from /authorize, such as
// ?error=access_denied. It matches [ErrAccessDenied] for "access_denied".
type AuthorizeError struct {
	// Code is the redirect's "error" parameter.
	Code string
	// Description is the "error_description" parameter, if any.
	Description string
}
