package spotauth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
	// ErrServerError: HTTP 5xx from Spotify's token endpoint, or a
	// server_error or temporarily_unavailable redirect from /authorize.
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
	// ErrMissingCode: no authorization code, in a redirect that has
	// neither code nor error, or given to [Config.Exchange].
	ErrMissingCode = errors.New("spotauth: redirect has no code")
	// ErrRepeatedParameter: a redirect parameter appears more than once.
	// The error is a [*RepeatedParameterError] naming the parameter.
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
	// ErrLeaseBusy: waiting for a store's refresh lease ended (the
	// caller's context or the refresh timeout) while another holder kept
	// it. The error is a [*LeaseBusyError], which names the holder.
	ErrLeaseBusy = errors.New("spotauth: refresh lease busy")
	// ErrClosed: the [RefreshingSource] was closed.
	ErrClosed = errors.New("spotauth: source closed")

	// ErrInvalidConfig: a [Config] lacks what a call needs, such as a
	// client ID, a client secret for a confidential flow or a redirect URI.
	// Detected before any request is sent.
	ErrInvalidConfig = errors.New("spotauth: invalid config")
	// ErrMalformedRedirect: a redirect URL or query could not be parsed.
	// The error is a [*MalformedRedirectError].
	ErrMalformedRedirect = errors.New("spotauth: malformed redirect URL")
	// ErrAuthCompleted: a [UserAuth] was already used for a code exchange.
	// A login attempt completes at most once; start a new one.
	ErrAuthCompleted = errors.New("spotauth: login attempt already completed")

	// ErrNoClientID: credentials from the environment or a config file lack a
	// client ID.
	ErrNoClientID = errors.New("spotauth: no client ID")
	// ErrConfigSection: a config file has no section of the requested name.
	ErrConfigSection = errors.New("spotauth: config section not found")
)

// Grant types, as sent in grant_type and kept in [TokenError.Grant].
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// TokenError is an error answer of Spotify's token endpoint, or a response
// that could not be read as one. Match its kind with [errors.Is] against the
// sentinels, and reach it with [errors.As].
//
// It matches:
//   - by Code: [ErrInvalidGrant], [ErrInvalidClient], [ErrInvalidRequest],
//     [ErrUnsupportedGrantType], [ErrInvalidScope], [ErrAccessDenied];
//   - [ErrReauthorize] for invalid_grant on a refresh_token grant;
//   - by status: [ErrRateLimited] for 429, [ErrServerError] for 5xx;
//   - [ErrBadResponse] when Code is empty: the body was not Spotify's
//     token or error JSON (an HTML page from a proxy, an empty, truncated or
//     wrongly shaped body), whatever the status but 429, whose body does
//     not matter. A 502 HTML page thus matches both ErrServerError and
//     ErrBadResponse.
//
// Its fields and Error text never hold a secret: the fields that come from
// the body are sanitized and redacted.
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
	// Reason says why the body was not understood, such as "HTML or XML
	// body, want JSON"; empty when Code is set.
	Reason string
}

