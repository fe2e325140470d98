package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// RunSealed runs the encryption tests of a store that takes a
// [storecrypt.Sealer], checking the rule stated in package storecrypt: a
// store with a Sealer reads a token stored in clear and seals it at the
// next save, by [spotauth.TokenStore.Save] or by a lease's Save; a store
// without one refuses a sealed token with an error wrapping
// [storecrypt.ErrNoKey]; another key gives an error wrapping
// [storecrypt.ErrWrongKey]; no error shows the token.
//
// newStorage returns a new, empty storage (a directory, a Redis key) for
// each t, and a function that opens a store on that storage with a sealer,
// nil for none. Stores opened on one storage see each other's tokens.
func RunSealed(t *testing.T, newStorage func(t *testing.T) func(sealer storecrypt.Sealer) spotauth.TokenStore) {
	t.Helper()
	t.Run("ClearTokenSealedAtSave", func(t *testing.T) { testClearSealedAtSave(t, newStorage(t), false) })
	t.Run("ClearTokenSealedAtLeaseSave", func(t *testing.T) {
		open := newStorage(t)
		if _, ok := open(nil).(spotauth.LockingStore); !ok {
			t.Skip("not a LockingStore")
		}
		testClearSealedAtSave(t, open, true)
	})
	t.Run("WrongKey", func(t *testing.T) { testWrongKey(t, newStorage(t)) })
	t.Run("KeyRotation", func(t *testing.T) { testKeyRotation(t, newStorage(t)) })
}

// sealers returns AES-GCM sealers of n distinct keys.
func sealers(t *testing.T, n int) []*storecrypt.AESGCM {
	t.Helper()
	var out []*storecrypt.AESGCM
	for i := range n {
		s, err := storecrypt.New(key(i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func key(i int) []byte { return bytes.Repeat([]byte{byte(i + 1)}, storecrypt.KeySize) }

// checkSecretFree fails t if err shows a token of SampleToken.
func checkSecretFree(t *testing.T, call string, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), "BQ-access-") || strings.Contains(err.Error(), "AQ-refresh-")) {
		t.Errorf("%s error %q shows the token", call, err)
	}
}

func testClearSealedAtSave(t *testing.T, open func(storecrypt.Sealer) spotauth.TokenStore, lease bool) {
	plain, sealed := open(nil), open(sealers(t, 1)[0])
	mustSave(t, plain, SampleToken(1))
	if got := mustLoad(t, sealed); !Equal(got, SampleToken(1)) {
		t.Fatalf("Load() with a Sealer of a token stored in clear = %s; want it", describe(got))
	}
	if lease {
		l := mustLock(t, sealed.(spotauth.LockingStore))
		if got := mustLoad(t, l); !Equal(got, SampleToken(1)) {
			t.Errorf("Lease.Load() with a Sealer of a token stored in clear = %s; want it", describe(got))
		}
		if err := l.Save(ctxT(t), SampleToken(2)); err != nil {
			t.Fatalf("Lease.Save() over a token stored in clear = %v; want nil", err)
		}
		if err := l.Release(ctxT(t)); err != nil {
			t.Fatalf("Release() = %v", err)
		}
	} else {
		mustSave(t, sealed, SampleToken(2))
	}
	if got := mustLoad(t, sealed); !Equal(got, SampleToken(2)) {
		t.Errorf("Load() with a Sealer after its save = %s; want token 2", describe(got))
	}
	got, err := plain.Load(ctxT(t))
	if !errors.Is(err, storecrypt.ErrNoKey) {
		t.Errorf("Load() without a Sealer after a save with one = %s, %v; want an error wrapping storecrypt.ErrNoKey (the token sealed)", describe(got), err)
	}
	checkSecretFree(t, "Load() without a Sealer", err)
}

func testWrongKey(t *testing.T, open func(storecrypt.Sealer) spotauth.TokenStore) {
	s := sealers(t, 2)
	mustSave(t, open(s[0]), SampleToken(1))
	got, err := open(s[1]).Load(ctxT(t))
	if !errors.Is(err, storecrypt.ErrWrongKey) {
		t.Errorf("Load() with another key = %s, %v; want an error wrapping storecrypt.ErrWrongKey", describe(got), err)
	}
	checkSecretFree(t, "Load() with another key", err)
}

func testKeyRotation(t *testing.T, open func(storecrypt.Sealer) spotauth.TokenStore) {
	oldKey := sealers(t, 1)[0]
	rotated, err := storecrypt.New(key(1), key(0)) // seals with the new key, opens both
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, open(oldKey), SampleToken(1))
	s := open(rotated)
	if got := mustLoad(t, s); !Equal(got, SampleToken(1)) {
		t.Errorf("Load() with the new key and the old one = %s; want token 1", describe(got))
	}
	mustSave(t, s, SampleToken(2))
	if _, err := open(oldKey).Load(ctxT(t)); !errors.Is(err, storecrypt.ErrWrongKey) {
		t.Errorf("Load() with the old key only, after a save with the new one = %v; want storecrypt.ErrWrongKey", err)
	}
}
