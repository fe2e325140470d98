package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/store/storetest"
)

// conformanceTTL is the lease TTL of the conformance tests. No test there
// waits for a lease to run out, and a holder whose renewals are starved
// for two thirds of the TTL loses its lease: with the 1 s of the other
// tests, a loaded machine made "Exclusive" see a second Lock succeed.
const conformanceTTL = time.Minute

func TestConformance(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	var n atomic.Int64
	sealer, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	for _, tt := range []struct {
		name string
		opts *redisstore.Options
	}{
		{"plain", &redisstore.Options{LeaseTTL: conformanceTTL}},
		{"encrypted", &redisstore.Options{Sealer: sealer, LeaseTTL: conformanceTTL}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) spotauth.TokenStore {
				// A fresh key per store: empty, and separate from the others.
				return newStoreOn(t, c, fmt.Sprintf("conformance-%d", n.Add(1)), tt.opts)
			})
		})
	}
	t.Run("sealed", func(t *testing.T) {
		storetest.RunSealed(t, func(t *testing.T) func(storecrypt.Sealer) spotauth.TokenStore {
			key := fmt.Sprintf("conformance-%d", n.Add(1))
			return func(sealer storecrypt.Sealer) spotauth.TokenStore {
				return newStoreOn(t, c, key, &redisstore.Options{Sealer: sealer, LeaseTTL: conformanceTTL})
			}
		})
	})
}
