package login_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
)

// Each error says what happened in one line starting "spotauth: login: ",
// and matches the sentinels callers branch on, and only those.
func TestErrors(t *testing.T) {
	errStop := errors.New("spotauth: stopping")
	tests := []struct {
		name    string
		err     error
		text    string
		match   []error
		noMatch []error
	}{
		{
			name:    "timeout option",
			err:     &login.WaitError{Timeout: 5 * time.Minute, Err: context.DeadlineExceeded},
			text:    "spotauth: login: no redirect from the browser within 5m0s",
			match:   []error{login.ErrTimeout, context.DeadlineExceeded},
			noMatch: []error{spotauth.ErrStateMismatch, context.Canceled},
		},
		{
			name:    "cancelled after two forgeries",
			err:     &login.WaitError{StateMismatches: 2, Err: errStop},
			text:    "spotauth: login: interrupted while waiting for the redirect: stopping; 2 redirects with another login's state were refused (old tabs, or forged requests)",
			match:   []error{spotauth.ErrStateMismatch, errStop},
			noMatch: []error{login.ErrTimeout},
		},
		{
			name:    "busy port",
			err:     &login.ListenError{Addr: "127.0.0.1:8080", Err: fmt.Errorf("listen tcp: %w", syscall.EADDRINUSE)},
			text:    "spotauth: login: port of 127.0.0.1:8080 is busy: another program listens on it",
			match:   []error{login.ErrPortBusy, syscall.EADDRINUSE},
			noMatch: []error{login.ErrTimeout},
		},
		{
			name:    "other listen error",
			err:     &login.ListenError{Addr: "[::1]:0", Err: syscall.EADDRNOTAVAIL},
			text:    "spotauth: login: cannot listen on [::1]:0: " + syscall.EADDRNOTAVAIL.Error(),
			noMatch: []error{login.ErrPortBusy},
		},
		{
			name:  "check",
			err:   &login.CheckError{Reason: `the Accounts service does not know client ID "x"`, Err: spotauth.ErrInvalidClient},
			text:  `spotauth: login: the Accounts service does not know client ID "x"`,
			match: []error{spotauth.ErrInvalidClient},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q; want %q", got, tt.text)
			}
			for _, target := range tt.match {
				if !errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = false; want true", tt.err, target)
				}
			}
			for _, target := range tt.noMatch {
				if errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = true; want false", tt.err, target)
				}
			}
			if strings.Contains(tt.err.Error(), "\n") {
				t.Errorf("Error() = %q; want one line", tt.err)
			}
		})
	}
}
