package redistest

import (
	"context"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counter is a go-redis hook that counts the commands a client sends:
// add it with client.AddHook(c). A pipeline counts as one round trip and
// len(cmds) commands.
type Counter struct {
	roundTrips atomic.Int64
	commands   atomic.Int64
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
		c.commands.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements [redis.Hook].
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.roundTrips.Add(1)
		c.commands.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
