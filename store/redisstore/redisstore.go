// Package redisstore keeps a spotauth token in Redis, for processes and
// machines that share one Spotify authorization (a user's or an app's):
// between them, they refresh it once per expiry. A [Store] is a
// [spotauth.LockingStore] and a [spotauth.WatchingStore].
//
// It works with any [redis.UniversalClient] (standalone, Sentinel or
// Cluster): open a store with [New] on a client of yours, or with
// [NewFromURL]. The token named key lives under three Redis keys that
// share the hash tag {key}, so that they fall in one Cluster slot:
//
//	{key}:token   hash: the token (JSON, sealed if encrypted) and its version
//	{key}:lease   string with a TTL: the refresh lease's holder, "host/pid/random"
//	{key}:events  pub/sub channel: "saved N <token>", "deleted N", "released"
//
// # Refreshing once
//
// [Store.Lock] takes the refresh lease. Its holder renews it while it
// refreshes, so that a slow refresh (Spotify answering 429 or 503, retried)
// keeps it; a holder that dies loses it within [Options.LeaseTTL], and a
// waiter takes over. Waiters are woken by a pub/sub message when the lease
// is released or a token saved. A lease's Save, or Delete, ends the lease
// (the refresh is done) and its message carries the stored token: a Lock
// waiting for that lease returns a [*spotauth.NewerTokenError] with the
// token, which the refresh protocol adopts instead of taking the lease to
// read it. A Lock whose context ends while another process holds the lease
// returns a [*spotauth.LeaseBusyError] naming the holder: "process 4242 on
// host web-1 (lease expires in 1.2s)".
//
// A lease's Save and Delete are fenced by the token's version, which every
// write increments: they write only if nobody stored or deleted a token
// since the lease was acquired (or since the lease's own last write), and
// otherwise fail with [spotauth.ErrLeaseLost], as they do after Release. A
// holder whose lease expired during a stall (of Redis or of the process)
// thus never overwrites a newer token, and still stores its rotated
// refresh token if nobody wrote since. A Save that timed out after Redis
// ran it can be retried on the same lease with the same token: the retry
// succeeds without writing twice.
//
// A rotated refresh token can still be lost, and the user must then
// authorize again: if its holder dies between Spotify's answer and its
// Save; if, after the holder's lease expired, another process refreshed
// with the old refresh token, was refused and deleted the token before the
// holder's retried Save; or in a failover that loses Redis's last
// acknowledged write (replication is asynchronous).
//
// # Deletion and watching
//
// [Store.Delete] removes the token and tells every watcher. Delete it when
// the authorization has ended (a refresh answered invalid_grant, or the
// 6-month limit passed) or at a logout. A [spotauth.RefreshingSource] on
// the store watches it: when another process deletes the token, the source
// drops its own at once, without a refresh request, and it adopts a token
// that another process saved. Other programs can watch with [Store.Watch].
//
// # Many tokens
//
// A server that keeps a token per user opens the users' stores from one
// [Stores], which gives each store's Lock and Watch one shared pub/sub
// subscription instead of one per waiting Lock: at each expiry of a
// user's token, a process then sends at most three commands, even when
// every replica reaches the refresh point at once (see [Stores]).
//
// # Encryption
//
// With [Options.Sealer] (such as storecrypt's AES-GCM), tokens are sealed
// before they are written, so that a Redis dump or replica, or a pub/sub
// message, reveals none. A token stored in clear before is read, and sealed at its
// next save; a store without a sealer refuses a sealed token. Package
// storecrypt states this rule, which the file store follows too.
//
// # Deployment
//
// The store talks to Redis only around a refresh: a RefreshingSource
// serves tokens from memory. Lease TTLs are kept by Redis, so clock skew
// between machines does not matter. Keep the token from being evicted (use
// maxmemory-policy noeviction or a volatile-* policy: the token hash has no
// TTL) and lost at a restart (use appendonly persistence).
package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// ErrCorrupt: the stored value is neither a token nor a sealed token.
var ErrCorrupt = errors.New("spotauth: stored token is corrupt")

// Options configure a [Store]. A nil *Options means the zero value.
type Options struct {
	// Sealer, if set, encrypts stored tokens, such as a
	// [storecrypt.AESGCM]. A token stored in clear before a Sealer was
	// set is read, and sealed at the next save: the rule of package
	// storecrypt, which the file store follows too.
	Sealer storecrypt.Sealer

	// LeaseTTL is how long the refresh lease outlives its holder's last
	// renewal: the lease of a holder that died passes to a waiter after
	// at most LeaseTTL. A live holder renews it every third of it, so a
	// holder starved for two thirds of it loses the lease. Zero means
	// the URL's lease_ttl for [NewFromURL], else 5 s; it may not be below
	// 30 ms.
	LeaseTTL time.Duration

	// PollInterval is how often a Lock waiting for another's lease tries
	// again when no pub/sub message has said that the lease was released
	// or the token saved: messages wake waiters, polls cover one lost. A
	// holder that keeps the lease longer than this costs each waiter an
	// attempt per interval. Zero means 250 ms.
	PollInterval time.Duration
}

