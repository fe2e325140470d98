package cli

import (
	"context"
	"errors"
	"fmt"
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

// interruption is why ctx ended: an error matching ctx.Err(), so that an
// interrupted command exits as canceled, and naming the signal when one
// ended it (signal.NotifyContext's cause matches no context error).
func interruption(ctx context.Context) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause == nil || errors.Is(cause, err) {
		return err
	}
	return fmt.Errorf("%w (%w)", cause, err)
}
