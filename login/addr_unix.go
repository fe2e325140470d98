//go:build !windows

package login

import (
	"errors"
	"syscall"
)

// addrInUse reports whether err is a listener's "address already in use".
func addrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
