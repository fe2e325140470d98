package weblogin

import (
	"hash/maphash"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/spotauth/spotauth"
)

// The active users: a bounded cache of each user's token source, least
// recently used first out. It is split in shards, each an LRU list under
// its own mutex, so that concurrent requests of different users rarely
// wait for each other; the bound is on the whole cache, and an insertion
// beyond it evicts the least recently used entry of its own shard (of the
// next shard if its own has no other), which approximates a global LRU.
// With fewer than 1024 places it is one shard: an exact LRU.
//
// A request pins its user's entry for its duration, so that an eviction
// never closes a source a handler is using: the evicted entry is closed
// when its last pin goes.

// user is one active user: the token store and on-demand source.
type user struct {
	id     string
	store  spotauth.TokenStore
	src    *spotauth.RefreshingSource
	client *http.Client
	// refs counts pins, plus evictedBit once the entry left the cache;
	// whoever brings it to exactly evictedBit closes the entry.
	refs       atomic.Int64
	prev, next *user // LRU list of the shard, most recent after the head
}

const evictedBit = 1 << 40

type shard struct {
	mu   sync.Mutex
	m    map[string]*user
	head user // sentinel of a circular list
	n    int
}

type cache struct {
	shards   []shard
	mask     uint64
	seed     maphash.Seed
	capacity int64
	count    atomic.Int64 // entries in all shards
	open     func(id string) (*user, error)

	mu     sync.Mutex // guards closed, and live.Add after it
	closed bool
	live   sync.WaitGroup // entries inserted and not yet closed
}

func newCache(capacity int, open func(string) (*user, error)) *cache {
	n := 1
	for n < 64 && capacity/(2*n) >= 512 {
		n *= 2
	}
	c := &cache{shards: make([]shard, n), mask: uint64(n - 1), seed: maphash.MakeSeed(),
		capacity: int64(max(capacity, 1)), open: open}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.m = make(map[string]*user)
		sh.head.prev, sh.head.next = &sh.head, &sh.head
	}
	return c
}

func (c *cache) shard(id []byte) *shard {
	return &c.shards[maphash.Bytes(c.seed, id)&c.mask]
}

func (sh *shard) unlink(u *user) {
	u.prev.next, u.next.prev = u.next, u.prev
	u.prev, u.next = nil, nil
}

func (sh *shard) pushFront(u *user) {
	u.prev, u.next = &sh.head, sh.head.next
	sh.head.next.prev = u
	sh.head.next = u
}

// get returns the pinned entry of user id, opening it if it is not cached.
func (c *cache) get(id []byte) (*user, error) {
	sh := c.shard(id)
	sh.mu.Lock()
	if u := sh.m[string(id)]; u != nil {
		if sh.head.next != u {
			sh.unlink(u)
			sh.pushFront(u)
		}
		u.refs.Add(1)
		sh.mu.Unlock()
		return u, nil
	}
	sh.mu.Unlock()
	nu, err := c.open(string(id))
	if err != nil {
		return nil, err
	}
	return c.insert(sh, nu, false)
}

// put caches u, a user's new entry, replacing the one cached, and returns
// it pinned.
func (c *cache) put(u *user) (*user, error) {
	return c.insert(c.shard([]byte(u.id)), u, true)
}

// insert adds nu to sh, pinned. If an entry of the user is cached already,
// replace says which stays: nu (the old one is evicted) or the cached one
// (nu is closed).
func (c *cache) insert(sh *shard, nu *user, replace bool) (*user, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		nu.close()
		return nil, spotauth.ErrClosed
	}
	c.live.Add(1) // before close's Wait, which follows closed = true
	c.mu.Unlock()
	nu.refs.Add(1)
	var victims [2]*user
	nv := 0
	grew := false
	sh.mu.Lock()
	if old := sh.m[nu.id]; old != nil {
		if !replace {
			if sh.head.next != old {
				sh.unlink(old)
				sh.pushFront(old)
			}
			old.refs.Add(1)
			sh.mu.Unlock()
			nu.refs.Add(-1)
			c.evict(nu) // lost a race with another request of the user
			return old, nil
		}
		sh.unlink(old)
		delete(sh.m, old.id)
		sh.n--
		victims[nv] = old
		nv++
	}
	sh.m[nu.id] = nu
	sh.pushFront(nu)
	sh.n++
	if nv == 0 {
		grew = true
		if c.count.Add(1) > c.capacity && sh.n > 1 {
			victims[nv] = sh.popLRU()
			nv++
			c.count.Add(-1)
			grew = false
		}
	}
	sh.mu.Unlock()
	if grew && c.count.Load() > c.capacity {
		// This shard holds only the new entry: make room in another.
		if v := c.evictFrom(sh); v != nil {
			victims[nv] = v
			nv++
		}
	}
	for _, v := range victims[:nv] {
		c.evict(v)
	}
	return nu, nil
}

// popLRU removes and returns the least recently used entry of sh, which
// must have one. sh.mu must be held.
func (sh *shard) popLRU() *user {
	lru := sh.head.prev
	sh.unlink(lru)
	delete(sh.m, lru.id)
	sh.n--
	return lru
}

// evictFrom removes the least recently used entry of the first shard after
// not that has one, while the cache is over capacity.
func (c *cache) evictFrom(not *shard) *user {
	start := 0
	for i := range c.shards {
		if &c.shards[i] == not {
			start = i
		}
	}
	for k := 1; k < len(c.shards); k++ {
		sh := &c.shards[(start+k)%len(c.shards)]
		sh.mu.Lock()
		if sh.n > 0 && c.count.Load() > c.capacity {
			v := sh.popLRU()
			c.count.Add(-1)
			sh.mu.Unlock()
			return v
		}
		sh.mu.Unlock()
	}
	return nil
}

// remove evicts the entry of user id, if cached.
func (c *cache) remove(id string) {
	sh := c.shard([]byte(id))
	sh.mu.Lock()
	u := sh.m[id]
	if u != nil {
		sh.unlink(u)
		delete(sh.m, id)
		sh.n--
		c.count.Add(-1)
	}
	sh.mu.Unlock()
	if u != nil {
		c.evict(u)
	}
}

// unpin releases a pin of get or put.
func (c *cache) unpin(u *user) {
	if u.refs.Add(-1) == evictedBit {
		c.retire(u)
	}
}

// evict marks u, which left the cache, for closing.
func (c *cache) evict(u *user) {
	if u.refs.Add(evictedBit) == evictedBit {
		c.retire(u)
	}
}

// retire closes u's source and store, in the background: a refresh in
// flight completes (and is saved) first.
func (c *cache) retire(u *user) {
	go func() {
		defer c.live.Done()
		u.close()
	}()
}

func (u *user) close() {
	if u.src != nil {
		u.src.Close()
	}
	closeStore(u.store)
}

// closeStore closes a store that Options.Store opened, if it has Close.
func closeStore(s spotauth.TokenStore) {
	if cl, ok := s.(io.Closer); ok {
		cl.Close()
	}
}

// len returns the number of cached entries.
func (c *cache) len() int { return int(c.count.Load()) }

// close evicts every entry and waits until all are closed, pinned ones
// included (their requests end first). Later inserts fail.
func (c *cache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		var all []*user
		for u := sh.head.next; u != &sh.head; u = u.next {
			all = append(all, u)
		}
		for _, u := range all {
			sh.unlink(u)
		}
		clear(sh.m)
		c.count.Add(-int64(sh.n))
		sh.n = 0
		sh.mu.Unlock()
		for _, u := range all {
			c.evict(u)
		}
	}
	c.live.Wait()
}
