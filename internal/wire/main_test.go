package wire

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves an HTTP connection goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
