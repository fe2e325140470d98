package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/store/storetest"
)

func TestConformance(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	var n atomic.Int64
	sealer, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	for _, tt := range []struct {
		name string
		opts *redisstore.Options
	}{
		{"plain", nil},
		{"encrypted", &redisstore.Options{Sealer: sealer}},
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
				return newStoreOn(t, c, key, &redisstore.Options{Sealer: sealer})
			}
		})
	})
}