// Timings that are not options.
const (
	defaultLeaseTTL = 5 * time.Second
	minLeaseTTL     = 30 * time.Millisecond
	// defaultPoll is the default Options.PollInterval.
	defaultPoll = 250 * time.Millisecond
	// maxHold bounds how long a lease is renewed: a holder that never
	// releases it loses it after this time.
	maxHold = 5 * time.Minute
)

// Store is a [spotauth.LockingStore] keeping one token in Redis. It is safe
// for concurrent use. Close it when done: Close stops lease renewals and,
// for a store made by [NewFromURL], closes its client.
type Store struct {
	client    redis.UniversalClient
	ownClient bool
	desc      string // redacted URL or "" (for String)

	tag      string // "{key}"
	dataKey  string
	leaseKey string
	channel  string

	ttl    time.Duration
	poll   time.Duration
	seen   atomic.Int64 // the newest version this store read or wrote; -1: none
	sealer storecrypt.Sealer

	renewers  sync.WaitGroup
	closed    chan struct{}
	closeOnce sync.Once

	group *Stores // the Stores that opened it, if any: its subscription serves Lock and Watch
}

var (
	_ spotauth.LockingStore = (*Store)(nil)
	_ spotauth.Lease        = (*lease)(nil)
)

// New returns the store of the token named key in client (a
// *redis.Client, *redis.ClusterClient, failover client or ring). key
// names a profile or a user, such as "default" or a Spotify user ID, with
// a prefix of your application's if others share the database, such as
// "myapp:alice". The token's Redis keys are {key}:token, {key}:lease and
// {key}:events, so key may not contain '{', '}', spaces or control
// characters. opts may be nil. New does not contact Redis and does not
// close client on Close.
func New(client redis.UniversalClient, key string, opts *Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("spotauth: redis store: nil client")
	}
	if err := checkName("key", key, false); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	s := &Store{
		client: client,
		tag:    "{" + key + "}",
		ttl:    defaultLeaseTTL,
		poll:   defaultPoll,
		sealer: opts.Sealer,
		closed: make(chan struct{}),
	}
	s.seen.Store(-1)
	if opts.LeaseTTL != 0 {
		if opts.LeaseTTL < minLeaseTTL {
			return nil, fmt.Errorf("spotauth: redis store: lease TTL %v is below %v", opts.LeaseTTL, minLeaseTTL)
		}
		s.ttl = opts.LeaseTTL
	}
	if opts.PollInterval > 0 {
		s.poll = opts.PollInterval
	}
	s.dataKey = s.tag + ":token"
	s.leaseKey = s.tag + ":lease"
	s.channel = s.tag + ":events"
	return s, nil
}

func checkName(what, v string, emptyOK bool) error {
	if v == "" && !emptyOK {
		return fmt.Errorf("spotauth: redis store: empty %s", what)
	}
	if len(v) > 256 {
		return fmt.Errorf("spotauth: redis store: %s longer than 256 bytes", what)
	}
	for _, r := range v {
		if r == '{' || r == '}' || r < 0x20 || r == 0x7f || r == ' ' {
			return fmt.Errorf("spotauth: redis store: %s %q contains %q; braces, spaces and control characters are not allowed", what, v, r)
		}
	}
	return nil
}

// Client returns the store's Redis client.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Keys returns the Redis keys of the token and of its lease, and the
// pub/sub channel of its events.
func (s *Store) Keys() (token, lease, channel string) { return s.dataKey, s.leaseKey, s.channel }

// String describes the store without any password.
func (s *Store) String() string {
	if s.desc != "" {
		return "redisstore.Store{" + s.desc + " " + s.tag + "}"
	}
	return "redisstore.Store{" + s.tag + "}"
}

// Close stops the renewal of leases still held (they then expire within
// the lease TTL) and closes the client if [NewFromURL] created it.
// Closing twice is not an error.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		s.renewers.Wait()
		if s.ownClient {
			err = s.client.Close()
		}
	})
	return err
}

func (s *Store) wrap(op string, err error) error {
	return fmt.Errorf("spotauth: redis store %s: %s: %w", s.tag, op, err)
}

