package spotauth

import (
	"context"
	"testing"
	"time"
)

// TestRenewFromStoredWithinTheSecond: another process refreshed a moment
// after this one, and its token was stored with its expiry floored to the
// second, before this process's exact one. The stored token is still the
// newer: this process must adopt it, and if it refreshes, refresh with the
// stored refresh token, never its own, which the other process rotated
// away (a fleet stress run got invalid_grant from exactly this).
func TestRenewFromStoredWithinTheSecond(t *testing.T) {
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	mine := &Token{AccessToken: "at-mine", RefreshToken: "rt-2", Expiry: base.Add(700 * time.Millisecond)}
	// Issued 200 ms after mine, stored as whole seconds.
	stored := &Token{AccessToken: "at-other", RefreshToken: "rt-3", Expiry: base.Add(900 * time.Millisecond).Truncate(time.Second)}

	if got := newer(mine, stored); got != stored {
		t.Errorf("newer(mine, stored) = %s; want the stored token", got.RefreshToken)
	}
	if olderThan(stored, mine) {
		t.Error("olderThan(stored, mine) = true; want false within the same second")
	}
	if !olderThan(mine, &Token{Expiry: base.Add(time.Second)}) {
		t.Error("olderThan across a second boundary = false; want true")
	}
	src := &RefreshingSource{clock: fixedClock(base.Add(-time.Minute))}
	if !src.adoptable(stored, mine) {
		t.Error("adoptable(stored, mine) = false; want the stored token adopted")
	}

	if used := refreshTokenUsed(t, base, stored, &renewal{stale: mine}); used != "rt-3" {
		t.Errorf("refreshed with %q; want the stored refresh token rt-3", used)
	}
}

// refreshTokenUsed runs r, a renewal of a stored token whose refresh is
// forced, against a store holding stored, at base minus a minute, and
// returns the refresh token that r sent.
func refreshTokenUsed(t *testing.T, base time.Time, stored *Token, r *renewal) (used string) {
	t.Helper()
	store := &MemoryStore{}
	if err := store.Save(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	r.renew = func(_ context.Context, b *Token) (*Token, error) {
		used = b.RefreshToken
		return &Token{AccessToken: "at-new", RefreshToken: "rt-4", Expiry: base.Add(time.Hour)}, nil
	}
	r.store, r.stored = store, true
	r.adopt = func(*Token) bool { return false } // force the refresh
	r.now = func() time.Time { return base.Add(-time.Minute) }
	if _, err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return used
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func (fixedClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// TestRenewUnderLeaseFromStored: under the lease, a stored token that
// differs from the saved stale one is the refresh base even when its
// expiry is whole seconds earlier, as after a stall that made the stale
// token's computed expiry late: the stored refresh token is the current
// one, and the stale one was rotated away (the fleet saw invalid_grant).
// A stale token that was never saved stays the base when it is newer.
func TestRenewUnderLeaseFromStored(t *testing.T) {
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	mine := &Token{AccessToken: "at-mine", RefreshToken: "rt-2", Expiry: base.Add(3 * time.Second)}
	stored := &Token{AccessToken: "at-other", RefreshToken: "rt-3", Expiry: base.Add(time.Second)}
	for _, tt := range []struct {
		name    string
		unsaved bool
		want    string
	}{
		{"saved", false, "rt-3"},
		{"unsaved", true, "rt-2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if used := refreshTokenUsed(t, base, stored, &renewal{stale: mine, unsaved: tt.unsaved, loaded: true}); used != tt.want {
				t.Errorf("refreshed with %q; want %q", used, tt.want)
			}
		})
	}
}
