package login_test

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/login"
)

// Over SSH no browser is opened; Run writes the ssh -L command that
// forwards the listener's own port from the user's machine, and a pasted
// redirect (or a forwarded one) completes the login.
func TestRunOverSSH(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(port string) string
	}{
		{"SSH_CONNECTION", map[string]string{"SSH_CONNECTION": "10.0.0.2 52000 10.0.0.1 22", "USER": "ana"},
			func(p string) string { return "ssh -L " + p + ":127.0.0.1:" + p + " ana@10.0.0.1" }},
		{"SSH_CONNECTION, other port, no USER", map[string]string{"SSH_CONNECTION": "10.0.0.2 52000 10.0.0.1 2222"},
			func(p string) string { return "ssh -p 2222 -L " + p + ":127.0.0.1:" + p + " 10.0.0.1" }},
		{"SSH_CLIENT only", map[string]string{"SSH_CLIENT": "10.0.0.2 52000 22", "USER": "ana"},
			func(p string) string { return "ssh -L " + p + ":127.0.0.1:" + p + " user@host" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			opened := false
			var authURL string
			f.out.onURL = func(u string) { authURL = u; pastingUser(t, f.srv, w, false)(u) }
			tok, err := login.Run(background, f.cfg, &login.Options{
				In: r, Out: f.out,
				Getenv:  func(k string) string { return tt.env[k] },
				Browser: func(string) error { opened = true; return nil },
			})
			if err != nil || !tok.Valid() {
				t.Fatalf("Run over SSH = %v, %v", tok, err)
			}
			f.out.wait()
			ru, _ := url.Parse(redirectParam(t, authURL))
			out := f.out.String()
			for _, want := range []string{"This is an SSH session", tt.want(ru.Port()), "paste here"} {
				if !strings.Contains(out, want) {
					t.Errorf("Out = %q; want it to contain %q", out, want)
				}
			}
			if opened {
				t.Errorf("browser opened over SSH; want not")
			}
			f.noLeaks()
		})
	}
}