// The protocol.
//
// Lock takes the lease with SET NX PX and a value unique to the holder,
// "host/pid/random" (it names the holder for LeaseBusyError; it is not a
// secret), and reads the token and its version in the same script, so
// that the holder's first Load costs no round trip. A goroutine renews the
// lease every third of its TTL, for at most maxHold; a waiter retries when
// a message says the lease was released, every s.poll in case a message
// is lost, and when the holder's TTL runs out. Release is a
// compare-and-delete: a holder never deletes a lease that has passed to
// another.
//
// Every write increments the version, the fencing token (as in Kleppmann's
// "How to do distributed locking"): the lease keeps refreshes apart, the
// version keeps writes safe. The fenced scripts do not consult the lease
// key: a holder whose lease expired during a stall and that saves over an
// unchanged version stores the newest token, since nobody stored anything
// since. A Save whose reply was lost is retried with the same bytes (see
// lease.Save): the script finds the version moved but the stored bytes
// equal to its own, and succeeds without writing.
//
// The fenced save also deletes the lease key if it still holds the
// lease's value, and publishes "saved N <token>": for waiters, the end of
// the lease and its result at once, so that they adopt the token (a
// NewerTokenError) rather than take the lease in turn to read it; the
// lease's Release then sends nothing. A waiter remembers the version its
// failed attempt saw, and only a newer save ends its wait; one whose
// message was lost learns it at its next attempt (a NewerTokenError
// without token: the caller loads it).
//
// Traffic: at each expiry the refreshing process sends three commands
// (Load, the acquire script, the fenced save); a process that finds the
// new token already stored sends one (Load); one that waits for the lease
// sends two (Load, a failed attempt) if it listens on a Stores'
// subscription, and a SUBSCRIBE, a second attempt and an UNSUBSCRIBE more
// (on a new connection) if not. Every watching process reads the token
// once when a "saved" event arrives, which adopts it and ends its wait for
// the lease. weblogin's TestRedisRoundTripsPerExpiry (a store per user
// from a Stores, on-demand sources, every process reaching the refresh
// point during a 100 ms refresh) measures 2 + 1/N commands per process
// per expiry for N processes (2.5, 2.1 and 2.0 at 2, 8 and 32), against
// 5.0, 8.2 and 21.8 before (waiters took the lease one after another,
// each release waking all the others). internal/fleet (8 watching
// processes sharing one token, jitter off) measured 6.3 to 7.7 round
// trips per process per expiry under -race before, 6.4 after.

// Scripts. KEYS[1] is the data hash, KEYS[2] the lease; ARGV as noted.
var (
	// ARGV: lease value, TTL ms, the version the caller last saw (-1:
	// none). Returns {2, version, token|false} without taking the lease if
	// the stored version is newer than the caller's; else {1, version,
	// token|false} with the lease, or {0, pttl, version}.
	acquireScript = newScript(`
local d = redis.call('HMGET', KEYS[1], 'version', 'token')
local v = tonumber(d[1]) or 0
local seen = tonumber(ARGV[3])
if seen >= 0 and v > seen then
  return {2, v, d[2]}
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, v, d[2]}
end
return {0, redis.call('PTTL', KEYS[2]), v}`)

	// ARGV: lease value, TTL ms. Returns 1 if renewed, 0 if lost.
	renewScript = newScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 0`)

	// ARGV: lease value, channel. Returns 1 if released, 0 if not held.
	releaseScript = newScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0`)

	// Fenced save, which also ends the lease: the version, not the lease
	// key, fences the write. ARGV: seen version, token, channel, lease
	// value. Returns {new version, released}; or, if the version moved but
	// the stored token is byte for byte ARGV's (this save already ran and
	// its reply was lost), {current version, released} without writing;
	// else {-2, 0}. released is 1 if the lease key held ARGV[4] and was
	// deleted. The message carries the token, so that waiters adopt it
	// without reading it.
	leaseSaveScript = newScript(`
local d = redis.call('HMGET', KEYS[1], 'version', 'token')
local v = tonumber(d[1]) or 0
local rel = 0
if v ~= tonumber(ARGV[1]) then
  if d[2] ~= ARGV[2] then return {-2, 0} end
else
  v = v + 1
  redis.call('HSET', KEYS[1], 'token', ARGV[2], 'version', v)
  redis.call('PUBLISH', ARGV[3], 'saved ' .. v .. ' ' .. ARGV[2])
end
if redis.call('GET', KEYS[2]) == ARGV[4] then
  redis.call('DEL', KEYS[2])
  rel = 1
end
return {v, rel}`)

	// ARGV: token, channel. Returns the new version.
	saveScript = newScript(`
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'token', ARGV[1])
redis.call('PUBLISH', ARGV[2], 'saved ' .. v .. ' ' .. ARGV[1])
return v`)

	// Fenced delete, which also ends the lease, like leaseSaveScript.
	// ARGV: seen version, channel, lease value. Returns {new version,
	// released} or {-2, 0} (version moved).
	leaseDeleteScript = newScript(`
local v = tonumber(redis.call('HGET', KEYS[1], 'version')) or 0
if v ~= tonumber(ARGV[1]) then return {-2, 0} end
v = v + 1
redis.call('HSET', KEYS[1], 'version', v)
redis.call('HDEL', KEYS[1], 'token')
redis.call('PUBLISH', ARGV[2], 'deleted ' .. v)
local rel = 0
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
  rel = 1
end
return {v, rel}`)

	// ARGV: channel. Returns the new version.
	deleteScript = newScript(`
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HDEL', KEYS[1], 'token')
redis.call('PUBLISH', ARGV[1], 'deleted ' .. v)
return v`)
)

// lazyScript is a Lua script whose SHA-1 is computed when it first runs,
// not at init: a program that links this package but only loads a token,
// such as a cached "spotauth token", runs none.
type lazyScript struct {
	src    string
	once   sync.Once
	script *redis.Script
}

func newScript(src string) *lazyScript { return &lazyScript{src: src} }

// Run runs the script, as [redis.Script.Run] does.
func (l *lazyScript) Run(ctx context.Context, c redis.Scripter, keys []string, args ...any) *redis.Cmd {
	l.once.Do(func() { l.script = redis.NewScript(l.src) })
	return l.script.Run(ctx, c, keys, args...)
}

func (s *Store) keys() []string { return []string{s.dataKey, s.leaseKey} }

