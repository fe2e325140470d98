// Package fleet holds the multi-process tests of the token stores; it has
// no code outside its tests. A test starts worker processes (the test
// binary itself, re-run with SPOTAUTH_FLEET_WORKER set; TestMain hands
// such a process to the worker role), each running one
// [github.com/spotauth/spotauth.RefreshingSource] with many goroutines
// calling it against a spotauthtest server started by the parent test;
// it kills, stops or faults what they share and checks what every worker
// saw: refreshes per expiry, expired tokens returned, invalid_grant
// answers and errors.
//
//	go test -count=1 ./internal/fleet
//
// The tests run 8 processes for 5-20 s each and are skipped with -short.
package fleet
