package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spotauth/spotauth"
)

// Exit codes of spotauth. They are chosen in one place, [exitCode], from
// the error a command returns, and listed in "spotauth --help".
const (
	// ExitOK: success.
	ExitOK = 0
	// ExitError: any other failure (busy port, login timeout, file errors).
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
	// file); "spotauth doctor" says what to change.
	ExitConfig = 6
)

const exitCodesHelp = `Exit codes:
  0  success
  1  error (busy port, login timeout, file errors)
  2  usage error (bad flag, argument or scope name)
  3  not logged in, authorization revoked or expired, or a required scope
     missing: run the "spotauth login ..." line printed with the error
  4  authorization refused in the browser (denied, state mismatch)
  5  network or service error (unreachable, 429, 5xx, malformed answer);
     stored tokens are kept
  6  configuration error (client ID, secret, redirect URI, config file):
     run "spotauth doctor"
`

// cliError is an error with an exit code and a hint that says what to do
// next. Its Error is the message alone; the hint is printed below it.
type cliError struct {
	code int
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// withCode attaches an exit code and a hint to err.
func withCode(code int, err error, hint string, args ...any) error {
	if err == nil {
		return nil
	}
	return &cliError{code: code, err: err, hint: fmt.Sprintf(hint, args...)}
}

// usageErrorf returns a usage error (exit 2).
func usageErrorf(hint, format string, args ...any) error {
	return &cliError{code: ExitUsage, err: fmt.Errorf("spotauth: "+format, args...), hint: hint}
}

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ae *spotauth.AuthorizeError
	switch {
	case errors.Is(err, spotauth.ErrReauthorize), errors.Is(err, spotauth.ErrTokenNotFound),
		errors.Is(err, spotauth.ErrNoRefreshToken):
		return ExitAuth
	case errors.Is(err, spotauth.ErrAccessDenied), errors.Is(err, spotauth.ErrStateMismatch),
		errors.Is(err, spotauth.ErrMalformedRedirect), errors.Is(err, spotauth.ErrRepeatedParameter), errors.Is(err, spotauth.ErrMissingCode),
		errors.As(err, &ae):
		return ExitDenied
	case errors.Is(err, spotauth.ErrInvalidClient), errors.Is(err, spotauth.ErrInvalidRedirectURI), errors.Is(err, spotauth.ErrInvalidConfig),
		errors.Is(err, spotauth.ErrNoClientID), errors.Is(err, spotauth.ErrConfigSection):
		return ExitConfig
	case errors.Is(err, spotauth.ErrUnknownScope):
		return ExitUsage
	case errors.Is(err, spotauth.ErrRateLimited), errors.Is(err, spotauth.ErrServerError),
		errors.Is(err, spotauth.ErrBadResponse), errors.Is(err, context.DeadlineExceeded):
		return ExitNetwork
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return ExitNetwork
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return ExitNetwork
	}
	return ExitError
}

// hintFor returns what to do next for err: the hint it carries, or one
// derived from its kind.
func hintFor(err error) string {
	var ce *cliError
	if errors.As(err, &ce) && ce.hint != "" {
		return ce.hint
	}
	switch exitCode(err) {
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

// printError writes err and its hint to w's stream.
func printError(s *IOStreams, err error) {
	// Wrapped library errors repeat the prefix: say it once.
	msg := strings.ReplaceAll(err.Error(), ": spotauth: ", ": ")
	if !strings.HasPrefix(msg, "spotauth: ") {
		msg = "spotauth: " + msg
	}
	s.Printf("%s\n", msg)
	if h := hintFor(err); h != "" {
		for _, line := range strings.Split(h, "\n") {
			s.Printf("  %s\n", line)
		}
	}
}
