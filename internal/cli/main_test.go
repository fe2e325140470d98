package cli

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(browserHelper(mode, os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}
