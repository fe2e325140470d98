// Command startupfloor links the packages the spotauth command links, so
// that their initialization runs, and does nothing else: BenchmarkStartup
// (internal/cli) runs it to measure what starting those dependencies costs
// before spotauth's own code runs.
package main

import (
	"fmt"

	_ "github.com/spotauth/spotauth/internal/cli"
)

func main() { fmt.Println("floor") }
