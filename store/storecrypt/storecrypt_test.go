package storecrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustNew(t testing.TB, key []byte, old ...[]byte) *AESGCM {
	t.Helper()
	s, err := New(key, old...)
	if err != nil {
		t.Fatalf("New(key) = %v", err)
	}
	return s
}

const secretJSON = `{"access_token":"BQD-secret-access","refresh_token":"AQC-secret-refresh"}`

func TestSealOpenRoundTrip(t *testing.T) {
	s := mustNew(t, testKey(1))
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte(secretJSON), bytes.Repeat([]byte("y"), 1<<16)} {
		sealed, err := s.Seal(pt)
		if err != nil {
			t.Fatalf("Seal(%d bytes) = %v", len(pt), err)
		}
		if bytes.Contains(sealed, []byte("secret")) && len(pt) > 0 {
			t.Errorf("Seal(%q) output contains the plaintext", pt)
		}
		if len(sealed) != overhead+len(pt) {
			t.Errorf("len(Seal(%d bytes)) = %d; want %d", len(pt), len(sealed), overhead+len(pt))
		}
		got, err := s.Open(sealed)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("Open(Seal(%d bytes)) = %d bytes, %v; want the plaintext", len(pt), len(got), err)
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	s := mustNew(t, testKey(1))
	a, _ := s.Seal([]byte(secretJSON))
	b, _ := s.Seal([]byte(secretJSON))
	if bytes.Equal(a[headerSize:headerSize+nonceSize], b[headerSize:headerSize+nonceSize]) {
		t.Errorf("two Seal calls used the same nonce %x", a[headerSize:headerSize+nonceSize])
	}
	if bytes.Equal(a, b) {
		t.Errorf("two Seal calls of the same plaintext gave the same blob")
	}
}

func TestOpenErrors(t *testing.T) {
	s := mustNew(t, testKey(1))
	sealed, _ := s.Seal([]byte(secretJSON))
	other, _ := mustNew(t, testKey(2)).Seal([]byte(secretJSON))
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	future := bytes.Clone(sealed)
	future[len(magic)] = 2
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"plaintext json", []byte(secretJSON), ErrNotSealed},
		{"empty", nil, ErrNotSealed},
		{"magic only", []byte(magic), ErrDecrypt},
		{"future version", future, ErrUnsupportedVersion},
		{"truncated header", sealed[:headerSize], ErrDecrypt},
		{"truncated tag", sealed[:len(sealed)-1], ErrDecrypt},
		{"other key", other, ErrWrongKey},
		{"key id altered", flip(len(magic) + 1), ErrWrongKey},
		{"nonce altered", flip(headerSize), ErrDecrypt},
		{"ciphertext altered", flip(headerSize + nonceSize), ErrDecrypt},
		{"tag altered", flip(len(sealed) - 1), ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open(%s) = %q, %v; want error %v", tt.name, got, err, tt.want)
			}
			if got != nil {
				t.Errorf("Open(%s) returned %d bytes with an error", tt.name, len(got))
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%s) error %q contains the plaintext", tt.name, err)
			}
		})
	}
}

func TestWrongKeyMessage(t *testing.T) {
	sealed, _ := mustNew(t, testKey(2)).Seal([]byte(secretJSON))
	_, err := mustNew(t, testKey(1)).Open(sealed)
	id := KeyID(testKey(2))
	if want := fmt.Sprintf("%x", id); !strings.Contains(err.Error(), want) {
		t.Errorf("Open(blob of key 2) with key 1 = %q; want the blob's key ID %s", err, want)
	}
	if !strings.HasPrefix(err.Error(), "spotauth: ") {
		t.Errorf("error %q does not start with \"spotauth: \"", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldS := mustNew(t, testKey(1))
	oldBlob, _ := oldS.Seal([]byte(secretJSON))
	rotated := mustNew(t, testKey(2), testKey(1))
	if got, err := rotated.Open(oldBlob); err != nil || string(got) != secretJSON {
		t.Errorf("New(new, old).Open(old blob) = %q, %v; want the plaintext", got, err)
	}
	newBlob, _ := rotated.Seal([]byte(secretJSON))
	if _, err := oldS.Open(newBlob); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old.Open(blob sealed after rotation) = %v; want ErrWrongKey (sealed with the new key)", err)
	}
}

func TestNewInvalidKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("New(%d bytes) = %v; want ErrInvalidKey", n, err)
		}
	}
	if _, err := New(testKey(1), make([]byte, 5)); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("New(key, 5-byte old key) = %v; want ErrInvalidKey", err)
	}
}