func (s *Store) encode(t *spotauth.Token) ([]byte, error) {
	b, err := s.marshal(t)
	if err != nil {
		return nil, err
	}
	return s.seal(b)
}

// marshal returns the envelope JSON of t: the same bytes for equal tokens.
func (s *Store) marshal(t *spotauth.Token) ([]byte, error) {
	if t == nil {
		return nil, errors.New("spotauth: redis store: save nil token")
	}
	// The times travel in the envelope, exactly; the token's own JSON
	// would keep whole seconds only.
	c := *t
	c.Expiry, c.AuthorizedAt = time.Time{}, time.Time{}
	env := envelope{Token: &c, Key: s.tag}
	if !t.Expiry.IsZero() {
		env.Expiry = t.Expiry.UTC().Format(time.RFC3339Nano)
	}
	if !t.AuthorizedAt.IsZero() {
		env.AuthorizedAt = t.AuthorizedAt.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("spotauth: redis store: encode token: %w", err)
	}
	return b, nil
}

// seal returns b sealed, or b itself without a sealer.
func (s *Store) seal(b []byte) ([]byte, error) {
	if s.sealer == nil {
		return b, nil
	}
	sealed, err := s.sealer.Seal(b)
	if err != nil {
		return nil, fmt.Errorf("spotauth: redis store: encrypt token: %w", err)
	}
	return sealed, nil
}

// decode returns the token stored as b. With a sealer, a value that is not
// sealed at all is a token stored in clear before the sealer was set: it
// is read, and the next save seals it (the rule of package storecrypt).
func (s *Store) decode(b []byte) (*spotauth.Token, error) {
	sealed := false
	if s.sealer != nil {
		pt, err := s.sealer.Open(b)
		switch {
		case err == nil:
			b, sealed = pt, true
		case errors.Is(err, storecrypt.ErrNotSealed):
		default:
			return nil, s.wrap("decrypt", err)
		}
	} else if storecrypt.IsSealed(b) {
		return nil, s.wrap("load", fmt.Errorf("%w: the token is encrypted; configure its key (%s)", storecrypt.ErrNoKey, storecrypt.EnvKey))
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil || env.Token == nil ||
		(env.Token.AccessToken == "" && env.Token.RefreshToken == "") {
		return nil, s.wrap("load", fmt.Errorf("%w (%d bytes that are not token JSON)", ErrCorrupt, len(b)))
	}
	if sealed && env.Key != s.tag {
		// Sealed blobs are authenticated; this makes them bound to their
		// key too, so that a blob copied from another key is refused.
		return nil, s.wrap("load", fmt.Errorf("%w: the encrypted token was stored under another key", ErrCorrupt))
	}
	for _, f := range []struct {
		text string
		dst  *time.Time
	}{{env.Expiry, &env.Token.Expiry}, {env.AuthorizedAt, &env.Token.AuthorizedAt}} {
		if f.text == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, f.text)
		if err != nil {
			return nil, s.wrap("load", fmt.Errorf("%w: bad time", ErrCorrupt))
		}
		*f.dst = v
	}
	return env.Token, nil
}

// envelope is the stored JSON, sealed whole when the store has a sealer:
// the token in spotauth's JSON form without its times, which that form
// keeps in whole seconds, and the exact times beside it; exactness matters
// for short test lifetimes (a token living 2 s would otherwise lose up to
// half its life to rounding). Key binds a sealed envelope to the key it
// was stored under, so that a blob copied to another key is refused.
type envelope struct {
	Token        *spotauth.Token `json:"token"`
	Expiry       string          `json:"expiry,omitempty"`        // RFC 3339 with nanoseconds
	AuthorizedAt string          `json:"authorized_at,omitempty"` // RFC 3339 with nanoseconds
	Key          string          `json:"key,omitempty"`           // the hash tag it was stored under
}

// Load returns the stored token, or an error wrapping
// [spotauth.ErrTokenNotFound].
func (s *Store) Load(ctx context.Context) (*spotauth.Token, error) {
	res, err := s.client.HMGet(ctx, s.dataKey, "version", "token").Result()
	if err != nil {
		return nil, s.wrap("load", err)
	}
	if v, ok := res[0].(string); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			s.saw(n)
		}
	}
	b, ok := res[1].(string)
	if !ok {
		return nil, s.wrap("load", spotauth.ErrTokenNotFound)
	}
	return s.decode([]byte(b))
}

// saw records that this store read or wrote version v of the token: a
// Lock takes the lease only if nothing newer was stored since (see
// [Store.Lock]).
func (s *Store) saw(v int64) {
	for {
		cur := s.seen.Load()
		if v <= cur || s.seen.CompareAndSwap(cur, v) {
			return
		}
	}
}

// Sealed reports whether the stored token is sealed (encrypted at rest,
// see [Options.Sealer]), without decrypting it; with no token, its error
// wraps [spotauth.ErrTokenNotFound].
func (s *Store) Sealed(ctx context.Context) (bool, error) {
	b, err := s.client.HGet(ctx, s.dataKey, "token").Bytes()
	if errors.Is(err, redis.Nil) {
		return false, s.wrap("load", spotauth.ErrTokenNotFound)
	}
	if err != nil {
		return false, s.wrap("load", err)
	}
	return storecrypt.IsSealed(b), nil
}

