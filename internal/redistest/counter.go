package redistest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counter is a go-redis hook that counts the commands a client sends:
// add it with client.AddHook(c). A pipeline counts as one round trip and
// len(cmds) commands.
type Counter struct {
	roundTrips atomic.Int64
	commands   atomic.Int64
	names      sync.Map // command name -> *atomic.Int64
}

func (c *Counter) count(cmd redis.Cmder) {
	c.commands.Add(1)
	name := cmd.Name()
	if name == "evalsha" || name == "eval" {
		name += " " + scriptName(cmd)
	}
	n, _ := c.names.LoadOrStore(name, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// scriptName returns the first 8 hex digits of a script's SHA-1.
func scriptName(cmd redis.Cmder) string {
	args := cmd.Args()
	if len(args) < 2 {
		return ""
	}
	s, _ := args[1].(string)
	if cmd.Name() == "eval" {
		h := sha1.Sum([]byte(s))
		s = hex.EncodeToString(h[:])
	}
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// ByName returns the number of commands by name (scripts by "evalsha"
// and the start of their hash).
func (c *Counter) ByName() map[string]int64 {
	out := map[string]int64{}
	c.names.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

var _ redis.Hook = (*Counter)(nil)

// RoundTrips returns the number of round trips so far.
func (c *Counter) RoundTrips() int64 { return c.roundTrips.Load() }

// Commands returns the number of commands so far.
func (c *Counter) Commands() int64 { return c.commands.Load() }

// DialHook implements [redis.Hook].
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements [redis.Hook].
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.roundTrips.Add(1)
		c.count(cmd)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements [redis.Hook].
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.roundTrips.Add(1)
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}
