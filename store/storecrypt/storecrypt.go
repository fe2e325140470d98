// Package storecrypt encrypts stored tokens at rest with AES-256-GCM, so that
// a leaked Redis dump, backup or token file reveals no token.
//
// A [Sealer] turns a plaintext (a token's JSON) into a sealed blob and back.
// The Redis store (store/redisstore) and the file store (store/filestore)
// accept any Sealer; [AESGCM] is the one this package provides.
//
// # Stores with a Sealer
//
// Both stores follow one rule. A store with a Sealer seals every token it
// saves. It reads a token stored in clear, as one stored before encryption
// was enabled, and seals it at its next save (the next refresh or login),
// so that encryption can be turned on without logging in again. A sealed
// token that the Sealer cannot open (another key, altered data) is an error,
// never a token. A store without a Sealer refuses a sealed token with an
// error wrapping [ErrNoKey].
//
// Encryption keeps tokens secret from whoever can read the store (a dump,
// a backup, a copied file); it does not authenticate the store's writers:
// whoever can write to the store can store a token in clear.
//
// # Keys
//
// A key is 32 random bytes, written as standard base64 (44 characters) in
// the environment variable SPOTAUTH_STORE_KEY ([EnvKey]) or passed to [New].
// Generate one with
//
//	openssl rand -base64 32
//
// or with head -c 32 /dev/urandom | base64, or [GenerateKey]. Every process
// sharing a store needs the same key. To rotate, seal with the new key and
// keep the old one for opening: New(newKey, oldKey) opens blobs sealed with
// either and seals with the new one; tokens are re-sealed at their next
// save (the next refresh).
package storecrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// EnvKey is the environment variable that [FromEnv] reads the key from.
const EnvKey = "SPOTAUTH_STORE_KEY"

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// A Sealer encrypts and authenticates stored tokens. Open must reject any
// blob that Seal did not produce with the same key, with an error and
// never with a panic; neither method's errors contain the plaintext.
type Sealer interface {
	// Seal returns the sealed form of plaintext.
	Seal(plaintext []byte) ([]byte, error)
	// Open returns the plaintext of a sealed blob. For data that is not a
	// sealed blob at all, its error wraps [ErrNotSealed]: a store then
	// reads the data as a token stored in clear (see the package doc).
	Open(sealed []byte) ([]byte, error)
}

// Errors of Open and of key parsing, matched with [errors.Is].
var (
	// ErrNotSealed: the data is not a blob of this package (for instance a
	// plaintext token stored before encryption was enabled).
	ErrNotSealed = errors.New("spotauth: stored token is not encrypted")
	// ErrUnsupportedVersion: the blob was sealed by a newer format.
	ErrUnsupportedVersion = errors.New("spotauth: unsupported encryption format version")
	// ErrWrongKey: the blob was sealed with a key that is not configured.
	ErrWrongKey = errors.New("spotauth: stored token was encrypted with another key")
	// ErrDecrypt: the key matches but the blob does not authenticate: it
	// was truncated or altered.
	ErrDecrypt = errors.New("spotauth: stored token failed to decrypt (corrupt or altered)")
	// ErrInvalidKey: a key is not 32 bytes of standard base64.
	ErrInvalidKey = errors.New("spotauth: invalid store key")
	// ErrNoKey: no key is configured: the environment variable that
	// FromEnv reads is not set, or a store without a Sealer found a sealed
	// token.
	ErrNoKey = errors.New("spotauth: no store key")
)

// A sealed blob is
//
//	"SAE" | version 0x01 | key ID (8 bytes) | nonce (12 bytes) | AES-GCM ciphertext and tag
//
// The first 12 bytes (magic, version, key ID) are authenticated as
// additional data. The key ID (see KeyID) tells which key sealed a blob
// without revealing the key, so that a wrong key is reported as
// ErrWrongKey rather than as a corrupt blob. Every Seal draws a fresh
// random nonce from crypto/rand; at the rate tokens are refreshed, a key
// can seal far more blobs than any store will ever write (2^32 random
// nonces per key keep the collision risk within NIST's bound).
const (
	magic      = "SAE"
	version    = 1
	keyIDSize  = 8
	nonceSize  = 12
	headerSize = len(magic) + 1 + keyIDSize
	overhead   = headerSize + nonceSize + 16
)

// IsSealed reports whether b looks like a blob of this package (it checks
// the magic bytes only).
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, []byte(magic)) }

type aeadKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// AESGCM is a [Sealer] using AES-256-GCM. It is safe for concurrent use.
// Its String and Format methods show key IDs, never keys.
type AESGCM struct {
	keys []aeadKey // keys[0] seals
}

