package cli

import (
	"net/http"
	"time"
)

// Timeouts of every HTTP server spotauth runs (accounts-server, demo's
// fake): its requests are small and answered at once, so a slow or idle
// client is cut off instead of holding a connection open.
const (
	serverReadTimeout  = 10 * time.Second
	serverWriteTimeout = 30 * time.Second
	serverIdleTimeout  = 30 * time.Second
)

// newHTTPServer returns the http.Server spotauth serves with, every
// timeout set, without a handler: spotauthtest.Server.Start sets its own.
func newHTTPServer() *http.Server {
	return &http.Server{
		ReadHeaderTimeout: serverReadTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
}
