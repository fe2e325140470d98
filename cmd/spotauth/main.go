// Command spotauth logs a user in to Spotify from any terminal and hands
// valid access tokens to scripts. Run "spotauth --help" for the commands
// and "spotauth demo" for an offline tour against a fake Accounts service.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spotauth/spotauth/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSStreams(), os.LookupEnv)
	stop()
	os.Exit(code)
}
