package login_test

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

// freePort returns a port nothing listens on, on host.
func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A port another program holds, from the redirect URI or from
// Options.RedirectPort, is a *ListenError matching ErrPortBusy, before the
// browser opens or the Accounts service is asked anything.
func TestRunBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name     string
		redirect string
		opts     login.Options
	}{
		{"port in the redirect URI", "http://127.0.0.1:" + strconv.Itoa(port) + "/callback", login.Options{}},
		{"RedirectPort", "http://127.0.0.1/callback", login.Options{RedirectPort: port}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(s *spotauthtest.Server) { s.RedirectURI = tt.redirect })
			f.cfg.RedirectURL = tt.redirect
			opened := false
			tt.opts.Browser = func(string) error { opened = true; return nil }
			tt.opts.Out = f.out
			tok, err := login.Run(background, f.cfg, &tt.opts)
			var le *login.ListenError
			if tok != nil || !errors.Is(err, login.ErrPortBusy) || !errors.As(err, &le) || le.Addr != "127.0.0.1:"+strconv.Itoa(port) {
				t.Fatalf("Run on a busy port = %v, %v; want a *ListenError for 127.0.0.1:%d matching ErrPortBusy", tok, err, port)
			}
			if !strings.Contains(err.Error(), "busy") {
				t.Errorf("error %q; want it to say the port is busy", err)
			}
			if opened || f.srv.Stats().AuthorizeRequests != 0 || f.out.String() != "" {
				t.Errorf("Run opened a browser (%v), asked the Accounts service or wrote %q; want nothing", opened, f.out)
			}
			f.noLeaks()
		})
	}
}

// A fixed port, from the redirect URI or Options.RedirectPort, on
// 127.0.0.1 or [::1], is the one listened on and sent byte for byte.
func TestRunFixedPortAndIPv6(t *testing.T) {
	tests := []struct {
		name string
		host string
		uri  func(port int) string // registered and configured
		opt  bool                  // pass the port as Options.RedirectPort
		want func(port int) string // sent as redirect_uri
	}{
		{"port in the URI", "127.0.0.1",
			func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) + "/cb" }, false,
			func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) + "/cb" }},
		{"RedirectPort", "127.0.0.1",
			func(int) string { return "http://127.0.0.1/callback" }, true,
			func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) + "/callback" }},
		{"RedirectPort equal to the URI's", "127.0.0.1",
			func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) + "/callback" }, true,
			func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) + "/callback" }},
		{"IPv6, any port", "::1",
			func(int) string { return "http://[::1]/callback?app=x" }, false,
			nil},
		{"IPv6, port in the URI", "::1",
			func(p int) string { return "http://[::1]:" + strconv.Itoa(p) + "/" }, false,
			func(p int) string { return "http://[::1]:" + strconv.Itoa(p) + "/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := freePort(t, tt.host)
			uri := tt.uri(port)
			f := newFixture(t, func(s *spotauthtest.Server) { s.RedirectURI = uri })
			f.cfg.RedirectURL = uri
			u := &user{t: t, srv: f.srv}
			opts := &login.Options{Browser: u.Browse, Out: f.out}
			if tt.opt {
				opts.RedirectPort = port
			}
			tok, err := login.Run(background, f.cfg, opts)
			if err != nil || !tok.Valid() {
				t.Fatalf("Run with %s = %v, %v\nOut:\n%s", uri, tok, err, f.out)
			}
			got := redirectParam(t, u.urls[0])
			if tt.want != nil && got != tt.want(port) {
				t.Errorf("redirect_uri = %q; want %q", got, tt.want(port))
			}
			if tt.want == nil && (!strings.HasPrefix(got, "http://[::1]:") || !strings.HasSuffix(got, "/callback?app=x")) {
				t.Errorf("redirect_uri = %q; want [::1] with a port, path and query kept", got)
			}
			if p := u.lastPage(); p.title() != "Logged in" {
				t.Errorf("browser page %d %q; want Logged in", p.status, p.title())
			}
			f.noLeaks()
		})
	}
}

// The listener answers only the address it listens on: the redirect URI
// with 127.0.0.1 is not reachable as [::1], and the reverse.
func TestRunListensOnTheRedirectHostOnly(t *testing.T) {
	f := newFixture(t, nil)
	u := &user{t: t, srv: f.srv}
	var other error
	u.before = func(loc *url.URL) {
		other = dialOther(loc.Port())
	}
	if _, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if other == nil {
		t.Errorf("dial [::1] on the listener's port succeeded; want the listener on 127.0.0.1 only")
	}
	f.noLeaks()
}

func dialOther(port string) error {
	c, err := net.Dial("tcp", net.JoinHostPort("::1", port))
	if err == nil {
		c.Close()
	}
	return err
}