// Version returns the version of the stored token: the number of saves and
// deletes so far (0 for a key never written).
func (s *Store) Version(ctx context.Context) (int64, error) {
	v, err := s.client.HGet(ctx, s.dataKey, "version").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("version", err)
	}
	return v, nil
}

// Save stores t unconditionally, replacing any stored token, bumps the
// version (so that a lease acquired before fails to save) and notifies
// watchers. Use it to seed the store after a login; refreshes save through
// a lease.
func (s *Store) Save(ctx context.Context, t *spotauth.Token) error {
	b, err := s.encode(t)
	if err != nil {
		return err
	}
	v, err := saveScript.Run(ctx, s.client, s.keys(), b, s.channel).Int64()
	if err != nil {
		return s.wrap("save", err)
	}
	s.saw(v)
	return nil
}

// Delete removes the stored token, bumps the version and notifies watchers
// with [spotauth.StoreDeleted]. Deleting a missing token is not an error.
func (s *Store) Delete(ctx context.Context) error {
	v, err := deleteScript.Run(ctx, s.client, s.keys(), s.channel).Int64()
	if err != nil {
		return s.wrap("delete", err)
	}
	s.saw(v)
	return nil
}

// Lock acquires the refresh lease, waiting until it is free or ctx is done;
// a wait that ctx ends while another process holds the lease fails with a
// [*spotauth.LeaseBusyError] naming it. When a token newer than the last
// this store loaded or saved is stored, before or during the wait, Lock
// returns a [*spotauth.NewerTokenError] carrying it instead, without
// taking the lease: a caller that loaded a stale token just before
// another's refresh ended adopts the new one, and does not take the lease
// only to release it, which would wake every waiter. The lease is renewed in the
// background until Release (for at most 5 minutes); always Release it.
//
// The lease's Save and Delete write only if nobody stored or deleted a
// token since Lock (or since the lease's own last write), whether or not
// the lease has expired meanwhile; otherwise, and after Release, they fail
// with an error wrapping [spotauth.ErrLeaseLost] and write nothing. A Save
// retried after a lost reply, with an equal token, succeeds without
// writing twice; a retried Delete fails with ErrLeaseLost. Delete tells
// watchers, as [Store.Delete] does.
func (s *Store) Lock(ctx context.Context) (spotauth.Lease, error) {
	select {
	case <-s.closed:
		return nil, s.wrap("lock", errStoreClosed)
	default:
	}
	l := &lease{s: s, value: leaseValue(), stop: make(chan struct{})}
	// A store of a Stores listens on the shared subscription from before
	// its first attempt, so that no message after it is missed and no
	// second attempt is needed.
	var shared <-chan string
	if s.group != nil {
		if ch := s.group.listen(ctx, s.channel); ch != nil {
			defer s.group.unlisten(s.channel, ch)
			shared = ch
		}
	}
	ok, pttl, seen, err := l.tryAcquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Ended before the lease was seen busy: a LeaseBusyError
			// only if another holds it.
			return nil, s.busy(ctx, err)
		}
		return nil, err
	}
	if ok {
		return l.start(), nil
	}

	var msgs <-chan *redis.Message
	if shared == nil {
		// Subscribe, then try again, so that a release or save between
		// the attempt and the wait wakes us. If subscribing fails, poll.
		sub := s.client.Subscribe(ctx, s.channel)
		defer sub.Close()
		if _, err := sub.Receive(ctx); err == nil {
			msgs = sub.Channel()
		}
		var v int64
		if ok, pttl, v, err = l.tryAcquire(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, s.busy(ctx, nil)
			}
			return nil, err
		} else if ok {
			return l.start(), nil
		} else if v > seen {
			return nil, s.newer(v, "") // saved meanwhile
		}
	}
	timer := time.NewTimer(s.poll) // Reset below; since Go 1.23 Reset drops a stale tick
	defer timer.Stop()
	for {
		wait := s.poll
		if pttl > 0 && pttl+time.Millisecond < wait {
			wait = pttl + time.Millisecond // the holder's lease runs out
		}
		timer.Reset(wait)
	waiting:
		for {
			var payload string
			select {
			case <-ctx.Done():
				return nil, s.busy(ctx, nil)
			case <-s.closed:
				return nil, s.wrap("lock", errStoreClosed)
			case m := <-msgs:
				if m == nil {
					msgs = nil // the subscription ended: poll
					continue
				}
				payload = m.Payload
			case payload = <-shared:
			case <-timer.C:
				break waiting
			}
			ev, blob, ok := parseMessage(payload)
			switch {
			case !ok:
			case ev.Kind == spotauth.StoreSaved && ev.Version > seen:
				// The holder's refresh is done: its token, in the
				// message, is what the caller waits for.
				return nil, s.newer(ev.Version, blob)
			case ev.Kind == spotauth.StoreDeleted, ev.Kind == spotauth.StoreReleased:
				break waiting // try again
			}
		}
		var v int64
		if ok, pttl, v, err = l.tryAcquire(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, s.busy(ctx, nil) // ended during the retry
			}
			return nil, err
		} else if ok {
			return l.start(), nil
		} else if v > seen {
			// Saved by another holder, whose message was lost.
			return nil, s.newer(v, "")
		}
	}
}

