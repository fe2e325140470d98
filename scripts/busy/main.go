// Command busy keeps CPUs busy, to run tests on a loaded machine: it spins
// -n goroutines (default GOMAXPROCS) until it is killed or -d has passed.
//
//	go run ./scripts/busy [-n 2] [-d 10m]
//
// scripts/stress.sh starts several of them beside the test suite.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", runtime.GOMAXPROCS(0), "goroutines to spin")
	d := flag.Duration("d", 0, "stop after this long (0: run until killed)")
	flag.Parse()
	if *n < 1 || *d < 0 {
		fmt.Fprintln(os.Stderr, "busy: need -n >= 1 and -d >= 0")
		os.Exit(2)
	}
	var sink atomic.Uint64
	for range *n {
		go func() {
			x := uint64(1)
			for {
				for range 1 << 20 {
					x = x*6364136223846793005 + 1442695040888963407
				}
				sink.Add(x)
			}
		}()
	}
	if *d == 0 {
		select {}
	}
	time.Sleep(*d)
}
