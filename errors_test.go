package spotauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

func TestTokenErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  *spotauth.TokenError
		want string
	}{
		{"spotify error", &spotauth.TokenError{Grant: "authorization_code", StatusCode: 400, Code: "invalid_grant", Description: "Invalid authorization code"},
			"spotauth: authorization_code request failed: 400 Bad Request: invalid_grant: Invalid authorization code"},
		{"reauthorize", &spotauth.TokenError{Grant: "refresh_token", StatusCode: 400, Code: "invalid_grant", Description: "Refresh token revoked"},
			"spotauth: refresh_token request failed: 400 Bad Request: invalid_grant: Refresh token revoked; the user must authorize the app again"},
		{"invalid client, no description", &spotauth.TokenError{Grant: "client_credentials", StatusCode: 400, Code: "invalid_client"},
			"spotauth: client_credentials request failed: 400 Bad Request: invalid_client; check the client ID and secret"},
		{"bad response", &spotauth.TokenError{Grant: "client_credentials", StatusCode: 200, Reason: "HTML or XML body, want JSON", Body: "<html>hi</html>"},
			`spotauth: client_credentials request failed: 200 OK: HTML or XML body, want JSON: body "<html>hi</html>"`},
		{"rate limited", &spotauth.TokenError{Grant: "refresh_token", StatusCode: 429, Reason: "empty body", RetryAfter: 90 * time.Second},
			"spotauth: refresh_token request failed: 429 Too Many Requests: empty body (retry after 1m30s)"},
		{"no grant, odd status", &spotauth.TokenError{StatusCode: 299},
			"spotauth: token request failed: 299"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s: Error() =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

func TestTokenErrorIs(t *testing.T) {
	all := []error{
		spotauth.ErrInvalidGrant, spotauth.ErrReauthorize, spotauth.ErrInvalidClient, spotauth.ErrInvalidRequest,
		spotauth.ErrUnsupportedGrantType, spotauth.ErrInvalidScope, spotauth.ErrAccessDenied,
		spotauth.ErrRateLimited, spotauth.ErrServerError, spotauth.ErrBadResponse, spotauth.ErrStateMismatch,
	}
	tests := []struct {
		name string
		err  *spotauth.TokenError
		want []error
	}{
		{"invalid_grant on exchange", &spotauth.TokenError{Grant: "authorization_code", StatusCode: 400, Code: "invalid_grant"}, []error{spotauth.ErrInvalidGrant}},
		{"invalid_grant on refresh", &spotauth.TokenError{Grant: "refresh_token", StatusCode: 400, Code: "invalid_grant"}, []error{spotauth.ErrInvalidGrant, spotauth.ErrReauthorize}},
		{"invalid_client", &spotauth.TokenError{Grant: "refresh_token", StatusCode: 400, Code: "invalid_client"}, []error{spotauth.ErrInvalidClient}},
		{"invalid_request", &spotauth.TokenError{StatusCode: 400, Code: "invalid_request"}, []error{spotauth.ErrInvalidRequest}},
		{"unsupported_grant_type", &spotauth.TokenError{StatusCode: 400, Code: "unsupported_grant_type"}, []error{spotauth.ErrUnsupportedGrantType}},
		{"invalid_scope", &spotauth.TokenError{StatusCode: 400, Code: "invalid_scope"}, []error{spotauth.ErrInvalidScope}},
		{"access_denied", &spotauth.TokenError{StatusCode: 400, Code: "access_denied"}, []error{spotauth.ErrAccessDenied}},
		{"unknown code", &spotauth.TokenError{StatusCode: 400, Code: "temporarily_unavailable"}, nil},
		{"429", &spotauth.TokenError{StatusCode: 429}, []error{spotauth.ErrRateLimited}},
		{"429 with code", &spotauth.TokenError{StatusCode: 429, Code: "invalid_request"}, []error{spotauth.ErrRateLimited, spotauth.ErrInvalidRequest}},
		{"500", &spotauth.TokenError{StatusCode: 500}, []error{spotauth.ErrServerError, spotauth.ErrBadResponse}},
		{"503 with code", &spotauth.TokenError{StatusCode: 503, Code: "server_error"}, []error{spotauth.ErrServerError}},
		{"599", &spotauth.TokenError{StatusCode: 599}, []error{spotauth.ErrServerError, spotauth.ErrBadResponse}},
		{"600", &spotauth.TokenError{StatusCode: 600}, []error{spotauth.ErrBadResponse}},
		{"html 200", &spotauth.TokenError{StatusCode: 200, Reason: "HTML"}, []error{spotauth.ErrBadResponse}},
		{"html 400", &spotauth.TokenError{StatusCode: 400, Reason: "HTML"}, []error{spotauth.ErrBadResponse}},
		{"302", &spotauth.TokenError{StatusCode: 302}, []error{spotauth.ErrBadResponse}},
	}
	for _, tt := range tests {
		want := map[error]bool{}
		for _, w := range tt.want {
			want[w] = true
		}
		var err error = fmt.Errorf("wrapped: %w", tt.err)
		for _, target := range all {
			if got := errors.Is(err, target); got != want[target] {
				t.Errorf("%s: errors.Is(%v, %v) = %t; want %t", tt.name, tt.err, target, got, want[target])
			}
		}
	}
}

func TestAuthorizeError(t *testing.T) {
	tests := []struct {
		err      *spotauth.AuthorizeError
		wantText string
		is       []error
	}{
		{&spotauth.AuthorizeError{Code: "access_denied"}, "spotauth: authorization failed: access_denied (the user denied access)", []error{spotauth.ErrAccessDenied}},
		{&spotauth.AuthorizeError{Code: "invalid_scope", Description: "Illegal scope"}, "spotauth: authorization failed: invalid_scope: Illegal scope", []error{spotauth.ErrInvalidScope}},
		{&spotauth.AuthorizeError{Code: "invalid_request"}, "spotauth: authorization failed: invalid_request", []error{spotauth.ErrInvalidRequest}},
		{&spotauth.AuthorizeError{Code: "unsupported_response_type"}, "spotauth: authorization failed: unsupported_response_type", nil},
		{&spotauth.AuthorizeError{Code: "server_error"}, "spotauth: authorization failed: server_error", []error{spotauth.ErrServerError}},
		{&spotauth.AuthorizeError{Code: "temporarily_unavailable"}, "spotauth: authorization failed: temporarily_unavailable", []error{spotauth.ErrServerError}},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.wantText {
			t.Errorf("AuthorizeError.Error() = %q; want %q", got, tt.wantText)
		}
		for _, target := range []error{spotauth.ErrAccessDenied, spotauth.ErrInvalidScope, spotauth.ErrInvalidRequest, spotauth.ErrInvalidGrant, spotauth.ErrServerError} {
			want := false
			for _, w := range tt.is {
				want = want || w == target
			}
			if got := errors.Is(tt.err, target); got != want {
				t.Errorf("errors.Is(%v, %v) = %t; want %t", tt.err, target, got, want)
			}
		}
	}
}

// TestMalformedRedirectErrors: a malformed redirect is an error wrapping
// ErrMalformedRedirect whose message says why, without the URL (which
// carries the code).
func TestMalformedRedirectErrors(t *testing.T) {
	const code = "AQBsecretCODE0123456789"
	tests := []struct {
		name, url, want string
	}{
		{"repeated state", "?code=" + code + "&state=a&state=b", `spotauth: malformed redirect URL: parameter "state" appears 2 times, want once`},
		{"repeated code", "?code=" + code + "&code=" + code + "&code=x&state=a", `spotauth: malformed redirect URL: parameter "code" appears 3 times, want once`},
		{"repeated error", "?error=a&error=b&state=s", `spotauth: malformed redirect URL: parameter "error" appears 2 times, want once`},
		{"empty", "  ", "spotauth: malformed redirect URL: empty"},
		{"bad URL", "http://[::1/cb?code=" + code, "spotauth: malformed redirect URL: cannot parse the URL: "},
		{"bad query", "?code=" + code + "%zz&state=s", "spotauth: malformed redirect URL: cannot parse the query: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := spotauth.ParseRedirect(tt.url)
			if !errors.Is(err, spotauth.ErrMalformedRedirect) {
				t.Fatalf("ParseRedirect(%q) = %v; want ErrMalformedRedirect", tt.url, err)
			}
			if got := err.Error(); !strings.HasPrefix(got, tt.want) || strings.Contains(got, code) {
				t.Errorf("ParseRedirect(%q) error = %q; want it to start %q, without the code", tt.url, got, tt.want)
			}
			for _, other := range []error{spotauth.ErrStateMismatch, spotauth.ErrMissingCode, spotauth.ErrAccessDenied} {
				if errors.Is(err, other) {
					t.Errorf("ParseRedirect(%q) error matches %v too", tt.url, other)
				}
			}
		})
	}
}

func TestSentinelsPrefix(t *testing.T) {
	for _, err := range []error{
		spotauth.ErrInvalidGrant, spotauth.ErrInvalidClient, spotauth.ErrInvalidRequest, spotauth.ErrUnsupportedGrantType,
		spotauth.ErrInvalidScope, spotauth.ErrAccessDenied, spotauth.ErrRateLimited, spotauth.ErrServerError,
		spotauth.ErrBadResponse, spotauth.ErrReauthorize, spotauth.ErrStateMismatch, spotauth.ErrMissingCode,
		spotauth.ErrNoRefreshToken, spotauth.ErrTokenNotFound, spotauth.ErrUnknownScope, spotauth.ErrInvalidRedirectURI,
		spotauth.ErrLeaseLost, spotauth.ErrLeaseBusy, spotauth.ErrClosed,
		spotauth.ErrInvalidConfig, spotauth.ErrMalformedRedirect, spotauth.ErrAuthCompleted,
	} {
		if !strings.HasPrefix(err.Error(), "spotauth: ") {
			t.Errorf("sentinel %q lacks the spotauth: prefix", err)
		}
	}
}

// TestSecretsNeverLeak runs every flow against servers that echo the whole
// request back in every failure shape, and checks that no error text or
// formatting holds a secret sent in it.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		secret   = "CLIENT-SECRET-abcdef0123"
		code     = "AQB-CODE-0123456789abcdef"
		refresh  = "AQC-REFRESH-0123456789ab"
		access   = "BQD-ACCESS-0123456789abc"
		verifier = "VERIFIER-dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gF"
	)
	secrets := []string{secret, code, refresh, refresh + "2", access, verifier, strings.TrimPrefix(spotauth.BasicAuth(testClientID, secret), "Basic ")}
	echo := func(r *http.Request) string {
		r.ParseForm()
		// A server may also put tokens it issued into a body it got wrong.
		return r.Header.Get("Authorization") + " " + r.PostForm.Encode() + " " + fmt.Sprint(r.PostForm) +
			` "access_token":"` + access + `" refresh_token=` + refresh + "2 Bearer " + access
	}
	shapes := map[string]http.HandlerFunc{
		"json error description": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, echo(r))
		},
		"json error code": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":%q}`, echo(r))
		},
		"html 400": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, "<html>\n"+echo(r)+"\n</html>")
		},
		"html 503": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(503)
			io.WriteString(w, "<html>"+echo(r)+"</html>")
		},
		"bad 200": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":"soon"}`, echo(r))
		},
		"200 text": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, echo(r))
		},
		"429": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(429)
			io.WriteString(w, echo(r))
		},
		// Tokens the server issued, behind JSON escapes that hide the
		// field names from a pattern over the raw text.
		"bad 200, escaped names": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access\u005ftoken":%q,"refresh\u005ftoken":%q,"expires_in":"soon"}`, access, refresh+"2")
		},
		"error JSON with escaped names": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":"invalid_grant","acc\u0065ss_token":%q}`, access)
		},
		"escaped echo": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, url.QueryEscape(echo(r)))
		},
	}
	flows := map[string]func(*spotauth.Config) (any, error){
		"exchange": func(c *spotauth.Config) (any, error) { return c.Exchange(context.Background(), code) },
		"exchange PKCE": func(c *spotauth.Config) (any, error) {
			return c.Exchange(context.Background(), code, spotauth.VerifierOption(verifier))
		},
		"refresh": func(c *spotauth.Config) (any, error) {
			return c.Refresh(context.Background(), &spotauth.Token{AccessToken: access, RefreshToken: refresh})
		},
		"refresh PKCE": func(c *spotauth.Config) (any, error) {
			return c.Refresh(context.Background(), &spotauth.Token{AccessToken: access, RefreshToken: refresh, PKCE: true})
		},
		"client credentials": func(c *spotauth.Config) (any, error) { return c.ClientCredentials(context.Background()) },
		"user auth": func(c *spotauth.Config) (any, error) {
			ua, err := c.NewUserAuth(true, spotauth.VerifierOption(verifier))
			if err != nil {
				return nil, err
			}
			return ua.Exchange(context.Background(), "http://127.0.0.1:43117/callback?code="+code+"&state="+ua.State)
		},
	}
	for shapeName, shape := range shapes {
		for flowName, flow := range flows {
			t.Run(shapeName+"/"+flowName, func(t *testing.T) {
				srv := newRetryTestServer(t, shape)
				cfg := &spotauth.Config{
					ClientID: testClientID, ClientSecret: secret, RedirectURL: testRedirect,
					AccountsURL: srv.URL, HTTPClient: srv.Client(),
					Retry: spotauth.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
				}
				tok, err := flow(cfg)
				if err == nil {
					t.Fatalf("%s = %v; want an error", flowName, tok)
				}
				outs := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err)}
				var te *spotauth.TokenError
				if errors.As(err, &te) {
					outs = append(outs, fmt.Sprintf("%#v", *te), te.Body, te.Description, te.Code)
				}
				for _, out := range outs {
					for _, s := range secrets {
						if strings.Contains(out, s) {
							t.Errorf("%s error output %q contains secret %q", flowName, out, s)
						}
					}
				}
			})
		}
	}
}

func newRetryTestServer(t *testing.T, h http.HandlerFunc) *tokenServer {
	return newTokenServer(t, func(w http.ResponseWriter, call tokenCall, n int) {
		// Rebuild a request for the shape handlers from the recorded call.
		r := &http.Request{Header: http.Header{"Authorization": {call.Auth}}, PostForm: call.Form, Form: call.Form}
		h(w, r)
	})
}