// newer returns the NewerTokenError of a save message: with its token, if
// it carried one that this store can read.
func (s *Store) newer(version int64, blob string) error {
	s.saw(version)
	e := &spotauth.NewerTokenError{Version: version}
	if blob != "" {
		if t, err := s.decode([]byte(blob)); err == nil {
			e.Token = t
		}
	}
	return e
}

var errStoreClosed = errors.New("store closed")

// owner is "host/pid/" of this process, the start of its lease values.
var owner = sync.OnceValue(func() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	if len(host) > 64 {
		host = host[:64]
	}
	host = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '/' || r == '{' || r == '}' {
			return '_'
		}
		return r
	}, host)
	return host + "/" + strconv.Itoa(os.Getpid()) + "/"
})

// leaseValue returns a new lease value, "host/pid/random": it names its
// holder for [spotauth.LeaseBusyError] and is unique to one Lock call, so
// that renewal and release are compare-and-set on it. It is not secret.
func leaseValue() string {
	b := make([]byte, 12)
	rand.Read(b)
	return owner() + hex.EncodeToString(b)
}

// parseLeaseValue splits a lease value made by leaseValue; ok is false for
// another value (such as an older version's random hex).
func parseLeaseValue(v string) (host string, pid int, ok bool) {
	parts := strings.Split(v, "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return parts[0], pid, true
}

// busy returns the error of a Lock whose ctx ended while another holder
// kept the lease. It reads the holder with GET and PTTL of the lease key,
// on a short context of its own, since ctx is done. If lockErr is set (the
// Lock ended before it saw the lease held), busy returns it unless the
// holder can be read.
func (s *Store) busy(ctx context.Context, lockErr error) error {
	werr := ctx.Err()
	if c := context.Cause(ctx); c != nil && !errors.Is(c, werr) {
		werr = fmt.Errorf("%w (%w)", werr, c)
	}
	e := &spotauth.LeaseBusyError{Store: s.leaseKey, Err: werr}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(s.ttl, time.Second))
	defer cancel()
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := s.client.Pipelined(rctx, func(p redis.Pipeliner) error {
		get = p.Get(rctx, s.leaseKey)
		pttl = p.PTTL(rctx, s.leaseKey)
		return nil
	})
	switch {
	case err != nil && lockErr != nil:
		return lockErr
	case errors.Is(err, redis.Nil):
		e.Hint = "the lease was released as the wait ended; try again"
		return e
	case err != nil:
		e.Hint = fmt.Sprintf("could not read the holder (%v); a holder that stops renewing its lease loses it within %v", err, s.ttl)
		return e
	}
	if host, pid, ok := parseLeaseValue(get.Val()); ok {
		e.Holder = fmt.Sprintf("process %d on host %s", pid, host)
	} else {
		e.Holder = "an unknown holder"
	}
	switch d := pttl.Val(); d {
	case -1: // no TTL (go-redis keeps -1 and -2 unscaled)
		e.Holder += " (lease without expiry)"
		e.Hint = "the lease key has no TTL, so spotauth did not set it; delete it with DEL " + s.leaseKey
	case -2: // expired between GET and PTTL
		e.Holder += " (lease just expired)"
		e.Hint = "try again"
	default:
		if d >= time.Second {
			d = d.Round(100 * time.Millisecond)
		}
		e.Holder += fmt.Sprintf(" (lease expires in %v)", d)
		e.Hint = fmt.Sprintf("the holder renews the lease while it refreshes, for at most %v; if that process is stuck, stop it, and the lease passes on within %v", maxHold, s.ttl)
	}
	return e
}

// An attempt is a Save whose outcome is unknown until a later Save
// succeeds: the envelope JSON and the bytes sent for it (sealed, with a
// sealer). A retry of an equal token resends the same bytes.
type attempt struct{ plain, sent []byte }

// maxAttempts bounds lease.attempts; a caller retrying more distinct
// tokens than this on one lease loses idempotence for the oldest.
const maxAttempts = 4

// lease is a held refresh lease.
type lease struct {
	s     *Store
	value string // "host/pid/random": names the holder, unique to it

	mu       sync.Mutex // guards the fields below
	version  int64      // version seen at acquire time or written by Save
	token    []byte     // token read at acquire time, until the first Load, Save or Delete
	hasToken bool
	attempts []attempt     // Saves since the last successful one: each may have run
	released bool          // by Release
	ended    bool          // by a Save or Delete, which deleted the lease key
	stopped  bool          // stop is closed
	stop     chan struct{} // closed by Release or the end: stops the renewer
}

