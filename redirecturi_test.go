package spotauth_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri      string
		ok       bool
		wantText string // substring of the error: what to change
	}{
		{"https://example.com/callback", true, ""},
		{"https://example.com:8443/cb?x=1", true, ""},
		{"http://127.0.0.1/callback", true, ""},
		{"http://127.0.0.1:43117/callback", true, ""},
		{"http://[::1]/callback", true, ""},
		{"http://[::1]:8080/callback", true, ""},
		{"myapp://callback", true, ""},
		{"com.example.app:/oauth2redirect", true, ""},
		{"http://localhost:8888/callback", false, "http://127.0.0.1:PORT/"},
		{"https://localhost/callback", false, "use the loopback IP literal"},
		{"http://LOCALHOST/cb", false, "localhost"},
		{"http://app.localhost/cb", false, "localhost"},
		{"myapp://localhost/cb", false, "localhost"},
		{"http://example.com/callback", false, "use https"},
		{"http://127.0.0.2/callback", false, "loopback IP literal"},
		{"http://0.0.0.0:8080/callback", false, "loopback IP literal"},
		{"http://[::2]/callback", false, "loopback IP literal"},
		{"http://[0:0:0:0:0:0:0:1]/cb", false, "loopback IP literal"},
		{"", false, "empty"},
		{" https://example.com/cb", false, "space"},
		{"/callback", false, "no scheme"},
		{"127.0.0.1:8080/callback", false, "not a URL"},
		{"https://example.com/cb#frag", false, "fragment"},
		{"https://example.com/cb#", false, "fragment"},
		{"https:///cb", false, "no host"},
		{"https://:443/cb", false, "no host"},
		{"http://127.0.0.1:/cb", false, "empty port"},
		{"http://[::1]:/cb", false, "remove the ':'"},
		{"https://example.com:/cb", false, "empty port"},
		{"http://user@127.0.0.1/cb", false, "user information"},
		{"http://127.0.0.1:0/cb", false, "port"},
		{"http://127.0.0.1:70000/cb", false, "port"},
		{"http://[::1/cb", false, "not a URL"},
	}
	for _, tt := range tests {
		err := spotauth.ValidateRedirectURI(tt.uri)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateRedirectURI(%q) = %v; want ok=%t", tt.uri, err, tt.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, spotauth.ErrInvalidRedirectURI) {
			t.Errorf("ValidateRedirectURI(%q) = %v; want ErrInvalidRedirectURI", tt.uri, err)
		}
		if !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("ValidateRedirectURI(%q) = %q; want it to contain %q", tt.uri, err, tt.wantText)
		}
		if !strings.HasPrefix(err.Error(), "spotauth: ") {
			t.Errorf("ValidateRedirectURI(%q) = %q; want the spotauth: prefix", tt.uri, err)
		}
	}
}

// TestRedirectPortLoopbackOnly: RedirectPort takes loopback redirects
// only (see TestIsLoopbackRedirect for the rule itself).
func TestRedirectPortLoopbackOnly(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{"http://127.0.0.1/callback", true},
		{"http://127.0.0.1:1234/callback", true},
		{"http://[::1]/cb", true},
		{"http://[::1]:1234/cb", true},
		{"https://127.0.0.1/cb", false},
		{"http://localhost/cb", false},
		{"http://127.0.0.1.example.com/cb", false},
		{"myapp://cb", false},
		{"%", false},
	}
	for _, tt := range tests {
		_, err := spotauth.RedirectPort(tt.uri)
		if (err == nil) != tt.want {
			t.Errorf("RedirectPort(%q) = %v; want ok=%t", tt.uri, err, tt.want)
		}
		if err != nil && !errors.Is(err, spotauth.ErrInvalidRedirectURI) {
			t.Errorf("RedirectPort(%q) = %v; want ErrInvalidRedirectURI", tt.uri, err)
		}
	}
}

