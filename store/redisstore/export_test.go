package redisstore

import "time"

// SetPollInterval sets how often s's waiting Locks retry the lease without
// a pub/sub message, for tests that tell a wake-up by message from one by
// polling. Call it before s is used.
func SetPollInterval(s *Store, d time.Duration) { s.poll = d }
