// Package redact describes secrets without revealing them. The root
// package, the stores and the CLI share it, so that a token looks the same
// wherever it is shown.
package redact

import (
	"fmt"
	"strconv"
)

// Secret describes a secret without revealing it: "" for an empty one,
// "[redacted N chars]" for a short one, and for one of 24 characters or
// more its first 4 characters, which identify a token's kind (Spotify's
// access tokens start "BQ"), then "…[redacted N chars]".
func Secret(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) >= 24:
		return printablePrefix(s[:4]) + "…" + Whole(s)
	}
	return Whole(s)
}

// Whole describes a secret by its length alone: "" for an empty one,
// "[redacted N chars]" otherwise.
func Whole(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("[redacted %d chars]", len(s))
}

// SetOrUnset says whether a secret is set, and nothing else.
func SetOrUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

// printablePrefix keeps only printable ASCII letters, digits, '-' and '_'.
func printablePrefix(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '?'
		}
	}
	return string(b)
}

// Format writes str (or goStr for %#v, or str quoted for %q) whatever the
// verb, so that no verb falls through to fmt's printing of raw fields. A
// type holding a secret calls it from its Format method.
func Format(f fmt.State, verb rune, str, goStr string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, goStr)
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(str))
	default:
		fmt.Fprint(f, str)
	}
}