func TestZeroValueIsAnError(t *testing.T) {
	var z AESGCM
	if _, err := z.Seal([]byte("x")); !errors.Is(err, ErrNoKey) {
		t.Errorf("AESGCM{}.Seal = %v; want ErrNoKey", err)
	}
	var nilS *AESGCM
	if _, err := nilS.Open([]byte("x")); !errors.Is(err, ErrNoKey) {
		t.Errorf("(*AESGCM)(nil).Open = %v; want ErrNoKey", err)
	}
	if got := fmt.Sprint(nilS); !strings.Contains(got, "none") {
		t.Errorf("fmt.Sprint(nil *AESGCM) = %q; want it to say no keys", got)
	}
}

func TestParseKey(t *testing.T) {
	raw := testKey(7)
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{"std", base64.StdEncoding.EncodeToString(raw), false},
		{"std with newline", base64.StdEncoding.EncodeToString(raw) + "\n", false},
		{"raw std", base64.RawStdEncoding.EncodeToString(raw), false},
		{"url", base64.URLEncoding.EncodeToString(raw), false},
		{"raw url", base64.RawURLEncoding.EncodeToString(raw), false},
		{"empty", "", true},
		{"short", base64.StdEncoding.EncodeToString(raw[:16]), true},
		{"long", base64.StdEncoding.EncodeToString(append(raw, 1)), true},
		{"not base64", "this is not base64 at all!!", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("ParseKey(%q) = %x, %v; want ErrInvalidKey", tt.in, k, err)
				}
				if tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Errorf("ParseKey error %q contains the key", err)
				}
				return
			}
			if err != nil || !bytes.Equal(k, raw) {
				t.Errorf("ParseKey(%q) = %x, %v; want %x", tt.in, k, err, raw)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	if a == b {
		t.Errorf("GenerateKey() twice = %q; want different keys", a)
	}
	if k, err := ParseKey(a); err != nil || len(k) != KeySize {
		t.Errorf("ParseKey(GenerateKey()) = %d bytes, %v; want %d bytes", len(k), err, KeySize)
	}
}

func TestFromEnv(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	k2 := base64.StdEncoding.EncodeToString(testKey(2))
	tests := []struct {
		name    string
		env     map[string]string
		wantErr error
		wantIDs int
	}{
		{"unset", nil, ErrNoKey, 0},
		{"empty", map[string]string{EnvKey: " "}, ErrNoKey, 0},
		{"bad", map[string]string{EnvKey: "nope"}, ErrInvalidKey, 0},
		{"one", map[string]string{EnvKey: k1}, nil, 1},
		{"with old", map[string]string{EnvKey: k1, EnvKey + "_OLD": k2 + "," + k2}, nil, 3},
		{"bad old", map[string]string{EnvKey: k1, EnvKey + "_OLD": "x"}, ErrInvalidKey, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("FromEnv(%s) = %v; want %v", tt.name, err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), k1) {
					t.Errorf("FromEnv error %q contains a key", err)
				}
				return
			}
			if err != nil || len(s.keys) != tt.wantIDs {
				t.Errorf("FromEnv(%s) = %v keys, %v; want %d keys", tt.name, s, err, tt.wantIDs)
			}
		})
	}
}

func TestStringShowsNoKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := mustNew(t, key)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		got := fmt.Sprintf(f, s)
		if strings.Contains(got, string(key)) || strings.Contains(got, fmt.Sprintf("%x", key)) || strings.Contains(got, "0123456789") {
			t.Errorf("Sprintf(%s, sealer) = %q; contains the key", f, got)
		}
	}
	if got, want := s.String(), fmt.Sprintf("%x", KeyID(key)); !strings.Contains(got, want) {
		t.Errorf("String() = %q; want the key ID %s", got, want)
	}
}

// FuzzOpen feeds arbitrary blobs to Open: it must never panic, must fail
// with one of the package's errors, and may only succeed on a blob that
// authenticates, whose plaintext then seals and opens again.
func FuzzOpen(f *testing.F) {
	s := mustNew(f, testKey(1))
	for _, pt := range []string{"", "x", secretJSON} {
		b, _ := s.Seal([]byte(pt))
		f.Add(b)
	}
	other, _ := mustNew(f, testKey(2)).Seal([]byte(secretJSON))
	f.Add(other)
	f.Add([]byte(magic))
	f.Add([]byte(magic + "\x01"))
	f.Add([]byte(magic + "\x02"))
	f.Add([]byte(secretJSON))
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := s.Open(b)
		if err != nil {
			if pt != nil {
				t.Errorf("Open returned %d bytes with error %v", len(pt), err)
			}
			known := errors.Is(err, ErrNotSealed) || errors.Is(err, ErrUnsupportedVersion) ||
				errors.Is(err, ErrWrongKey) || errors.Is(err, ErrDecrypt)
			if !known {
				t.Errorf("Open(%x) = %v; want one of the package's errors", b, err)
			}
			return
		}
		again, err := s.Seal(pt)
		if err != nil {
			t.Fatalf("Seal(opened plaintext) = %v", err)
		}
		if got, err := s.Open(again); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("Open(Seal(pt)) = %q, %v; want %q", got, err, pt)
		}
	})
}
