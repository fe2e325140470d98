package wire

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestDecodeSuccess(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Token
	}{
		{"full", `{"access_token":"BQD","token_type":"Bearer","scope":"a b","expires_in":3600,"refresh_token":"AQC"}`,
			Token{AccessToken: "BQD", TokenType: "Bearer", Scope: "a b", ExpiresIn: 3600, RefreshToken: "AQC"}},
		{"client credentials", `{"access_token":"BQF","token_type":"Bearer","expires_in":3600}`,
			Token{AccessToken: "BQF", TokenType: "Bearer", ExpiresIn: 3600}},
		{"empty scope", `{"access_token":"x","token_type":"Bearer","scope":"","expires_in":3600}`,
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 3600}},
		{"null scope and refresh", `{"access_token":"x","token_type":"Bearer","scope":null,"refresh_token":null,"expires_in":1}`,
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 1}},
		{"lowercase bearer", `{"access_token":"x","token_type":"bearer","expires_in":60}`,
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 60}},
		{"missing token_type", `{"access_token":"x","expires_in":60}`,
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 60}},
		{"float expires_in", `{"access_token":"x","token_type":"Bearer","expires_in":3600.0}`,
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 3600}},
		{"unknown fields", `{"access_token":"x","token_type":"Bearer","expires_in":5,"extra":{"a":[1]}}`,
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 5}},
		{"whitespace", " \n{\"access_token\":\"x\",\"expires_in\":5}\n",
			Token{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, e := Decode(200, jsonHeader(), []byte(tt.body), nil, now)
			if e != nil {
				t.Fatalf("Decode(200, %q) gave error %v; want token", tt.body, e)
			}
			if *got != tt.want {
				t.Errorf("Decode(200, %q) = %+v; want %+v", tt.body, *got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantCode   string
		wantDesc   string
		wantReason string // substring; "" when wantCode is set
	}{
		{"spotify invalid_grant", 400, jsonHeader(), `{"error":"invalid_grant","error_description":"Invalid authorization code"}`, "invalid_grant", "Invalid authorization code", ""},
		{"no description", 400, jsonHeader(), `{"error":"invalid_client"}`, "invalid_client", "", ""},
		{"200 with error body", 200, jsonHeader(), `{"error":"invalid_request","error_description":"code_verifier required"}`, "invalid_request", "code_verifier required", ""},
		{"error JSON with text/plain", 400, http.Header{"Content-Type": {"text/plain"}}, `{"error":"invalid_scope"}`, "invalid_scope", "", ""},
		{"html 200", 200, http.Header{"Content-Type": {"text/html"}}, "<html><body>Bad gateway</body></html>", "", "", "HTML"},
		{"html 502", 502, http.Header{"Content-Type": {"text/html"}}, "<!DOCTYPE html>\n<h1>502</h1>", "", "", "HTML"},
		{"empty 200", 200, jsonHeader(), "", "", "", "empty body"},
		{"empty 500", 500, nil, "", "", "", "empty body"},
		{"truncated", 200, jsonHeader(), `{"access_token":"BQD","token_ty`, "", "", "truncated"},
		{"truncated error", 400, jsonHeader(), `{"error":"inv`, "", "", "truncated"},
		{"array", 200, jsonHeader(), `[{"access_token":"x"}]`, "", "", "array"},
		{"string body", 200, jsonHeader(), `"hello"`, "", "", "string"},
		{"null body", 200, jsonHeader(), `null`, "", "", "null"},
		{"expires_in as string", 200, jsonHeader(), `{"access_token":"x","token_type":"Bearer","expires_in":"3600"}`, "", "", "expires_in is not a number"},
		{"expires_in missing", 200, jsonHeader(), `{"access_token":"x","token_type":"Bearer"}`, "", "", "expires_in is missing"},
		{"expires_in negative", 200, jsonHeader(), `{"access_token":"x","expires_in":-1}`, "", "", "out of range"},
		{"expires_in huge", 200, jsonHeader(), `{"access_token":"x","expires_in":1e300}`, "", "", "out of range"},
		{"access_token missing", 200, jsonHeader(), `{"token_type":"Bearer","expires_in":3600}`, "", "", "access_token is missing"},
		{"access_token empty", 200, jsonHeader(), `{"access_token":"","expires_in":3600}`, "", "", "access_token is missing"},
		{"access_token number", 200, jsonHeader(), `{"access_token":12,"expires_in":3600}`, "", "", "access_token is not a string"},
		{"scope array", 200, jsonHeader(), `{"access_token":"x","expires_in":3600,"scope":["a"]}`, "", "", "scope is not a string"},
		{"refresh_token number", 200, jsonHeader(), `{"access_token":"x","expires_in":3600,"refresh_token":1}`, "", "", "refresh_token is not a string"},
		{"mac token type", 200, jsonHeader(), `{"access_token":"x","expires_in":3600,"token_type":"mac"}`, "", "", "token_type"},
		{"trailing garbage", 200, jsonHeader(), `{"access_token":"x","expires_in":3600} {}`, "", "", "malformed JSON"},
		{"wrong content type", 200, http.Header{"Content-Type": {"text/plain"}}, `{"access_token":"x","expires_in":3600}`, "", "", "Content-Type"},
		{"web api error shape", 401, jsonHeader(), `{"error":{"status":401,"message":"Invalid access token"}}`, "", "", "without Spotify's error JSON"},
		{"empty error field", 400, jsonHeader(), `{"error":""}`, "", "", "without Spotify's error JSON"},
		{"redirect", 302, http.Header{"Location": {"https://example.com"}}, "", "", "", "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			tok, e := Decode(tt.status, h, []byte(tt.body), nil, now)
			if e == nil {
				t.Fatalf("Decode(%d, %q) = %+v; want error", tt.status, tt.body, tok)
			}
			if tok != nil {
				t.Errorf("Decode(%d, %q) returned both a token and an error", tt.status, tt.body)
			}
			if e.StatusCode != tt.status {
				t.Errorf("Decode(%d, %q).StatusCode = %d; want %d", tt.status, tt.body, e.StatusCode, tt.status)
			}
			if e.Code != tt.wantCode || e.Description != tt.wantDesc {
				t.Errorf("Decode(%d, %q) = code %q desc %q; want %q %q", tt.status, tt.body, e.Code, e.Description, tt.wantCode, tt.wantDesc)
			}
			if tt.wantCode == "" && !strings.Contains(e.Reason, tt.wantReason) {
				t.Errorf("Decode(%d, %q).Reason = %q; want it to contain %q", tt.status, tt.body, e.Reason, tt.wantReason)
			}
			if tt.wantCode != "" && e.Reason != "" {
				t.Errorf("Decode(%d, %q).Reason = %q; want empty with a code", tt.status, tt.body, e.Reason)
			}
			if len(e.Body) > MaxExcerpt {
				t.Errorf("Decode(%d, %q).Body has %d bytes; want <= %d", tt.status, tt.body, len(e.Body), MaxExcerpt)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	const secret = "s3cr3t-value-XYZ"
	tests := []struct {
		name, body, want string
	}{
		{"plain", "hello", "hello"},
		{"control chars", "a\x00b\x1bc\x7fd", "abcd"},
		{"newlines collapse", "a\n\n  b\r\n\tc", "a b c"},
		{"bidi override", "a\u202eb", "ab"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"secret", "echo " + secret + " done", "echo [redacted] done"},
		{"secret url-escaped", "x=" + url.QueryEscape(secret+"/+"), "x=[redacted]"},
		{"secret split by control char", "s3cr3t-\x00value-XYZ", "[redacted]"},
		{"long", strings.Repeat("é", 200), strings.Repeat("é", 58) + "..."},
		{"issued tokens in JSON", `{"access_token":"BQDxx","refresh_token": "AQCyy","expires_in":"1"}`, `{"access_token":"[redacted]","refresh_token": "[redacted]","expires_in":"1"}`},
		{"issued tokens escaped in JSON", `{"error":"x \"access_token\":\"BQDxx\""}`, `{"error":"x \"access_token\":\"[redacted]\""}`},
		{"tokens in a form", "refresh_token=AQCyy&client_secret=zz&code_verifier=vv&x=1", "refresh_token=[redacted]&client_secret=[redacted]&code_verifier=[redacted]&x=1"},
		{"bearer", "Authorization: Bearer BQD.x-y", "Authorization: Bearer [redacted]"},
		{"token_type kept", `{"token_type":"Bearer","expires_in":3600}`, `{"token_type":"Bearer","expires_in":3600}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt([]byte(tt.body), []string{secret, secret + "/+"})
			if got != tt.want {
				t.Errorf("Excerpt(%q) = %q; want %q", tt.body, got, tt.want)
			}
			if len(got) > MaxExcerpt {
				t.Errorf("Excerpt(%q) has %d bytes; want <= %d", tt.body, len(got), MaxExcerpt)
			}
		})
	}
}

func TestDecodeRedactsSecrets(t *testing.T) {
	secrets := []string{"client-secret-1234", "the-code-AQB", "verifier-dBjftJeZ4CVP", "refresh-AQC-abc"}
	body := `{"error":"invalid_grant the-code-AQB","error_description":"echo client-secret-1234 verifier-dBjftJeZ4CVP refresh-AQC-abc"}`
	_, e := Decode(400, jsonHeader(), []byte(body), secrets, now)
	if e == nil {
		t.Fatal("Decode gave no error")
	}
	all := e.Code + e.Description + e.Body + e.Reason + e.Error()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("Decode error %+v contains secret %q", e, s)
		}
	}
	html := "<html>" + strings.Join(secrets, " ") + "</html>"
	_, e = Decode(500, http.Header{}, []byte(html), secrets, now)
	for _, s := range secrets {
		if strings.Contains(e.Body, s) {
			t.Errorf("Decode(500, html).Body = %q; contains secret %q", e.Body, s)
		}
	}
}

// TestDecodeRedactsResponseTokens covers tokens the server itself sent in
// a body that is refused: they were not in the request, so only their
// place in the body (or the decoded value) can hide them.
func TestDecodeRedactsResponseTokens(t *testing.T) {
	const tok = "BQsecretAccessTokenValue"
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"JSON unicode escape in the value", 200, `{"access_token":"\u0042QsecretAccessTokenValue","expires_in":"x"}`},
		{"JSON escaped slash in the value", 200, `{"access_token":"BQsecret\/AccessTokenValue","expires_in":"x"}`},
		{"escaped field name", 200, `{"access\u005ftoken":"BQsecretAccessTokenValue","expires_in":"x"}`},
		{"escaped refresh_token name", 200, `{"access_token":"x","expires_in":-1,"refresh\u005Ftoken":"BQsecretAccessTokenValue"}`},
		{"error JSON carrying a token", 400, `{"error":"invalid_grant","acc\u0065ss_token":"BQsecretAccessTokenValue"}`},
		{"JSON in a JSON string", 200, `{"x":"{\"access_token\":\"BQsecretAccessTokenValue\"}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := Decode(tt.status, jsonHeader(), []byte(tt.body), nil, now)
			if e == nil {
				t.Fatalf("Decode(%d, %s) gave no error", tt.status, tt.body)
			}
			all := e.Code + e.Description + e.Body + e.Reason + e.Error()
			for _, part := range []string{tok, "secretAccess", "AccessTokenValue"} {
				if strings.Contains(all, part) {
					t.Errorf("Decode(%d, %s) error %+v shows %q of the token", tt.status, tt.body, e, part)
				}
			}
			if !strings.Contains(e.Body, "[redacted]") {
				t.Errorf("Decode(%d, %s).Body = %q; want a [redacted] mark", tt.status, tt.body, e.Body)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"5", 5 * time.Second},
		{" 120 ", 120 * time.Second},
		{"-3", 0},
		{"1.5", 0},
		{"abc", 0},
		{"99999999999999999999999", 1<<63 - 1},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"Mon, 99 Foo 2026", 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %q; want POST", r.Method)
		}
		if got, want := r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"; got != want {
			t.Errorf("Content-Type = %q; want %q", got, want)
		}
		if got, want := r.Header.Get("Authorization"), "Basic abc"; got != want {
			t.Errorf("Authorization = %q; want %q", got, want)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		if got := r.PostForm.Get("grant_type"); got != "client_credentials" {
			t.Errorf("grant_type = %q; want client_credentials", got)
		}
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"BQF","token_type":"Bearer","expires_in":3600}`)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case "/big":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"`+strings.Repeat("a", MaxBody)+`","expires_in":3600}`)
		case "/cut":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"access_token":`)
		}
	}))
	defer srv.Close()
	do := func(path string) (*Token, error) {
		return Do(context.Background(), srv.Client(), &Request{
			URL:           srv.URL + path,
			Form:          url.Values{"grant_type": {"client_credentials"}},
			Authorization: "Basic abc",
		}, now)
	}
	tok, err := do("/ok")
	if err != nil || tok.AccessToken != "BQF" || tok.ExpiresIn != 3600 {
		t.Errorf("Do(/ok) = %+v, %v; want BQF, 3600", tok, err)
	}
	var we *Error
	if _, err := do("/redirect"); !errors.As(err, &we) || we.StatusCode != http.StatusFound {
		t.Errorf("Do(/redirect) error = %v; want *Error with status 302 (redirects not followed)", err)
	}
	if _, err := do("/429"); !errors.As(err, &we) || we.RetryAfter != 7*time.Second {
		t.Errorf("Do(/429) error = %v; want *Error with RetryAfter 7s", err)
	}
	if _, err := do("/big"); !errors.As(err, &we) || !strings.Contains(we.Reason, "truncated") {
		t.Errorf("Do(/big) error = %v; want *Error, truncated body (1 MiB limit)", err)
	}
	if _, err := do("/cut"); err == nil || errors.As(err, &we) {
		t.Errorf("Do(/cut) error = %v; want a transport error for a body cut short", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Do(ctx, srv.Client(), &Request{URL: srv.URL + "/ok", Form: url.Values{}}, now); !errors.Is(err, context.Canceled) {
		t.Errorf("Do(canceled ctx) error = %v; want context.Canceled", err)
	}
	if _, err := Do(context.Background(), nil, &Request{URL: "://bad"}, now); err == nil {
		t.Errorf("Do(bad URL) gave no error")
	}
}

// FuzzDecodeTokenResponse checks that Decode never panics, returns exactly
// one of token and error, keeps its invariants, and never leaks a secret.
func FuzzDecodeTokenResponse(f *testing.F) {
	const secret = "fuzz-secret-0123456789"
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"access_token":"BQD","token_type":"Bearer","scope":"a b","expires_in":3600,"refresh_token":"AQC"}`},
		{200, "application/json; charset=utf-8", `{"access_token":"BQF","token_type":"Bearer","expires_in":3600}`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"Refresh token revoked"}`},
		{400, "application/json", `{"error":"invalid_client","error_description":"` + secret + `"}`},
		{200, "text/html", "<html>" + secret + "</html>"},
		{503, "", ""},
		{200, "application/json", `{"access_token":"x","expires_in":"3600"}`},
		{200, "application/json", `[1,2]`},
		{200, "application/json", `{"access_token":"x","expires_in":36`},
		{429, "application/json", `{"error":{"status":429,"message":"API rate limit exceeded"}}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		tok, e := Decode(status, h, body, []string{secret}, now)
		if (tok == nil) == (e == nil) {
			t.Fatalf("Decode(%d, %q, %q) = %v, %v; want exactly one", status, ct, body, tok, e)
		}
		if tok != nil {
			if tok.AccessToken == "" || tok.ExpiresIn < 0 || tok.TokenType != "Bearer" {
				t.Errorf("Decode(%d, %q, %q) = %+v; want a token with access_token, expires_in >= 0, Bearer", status, ct, body, tok)
			}
			return
		}
		if len(e.Body) > MaxExcerpt {
			t.Errorf("excerpt has %d bytes; want <= %d", len(e.Body), MaxExcerpt)
		}
		for _, s := range []string{e.Body, e.Code, e.Description, e.Reason} {
			if strings.Contains(s, secret) {
				t.Errorf("error field %q contains the secret", s)
			}
			for _, r := range s {
				if unicode.IsControl(r) {
					t.Errorf("error field %q contains control character %U", s, r)
				}
			}
		}
		if e.Code == "" && e.Reason == "" {
			t.Errorf("error %+v has neither code nor reason", e)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"access_token":"BQD","token_type":"Bearer","scope":"user-read-private playlist-read-private","expires_in":3600,"refresh_token":"AQC"}`)
	h := jsonHeader()
	b.ReportAllocs()
	for b.Loop() {
		if _, e := Decode(200, h, body, nil, now); e != nil {
			b.Fatal(e)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", " 7 ", "-1", "1.5", "99999999999999999999999",
		now.Add(90 * time.Second).Format(http.TimeFormat), "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v; want >= 0", v, d)
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil && n < 1<<32 && d != time.Duration(n)*time.Second {
			t.Fatalf("ParseRetryAfter(%q) = %v; want %d s", v, d, n)
		}
	})
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("stop"))
	// An hour's wait: it returns only because ctx is done.
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep(done ctx, 1h) = %v; want context.Canceled", err)
	}
	if err := Sleep(ctx, 0); err != context.Canceled {
		t.Errorf("Sleep(done ctx, 0) = %v; want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(ctx, 1ms) = %v; want nil", err)
	}
}
