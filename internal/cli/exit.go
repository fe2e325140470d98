package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// Exit codes of spotauth. Commands return errors; [classify] alone turns
// them into these codes, and they are listed in "spotauth --help".
const (
	// ExitOK: success.
	ExitOK = 0
	// ExitError: any other failure (busy port, login timeout, file errors,
	// a Web API request refused as wrong, such as a 404).
	ExitError = 1
	// ExitUsage: a bad flag, argument or scope name.
	ExitUsage = 2
	// ExitAuth: not logged in, the authorization was revoked or has
	// expired (6 months), or a required scope is missing: run the
	// "spotauth login ..." line printed with the error.
	ExitAuth = 3
	// ExitDenied: the authorization was refused in the browser (denied
	// consent, state mismatch, an error redirect).
	ExitDenied = 4
	// ExitNetwork: the Accounts service or Web API could not be reached or
	// answered with 429, 5xx or a malformed response; stored tokens are kept.
	ExitNetwork = 5
	// ExitConfig: the configuration is wrong (no client ID, wrong client ID
	// or secret, a redirect URI spotauth cannot use, an unreadable config
	// file, a missing or wrong store key); "spotauth doctor" says what to
	// change.
	ExitConfig = 6
)

const exitCodesHelp = `Exit codes:
  0  success
  1  error (busy port, login timeout, file errors, a Web API 404 or 400)
  2  usage error (bad flag, argument or scope name)
  3  not logged in, authorization revoked or expired, or a required scope
     missing: run the "spotauth login ..." line printed with the error
  4  authorization refused in the browser (denied, state mismatch)
  5  network or service error (unreachable, 429, 5xx, malformed answer);
     stored tokens are kept
  6  configuration error (client ID, secret, redirect URI, config file,
     SPOTAUTH_STORE_KEY): run "spotauth doctor"
`

// usageError is a bad command line: an unknown command or flag, a wrong
// number of arguments, a flag value out of range. Cobra's own errors are
// wrapped in it by [newRootCmd], which sees them by where they come from
// (the flag parser, an Args check), not by their text.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usage error with a hint.
func usageErrorf(hint, format string, args ...any) error {
	return withHint(&usageError{fmt.Errorf("spotauth: "+format, args...)}, "%s", hint)
}

// configError is a setting spotauth cannot use for which the library has
// no error of its own: the config directory, a --store URL, a report of
// doctor. The library's configuration errors (no client ID, an invalid
// redirect URI, a missing config section) are recognized by their
// sentinels instead.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// missingScopesError reports that a token lacks scopes a command needs.
type missingScopesError struct {
	Profile string
	Missing spotauth.Scopes
}

func (e *missingScopesError) Error() string {
	return fmt.Sprintf("spotauth: the token of profile %s lacks the scopes %s", e.Profile, e.Missing)
}

// hintError attaches to an error what the user should do next, where
// that depends on the command (the login line of the profile, the token
// store, the flag to change). It does not change the exit code, which
// comes from the error it wraps.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHint attaches a hint to err; nil stays nil, and an empty hint
// leaves err as it is.
func withHint(err error, format string, args ...any) error {
	hint := fmt.Sprintf(format, args...)
	if err == nil || hint == "" {
		return err
	}
	return &hintError{err: err, hint: hint}
}

// classify is the one place where an error becomes an exit code and a
// hint. The code comes from the error's types and the sentinels it wraps,
// tried in this order (the first that matches wins):
//
//	2 usage    *usageError, spotauth.ErrUnknownScope
//	4 denied   a login that ended without its redirect (*login.WaitError)
//	           after a redirect with another login's state came
//	1 error    any other *login.WaitError (a login timeout or interrupt),
//	           context.Canceled (an interrupt), spotauth.ErrLeaseBusy
//	           (another process holds the store's lock), a listener that
//	           cannot be opened (*net.OpError "listen")
//	3 auth     spotauth.ErrTokenNotFound, ErrReauthorize, ErrNoRefreshToken,
//	           *missingScopesError, a Web API 401 or 403 (*apiError)
//	6 config   a store key that is missing, wrong or not a key
//	           (storecrypt.ErrNoKey, ErrWrongKey, ErrInvalidKey), even
//	           inside a *spotauth.StoreError
//	5 network  a *spotauth.StoreError caused by the network (Redis unreachable
//	           or timing out: a net.Error other than a bare syscall.Errno,
//	           context.DeadlineExceeded)
//	1 error    any other *spotauth.StoreError: a damaged or unreadable token
//	           file (fs.ErrPermission) is a local problem, whatever sentinel
//	           the store wrapped
//	4 denied   *spotauth.AuthorizeError, ErrAccessDenied, ErrStateMismatch,
//	           ErrMalformedRedirect, ErrRepeatedParameter, ErrMissingCode
//	6 config   *configError, spotauth.ErrInvalidClient, ErrInvalidConfig,
//	           ErrNoClientID, ErrConfigSection, ErrInvalidRedirectURI,
//	           ErrInvalidScope (a scope the app may not request)
//	1 error    a Web API 4xx other than 401, 403 and 429 (*apiError): the
//	           request itself is wrong (a 404, a 400)
//	5 network  spotauth.ErrRateLimited, ErrServerError, ErrBadResponse,
//	           context.DeadlineExceeded, another Web API error (*apiError),
//	           a net.Error (unreachable Accounts service, Web API or Redis)
//	1 error    anything else (an unwritable directory)
//
// The hint is, in this order: what the holder of a busy lock says to do
// ([spotauth.LeaseBusyError.Hint]), the hint a command attached
// ([withHint]), or one for the kind of error.
func classify(err error) (code int, hint string) {
	if err == nil {
		return ExitOK, ""
	}
	code = exitCode(err)
	if busy, ok := errors.AsType[*spotauth.LeaseBusyError](err); ok && busy.Hint != "" {
		return code, busy.Hint
	}
	if h, ok := errors.AsType[*hintError](err); ok {
		return code, h.hint
	}
	return code, defaultHint(err, code)
}

