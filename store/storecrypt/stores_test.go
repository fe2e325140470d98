package storecrypt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// Both stores accept an AESGCM.
var (
	_ = filestore.Options{Sealer: (*storecrypt.AESGCM)(nil)}
	_ = redisstore.WithSealer((*storecrypt.AESGCM)(nil))
)

func TestFileStoreEncryption(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	s1, _ := storecrypt.New(k1)
	s2, _ := storecrypt.New(k2)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enc, err := filestore.New(dir, "p", &filestore.Options{Sealer: s1})
	if err != nil {
		t.Fatal(err)
	}
	tok := &spotauth.Token{AccessToken: "secret-access", RefreshToken: "secret-refresh", TokenType: "Bearer", Expiry: time.Unix(1_800_000_000, 0)}
	if err := enc.Save(ctx, tok); err != nil {
		t.Fatalf("Save(encrypted) = %v", err)
	}
	raw, err := os.ReadFile(enc.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("secret")) {
		t.Errorf("token file %s contains the token in clear: %s", enc.Path(), raw)
	}
	if got, err := enc.Load(ctx); err != nil || got.RefreshToken != tok.RefreshToken {
		t.Errorf("Load(encrypted) = %v, %v; want the token", got, err)
	}
	wrong, _ := filestore.New(dir, "p", &filestore.Options{Sealer: s2})
	got, err := wrong.Load(ctx)
	if !errors.Is(err, storecrypt.ErrWrongKey) {
		t.Errorf("file Load with the wrong key = %v, %v; want ErrWrongKey", got, err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q contains the token", err)
	}
}
