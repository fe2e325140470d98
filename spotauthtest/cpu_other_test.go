//go:build !unix

package spotauthtest_test

import "time"

// processCPU is unknown here.
func processCPU() time.Duration { return 0 }