func TestWithRedirectPort(t *testing.T) {
	tests := []struct {
		uri  string
		port int
		want string // "" for an error
	}{
		{"http://127.0.0.1/callback", 43117, "http://127.0.0.1:43117/callback"},
		{"http://127.0.0.1", 80, "http://127.0.0.1:80"},
		{"http://127.0.0.1?x=1", 5, "http://127.0.0.1:5?x=1"},
		{"http://[::1]/cb?a=%20b", 8080, "http://[::1]:8080/cb?a=%20b"},
		{"http://127.0.0.1/Call%2Fback/", 1, "http://127.0.0.1:1/Call%2Fback/"},
		{"http://127.0.0.1:43117/callback", 43117, "http://127.0.0.1:43117/callback"},
		{"http://127.0.0.1:8080/callback", 43117, ""},
		{"https://example.com/callback", 43117, ""},
		{"http://localhost/callback", 43117, ""},
		{"myapp://callback", 43117, ""},
		{"http://127.0.0.1/callback", 0, ""},
		{"http://127.0.0.1/callback", 65536, ""},
	}
	for _, tt := range tests {
		got, err := spotauth.WithRedirectPort(tt.uri, tt.port)
		if tt.want == "" {
			if err == nil || !errors.Is(err, spotauth.ErrInvalidRedirectURI) {
				t.Errorf("WithRedirectPort(%q, %d) = %q, %v; want ErrInvalidRedirectURI", tt.uri, tt.port, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("WithRedirectPort(%q, %d) = %q, %v; want %q", tt.uri, tt.port, got, err, tt.want)
		}
		if err := spotauth.ValidateRedirectURI(got); err != nil {
			t.Errorf("ValidateRedirectURI(WithRedirectPort(%q, %d)) = %v; want nil", tt.uri, tt.port, err)
		}
	}
}

func TestRedirectPort(t *testing.T) {
	tests := []struct {
		uri     string
		want    int
		wantErr bool
	}{
		{"http://127.0.0.1/callback", 0, false},
		{"http://127.0.0.1:8888/callback", 8888, false},
		{"http://[::1]:9/cb", 9, false},
		{"https://example.com/cb", 0, true},
		{"http://localhost:8888/cb", 0, true},
	}
	for _, tt := range tests {
		got, err := spotauth.RedirectPort(tt.uri)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("RedirectPort(%q) = %d, %v; want %d, error %t", tt.uri, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://example.com/callback", "http://127.0.0.1/callback", "http://[::1]:8080/cb",
		"http://localhost:8888/callback", "myapp://callback", "http://example.com", "", "%zz", "http://[::1",
		"http://localhost:8888/callback?code=AQBlive0123456789&state=s", "https://u:pw@example.com/cb?code=AQBx#f",
	} {
		f.Add(s, 43117)
	}
	f.Fuzz(func(t *testing.T, uri string, port int) {
		err := spotauth.ValidateRedirectURI(uri)
		if err != nil && !errors.Is(err, spotauth.ErrInvalidRedirectURI) {
			t.Errorf("ValidateRedirectURI(%q) = %v; want nil or ErrInvalidRedirectURI", uri, err)
		}
		// An error never repeats a code parameter's value.
		if _, after, ok := strings.Cut(uri, "?code="); ok && err != nil {
			code, _, _ := strings.Cut(after, "&")
			code, _, _ = strings.Cut(code, "#")
			if len(code) >= 8 && strings.Contains(err.Error(), code) {
				t.Errorf("ValidateRedirectURI(%q) = %v; repeats the code", uri, err)
			}
		}
		if u, perr := url.Parse(uri); err == nil && perr == nil && strings.EqualFold(u.Hostname(), "localhost") {
			t.Errorf("ValidateRedirectURI(%q) accepted localhost", uri)
		}
		got, err := spotauth.WithRedirectPort(uri, port)
		if err != nil {
			if !errors.Is(err, spotauth.ErrInvalidRedirectURI) {
				t.Errorf("WithRedirectPort(%q, %d) = %v; want ErrInvalidRedirectURI", uri, port, err)
			}
			return
		}
		// RedirectPort takes loopback redirects only.
		if p, err := spotauth.RedirectPort(got); err != nil || p != port {
			t.Errorf("RedirectPort(WithRedirectPort(%q, %d)) = %d, %v; want %d", uri, port, p, err, port)
		}
	})
}

// TestValidateRedirectURIAgreesWithFake checks the library's rules against
// the fake Accounts service, an independent implementation of Spotify's: a
// URI the library accepts registers, and a login with it reaches the
// redirect; a URI that breaks Spotify's security rules is refused by both.
func TestValidateRedirectURIAgreesWithFake(t *testing.T) {
	srv := spotauthtest.NewServer()
	defer srv.Close()
	tests := []struct {
		uri      string
		ok       bool
		insecure bool // refused by the fake too, as insecure
	}{
		{"https://example.com/callback", true, false},
		{"https://example.com:8443/cb?x=1", true, false},
		{"http://127.0.0.1/callback", true, false},
		{"http://127.0.0.1:43117/callback", true, false},
		{"http://[::1]/callback", true, false},
		{"http://[::1]:8080/callback", true, false},
		{"myapp://callback", true, false},
		{"com.example.app:/oauth2redirect", true, false},
		{"http://localhost:8888/callback", false, true},
		{"https://localhost/callback", false, true},
		{"myapp://localhost/cb", false, true},
		{"http://example.com/callback", false, true},
		{"http://127.0.0.2/callback", false, true},
		{"http://[0:0:0:0:0:0:0:1]/cb", false, true},
	}
	for i, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := spotauth.ValidateRedirectURI(tt.uri)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateRedirectURI(%q) = %v; want ok=%t", tt.uri, err, tt.ok)
			}
			app := spotauthtest.App{ClientID: fmt.Sprintf("client-%d", i), RedirectURIs: []string{tt.uri}}
			regErr := srv.AddApp(app)
			if tt.insecure {
				if !errors.Is(regErr, spotauthtest.ErrInsecureRedirectURI) {
					t.Errorf("fake AddApp(%q) = %v; want ErrInsecureRedirectURI, as the library refuses it", tt.uri, regErr)
				}
				return
			}
			if regErr != nil {
				t.Fatalf("fake AddApp(%q) = %v; want it registered, as the library accepts it", tt.uri, regErr)
			}
			cfg := &spotauth.Config{ClientID: app.ClientID, RedirectURL: tt.uri, AccountsURL: srv.URL, HTTPClient: srv.Client()}
			ua, err := cfg.NewUserAuth(true)
			if err != nil {
				t.Fatalf("NewUserAuth(%q) = %v", tt.uri, err)
			}
			landed, err := srv.Authorize(ua.URL, true)
			if err != nil {
				t.Fatalf("fake /authorize with %q = %v; want a redirect", tt.uri, err)
			}
			if got, _, _ := strings.Cut(landed.String(), "?"); got != tt.uri && !strings.HasPrefix(tt.uri, got+"?") {
				t.Errorf("fake redirected to %q; want %q", landed, tt.uri)
			}
			if _, err := ua.Exchange(t.Context(), landed.String()); err != nil {
				t.Errorf("Exchange(%q) = %v; want a token", landed, err)
			}
		})
	}
}