// Error describes the failure: grant, status, Spotify's code and
// description, and for unreadable bodies the reason and an excerpt.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("spotauth: ")
	if e.Grant != "" {
		b.WriteString(e.Grant)
		b.WriteString(" request failed: ")
	} else {
		b.WriteString("token request failed: ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if txt := http.StatusText(e.StatusCode); txt != "" {
		b.WriteString(" ")
		b.WriteString(txt)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
		if e.Description != "" {
			b.WriteString(": ")
			b.WriteString(e.Description)
		}
	} else {
		if e.Reason != "" {
			b.WriteString(": ")
			b.WriteString(e.Reason)
		}
		if e.Body != "" {
			fmt.Fprintf(&b, ": body %q", e.Body)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Grant == GrantRefreshToken && e.Code == "invalid_grant" {
		b.WriteString("; the user must authorize the app again")
	}
	if e.Code == "invalid_client" {
		b.WriteString("; check the client ID and secret")
	}
	return b.String()
}

// Is reports whether e matches target; see [TokenError] for the mapping.
func (e *TokenError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrReauthorize:
		return e.Code == "invalid_grant" && e.Grant == GrantRefreshToken
	case ErrInvalidClient:
		return e.Code == "invalid_client"
	case ErrInvalidRequest:
		return e.Code == "invalid_request"
	case ErrUnsupportedGrantType:
		return e.Code == "unsupported_grant_type"
	case ErrInvalidScope:
		return e.Code == "invalid_scope"
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrBadResponse:
		return e.Code == "" && e.StatusCode != http.StatusTooManyRequests
	}
	return false
}

// AuthorizeError is an error redirect from /authorize, such as
// ?error=access_denied. It matches [ErrAccessDenied] for "access_denied".
type AuthorizeError struct {
	// Code is the redirect's "error" parameter.
	Code string
	// Description is the "error_description" parameter, if any.
	Description string
}

// Error returns "spotauth: authorization failed: " and the code, with the
// description if any.
func (e *AuthorizeError) Error() string {
	s := "spotauth: authorization failed: " + e.Code
	if e.Code == "access_denied" {
		s += " (the user denied access)"
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Is reports whether e matches target: [ErrAccessDenied] for
// "access_denied", [ErrInvalidScope] for "invalid_scope",
// [ErrInvalidRequest] for "invalid_request", and [ErrServerError] for
// "server_error" and "temporarily_unavailable" (RFC 6749 §4.1.2.1), which
// a later attempt may get past.
func (e *AuthorizeError) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrInvalidScope:
		return e.Code == "invalid_scope"
	case ErrInvalidRequest:
		return e.Code == "invalid_request"
	case ErrServerError:
		return e.Code == "server_error" || e.Code == "temporarily_unavailable"
	}
	return false
}

// RepeatedParameterError reports a redirect parameter that appears more
// than once, which a genuine Spotify redirect never has. It matches
// [ErrRepeatedParameter].
type RepeatedParameterError struct {
	// Param is the parameter's name, such as "state".
	Param string
	// Count is how many times it appears.
	Count int
}

// Error names the parameter.
func (e *RepeatedParameterError) Error() string {
	return fmt.Sprintf("spotauth: redirect parameter %q appears %d times, want once", e.Param, e.Count)
}

// Is reports whether target is [ErrRepeatedParameter].
func (e *RepeatedParameterError) Is(target error) bool { return target == ErrRepeatedParameter }

// MalformedRedirectError reports a redirect URL or query that could not be
// parsed. It matches [ErrMalformedRedirect]. Its text never repeats the
// URL, which carries the authorization code.
type MalformedRedirectError struct {
	// Reason says what is wrong, without the URL's content.
	Reason string
	// Err is the underlying parse error, if any.
	Err error
}

// Error says what is wrong with the redirect.
func (e *MalformedRedirectError) Error() string {
	return "spotauth: malformed redirect URL: " + e.Reason
}

// Unwrap returns the underlying parse error.
func (e *MalformedRedirectError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrMalformedRedirect].
func (e *MalformedRedirectError) Is(target error) bool { return target == ErrMalformedRedirect }

// LeaseBusyError reports that a [LockingStore]'s refresh lease stayed held by
// another holder until the wait for it ended. It matches [ErrLeaseBusy] and
// the context error that ended the wait (context.DeadlineExceeded or
// context.Canceled).
type LeaseBusyError struct {
	// Store describes the store, such as a lock file's path or a Redis key,
	// without secrets.
	Store string
	// Holder names the holder as far as the store knows it, such as
	// "process 4242 (stopped)" or "process 4242 on host web-1"; empty if
	// unknown.
	Holder string
	// Hint says what to do, such as how to end a stopped holder; may be
	// empty.
	Hint string
	// Err is the context error that ended the wait.
	Err error
}

// Error names the store and the holder.
func (e *LeaseBusyError) Error() string {
	msg := "spotauth: the refresh lease of " + e.Store + " is held"
	if e.Holder != "" {
		msg += " by " + e.Holder
	}
	msg += "; gave up waiting"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap returns e.Err.
func (e *LeaseBusyError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrLeaseBusy].
func (e *LeaseBusyError) Is(target error) bool { return target == ErrLeaseBusy }

// StoreError is a failure of the token store during a refresh: loading,
// locking, saving or deleting. A [RefreshingSource] reports it to
// [SourceOptions.OnError], and returns it to callers when no valid token
// remains; [Config.EnsureToken] returns it. Match the store's own error
// with [errors.Is] or [errors.As].
type StoreError struct {
	// Op is "load", "lock", "save", "delete", "release" or "watch".
	Op string
	// Err is the store's error.
	Err error
}

// Error returns "spotauth: token store OP: " and the store's error.
func (e *StoreError) Error() string { return "spotauth: token store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *StoreError) Unwrap() error { return e.Err }
