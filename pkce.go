package spotauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// PKCE verifier length bounds, from RFC 7636 §4.1.
const (
	minVerifierLen = 43
	maxVerifierLen = 128
)

// GenerateVerifier returns a new PKCE code verifier: 32 random bytes,
// base64url-encoded (43 characters).
func GenerateVerifier() string { return randomString(32) }

// S256Challenge returns the PKCE code_challenge of verifier for
// code_challenge_method=S256: base64url-nopad(SHA-256(verifier)).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validateVerifier reports whether verifier follows RFC 7636 §4.1:
// 43 to 128 characters from A-Z a-z 0-9 "-" "." "_" "~". The error wraps
// [ErrInvalidConfig] and never contains the verifier.
func validateVerifier(verifier string) error {
	if n := len(verifier); n < minVerifierLen || n > maxVerifierLen {
		return fmt.Errorf("%w: length %d, want %d to %d characters", ErrInvalidConfig, n, minVerifierLen, maxVerifierLen)
	}
	for i := 0; i < len(verifier); i++ {
		if !isUnreserved(verifier[i]) {
			return fmt.Errorf("%w: character at offset %d is not in A-Z a-z 0-9 - . _ ~", ErrInvalidConfig, i)
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// GenerateState returns a new CSRF state: 32 random bytes, base64url-encoded.
// It is tekore's gen_state.
func GenerateState() string { return randomString(32) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand doc, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
