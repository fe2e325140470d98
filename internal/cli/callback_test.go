package cli

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

func TestParseLoopbackRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		host     string
		port     int
		path     string
		wantErr  bool
		errMatch string
	}{
		{in: "http://127.0.0.1/callback", host: "127.0.0.1", path: "/callback"},
		{in: "http://127.0.0.1:8888/cb", host: "127.0.0.1", port: 8888, path: "/cb"},
		{in: "http://[::1]:9/x", host: "::1", port: 9, path: "/x"},
		{in: "http://127.0.0.1", host: "127.0.0.1", path: "/"},
		{in: "http://localhost:8888/callback", wantErr: true, errMatch: "localhost"},
		{in: "https://127.0.0.1/callback", wantErr: true, errMatch: "not an http"},
		{in: "https://example.com/callback", wantErr: true, errMatch: "not an http"},
		{in: "http://example.com/callback", wantErr: true, errMatch: "loopback"},
		{in: "http://0.0.0.0/callback", wantErr: true, errMatch: "loopback"},
		{in: "myapp://callback", wantErr: true},
		{in: "http://127.0.0.1:0/cb", wantErr: true, errMatch: "port"},
		{in: "http://127.0.0.1:99999/cb", wantErr: true},
		{in: "http://127.0.0.1/cb#frag", wantErr: true},
		{in: "http://u:p@127.0.0.1/cb", wantErr: true},
		{in: "%zz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLoopbackRedirect(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseLoopbackRedirect(%q) = %+v; want an error", tt.in, got)
				}
				if !errors.Is(err, spotauth.ErrInvalidRedirectURI) || exitCode(err) != ExitConfig {
					t.Errorf("parseLoopbackRedirect(%q) error %v (exit %d); want ErrInvalidRedirectURI, exit %d", tt.in, err, exitCode(err), ExitConfig)
				}
				if !strings.Contains(err.Error(), tt.errMatch) {
					t.Errorf("parseLoopbackRedirect(%q) error %q; want it to contain %q", tt.in, err, tt.errMatch)
				}
				if !strings.Contains(hintFor(err), "http://127.0.0.1/callback") {
					t.Errorf("hint %q does not say what to register", hintFor(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("parseLoopbackRedirect(%q) error %v", tt.in, err)
			}
			if got.host != tt.host || got.port != tt.port || got.path() != tt.path {
				t.Errorf("parseLoopbackRedirect(%q) = host %q port %d path %q; want %q %d %q", tt.in, got.host, got.port, got.path(), tt.host, tt.port, tt.path)
			}
		})
	}
	rd, _ := parseLoopbackRedirect("http://[::1]/cb?x=1")
	if got, _ := rd.withPort(4321); got != "http://[::1]:4321/cb?x=1" {
		want := "http://[::1]:4321/cb?x=1"
		t.Errorf("withPort(4321) = %q; want %q", got, want)
	}
}

// startCallback serves a callbackServer on a free loopback port.
func startCallback(t *testing.T) (base string, results chan redirectResult, done chan struct{}, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	results = make(chan redirectResult)
	done = make(chan struct{})
	stop = serveCallback(ln, &callbackServer{path: "/callback", results: results, done: done})
	return "http://" + ln.Addr().String(), results, done, stop
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCallbackServerOneShot(t *testing.T) {
	t.Parallel()
	base, results, done, stop := startCallback(t)
	defer stop()
	defer close(done)

	if code, _ := get(t, base+"/favicon.ico"); code != http.StatusNotFound {
		t.Errorf("GET /favicon.ico = %d; want 404", code)
	}
	type resp struct {
		code int
		body string
	}
	first := make(chan resp, 1)
	go func() {
		c, b := get(t, base+"/callback?code=AQx&state=s")
		first <- resp{c, b}
	}()
	r := <-results
	if r.via != "browser" || r.raw != "?code=AQx&state=s" {
		t.Errorf("result = %+v; want the browser's code", r)
	}
	// A second hit while the first waits: already handled.
	if code, body := get(t, base+"/callback?code=AQy&state=s"); code != http.StatusConflict || !strings.Contains(body, "already") {
		t.Errorf("second GET /callback = %d %q; want 409 already handled", code, body)
	}
	r.reply <- nil
	got := <-first
	if got.code != http.StatusOK || !strings.Contains(got.body, "close this tab") || !strings.Contains(got.body, `id="result"`) {
		t.Errorf("first GET /callback = %d %q; want 200 with the success page", got.code, got.body)
	}
}

func TestCallbackServerFailurePage(t *testing.T) {
	t.Parallel()
	base, results, done, stop := startCallback(t)
	defer stop()
	defer close(done)
	type resp struct {
		code int
		body string
	}
	ch := make(chan resp, 1)
	go func() {
		c, b := get(t, base+"/callback?error=access_denied&state=s")
		ch <- resp{c, b}
	}()
	r := <-results
	r.reply <- errors.New("spotauth: authorization denied <script>")
	got := <-ch
	if got.code != http.StatusBadRequest || !strings.Contains(got.body, "authorization denied &lt;script&gt;") {
		t.Errorf("GET /callback = %d %q; want 400 with the escaped error", got.code, got.body)
	}
}

func TestCallbackServerAfterDone(t *testing.T) {
	t.Parallel()
	base, _, done, stop := startCallback(t)
	defer stop()
	close(done)
	if code, _ := get(t, base+"/callback?code=x&state=y"); code != http.StatusGone {
		t.Errorf("GET /callback after the login ended = %d; want 410", code)
	}
}

func TestReadPasted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     string // code in the result; "" for none
		msg      bool
	}{
		{"url", "http://127.0.0.1:1234/callback?code=AQp&state=s\n", "AQp", false},
		{"blank lines then url", "\n  \nhttp://127.0.0.1/callback?code=AQq&state=s", "AQq", false},
		{"garbage then url", "hello\nhttp://127.0.0.1/callback?code=AQr&state=s\n", "AQr", true},
		{"eof", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := make(chan redirectResult, 1)
			done := make(chan struct{})
			var msgs strings.Builder
			readPasted(strings.NewReader(tt.in), &msgs, results, done)
			close(done)
			var got string
			select {
			case r := <-results:
				code, err := spotauth.ParseCode(r.raw)
				if err != nil {
					t.Fatalf("ParseCode(%q) error %v", r.raw, err)
				}
				got = code
				if r.via != "paste" || r.reply != nil {
					t.Errorf("result = %+v; want via paste without reply", r)
				}
			default:
			}
			if got != tt.want {
				t.Errorf("readPasted(%q) code = %q; want %q", tt.in, got, tt.want)
			}
			if (msgs.Len() > 0) != tt.msg {
				t.Errorf("readPasted(%q) messages %q; want message %v", tt.in, msgs.String(), tt.msg)
			}
		})
	}
}

func TestSSHLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		host string
		want string
	}{
		{map[string]string{"SSH_CONNECTION": "10.0.0.2 52000 10.0.0.1 22", "USER": "ana"}, "127.0.0.1", "ssh -L 4000:127.0.0.1:4000 ana@10.0.0.1"},
		{map[string]string{"SSH_CONNECTION": "::2 52000 fe80::1 22"}, "::1", "ssh -L 4000:[::1]:4000 [fe80::1]"},
		{nil, "127.0.0.1", "ssh -L 4000:127.0.0.1:4000 user@host"},
	}
	for _, tt := range tests {
		if got := sshLine(MapEnv(tt.env), tt.host, 4000); got != tt.want {
			t.Errorf("sshLine(%v, %q, 4000) = %q; want %q", tt.env, tt.host, got, tt.want)
		}
	}
}
