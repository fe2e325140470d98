package spotauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// PKCE verifier length bounds, from RFC 7636 §4.1.
const (
	MinVerifierLen = 43
	MaxVerifierLen = 128
)

// GenerateVerifier returns a new PKCE code verifier: 32 bytes from
// crypto/rand, base64url without padding (43 characters), as RFC 7636 §4.1
// recommends.
func GenerateVerifier() string { return randomString(32) }

// S256Challenge returns base64url-nopad(SHA-256(verifier)), the
// code_challenge for code_challenge_method=S256 (RFC 7636 §4.2). It is
// always 43 characters; a padded challenge would fail the exchange with
// "code_verifier was incorrect".
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidateVerifier reports whether verifier follows RFC 7636 §4.1:
// 43 to 128 characters from A-Z a-z 0-9 "-" "." "_" "~". The error wraps
// [ErrInvalidVerifier] and never contains the verifier.
func ValidateVerifier(verifier string) error {
	if n := len(verifier); n < MinVerifierLen || n > MaxVerifierLen {
		return fmt.Errorf("%w: length %d, want %d to %d characters", ErrInvalidVerifier, n, MinVerifierLen, MaxVerifierLen)
	}
	for i := 0; i < len(verifier); i++ {
		if !isUnreserved(verifier[i]) {
			return fmt.Errorf("%w: character at offset %d is not in A-Z a-z 0-9 - . _ ~", ErrInvalidVerifier, i)
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// GenState returns a new CSRF state: 32 bytes from crypto/rand, base64url
// without padding (43 URL-safe characters).
func GenState() string { return randomString(32) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand doc, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
