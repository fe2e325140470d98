package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
)

// Stores opens the stores of many tokens whose keys share a prefix, such as
// one per user of a web app, so that they share one pub/sub subscription
// (a PSUBSCRIBE of their channels) instead of one per waiting Lock or
// Watch. A process keeps one Stores per prefix and opens a store per user
// with [Stores.Store], as often as it likes: opening costs no round trip.
//
// With Stores, each process sends at most three commands to Redis per
// expiry of a user's token, however many replicas reach the refresh point
// at once, when the refresh takes less than [Options.PollInterval]: the
// refreshing one sends a Load, the attempt that takes the
// lease and the save, which also ends the lease; one that reaches it
// during the refresh sends a Load and a failed attempt, then adopts the
// new token from the message that announced its save (a
// [spotauth.NewerTokenError]); one whose Load came just before the save
// sends that Load and an attempt that returns the new token, without the
// lease; one that comes later sends a Load. Watch on
// its stores costs no subscription either.
//
//	users, err := redisstore.NewStores(rdb, "myapp:user:", nil)
//	...
//	defer users.Close()
//	store, err := users.Store(userKey) // the token of "myapp:user:"+userKey
type Stores struct {
	client  redis.UniversalClient
	prefix  string
	opts    Options
	pattern string

	mu        sync.Mutex // guards the fields below
	sub       *redis.PubSub
	listeners map[string]map[chan string]struct{} // by channel
	closed    bool
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
}

// NewStores returns the stores of the tokens whose keys start with prefix,
// such as "myapp:user:", in client. opts, which may be nil, apply to every
// store. prefix follows the rules of a key (see [New]), and may be empty.
// NewStores does not contact Redis: the subscription starts at the first
// Lock that may wait or the first Watch. Close it when done.
func NewStores(client redis.UniversalClient, prefix string, opts *Options) (*Stores, error) {
	if client == nil {
		return nil, errors.New("spotauth: redis store: nil client")
	}
	if err := checkName("prefix", prefix, true); err != nil {
		return nil, err
	}
	ss := &Stores{client: client, prefix: prefix, done: make(chan struct{}),
		listeners: map[string]map[chan string]struct{}{},
		pattern:   "{" + globEscape(prefix) + "*}:events"}
	if opts != nil {
		ss.opts = *opts
	}
	// Check the options once, as New would for every store.
	if _, err := New(client, prefix+"x", &ss.opts); err != nil {
		return nil, err
	}
	return ss, nil
}

// globEscape escapes the characters that a PSUBSCRIBE pattern treats
// specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Store returns the store of the token prefix+name, such as a user's.
// Closing it stops its lease renewals; the subscription stays, until
// [Stores.Close].
func (ss *Stores) Store(name string) (*Store, error) {
	if name == "" {
		return nil, errors.New("spotauth: redis store: empty name")
	}
	s, err := New(ss.client, ss.prefix+name, &ss.opts)
	if err != nil {
		return nil, err
	}
	s.group = ss
	return s, nil
}

// TokenStore is [Stores.Store] with the signature of a function that opens
// a user's store, such as weblogin's Options.Store.
func (ss *Stores) TokenStore(name string) (spotauth.TokenStore, error) {
	s, err := ss.Store(name)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close ends the subscription. Locks and watches waiting on it go on
// polling, or end.
func (ss *Stores) Close() error {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return nil
	}
	ss.closed = true
	close(ss.done)
	sub := ss.sub
	ss.sub = nil
	ss.mu.Unlock()
	var err error
	if sub != nil {
		err = sub.Close()
	}
	ss.wg.Wait()
	return err
}

// listen returns a channel that receives the messages of channel, until
// unlisten, or nil if the subscription cannot start (the caller then
// subscribes by itself).
func (ss *Stores) listen(ctx context.Context, channel string) chan string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return nil
	}
	if ss.sub == nil {
		sub := ss.client.PSubscribe(ctx, ss.pattern)
		if _, err := sub.Receive(ctx); err != nil {
			sub.Close()
			return nil
		}
		ss.sub = sub
		ss.wg.Add(1)
		go ss.dispatch(sub.Channel())
	}
	ch := make(chan string, 8)
	m := ss.listeners[channel]
	if m == nil {
		m = map[chan string]struct{}{}
		ss.listeners[channel] = m
	}
	m[ch] = struct{}{}
	return ch
}

func (ss *Stores) unlisten(channel string, ch chan string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if m := ss.listeners[channel]; m != nil {
		delete(m, ch)
		if len(m) == 0 {
			delete(ss.listeners, channel)
		}
	}
}

// dispatch hands each message to the listeners of its channel, dropping it
// for a listener that is behind (messages are hints: listeners also poll).
func (ss *Stores) dispatch(msgs <-chan *redis.Message) {
	defer ss.wg.Done()
	for m := range msgs {
		ss.mu.Lock()
		for ch := range ss.listeners[m.Channel] {
			select {
			case ch <- m.Payload:
			default:
			}
		}
		ss.mu.Unlock()
	}
}

// watch is Store.Watch on the shared subscription.
func (ss *Stores) watch(ctx context.Context, s *Store) (<-chan spotauth.StoreEvent, error) {
	ch := ss.listen(ctx, s.channel)
	if ch == nil {
		return nil, s.wrap("watch", errors.New("cannot subscribe"))
	}
	out := make(chan spotauth.StoreEvent, 16)
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		defer close(out)
		defer ss.unlisten(s.channel, ch)
		forwardEvents(ctx, ch, func(p string) string { return p }, out, s.closed, ss.done)
	}()
	return out, nil
}
