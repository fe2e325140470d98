package login

import (
	"errors"
	"syscall"
)

// wsaeaddrinuse is Windows' WSAEADDRINUSE, which syscall does not name.
const wsaeaddrinuse = syscall.Errno(10048)

// addrInUse reports whether err is a listener's "address already in use".
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, wsaeaddrinuse)
}
