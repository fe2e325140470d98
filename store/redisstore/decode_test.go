package redisstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// FuzzDecode feeds arbitrary stored values to the decoder, with and without
// a sealer: never a panic, errors that quote nothing, and a decoded token
// that encodes and decodes to itself.
func FuzzDecode(f *testing.F) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	plain, _ := New(c, "k", nil)
	sealer, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	sealed, _ := New(c, "k", &Options{Sealer: sealer})
	tok := &spotauth.Token{AccessToken: "secret-a", TokenType: "Bearer", RefreshToken: "secret-r", Expiry: time.Unix(1_800_000_000, 5).UTC()}
	for _, s := range []*Store{plain, sealed} {
		b, _ := s.encode(tok)
		f.Add(b, s == sealed)
	}
	f.Add([]byte(`{"token":{"access_token":"secret-x"},"expiry":"bad"}`), false)
	f.Add([]byte(`{"token":null}`), false)
	f.Add([]byte(`{"access_token":"secret-old-format"}`), false)
	f.Add([]byte("SAE\x01"), true)
	f.Fuzz(func(t *testing.T, b []byte, useSealer bool) {
		s := plain
		if useSealer {
			s = sealed
		}
		got, err := s.decode(b)
		if err != nil {
			if got != nil {
				t.Errorf("decode returned a token with error %v", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("decode error %q quotes the stored value", err)
			}
			if !strings.HasPrefix(err.Error(), "spotauth: ") {
				t.Errorf("decode error %q does not start with \"spotauth: \"", err)
			}
			return
		}
		again, err := s.encode(got)
		if err != nil {
			t.Fatalf("encode(decoded) = %v", err)
		}
		back, err := s.decode(again)
		if err != nil || back.AccessToken != got.AccessToken || back.RefreshToken != got.RefreshToken || !back.Expiry.Equal(got.Expiry) {
			t.Errorf("decode(encode(decode(b))) = %+v, %v; want %+v", back, err, got)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	s, _ := New(c, "k", nil)
	for _, in := range []string{"", "null", "[]", `{"token":null}`, `{"token":{}}`, `{"token":{"access_token":"a"}, "expiry":"yesterday"}`, `{"token":`} {
		if _, err := s.decode([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode(%q) = %v; want ErrCorrupt", in, err)
		}
	}
}
