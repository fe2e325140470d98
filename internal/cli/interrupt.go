package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interruptible returns ctx, canceled also by SIGINT or SIGTERM, so that a
// command that waits (login, accounts-server, demo) stops cleanly: it
// closes its listener and says what happened.
//
// Only those commands install it. Signal handling costs every process an
// extra OS thread and about 0.5 ms of start-up, which spotauth token, run
// by scripts for every request, should not pay; a quick command
// interrupted by Ctrl-C simply ends, as any program does, and writes
// nothing half-way (files are replaced atomically).
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}