// New returns a Sealer that seals with key and opens blobs sealed with key
// or any of old (for key rotation). Every key must be [KeySize] bytes.
func New(key []byte, old ...[]byte) (*AESGCM, error) {
	s := &AESGCM{}
	for i, k := range append([][]byte{key}, old...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("%w: key %d is %d bytes; want %d", ErrInvalidKey, i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		s.keys = append(s.keys, aeadKey{id: KeyID(k), aead: aead})
	}
	return s, nil
}

// KeyID returns the identifier of key that sealed blobs carry and errors
// show: the first 8 bytes of SHA-256("spotauth storecrypt key id" | key).
// It tells which key sealed a blob without revealing the key.
func KeyID(key []byte) [8]byte {
	h := sha256.New()
	h.Write([]byte("spotauth storecrypt key id"))
	h.Write(key)
	var id [keyIDSize]byte
	copy(id[:], h.Sum(nil))
	return id
}

// ParseKey decodes a key written as standard (or URL-safe) base64, with or
// without padding, surrounding spaces ignored. Its errors never contain
// the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("%w: decodes to %d bytes; want %d (generate one with: openssl rand -base64 32)", ErrInvalidKey, len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: not base64 (generate one with: openssl rand -base64 32)", ErrInvalidKey)
}

// GenerateKey returns a new random key in the form [ParseKey] reads.
func GenerateKey() string {
	k := make([]byte, KeySize)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// FromEnv returns the Sealer for the key in the environment variable
// [EnvKey], read with lookup (os.LookupEnv in a program). When the variable
// is unset or empty it returns an error wrapping [ErrNoKey]; callers for
// whom encryption is optional check for it. Keys for opening only may be
// listed, comma-separated, in SPOTAUTH_STORE_KEY_OLD.
func FromEnv(lookup func(string) (string, bool)) (*AESGCM, error) {
	v, ok := lookup(EnvKey)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoKey, EnvKey)
	}
	key, err := ParseKey(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvKey, err)
	}
	var old [][]byte
	if v, ok := lookup(EnvKey + "_OLD"); ok && strings.TrimSpace(v) != "" {
		for i, s := range strings.Split(v, ",") {
			k, err := ParseKey(s)
			if err != nil {
				return nil, fmt.Errorf("%s_OLD key %d: %w", EnvKey, i, err)
			}
			old = append(old, k)
		}
	}
	return New(key, old...)
}

// Seal encrypts plaintext with the first key and a fresh random nonce.
func (s *AESGCM) Seal(plaintext []byte) ([]byte, error) {
	if s == nil || len(s.keys) == 0 {
		return nil, errNoKeys()
	}
	k := s.keys[0]
	out := make([]byte, headerSize+nonceSize, overhead+len(plaintext))
	copy(out, magic)
	out[len(magic)] = version
	copy(out[len(magic)+1:], k.id[:])
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("spotauth: seal token: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, out[:headerSize]), nil
}

// Open authenticates and decrypts a blob made by Seal with one of the
// keys. Its errors wrap [ErrNotSealed], [ErrUnsupportedVersion],
// [ErrWrongKey] or [ErrDecrypt].
func (s *AESGCM) Open(sealed []byte) ([]byte, error) {
	if s == nil || len(s.keys) == 0 {
		return nil, errNoKeys()
	}
	if !IsSealed(sealed) {
		return nil, ErrNotSealed
	}
	if len(sealed) < len(magic)+1 {
		return nil, fmt.Errorf("%w: truncated header", ErrDecrypt)
	}
	if v := sealed[len(magic)]; v != version {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedVersion, v)
	}
	if len(sealed) < overhead {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrDecrypt, len(sealed))
	}
	var id [keyIDSize]byte
	copy(id[:], sealed[len(magic)+1:headerSize])
	for _, k := range s.keys {
		if k.id != id {
			continue
		}
		nonce := sealed[headerSize : headerSize+nonceSize]
		pt, err := k.aead.Open(nil, nonce, sealed[headerSize+nonceSize:], sealed[:headerSize])
		if err != nil {
			return nil, ErrDecrypt
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w (key ID %x; configured %s)", ErrWrongKey, id, s.keyIDs())
}

// errNoKeys is the error of an AESGCM without keys (a function, so that
// fmt does not run at init for every program that links this package).
func errNoKeys() error {
	return fmt.Errorf("%w: storecrypt.AESGCM has no key; create it with New", ErrNoKey)
}

func (s *AESGCM) keyIDs() string {
	if s == nil {
		return "none"
	}
	ids := make([]string, len(s.keys))
	for i, k := range s.keys {
		ids[i] = fmt.Sprintf("%x", k.id)
	}
	return strings.Join(ids, ",")
}

// String describes the sealer by its key IDs.
func (s *AESGCM) String() string { return "storecrypt.AESGCM{keys: " + s.keyIDs() + "}" }

// Format makes every verb print String.
func (s *AESGCM) Format(f fmt.State, _ rune) { f.Write([]byte(s.String())) }