// tryAcquire takes the lease if it is free. If not, it returns the
// holder's remaining TTL and the stored token's version.
func (l *lease) tryAcquire(ctx context.Context) (ok bool, pttl time.Duration, version int64, err error) {
	res, err := acquireScript.Run(ctx, l.s.client, l.s.keys(), l.value, l.s.ttl.Milliseconds(), l.s.seen.Load()).Slice()
	if err != nil {
		if ctx.Err() != nil {
			// Canceled during the round trip: the script may have taken
			// the lease anyway, which nobody would renew or release, and
			// waiters would wait a TTL for it. Give it back (a
			// compare-and-delete: a no-op unless it is ours).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.s.ttl)
			releaseScript.Run(rctx, l.s.client, l.s.keys(), l.value, l.s.channel)
			cancel()
		}
		return false, 0, 0, l.s.wrap("lock", err)
	}
	if len(res) < 2 {
		return false, 0, 0, l.s.wrap("lock", fmt.Errorf("unexpected script reply %v", res))
	}
	n, _ := res[1].(int64)
	switch res[0] {
	case int64(2):
		// Stored since this store last looked: no lease for a refresh
		// that the stored token may make needless.
		var blob string
		if len(res) > 2 {
			blob, _ = res[2].(string)
		}
		return false, 0, n, l.s.newer(n, blob)
	case int64(1):
	default:
		if len(res) > 2 {
			version, _ = res[2].(int64)
		}
		return false, time.Duration(n) * time.Millisecond, version, nil
	}
	l.version = n
	l.s.saw(n)
	if len(res) > 2 {
		if str, ok := res[2].(string); ok {
			l.token, l.hasToken = []byte(str), true
		}
	}
	return true, 0, n, nil
}

// start launches the renewer.
func (l *lease) start() *lease {
	s := l.s
	s.renewers.Add(1)
	go func() {
		defer s.renewers.Done()
		every := s.ttl / 3
		tick := time.NewTicker(every)
		defer tick.Stop()
		limit := time.NewTimer(maxHold)
		defer limit.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-s.closed:
				return
			case <-limit.C:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), every)
			n, err := renewScript.Run(ctx, s.client, s.keys(), l.value, s.ttl.Milliseconds()).Int64()
			cancel()
			if err == nil && n == 0 {
				return // lost: Save will report it
			}
		}
	}()
	return l
}

// Load returns the stored token. The first Load after Lock returns the
// token read atomically with the acquisition, without a round trip.
func (l *lease) Load(ctx context.Context) (*spotauth.Token, error) {
	l.mu.Lock()
	b, cached := l.token, l.hasToken
	l.token, l.hasToken = nil, false
	l.mu.Unlock()
	if !cached {
		return l.s.Load(ctx)
	}
	if b == nil {
		return nil, l.s.wrap("load", spotauth.ErrTokenNotFound)
	}
	return l.s.decode(b)
}

// errVersionMoved is why a fenced write is refused.
var errVersionMoved = fmt.Errorf("%w: another token was stored or deleted since the lease was acquired", spotauth.ErrLeaseLost)

// Save stores t if the stored version is still the one seen at acquisition
// (or written by this lease's previous Save or Delete), whether or not the
// lease key is still held: fencing is by version, so a holder whose lease
// expired during a stall still stores its (possibly rotated) token when
// nobody stored anything since. Otherwise it fails with an error wrapping
// [spotauth.ErrLeaseLost] and stores nothing; so it does after Release.
//
// Save is idempotent in effect: when a Save ran in Redis but its reply was
// lost (a timeout), a retry of Save on the same lease with an equal token
// finds the version moved and the stored bytes equal to its own, and
// succeeds without writing again. With a sealer, whose nonce is random,
// the lease keeps the sealed bytes of its last attempt and sends them
// again for an equal token, so that the comparison, made in the script,
// holds for sealed tokens too (it keeps the last few attempts since its
// last successful Save). A different token, or a token stored by anyone
// else, fails with ErrLeaseLost.
func (l *lease) Save(ctx context.Context, t *spotauth.Token) error {
	plain, err := l.s.marshal(t)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.token, l.hasToken = nil, false // Load reads what this write leaves
	if l.released {
		return l.s.wrap("save", fmt.Errorf("%w: the lease was released", spotauth.ErrLeaseLost))
	}
	b, err := l.attempt(plain)
	if err != nil {
		return err
	}
	v, released, err := writeResult(leaseSaveScript.Run(ctx, l.s.client, l.s.keys(), l.version, b, l.s.channel, l.value))
	if err != nil {
		return l.s.wrap("save", err)
	}
	if v < 0 {
		return l.s.wrap("save", errVersionMoved)
	}
	// Stored: an earlier attempt that runs late finds the version moved
	// and writes nothing.
	l.version, l.attempts = v, nil
	l.s.saw(v)
	l.end(released)
	return nil
}

// writeResult reads the {version, released} reply of a fenced write.
func writeResult(c *redis.Cmd) (version int64, released bool, err error) {
	res, err := c.Slice()
	if err != nil {
		return 0, false, err
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("unexpected script reply %v", res)
	}
	version, _ = res[0].(int64)
	rel, _ := res[1].(int64)
	return version, rel == 1, nil
}

// end records that a write deleted the lease key: the lease's work is
// done, its renewer stops, and Release has nothing left to send. l.mu is
// held.
func (l *lease) end(released bool) {
	if !released {
		return
	}
	l.ended = true
	if !l.stopped {
		l.stopped = true
		close(l.stop)
	}
}

// attempt returns the bytes to send for plain: those of an earlier attempt
// of an equal token, else plain sealed, recorded as an attempt. l.mu is
// held.
func (l *lease) attempt(plain []byte) ([]byte, error) {
	for _, a := range l.attempts {
		if bytes.Equal(a.plain, plain) {
			return a.sent, nil
		}
	}
	b, err := l.s.seal(plain)
	if err != nil {
		return nil, err
	}
	if len(l.attempts) == maxAttempts {
		l.attempts = l.attempts[1:]
	}
	l.attempts = append(l.attempts, attempt{plain, b})
	return b, nil
}

