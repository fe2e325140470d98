package spotauth_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
)

func TestParseRedirect(t *testing.T) {
	type want struct {
		code, state string
		err         *spotauth.AuthorizeError // for an error redirect
		missing     bool                     // ErrMissingCode
	}
	tests := []struct {
		name string
		in   string
		want want
	}{
		{"full URL", "http://127.0.0.1:43117/callback?code=AQBxyz&state=Zk3q", want{code: "AQBxyz", state: "Zk3q"}},
		{"https URL", "https://example.com/cb?state=s&code=c", want{code: "c", state: "s"}},
		{"custom scheme", "myapp://callback?code=c&state=s", want{code: "c", state: "s"}},
		{"denied", "http://127.0.0.1:43117/callback?error=access_denied&state=Zk3q", want{state: "Zk3q", err: &spotauth.AuthorizeError{Code: "access_denied"}}},
		{"error with description", "?error=invalid_scope&error_description=Illegal%20scope", want{err: &spotauth.AuthorizeError{Code: "invalid_scope", Description: "Illegal scope"}}},
		{"error wins over a code", "?code=c&error=server_error&state=s", want{state: "s", err: &spotauth.AuthorizeError{Code: "server_error"}}},
		{"bare query with ?", "?code=c&state=s", want{code: "c", state: "s"}},
		{"bare query", "code=c&state=s", want{code: "c", state: "s"}},
		{"path and query", "/callback?code=c&state=s", want{code: "c", state: "s"}},
		{"host without scheme", "127.0.0.1:8080/callback?code=c&state=s", want{code: "c", state: "s"}},
		{"pasted with spaces and newline", "  http://127.0.0.1/cb?code=c&state=s\n", want{code: "c", state: "s"}},
		{"fragment ignored", "http://127.0.0.1/cb?code=c&state=s#_=_", want{code: "c", state: "s"}},
		{"bare fragment ignored", "code=c&state=s#x", want{code: "c", state: "s"}},
		{"escapes", "?code=a%2Bb&state=x%20y+z", want{code: "a+b", state: "x y z"}},
		{"no state", "?code=c", want{code: "c"}},
		{"no code", "?state=s", want{state: "s", missing: true}},
		{"empty query", "http://127.0.0.1/cb", want{missing: true}},
		{"no query", "http://127.0.0.1/callback-but-what", want{missing: true}},
		{"other parameters repeated are fine", "?code=c&state=s&x=1&x=2", want{code: "c", state: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, state, err := spotauth.ParseRedirect(tt.in)
			if code != tt.want.code || state != tt.want.state {
				t.Errorf("ParseRedirect(%q) = %q, %q, %v; want %q, %q", tt.in, code, state, err, tt.want.code, tt.want.state)
			}
			var ae *spotauth.AuthorizeError
			switch {
			case tt.want.err != nil:
				if !errors.As(err, &ae) || *ae != *tt.want.err {
					t.Errorf("ParseRedirect(%q) error = %v; want %#v", tt.in, err, tt.want.err)
				}
			case tt.want.missing:
				if !errors.Is(err, spotauth.ErrMissingCode) {
					t.Errorf("ParseRedirect(%q) error = %v; want ErrMissingCode", tt.in, err)
				}
			case err != nil:
				t.Errorf("ParseRedirect(%q) gave error %v; want none", tt.in, err)
			}
			if err != nil && errors.Is(err, spotauth.ErrMalformedRedirect) {
				t.Errorf("ParseRedirect(%q) error = %v; want it not to match ErrMalformedRedirect", tt.in, err)
			}
		})
	}
}

func TestParseRedirectErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantParam string // for repeated parameters
	}{
		{"empty", "", ""},
		{"spaces only", "  \n", ""},
		{"plain word", "hello", ""},
		{"bad URL", "http://[::1/cb?code=SECRETCODE", ""},
		{"bad escape", "?code=%zz&state=s", ""},
		{"semicolon", "?code=c;state=s", ""},
		{"control character", "http://127.0.0.1/cb?code=c\x7f&state=s", ""},
		{"repeated state", "?code=c&state=a&state=b", "state"},
		{"repeated code", "http://127.0.0.1/cb?code=a&code=b&state=s", "code"},
		{"repeated error", "?error=a&error=b", "error"},
		{"repeated description", "?error=a&error_description=x&error_description=y", "error_description"},
		{"repeated empty state", "?code=c&state=&state=", "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, state, err := spotauth.ParseRedirect(tt.in)
			if !errors.Is(err, spotauth.ErrMalformedRedirect) || code != "" || state != "" {
				t.Fatalf("ParseRedirect(%q) = %q, %q, %v; want ErrMalformedRedirect", tt.in, code, state, err)
			}
			if !strings.HasPrefix(err.Error(), "spotauth: malformed redirect URL: ") {
				t.Errorf("ParseRedirect(%q) error = %q; want the spotauth: malformed redirect URL: prefix", tt.in, err)
			}
			if strings.Contains(err.Error(), "SECRETCODE") {
				t.Errorf("ParseRedirect(%q) error %q repeats the URL", tt.in, err)
			}
			if tt.wantParam != "" {
				if want := fmt.Sprintf("parameter %q appears 2 times, want once", tt.wantParam); !strings.HasSuffix(err.Error(), want) {
					t.Errorf("ParseRedirect(%q) = %q; want it to end %q", tt.in, err, want)
				}
			}
			for _, other := range []error{spotauth.ErrMissingCode, spotauth.ErrStateMismatch, spotauth.ErrAccessDenied} {
				if errors.Is(err, other) {
					t.Errorf("ParseRedirect(%q) = %v; matches %v too", tt.in, err, other)
				}
			}
		})
	}
}

func TestParseCodeAndState(t *testing.T) {
	tests := []struct {
		in        string
		wantCode  string
		wantState string
		wantErr   error
	}{
		{"http://127.0.0.1/cb?code=c&state=s", "c", "s", nil},
		{"?state=s", "", "s", spotauth.ErrMissingCode},
		{"?error=access_denied&state=s", "", "s", spotauth.ErrAccessDenied},
		{"?code=a&code=b&state=s", "", "", spotauth.ErrMalformedRedirect},
		{"?code=c&error=server_error&state=s", "", "s", spotauth.ErrServerError},
	}
	for _, tt := range tests {
		code, err := spotauth.ParseCode(tt.in)
		if code != tt.wantCode || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("ParseCode(%q) = %q, %v; want %q, %v", tt.in, code, err, tt.wantCode, tt.wantErr)
		}
		state, err := spotauth.ParseState(tt.in)
		if tt.wantErr == spotauth.ErrMalformedRedirect {
			if !errors.Is(err, spotauth.ErrMalformedRedirect) || state != "" {
				t.Errorf("ParseState(%q) = %q, %v; want ErrMalformedRedirect", tt.in, state, err)
			}
			continue
		}
		if state != tt.wantState || err != nil {
			t.Errorf("ParseState(%q) = %q, %v; want %q, nil", tt.in, state, err, tt.wantState)
		}
	}
	var ae *spotauth.AuthorizeError
	_, err := spotauth.ParseCode("?error=access_denied&error_description=User%20said%20no")
	if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "User said no" {
		t.Errorf("ParseCode(denied) = %v; want *AuthorizeError{access_denied, User said no}", err)
	}
	// A crafted redirect cannot put escape sequences on the user's terminal.
	_, err = spotauth.ParseCode("?error=x%1b%5b2J&error_description=" + url.QueryEscape("line1\nline2\x1b]0;title\x07"+strings.Repeat("a", 500)))
	if !errors.As(err, &ae) || ae.Code != "x[2J" || strings.ContainsAny(ae.Description, "\n\x1b\x07") || len(ae.Description) > 200 {
		t.Errorf("ParseCode(crafted error) = %q, %q; want control characters removed and at most 200 bytes", ae.Code, ae.Description)
	}
}

func BenchmarkParseRedirect(b *testing.B) {
	const u = "http://127.0.0.1:43117/callback?code=AQBxyz0123456789abcdef&state=Zk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3"
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := spotauth.ParseRedirect(u); err != nil {
			b.Fatal(err)
		}
	}
}
