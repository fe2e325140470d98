// Command spotauth logs a user in to Spotify from any terminal and hands
// valid access tokens to scripts. Run "spotauth --help" for the commands
// and "spotauth demo" for an offline tour against a fake Accounts service.
package main

import (
	"context"
	"os"

	"github.com/spotauth/spotauth/internal/cli"
)

func main() {
	// Commands that wait install their own SIGINT/SIGTERM handling; quick
	// ones such as "spotauth token" start faster without it.
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.OSStreams(), os.LookupEnv))
}
