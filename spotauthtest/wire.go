package spotauthtest

import (
	crand "crypto/rand"
	"encoding/base64"
	"math/rand/v2"
	"sync"
)

// Token prefixes, as Spotify's (clients must not parse tokens).
const (
	prefixAccess  = "BQ"
	prefixRefresh = "AQ"
	prefixCode    = "AQ"
	prefixConsent = "CS"
)

// rngPool holds ChaCha8 generators, each seeded with 32 bytes from
// crypto/rand: a cryptographically strong stream without a system call per
// token.
var rngPool = sync.Pool{New: func() any {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic("spotauthtest: crypto/rand: " + err.Error())
	}
	return rand.NewChaCha8(seed)
}}

// newToken returns prefix followed by 32 random bytes in base64url without
// padding (43 characters): 256 bits of entropy, URL-safe.
func newToken(prefix string) string {
	var raw [32]byte
	r := rngPool.Get().(*rand.ChaCha8)
	_, _ = r.Read(raw[:])
	rngPool.Put(r)
	var out [2 + 43]byte
	copy(out[:2], prefix)
	base64.RawURLEncoding.Encode(out[2:], raw[:])
	return string(out[:])
}
