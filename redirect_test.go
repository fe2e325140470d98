package spotauth_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
)

func TestParseRedirect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want spotauth.Redirect
	}{
		{"full URL", "http://127.0.0.1:43117/callback?code=AQBxyz&state=Zk3q", spotauth.Redirect{Code: "AQBxyz", State: "Zk3q"}},
		{"https URL", "https://example.com/cb?state=s&code=c", spotauth.Redirect{Code: "c", State: "s"}},
		{"custom scheme", "myapp://callback?code=c&state=s", spotauth.Redirect{Code: "c", State: "s"}},
		{"denied", "http://127.0.0.1:43117/callback?error=access_denied&state=Zk3q", spotauth.Redirect{Error: "access_denied", State: "Zk3q"}},
		{"error with description", "?error=invalid_scope&error_description=Illegal%20scope", spotauth.Redirect{Error: "invalid_scope", ErrorDescription: "Illegal scope"}},
		{"bare query with ?", "?code=c&state=s", spotauth.Redirect{Code: "c", State: "s"}},
		{"bare query", "code=c&state=s", spotauth.Redirect{Code: "c", State: "s"}},
		{"path and query", "/callback?code=c&state=s", spotauth.Redirect{Code: "c", State: "s"}},
		{"host without scheme", "127.0.0.1:8080/callback?code=c&state=s", spotauth.Redirect{Code: "c", State: "s"}},
		{"pasted with spaces and newline", "  http://127.0.0.1/cb?code=c&state=s\n", spotauth.Redirect{Code: "c", State: "s"}},
		{"fragment ignored", "http://127.0.0.1/cb?code=c&state=s#_=_", spotauth.Redirect{Code: "c", State: "s"}},
		{"bare fragment ignored", "code=c&state=s#x", spotauth.Redirect{Code: "c", State: "s"}},
		{"escapes", "?code=a%2Bb&state=x%20y+z", spotauth.Redirect{Code: "a+b", State: "x y z"}},
		{"no state", "?code=c", spotauth.Redirect{Code: "c"}},
		{"empty query", "http://127.0.0.1/cb", spotauth.Redirect{}},
		{"other parameters repeated are fine", "?code=c&state=s&x=1&x=2", spotauth.Redirect{Code: "c", State: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spotauth.ParseRedirect(tt.in)
			if err != nil {
				t.Fatalf("ParseRedirect(%q) gave error %v; want %+v", tt.in, err, tt.want)
			}
			if *got != tt.want {
				t.Errorf("ParseRedirect(%q) = %+v; want %+v", tt.in, *got, tt.want)
			}
		})
	}
}

func TestParseRedirectErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      error
		wantParam string // for repeated parameters
	}{
		{"empty", "", spotauth.ErrMalformedRedirect, ""},
		{"spaces only", "  \n", spotauth.ErrMalformedRedirect, ""},
		{"no query", "http://127.0.0.1/callback-but-what", nil, ""},
		{"plain word", "hello", spotauth.ErrMalformedRedirect, ""},
		{"bad URL", "http://[::1/cb?code=SECRETCODE", spotauth.ErrMalformedRedirect, ""},
		{"bad escape", "?code=%zz&state=s", spotauth.ErrMalformedRedirect, ""},
		{"semicolon", "?code=c;state=s", spotauth.ErrMalformedRedirect, ""},
		{"control character", "http://127.0.0.1/cb?code=c\x7f&state=s", spotauth.ErrMalformedRedirect, ""},
		{"repeated state", "?code=c&state=a&state=b", spotauth.ErrRepeatedParameter, "state"},
		{"repeated code", "http://127.0.0.1/cb?code=a&code=b&state=s", spotauth.ErrRepeatedParameter, "code"},
		{"repeated error", "?error=a&error=b", spotauth.ErrRepeatedParameter, "error"},
		{"repeated description", "?error=a&error_description=x&error_description=y", spotauth.ErrRepeatedParameter, "error_description"},
		{"repeated empty state", "?code=c&state=&state=", spotauth.ErrRepeatedParameter, "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spotauth.ParseRedirect(tt.in)
			if tt.want == nil {
				if err != nil {
					t.Errorf("ParseRedirect(%q) = %v; want no error", tt.in, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseRedirect(%q) = %+v, %v; want %v", tt.in, got, err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRETCODE") {
				t.Errorf("ParseRedirect(%q) error %q repeats the URL", tt.in, err)
			}
			if tt.wantParam != "" {
				var rpe *spotauth.RepeatedParameterError
				if !errors.As(err, &rpe) || rpe.Param != tt.wantParam {
					t.Errorf("ParseRedirect(%q) = %v; want *RepeatedParameterError for %q", tt.in, err, tt.wantParam)
				}
				if !strings.Contains(err.Error(), `"`+tt.wantParam+`"`) {
					t.Errorf("ParseRedirect(%q) = %q; want the parameter named", tt.in, err)
				}
			} else {
				var mre *spotauth.MalformedRedirectError
				if !errors.As(err, &mre) {
					t.Errorf("ParseRedirect(%q) = %T; want *MalformedRedirectError", tt.in, err)
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
		{"?code=a&code=b&state=s", "", "", spotauth.ErrRepeatedParameter},
	}
	for _, tt := range tests {
		code, err := spotauth.ParseCode(tt.in)
		if code != tt.wantCode || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("ParseCode(%q) = %q, %v; want %q, %v", tt.in, code, err, tt.wantCode, tt.wantErr)
		}
		state, err := spotauth.ParseState(tt.in)
		if tt.wantErr == spotauth.ErrRepeatedParameter {
			if !errors.Is(err, spotauth.ErrRepeatedParameter) {
				t.Errorf("ParseState(%q) = %q, %v; want ErrRepeatedParameter", tt.in, state, err)
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

// FuzzParseRedirect checks that ParseRedirect never panics, gives only its
// typed errors, and that what it parses survives a round trip through a
// re-encoded query, in every form a user may paste.
func FuzzParseRedirect(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:43117/callback?code=AQBxyz&state=Zk3q",
		"?error=access_denied&state=s",
		"code=c&state=s",
		"?code=a&code=b",
		"http://[::1/cb?code=x",
		"?code=%zz",
		"myapp://cb?code=c#frag",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := spotauth.ParseRedirect(in)
		if err != nil {
			if !errors.Is(err, spotauth.ErrMalformedRedirect) && !errors.Is(err, spotauth.ErrRepeatedParameter) {
				t.Fatalf("ParseRedirect(%q) = %v; want a typed error", in, err)
			}
			// The error never repeats the code (a url.Error would).
			if _, after, ok := strings.Cut(in, "code="); ok {
				code, _, _ := strings.Cut(after, "&")
				if len(code) >= 8 && strings.Contains(err.Error(), code) {
					t.Fatalf("ParseRedirect(%q) = %v; the error repeats the code", in, err)
				}
			}
			return
		}
		if len(r.Code) >= 5 && !strings.Contains(r.State+r.Error+r.ErrorDescription, r.Code) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				if out := fmt.Sprintf(verb, r); strings.Contains(out, r.Code) {
					t.Fatalf("Sprintf(%q, ParseRedirect(%q)) = %s; shows the code", verb, in, out)
				}
			}
		}
		q := url.Values{}
		for k, v := range map[string]string{"code": r.Code, "state": r.State, "error": r.Error, "error_description": r.ErrorDescription} {
			if v != "" {
				q.Set(k, v)
			}
		}
		enc := q.Encode()
		for _, form := range []string{"http://127.0.0.1:1/cb?" + enc, "?" + enc, enc} {
			if enc == "" && form == enc {
				continue // an empty paste is refused, rightly
			}
			r2, err := spotauth.ParseRedirect(form)
			if err != nil {
				t.Fatalf("ParseRedirect(%q) (re-encoded from %q) gave error %v", form, in, err)
			}
			if *r2 != *r {
				t.Errorf("ParseRedirect(%q) = %+v; want %+v (round trip of %q)", form, *r2, *r, in)
			}
		}
	})
}

func BenchmarkParseRedirect(b *testing.B) {
	const u = "http://127.0.0.1:43117/callback?code=AQBxyz0123456789abcdef&state=Zk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3qZk3"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spotauth.ParseRedirect(u); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRedirectRedaction(t *testing.T) {
	const code = "AQBsecretCODE0123456789abcdefghij"
	r, err := spotauth.ParseRedirect("http://127.0.0.1:43117/callback?code=" + code + "&state=Zk3q")
	if err != nil {
		t.Fatalf("ParseRedirect() = %v", err)
	}
	leaks := func(s string) bool { return strings.Contains(s, "secretCODE") }
	for _, v := range []any{*r, r, []spotauth.Redirect{*r}, struct{ R *spotauth.Redirect }{r}, map[string]spotauth.Redirect{"k": *r}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%20.4s"} {
			if out := fmt.Sprintf(verb, v); leaks(out) {
				t.Errorf("Sprintf(%q, %T) = %q; shows the code", verb, v, out)
			}
		}
	}
	if got, want := r.String(), `spotauth.Redirect{Code:AQBs…[redacted 33 chars], State:"Zk3q", Error:"", ErrorDescription:""}`; got != want {
		t.Errorf("String() = %s; want %s", got, want)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("redirect", "r", r, "v", *r)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("redirect", "r", r)
	if leaks(buf.String()) || !strings.Contains(buf.String(), "Zk3q") {
		t.Errorf("slog output = %s; want the state and no code", buf.String())
	}
}
