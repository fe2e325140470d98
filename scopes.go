package spotauth

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode"
)

// Scopes is an immutable set of scopes. The zero value is the empty set.
// Methods never modify the receiver; they return new sets. Iteration and
// [Scopes.String] are in sorted order.
type Scopes struct {
	s []Scope // sorted, without duplicates
}

// NewScopes returns the set of the given scopes, taken verbatim (unknown ones
// included; use [ParseScopes] for text from users).
func NewScopes(scopes ...Scope) Scopes {
	s := make([]Scope, 0, len(scopes))
	for _, sc := range scopes {
		if sc != "" {
			s = append(s, sc)
		}
	}
	slices.Sort(s)
	return scopesOf(slices.Compact(s))
}

// scopesOf wraps a sorted, duplicate-free slice, keeping the empty set's
// zero value canonical.
func scopesOf(sorted []Scope) Scopes {
	if len(sorted) == 0 {
		return Scopes{}
	}
	return Scopes{s: sorted}
}

// ParseScopes parses scopes separated by spaces and/or commas. It fails with
// an [*UnknownScopeError] naming every scope that is neither standard nor Open
// Access; [Scopes.UnmarshalText] keeps them instead.
func ParseScopes(text string) (Scopes, error) {
	var unknown []string
	for f := range strings.FieldsFuncSeq(text, isScopeSep) {
		if !Scope(f).Known() && !slices.Contains(unknown, f) {
			unknown = append(unknown, f)
		}
	}
	if unknown != nil {
		return Scopes{}, &UnknownScopeError{Scopes: unknown}
	}
	return NewScopes(appendFields(nil, text)...), nil
}

// isScopeSep reports whether r separates scopes in text: a comma or
// white space.
func isScopeSep(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// appendFields appends the scopes of text, split at commas and white space,
// dropping empty entries.
func appendFields(dst []Scope, text string) []Scope {
	for f := range strings.FieldsFuncSeq(text, isScopeSep) {
		dst = append(dst, Scope(f))
	}
	return dst
}

// All iterates over the set in sorted order.
func (s Scopes) All() iter.Seq[Scope] { return slices.Values(s.s) }

// Strings returns the scopes in sorted order as strings, the form
// golang.org/x/oauth2.Config.Scopes takes.
func (s Scopes) Strings() []string {
	if len(s.s) == 0 {
		return nil
	}
	out := make([]string, len(s.s))
	for i, sc := range s.s {
		out[i] = string(sc)
	}
	return out
}

// Len reports the number of scopes in the set.
func (s Scopes) Len() int { return len(s.s) }

// Contains reports whether sc is in the set.
func (s Scopes) Contains(sc Scope) bool {
	_, ok := slices.BinarySearch(s.s, sc)
	return ok
}

// ContainsAll reports whether every scope of o is in s. o.Difference(s)
// gives the missing ones: the scopes to ask for in a step-up login.
func (s Scopes) ContainsAll(o Scopes) bool { return o.Difference(s).Len() == 0 }

// Equal reports whether s and o hold the same scopes.
func (s Scopes) Equal(o Scopes) bool { return slices.Equal(s.s, o.s) }

// Union returns the scopes in s or o.
func (s Scopes) Union(o Scopes) Scopes {
	out := make([]Scope, 0, len(s.s)+len(o.s))
	out = append(append(out, s.s...), o.s...)
	slices.Sort(out)
	return scopesOf(slices.Compact(out))
}

// Difference returns the scopes in s and not in o.
func (s Scopes) Difference(o Scopes) Scopes {
	var out []Scope
	for _, sc := range s.s {
		if !o.Contains(sc) {
			out = append(out, sc)
		}
	}
	return scopesOf(out)
}

// String returns the scopes sorted and separated by spaces, as Spotify's scope
// parameter takes them.
func (s Scopes) String() string {
	if len(s.s) == 1 {
		return string(s.s[0])
	}
	n := len(s.s)
	for _, sc := range s.s {
		n += len(sc)
	}
	var b strings.Builder
	b.Grow(n)
	for i, sc := range s.s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(sc))
	}
	return b.String()
}

// MarshalText returns [Scopes.String], so that encoding/json writes a set like
// Spotify's "scope" field.
func (s Scopes) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText sets s to the scopes in text, separated by spaces and/or
// commas, unknown ones included.
func (s *Scopes) UnmarshalText(text []byte) error {
	*s = NewScopes(appendFields(nil, string(text))...)
	return nil
}

// UnknownScopeError reports scopes that are neither standard nor Open
// Access. It matches [ErrUnknownScope] with [errors.Is].
type UnknownScopeError struct {
	// Scopes are the unknown scopes, without duplicates, in input order.
	Scopes []string
}

// maxListedScopes bounds how many unknown scopes an error message lists.
const maxListedScopes = 10

// Error names every unknown scope (up to 10), each with a hint where one is
// obvious: a removed scope, a first-party-only scope, a typo.
func (e *UnknownScopeError) Error() string {
	var b strings.Builder
	b.WriteString("spotauth: unknown scope")
	if len(e.Scopes) != 1 {
		b.WriteString("s")
	}
	for i, sc := range e.Scopes {
		if i == maxListedScopes {
			fmt.Fprintf(&b, " and %d more", len(e.Scopes)-maxListedScopes)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %q", truncateForError(sc))
		if h := scopeHint(sc); h != "" {
			fmt.Fprintf(&b, " (%s)", h)
		}
	}
	return b.String()
}

// Is reports whether target is [ErrUnknownScope].
func (e *UnknownScopeError) Is(target error) bool { return target == ErrUnknownScope }

func truncateForError(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