// TestRedirectURIErrorsHideSecrets covers URIs that carry secrets by
// mistake, such as the URL a browser landed on, with its live code.
func TestRedirectURIErrorsHideSecrets(t *testing.T) {
	const code, password = "AQBliveCODE0123456789abcdefgh", "hunter2pass"
	tests := []struct {
		name string
		call func() error
	}{
		{"landed URL on localhost", func() error {
			return spotauth.ValidateRedirectURI("http://localhost:8888/callback?code=" + code + "&state=Zk3q")
		}},
		{"landed URL with a fragment", func() error {
			return spotauth.ValidateRedirectURI("https://example.com/cb?state=s&code=" + code + "#x")
		}},
		{"password in user information", func() error {
			return spotauth.ValidateRedirectURI("http://user:" + password + "@127.0.0.1/callback")
		}},
		{"token parameter", func() error {
			return spotauth.ValidateRedirectURI("http://example.com/cb?access_token=" + code)
		}},
		{"WithRedirectPort of a landed https URL", func() error {
			_, err := spotauth.WithRedirectPort("https://example.com/cb?code="+code, 43117)
			return err
		}},
		{"RedirectPort of a landed https URL", func() error {
			_, err := spotauth.RedirectPort("https://example.com/cb?code=" + code)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, spotauth.ErrInvalidRedirectURI) {
				t.Fatalf("error = %v; want ErrInvalidRedirectURI", err)
			}
			if msg := err.Error(); strings.Contains(msg, code) || strings.Contains(msg, "liveCODE") || strings.Contains(msg, password) {
				t.Errorf("error = %q; shows a secret", msg)
			}
		})
	}
	// What to change is still said about the rest of the URI.
	err := spotauth.ValidateRedirectURI("http://localhost:8888/callback?code=" + code)
	if want := `"http://localhost:8888/callback?code=AQBl…[redacted 29 chars]" uses localhost`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ValidateRedirectURI(landed localhost URL) = %v; want it to contain %s", err, want)
	}
}
