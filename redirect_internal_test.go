package spotauth

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
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

// FuzzParseRedirect checks that parseRedirect never panics, fails only with
// an error wrapping ErrMalformedRedirect that does not repeat the code,
// agrees with ParseRedirect, ParseCode and ParseState, and that what it
// parses survives a round trip through a re-encoded query, in every form a
// user may paste.
func FuzzParseRedirect(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:43117/callback?code=AQBxyz&state=Zk3q",
		"?error=access_denied&state=s",
		"code=c&state=s",
		"?code=a&code=b",
		"http://[::1/cb?code=x",
		"?code=%zz",
		"myapp://cb?code=c#frag",
		"?code=c&error=e&error_description=d&state=s",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := parseRedirect(in)
		code, state, perr := ParseRedirect(in)
		if err != nil {
			if !errors.Is(err, ErrMalformedRedirect) || !strings.HasPrefix(err.Error(), "spotauth: malformed redirect URL: ") {
				t.Fatalf("parseRedirect(%q) = %v; want an error wrapping ErrMalformedRedirect", in, err)
			}
			if perr == nil || perr.Error() != err.Error() || code != "" || state != "" {
				t.Fatalf("ParseRedirect(%q) = %q, %q, %v; want parseRedirect's error %v", in, code, state, perr, err)
			}
			if _, serr := ParseState(in); serr == nil {
				t.Fatalf("ParseState(%q) = nil error; want parseRedirect's %v", in, err)
			}
			// The error never repeats the code (a url.Error would).
			if _, after, ok := strings.Cut(in, "code="); ok {
				c, _, _ := strings.Cut(after, "&")
				if len(c) >= 8 && strings.Contains(err.Error(), c) {
					t.Fatalf("parseRedirect(%q) = %v; the error repeats the code", in, err)
				}
			}
			return
		}
		// The public layers build on parseRedirect.
		switch {
		case r.err != nil:
			var ae *AuthorizeError
			if !errors.As(perr, &ae) || *ae != *r.err || code != "" || state != r.state {
				t.Fatalf("ParseRedirect(%q) = %q, %q, %v; want %q and %v", in, code, state, perr, r.state, r.err)
			}
		case r.code == "":
			if !errors.Is(perr, ErrMissingCode) || state != r.state {
				t.Fatalf("ParseRedirect(%q) = %q, %q, %v; want %q and ErrMissingCode", in, code, state, perr, r.state)
			}
		default:
			if perr != nil || code != r.code || state != r.state {
				t.Fatalf("ParseRedirect(%q) = %q, %q, %v; want %q, %q", in, code, state, perr, r.code, r.state)
			}
		}
		if c, err := ParseCode(in); c != code || (err == nil) != (perr == nil) {
			t.Fatalf("ParseCode(%q) = %q, %v; want ParseRedirect's %q, %v", in, c, err, code, perr)
		}
		if s, err := ParseState(in); s != r.state || err != nil {
			t.Fatalf("ParseState(%q) = %q, %v; want %q, nil", in, s, err, r.state)
		}
		q := url.Values{}
		fields := map[string]string{"code": r.code, "state": r.state}
		if r.err != nil {
			fields["error"], fields["error_description"] = r.err.Code, r.err.Description
		}
		for k, v := range fields {
			if v != "" {
				q.Set(k, v)
			}
		}
		enc := q.Encode()
		for _, form := range []string{"http://127.0.0.1:1/cb?" + enc, "?" + enc, enc} {
			if enc == "" && form == enc {
				continue // an empty paste is refused, rightly
			}
			r2, err := parseRedirect(form)
			if err != nil {
				t.Fatalf("parseRedirect(%q) (re-encoded from %q) gave error %v", form, in, err)
			}
			if r2.code != r.code || r2.state != r.state || (r2.err == nil) != (r.err == nil) || r.err != nil && *r2.err != *r.err {
				t.Errorf("parseRedirect(%q) = %+v; want %+v (round trip of %q)", form, *r2, *r, in)
			}
		}
	})
}
