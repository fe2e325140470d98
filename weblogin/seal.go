package weblogin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Cookie values are sealed with AES-256-GCM:
//
//	base64url( 0x01 | key ID (4 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes) )
//
// The first 5 bytes and the cookie's purpose ("session" or "login") are
// authenticated as additional data, so that a login cookie cannot be
// presented as a session cookie. Each secret of [Options.Keys] gives an
// AES key, a CSRF key and a key ID through HKDF-SHA256, so that the same
// secret used elsewhere (a token store's key, say) gives other keys here.
// The first key seals; every key opens: rotate by putting a new secret
// first and dropping the old one once the cookies it sealed have expired.

const (
	sealVersion  = 1
	keyIDSize    = 4
	nonceSize    = 12
	tagSize      = 16
	sealOverhead = 1 + keyIDSize + nonceSize + tagSize

	// MinKeySize is the minimum length of a secret in [Options.Keys].
	MinKeySize = 32
	// maxCookie bounds the cookie values this package opens.
	maxCookie = 4096
)

// errSeal is why a cookie value does not open: tampered with, sealed by
// another deployment's keys, truncated, or not ours at all.
var errSeal = errors.New("spotauth: web login: cookie does not open with this deployment's keys")

// purpose says what a cookie is for; it is authenticated with the value.
type purpose int

const (
	purposeSession purpose = iota
	purposeLogin
	numPurposes
)

var purposeNames = [numPurposes]string{"session", "login"}

type sealKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
	csrf []byte              // HMAC-SHA256 key of CSRF tokens
	aad  [numPurposes][]byte // additional data: version, key ID, purpose
}

type sealer struct {
	keys []sealKey // keys[0] seals
	bufs sync.Pool // *[]byte of maxCookie bytes, for opening
}

func newSealer(secrets [][]byte) (*sealer, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("spotauth: web login: no cookie keys; generate one with GenerateKey")
	}
	s := &sealer{}
	s.bufs.New = func() any { b := make([]byte, maxCookie); return &b }
	seen := map[[keyIDSize]byte]bool{}
	for i, secret := range secrets {
		if len(secret) < MinKeySize {
			return nil, fmt.Errorf("spotauth: web login: cookie key %d has %d bytes; want at least %d random bytes", i, len(secret), MinKeySize)
		}
		aesKey, err := hkdf.Key(sha256.New, secret, nil, "spotauth weblogin cookie v1", 32)
		if err != nil {
			return nil, err
		}
		csrf, err := hkdf.Key(sha256.New, secret, nil, "spotauth weblogin csrf v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(aesKey)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k := sealKey{aead: aead, csrf: csrf}
		sum := sha256.Sum256(append([]byte("spotauth weblogin key id\x00"), aesKey...))
		copy(k.id[:], sum[:])
		for p := range k.aad {
			k.aad[p] = append(append([]byte{sealVersion}, k.id[:]...), purposeNames[p]...)
		}
		if seen[k.id] {
			return nil, fmt.Errorf("spotauth: web login: cookie key %d repeats an earlier key", i)
		}
		seen[k.id] = true
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// seal returns plaintext sealed for p, base64url-encoded.
func (s *sealer) seal(p purpose, plaintext []byte) string {
	k := &s.keys[0]
	out := make([]byte, 1+keyIDSize+nonceSize, sealOverhead+len(plaintext))
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+keyIDSize:]); err != nil {
		panic("spotauth: web login: crypto/rand failed: " + err.Error())
	}
	out = k.aead.Seal(out, out[1+keyIDSize:], plaintext, k.aad[p])
	return base64.RawURLEncoding.EncodeToString(out)
}

// open returns the plaintext of value, sealed for p, in buf, a buffer to
// give back with s.release once the plaintext is no longer used. k is the
// key that opened it.
func (s *sealer) open(p purpose, value string) (plain []byte, k *sealKey, buf *[]byte, err error) {
	if len(value) > base64.RawURLEncoding.EncodedLen(maxCookie) {
		return nil, nil, nil, errSeal
	}
	bp := s.bufs.Get().(*[]byte)
	b := *bp
	n, derr := decodeBase64(b, value)
	if derr != nil || n < sealOverhead || b[0] != sealVersion {
		s.bufs.Put(bp)
		return nil, nil, nil, errSeal
	}
	raw := b[:n]
	for i := range s.keys {
		if [keyIDSize]byte(raw[1:1+keyIDSize]) != s.keys[i].id {
			continue
		}
		k = &s.keys[i]
		break
	}
	if k == nil {
		s.bufs.Put(bp)
		return nil, nil, nil, errSeal
	}
	nonce := raw[1+keyIDSize : 1+keyIDSize+nonceSize]
	ct := raw[1+keyIDSize+nonceSize:]
	plain, err = k.aead.Open(ct[:0], nonce, ct, k.aad[p])
	if err != nil {
		s.bufs.Put(bp)
		return nil, nil, nil, errSeal
	}
	return plain, k, bp, nil
}

// release gives back a buffer of open.
func (s *sealer) release(buf *[]byte) {
	if buf != nil {
		s.bufs.Put(buf)
	}
}

// decodeBase64 decodes unpadded base64url text into dst without
// converting it to a byte slice first (which would allocate on every
// request). It fails on any other character or on a truncated quantum.
func decodeBase64(dst []byte, src string) (int, error) {
	if base64.RawURLEncoding.DecodedLen(len(src)) > len(dst) || len(src)%4 == 1 {
		return 0, errSeal
	}
	n := 0
	var acc uint32
	bits := 0
	for i := 0; i < len(src); i++ {
		v := b64Index[src[i]]
		if v == 0xff {
			return 0, errSeal
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
		}
	}
	if acc&(1<<bits-1) != 0 {
		return 0, errSeal // non-canonical trailing bits
	}
	return n, nil
}

var b64Index = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// csrfToken returns the CSRF token of session sid under k.
func (k *sealKey) csrfToken(sid []byte) string {
	m := hmac.New(sha256.New, k.csrf)
	m.Write([]byte("logout\x00"))
	m.Write(sid)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether token is the CSRF token of sid under any key.
func (s *sealer) checkCSRF(sid []byte, token string) bool {
	if token == "" {
		return false
	}
	ok := false
	for i := range s.keys {
		// hmac.Equal compares in constant time.
		if hmac.Equal([]byte(s.keys[i].csrfToken(sid)), []byte(token)) {
			ok = true
		}
	}
	return ok
}

// GenerateKey returns a new cookie key: 32 random bytes, base64-encoded,
// as [ParseKeys] reads it.
func GenerateKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("spotauth: web login: crypto/rand failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ParseKeys parses cookie keys written as standard base64 and separated by
// commas or spaces, newest first, such as the value of an environment
// variable: "NEWKEY,OLDKEY". Each must decode to at least [MinKeySize]
// bytes. Errors never repeat a key.
func ParseKeys(text string) ([][]byte, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("spotauth: web login: no cookie keys; generate one with GenerateKey or openssl rand -base64 32")
	}
	keys := make([][]byte, 0, len(fields))
	for i, f := range fields {
		k, err := base64.StdEncoding.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("spotauth: web login: cookie key %d is not standard base64", i)
		}
		if len(k) < MinKeySize {
			return nil, fmt.Errorf("spotauth: web login: cookie key %d has %d bytes; want at least %d", i, len(k), MinKeySize)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
