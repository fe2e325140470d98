package cli

import (
	"errors"
	"strings"
	"testing"

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
}
