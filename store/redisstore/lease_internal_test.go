package redisstore

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// TestLeaseSaveRetryAfterLostReply: a Save that ran in Redis but whose
// reply was lost leaves the lease at the version it saw. A retry of the
// same token succeeds without a second write; a different token is
// refused and overwrites nothing. With a sealer too, whose nonce is
// random.
func TestLeaseSaveRetryAfterLostReply(t *testing.T) {
	sealer, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	c := redis.NewClient(&redis.Options{Addr: redistest.Start(t), MaxRetries: -1})
	defer c.Close()
	for _, tt := range []struct {
		name   string
		sealer storecrypt.Sealer
	}{
		{"plain", nil},
		{"encrypted", sealer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(c, tt.name, &Options{LeaseTTL: time.Second, Sealer: tt.sealer})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok := func(n string) *spotauth.Token {
				return &spotauth.Token{AccessToken: "access-" + n, TokenType: "Bearer", RefreshToken: "refresh-" + n, Expiry: time.Unix(1_800_000_000, 5).UTC()}
			}
			if err := s.Save(ctx, tok("old")); err != nil {
				t.Fatal(err)
			}
			ll, err := s.Lock(ctx)
			if err != nil {
				t.Fatalf("Lock = %v", err)
			}
			defer ll.Release(ctx)
			l := ll.(*lease)
			seen := l.version
			// Save's first attempt runs, but its reply is dropped, as if
			// it had timed out: the lease stays at the version it saw.
			plain, err := s.marshal(tok("new"))
			if err != nil {
				t.Fatal(err)
			}
			l.mu.Lock()
			b, err := l.attempt(plain)
			l.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			if v, _, err := writeResult(leaseSaveScript.Run(ctx, c, s.keys(), seen, b, s.channel, l.value)); err != nil || v != seen+1 {
				t.Fatalf("first attempt's script = %d, %v; want version %d", v, err, seen+1)
			}
			if err := l.Save(ctx, tok("other")); !errors.Is(err, spotauth.ErrLeaseLost) {
				t.Errorf("Save of a different token after a lost reply = %v; want ErrLeaseLost", err)
			}
			if err := l.Save(ctx, tok("new")); err != nil {
				t.Fatalf("retried Save of the same token after a lost reply = %v; want nil", err)
			}
			if v, _ := s.Version(ctx); v != seen+1 {
				t.Errorf("Version after a Save and its retry = %d; want %d (one write)", v, seen+1)
			}
			if got, err := s.Load(ctx); err != nil || got.RefreshToken != "refresh-new" {
				t.Errorf("Load = %v, %v; want the token saved once", got, err)
			}
			// The retry's success is a fence like any Save's: the lease
			// saves again over its own write.
			if err := l.Save(ctx, tok("newer")); err != nil {
				t.Errorf("Save after the retried Save = %v; want nil", err)
			}
			if v, _ := s.Version(ctx); v != seen+2 {
				t.Errorf("Version after a further Save = %d; want %d", v, seen+2)
			}
		})
	}
}

func TestLeaseValue(t *testing.T) {
	a, b := leaseValue(), leaseValue()
	if a == b {
		t.Errorf("two lease values are equal (%q); want them unique", a)
	}
	host, pid, ok := parseLeaseValue(a)
	if !ok || pid != os.Getpid() || host == "" || strings.ContainsAny(host, "/ {}") {
		t.Errorf("parseLeaseValue(%q) = %q, %d, %v; want this host, pid %d, true", a, host, pid, ok, os.Getpid())
	}
	for _, v := range []string{"", "0123456789abcdef", "h/x/r", "h/0/r", "/1/r", "h/1/", "a/b/1/r"} {
		if _, _, ok := parseLeaseValue(v); ok {
			t.Errorf("parseLeaseValue(%q) = ok; want not ok", v)
		}
	}
}
