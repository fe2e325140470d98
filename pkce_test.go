package spotauth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// rfc7636Verifier is the code verifier of RFC 7636 Appendix B.
const rfc7636Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func TestGenerateVerifierAndState(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		v := GenerateVerifier()
		if len(v) != 43 {
			t.Errorf("GenerateVerifier() = %q, %d characters; want 43", v, len(v))
		}
		if err := validateVerifier(v); err != nil {
			t.Errorf("validateVerifier(GenerateVerifier()) = %v; want nil", err)
		}
		s := GenerateState()
		if b, err := base64.RawURLEncoding.DecodeString(s); err != nil || len(b) != 32 {
			t.Errorf("GenerateState() = %q; want 32 bytes base64url without padding (err %v)", s, err)
		}
		if seen[v] || seen[s] {
			t.Errorf("GenerateVerifier/GenerateState repeated a value")
		}
		seen[v], seen[s] = true, true
	}
}

func TestValidateVerifier(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{rfc7636Verifier, true},
		{strings.Repeat("a", minVerifierLen), true},
		{strings.Repeat("A", maxVerifierLen), true},
		{strings.Repeat("-._~", 11), true},
		{strings.Repeat("a", 42), false},
		{strings.Repeat("a", 129), false},
		{"", false},
		{strings.Repeat("a", 42) + "=", false},
		{strings.Repeat("a", 42) + "+", false},
		{strings.Repeat("a", 42) + " ", false},
		{strings.Repeat("a", 41) + "é", false},
	}
	for _, tt := range tests {
		err := validateVerifier(tt.v)
		if (err == nil) != tt.ok {
			t.Errorf("validateVerifier(%q) = %v; want ok=%t", tt.v, err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("validateVerifier(%q) = %v; want ErrInvalidConfig", tt.v, err)
			}
			if len(tt.v) > 10 && strings.Contains(err.Error(), tt.v) {
				t.Errorf("validateVerifier(%q) error repeats the verifier: %v", tt.v, err)
			}
		}
	}
	if minVerifierLen != 43 || maxVerifierLen != 128 {
		t.Errorf("verifier length bounds = %d, %d; want RFC 7636's 43, 128", minVerifierLen, maxVerifierLen)
	}
}
