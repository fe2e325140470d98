package spotauth

import (
	"regexp"
	"testing"
)

// schemeRE is the pattern hasScheme implements without a regexp.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

func TestHasScheme(t *testing.T) {
	for _, s := range []string{
		"", ":", "://", "a://", "http://127.0.0.1/cb", "HTTP://x", "my-app+v1.2://cb",
		"1http://x", "-a://x", "http:/x", "http:", "http", "code=abc&state=x", "?code=a",
		"ht tp://x", "http://", "a1://", "a:b://", "é://x",
	} {
		if got, want := hasScheme(s), schemeRE.MatchString(s); got != want {
			t.Errorf("hasScheme(%q) = %v; want %v", s, got, want)
		}
	}
}

func FuzzHasScheme(f *testing.F) {
	f.Add("http://127.0.0.1/cb")
	f.Add("code=x")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasScheme(s), schemeRE.MatchString(s); got != want {
			t.Errorf("hasScheme(%q) = %v; want %v", s, got, want)
		}
	})
}
