package spotauthtest

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// shardedMap is a string-keyed map split into shards with their own locks,
// so that concurrent token requests rarely wait for each other.
type shardedMap[V any] struct {
	seed   maphash.Seed
	shards [64]shard[V]
}

type shard[V any] struct {
	mu        sync.RWMutex
	m         map[string]V
	nextSweep int
	_         [40]byte // keep shards on separate cache lines
}

func newShardedMap[V any]() *shardedMap[V] {
	m := &shardedMap[V]{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = make(map[string]V)
		m.shards[i].nextSweep = 1024
	}
	return m
}

func (m *shardedMap[V]) shard(k string) *shard[V] {
	return &m.shards[maphash.String(m.seed, k)&63]
}

func (m *shardedMap[V]) get(k string) (V, bool) {
	sh := m.shard(k)
	sh.mu.RLock()
	v, ok := sh.m[k]
	sh.mu.RUnlock()
	return v, ok
}

// put stores v under k. When the shard has grown past its sweep mark, the
// entries for which dead reports true are dropped first (amortized O(1)),
// so that a long-running server does not keep every expired token.
func (m *shardedMap[V]) put(k string, v V, dead func(V) bool) {
	sh := m.shard(k)
	sh.mu.Lock()
	if dead != nil && len(sh.m) >= sh.nextSweep {
		for key, old := range sh.m {
			if dead(old) {
				delete(sh.m, key)
			}
		}
		sh.nextSweep = max(1024, 2*len(sh.m))
	}
	sh.m[k] = v
	sh.mu.Unlock()
}

// take removes and returns the value under k.
func (m *shardedMap[V]) take(k string) (V, bool) {
	sh := m.shard(k)
	sh.mu.Lock()
	v, ok := sh.m[k]
	if ok {
		delete(sh.m, k)
	}
	sh.mu.Unlock()
	return v, ok
}

// each calls f for every entry; f must not call back into m.
func (m *shardedMap[V]) each(f func(k string, v V)) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		for k, v := range sh.m {
			f(k, v)
		}
		sh.mu.RUnlock()
	}
}

// codeEntry is an authorization code waiting to be exchanged.
type codeEntry struct {
	clientID    string
	redirectURI string // the exact string sent to /authorize
	scopes      []string
	challenge   string // S256 challenge; empty without PKCE
	expires     time.Time
	user        User
}

// grant is a user's authorization of an app: what a refresh token stands for.
type grant struct {
	clientID     string
	user         User
	scope        string // granted scopes, space-separated, request order
	email        bool   // user-read-email granted
	private      bool   // user-read-private granted
	pkce         bool
	authorizedAt time.Time
	epoch        int64 // refresh epoch at creation; see Server.ExpireRefreshTokens
	revoked      atomic.Bool

	mu      sync.Mutex // guards current
	current string     // the refresh token that works now
}

// accessEntry is an issued access token.
type accessEntry struct {
	clientID string
	grant    *grant // nil for a client-credentials token
	expires  time.Time
	epoch    int64 // access epoch at issue; see Server.ExpireAccessTokens
}

// consentEntry is an /authorize request waiting at the consent page.
type consentEntry struct {
	req     AuthorizeRequest
	expires time.Time
}
