package spotauth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, matched with [errors.Is]. Spotify's error codes are
// matched by [*TokenError] and [*AuthorizeError] values.
var (
	ErrInvalidGrant         = errors.New("spotauth: invalid_grant")  // code, refresh token or verifier refused
	ErrInvalidClient        = errors.New("spotauth: invalid_client") // wrong client ID or secret
	ErrInvalidRequest       = errors.New("spotauth: invalid_request")
	ErrUnsupportedGrantType = errors.New("spotauth: unsupported_grant_type")
	ErrInvalidScope         = errors.New("spotauth: invalid_scope")
	ErrAccessDenied         = errors.New("spotauth: access_denied") // the user refused consent
	ErrRateLimited          = errors.New("spotauth: rate limited")  // HTTP 429
	// ErrServerError: HTTP 5xx, or a server_error or
	// temporarily_unavailable redirect from /authorize.
	ErrServerError = errors.New("spotauth: server error")
	// ErrBadResponse: not the JSON Spotify documents (an HTML page, an
	// empty, truncated or wrongly shaped body).
	ErrBadResponse = errors.New("spotauth: malformed response")
	// ErrReauthorize: the user must authorize the app again: the refresh
	// token was revoked, rotated away, past its 6-month life, or deleted
	// from the store (a logout). Never retried.
	ErrReauthorize   = errors.New("spotauth: authorization required again")
	ErrStateMismatch = errors.New("spotauth: state mismatch") // the redirect's state is not the one sent
	ErrMissingCode   = errors.New("spotauth: redirect has no code")
	// ErrMalformedRedirect: a redirect URL that does not parse, or with a
	// repeated parameter. The message never repeats the URL.
	ErrMalformedRedirect  = errors.New("spotauth: malformed redirect URL")
	ErrAuthCompleted      = errors.New("spotauth: login attempt already completed") // a UserAuth exchanges once
	ErrNoRefreshToken     = errors.New("spotauth: no refresh token")
	ErrTokenNotFound      = errors.New("spotauth: token not found") // an empty store
	ErrUnknownScope       = errors.New("spotauth: unknown scope")
	ErrInvalidRedirectURI = errors.New("spotauth: invalid redirect URI")
	// ErrInvalidConfig: a Config, an environment or a config file lacks
	// what a call needs, or a PKCE verifier is invalid; found before any
	// request is sent.
	ErrInvalidConfig = errors.New("spotauth: invalid config")
	// ErrLeaseLost: a store refused a save or delete because another
	// holder stored or deleted a token since the lease was taken.
	ErrLeaseLost = errors.New("spotauth: refresh lease lost")
	ErrLeaseBusy = errors.New("spotauth: refresh lease busy") // see LeaseBusyError
	ErrClosed    = errors.New("spotauth: source closed")
)

// Grant types, as sent in grant_type and kept in [TokenError.Grant].
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
)

// TokenError is an error answer of Spotify's token endpoint, or a response
// that could not be read as one. It matches, with errors.Is, the sentinel of
// its Code (ErrInvalidGrant, ErrInvalidClient, ...), ErrReauthorize for
// invalid_grant on a refresh, ErrRateLimited for 429, ErrServerError for 5xx,
// and ErrBadResponse when the body was not Spotify's JSON (so a 502 HTML page
// matches both of the last two). Its fields and text never hold a secret.
type TokenError struct {
	Grant       string        // "authorization_code", "refresh_token" or "client_credentials"
	StatusCode  int           // the HTTP status
	Code        string        // Spotify's "error", such as "invalid_grant"; "" for a body that is not its JSON
	Description string        // Spotify's "error_description"
	RetryAfter  time.Duration // the Retry-After header's delay, 0 if absent
	Body        string        // a sanitized excerpt of a body that is not Spotify's JSON
	Reason      string        // why such a body was not understood, such as "HTML or XML body, want JSON"
}

// Error describes the failure without secrets.
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
	if e.Grant == grantRefreshToken && e.Code == "invalid_grant" {
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
		return e.Code == "invalid_grant" && e.Grant == grantRefreshToken
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
// ?error=access_denied. Its fields are sanitized: anyone can craft a redirect.
type AuthorizeError struct {
	Code        string // the "error" parameter, such as "access_denied"
	Description string // the "error_description" parameter, if any
}

// Error describes the refusal.
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

// Is matches ErrAccessDenied, ErrInvalidScope, ErrInvalidRequest, and
// ErrServerError for "server_error" and "temporarily_unavailable", which a
// later attempt may get past.
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

// LeaseBusyError reports that a [LockingStore]'s refresh lease stayed held by
// another holder until the wait for it ended. It matches [ErrLeaseBusy] and
// the context error that ended the wait.
type LeaseBusyError struct {
	Store  string // the store, such as a lock file's path or a Redis key
	Holder string // as far as the store knows, such as "process 4242 (stopped)"; may be empty
	Hint   string // what to do, such as how to end a stopped holder; may be empty
	Err    error  // the context error that ended the wait
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

// NewerTokenError is what a [LockingStore]'s Lock may return instead of a
// lease when another holder stored a token while it waited: EnsureToken and
// sources adopt Token (nil: load it) if they would adopt it from the store,
// and wait again otherwise.
type NewerTokenError struct {
	Token   *Token // the token stored; nil if the store did not say
	Version int64  // its version, for a store that keeps versions (0 otherwise)
}

// Error says that a newer token was stored.
func (e *NewerTokenError) Error() string {
	return "spotauth: another holder stored a token while this one waited for the refresh lease"
}

// StoreError is a failure of the token store during a refresh. A
// [RefreshingSource] reports it to [SourceOptions.OnError] (and returns it
// once no valid token remains); [Config.EnsureToken] returns it.
type StoreError struct {
	Op  string // "load", "lock", "save", "delete", "release" or "watch"
	Err error  // the store's error
}

// Error returns "spotauth: token store OP: " and the store's error,
// without the error's own "spotauth: ".
func (e *StoreError) Error() string {
	return "spotauth: token store " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "spotauth: ")
}

// Unwrap returns e.Err.
func (e *StoreError) Unwrap() error { return e.Err }
