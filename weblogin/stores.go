package weblogin

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"sync"

	"github.com/spotauth/spotauth"
)

// MemoryStores keeps each user's token in a [spotauth.MemoryStore], for a
// server running as a single process (tests, development): replicas need
// shared stores. Its Store method is an [Options.Store]. The zero value is
// empty and ready to use; it must not be copied after first use.
type MemoryStores struct {
	mu     sync.Mutex
	stores map[string]*spotauth.MemoryStore
}

// Store returns the store of userID, the same one at every call.
func (m *MemoryStores) Store(userID string) (spotauth.TokenStore, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stores[userID]
	if s == nil {
		if m.stores == nil {
			m.stores = map[string]*spotauth.MemoryStore{}
		}
		s = &spotauth.MemoryStore{}
		m.stores[userID] = s
	}
	return s, nil
}

// Users returns the IDs of the users whose store was ever requested,
// tokens stored or not, in no particular order.
func (m *MemoryStores) Users() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.stores))
	for id := range m.stores {
		ids = append(ids, id)
	}
	return ids
}

// StoreKey returns a name for userID's token that the file and Redis stores
// accept and that no other user ID gives, on case-insensitive file systems
// too: a Spotify ID of lowercase letters and digits as it is, any other ID
// (an older account's user name, with capitals or punctuation) as "x-" and
// its base32 encoding, or "h-" and a SHA-256 prefix when that is too long.
// All names are 1 to 64 letters, digits and '-'.
func StoreKey(userID string) string {
	plain := userID != "" && len(userID) <= 64
	for i := 0; plain && i < len(userID); i++ {
		c := userID[i]
		plain = 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
	}
	if plain {
		return userID
	}
	if enc := lowerBase32.EncodeToString([]byte(userID)); len(enc) <= 62 {
		return "x-" + enc
	}
	sum := sha256.Sum256([]byte(userID))
	return "h-" + hex.EncodeToString(sum[:30])
}

// lowerBase32 is base32hex in lowercase without padding: letters and
// digits only, so that case-insensitive file systems keep names apart.
var lowerBase32 = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)