// exitCode is the code half of [classify].
func exitCode(err error) int {
	is := func(targets ...error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
	api, isAPI := errors.AsType[*apiError](err)
	wait, isWait := errors.AsType[*login.WaitError](err)
	switch {
	case err == nil:
		return ExitOK
	case isA[*usageError](err), is(spotauth.ErrUnknownScope):
		return ExitUsage
	case isWait && wait.StateMismatches > 0:
		return ExitDenied
	case isWait:
		return ExitError
	case is(context.Canceled, spotauth.ErrLeaseBusy), isListenError(err):
		return ExitError
	case is(spotauth.ErrTokenNotFound, spotauth.ErrReauthorize, spotauth.ErrNoRefreshToken),
		isA[*missingScopesError](err), isAPI && api.refusedToken():
		return ExitAuth
	case is(storecrypt.ErrNoKey, storecrypt.ErrWrongKey, storecrypt.ErrInvalidKey):
		return ExitConfig
	case isA[*spotauth.StoreError](err):
		if isNetError(err) || is(context.DeadlineExceeded) {
			return ExitNetwork
		}
		return ExitError
	case isA[*spotauth.AuthorizeError](err), is(spotauth.ErrAccessDenied, spotauth.ErrStateMismatch,
		spotauth.ErrMalformedRedirect, spotauth.ErrMissingCode):
		return ExitDenied
	case isA[*configError](err), is(spotauth.ErrInvalidClient, spotauth.ErrInvalidConfig, spotauth.ErrInvalidRedirectURI,
		spotauth.ErrInvalidScope):
		return ExitConfig
	case isAPI && api.Status >= 400 && api.Status < 500 && api.Status != http.StatusTooManyRequests:
		return ExitError
	case is(spotauth.ErrRateLimited, spotauth.ErrServerError, spotauth.ErrBadResponse, context.DeadlineExceeded),
		isAPI, isNetError(err):
		return ExitNetwork
	}
	return ExitError
}

func isA[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

// isNetError reports a failure of the network: a net.Error that is not a
// bare system call error. syscall.Errno implements net.Error too, so a
// file's EACCES (an *fs.PathError around it) would otherwise be a
// "network error".
func isNetError(err error) bool {
	ne, ok := errors.AsType[net.Error](err)
	if !ok {
		return false
	}
	_, errno := ne.(syscall.Errno)
	return !errno
}

// isListenError reports a listener that could not be opened (a busy port,
// an address not on this machine): a local problem, not the network's.
func isListenError(err error) bool {
	oe, ok := errors.AsType[*net.OpError](err)
	return ok && oe.Op == "listen"
}

// defaultHint says what to do about err when no command said better.
func defaultHint(err error, code int) string {
	switch {
	case errors.Is(err, spotauth.ErrUnknownScope):
		return "Run spotauth scopes for the valid names and presets."
	case errors.Is(err, spotauth.ErrInvalidClient):
		return "Check the client ID and secret (--client-id, --client-secret, " + spotauth.EnvClientID + ", " + spotauth.EnvClientSecret + "); run spotauth doctor."
	case errors.Is(err, context.Canceled):
		return "Run the command again."
	}
	switch code {
	case ExitAuth:
		return "Run: spotauth login"
	case ExitDenied:
		return "Run spotauth login again and approve the app in the browser."
	case ExitConfig:
		return "Run spotauth doctor to see what to change."
	case ExitNetwork:
		return "Check your network connection and --accounts-url/--api-url, then try again; stored tokens were kept."
	case ExitUsage:
		return "Run spotauth --help for usage."
	}
	return "Run spotauth doctor to check the configuration; spotauth --help lists the commands."
}

// printError writes err and its hint (from [classify]) to the error
// stream, starting with "spotauth: " (cobra's errors lack it), with the
// passwords of URLs hidden ([redactURL]): a bad flag value, a setting in
// a hint.
func printError(s *IOStreams, err error, hint string) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "spotauth: ") {
		msg = "spotauth: " + msg
	}
	s.Printf("%s\n", redactURL(msg))
	if hint != "" {
		for _, line := range strings.Split(redactURL(hint), "\n") {
			s.Printf("  %s\n", line)
		}
	}
}

// wrapError says what failed and why, with "spotauth: " once: the
// prefix of the error it wraps (the library's errors have it too) is
// dropped from its message.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string {
	return "spotauth: " + e.msg + ": " + strings.TrimPrefix(e.err.Error(), "spotauth: ")
}

func (e *wrapError) Unwrap() error { return e.err }

// wrapf returns err with what failed, a message formatted like
// fmt.Sprintf's, in front: "spotauth: " + message + ": " + err's message
// without its own "spotauth: ".
func wrapf(err error, format string, args ...any) error {
	return &wrapError{msg: fmt.Sprintf(format, args...), err: err}
}