// Delete removes the stored token if the stored version is unchanged,
// fenced by version like Save (the lease key need not still be held), and
// notifies watchers with [spotauth.StoreDeleted]. A
// [spotauth.RefreshingSource] deletes a refused refresh token this way
// before it releases the lease, so that no waiter takes the lease and
// tries the dead refresh token again. Unlike
// Save, a retried Delete whose first reply was lost fails with
// ErrLeaseLost (the version moved); Load then finds no token.
func (l *lease) Delete(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.token, l.hasToken = nil, false // Load reads what this write leaves
	if l.released {
		return l.s.wrap("delete", fmt.Errorf("%w: the lease was released", spotauth.ErrLeaseLost))
	}
	v, released, err := writeResult(leaseDeleteScript.Run(ctx, l.s.client, l.s.keys(), l.version, l.s.channel, l.value))
	if err != nil {
		return l.s.wrap("delete", err)
	}
	if v < 0 {
		return l.s.wrap("delete", errVersionMoved)
	}
	l.version = v
	l.s.saw(v)
	l.end(released)
	return nil
}

// Release gives the lease up (compare-and-delete) and wakes waiters.
// Releasing twice is not an error. After a successful Save or Delete,
// which ended the lease already, it sends nothing.
func (l *lease) Release(ctx context.Context) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	if !l.stopped {
		l.stopped = true
		close(l.stop)
	}
	ended := l.ended
	l.mu.Unlock()
	if ended {
		return nil
	}
	// Release even when ctx is already done (a caller that gave up
	// waiting): otherwise waiters would wait for the TTL.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.s.ttl)
	defer cancel()
	if err := releaseScript.Run(ctx, l.s.client, l.s.keys(), l.value, l.s.channel).Err(); err != nil {
		return l.s.wrap("release", err) // the lease expires by its TTL
	}
	return nil
}

// String describes the lease without its value.
func (l *lease) String() string { return "redisstore.lease{" + l.s.tag + "}" }

// A Store is a WatchingStore: a RefreshingSource on it learns of a
// deletion, and of a token another process stored, at once.
var _ spotauth.WatchingStore = (*Store)(nil)

// parseEvent parses a message of the events channel: "saved N" (with the
// token's bytes after a space since the message carries it), "deleted N"
// or "released". It returns false for a message that is not an event.
func parseEvent(payload string) (spotauth.StoreEvent, bool) {
	e, _, ok := parseMessage(payload)
	return e, ok
}

// parseMessage is parseEvent, which also returns the token's bytes that a
// "saved" message carries ("" if none).
func parseMessage(payload string) (e spotauth.StoreEvent, token string, ok bool) {
	kind, rest, _ := strings.Cut(payload, " ")
	num, token, _ := strings.Cut(rest, " ")
	switch kind {
	case "saved":
		e.Kind = spotauth.StoreSaved
	case "deleted":
		e.Kind = spotauth.StoreDeleted
		if token != "" {
			return spotauth.StoreEvent{}, "", false
		}
	case "released":
		if rest != "" {
			return spotauth.StoreEvent{}, "", false
		}
		return spotauth.StoreEvent{Kind: spotauth.StoreReleased}, "", true
	default:
		return spotauth.StoreEvent{}, "", false
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return spotauth.StoreEvent{}, "", false
	}
	e.Version = v
	return e, token, true
}

// Watch subscribes to the token's events: every process watching learns at
// once that a token was saved or deleted, or that the refresh lease was
// released (a [spotauth.RefreshingSource] on the store watches it). The
// channel is closed when ctx is done or the store is closed. Events are
// hints, delivered at most once: while the connection to Redis is down
// they are lost (the subscription is renewed when Redis is back), so treat
// the store as the truth and an event as a cue to read it. Watch returns
// an error if it cannot subscribe.
func (s *Store) Watch(ctx context.Context) (<-chan spotauth.StoreEvent, error) {
	if s.group != nil {
		return s.group.watch(ctx, s)
	}
	sub := s.client.Subscribe(ctx, s.channel)
	if _, err := sub.Receive(ctx); err != nil {
		sub.Close()
		return nil, s.wrap("watch", err)
	}
	msgs := sub.Channel()
	out := make(chan spotauth.StoreEvent, 16)
	go func() {
		defer close(out)
		defer sub.Close()
		forwardEvents(ctx, msgs, func(m *redis.Message) string { return m.Payload }, out, s.closed, nil)
	}()
	return out, nil
}

// forwardEvents sends the events of in's messages on out until in is
// closed, ctx is done, or stop or done is closed (a nil one never is).
// Messages that are not events are skipped.
func forwardEvents[M any](ctx context.Context, in <-chan M, payload func(M) string, out chan<- spotauth.StoreEvent, stop, done <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-done:
			return
		case m, ok := <-in:
			if !ok {
				return
			}
			e, ok := parseEvent(payload(m))
			if !ok {
				continue
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-done:
				return
			}
		}
	}
}
