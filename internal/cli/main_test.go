package cli

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		// Started as $BROWSER by a spotauth process under test.
		os.Exit(browserHelper(mode, os.Args[1:]))
	}
	if dir := os.Getenv(holdLockEnv); dir != "" {
		// Started by a test to hold the lock of a token store.
		os.Exit(holdLock(dir))
	}
	code := m.Run()
	cleanupBinaries()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
