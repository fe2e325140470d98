package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

// execute runs cmd (built with a runF seam) under a root with the
// persistent flags, without running the command's behaviour.
func execute(t *testing.T, f *Factory, cmd *cobra.Command, args ...string) error {
	t.Helper()
	root := newRootCmd(f, []string{"version"}) // only "version": cmd is the one under test
	root.AddCommand(cmd)
	root.SetArgs(append([]string{cmd.Name()}, args...))
	_, err := root.ExecuteContextC(context.Background())
	return err
}

func testFactory() *Factory {
	s, _, _ := TestStreams("")
	return &Factory{IO: s, Env: MapEnv(nil)}
}

func TestLoginFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    loginOptions
		wantErr bool
	}{
		{args: nil, want: loginOptions{Timeout: 5 * time.Minute}},
		{args: []string{"-s", "read", "--scope", "user-top-read,streaming", "--pkce", "--show-dialog", "--no-browser", "--timeout", "1m", "--redirect-port", "8888"},
			want: loginOptions{Scopes: []string{"read", "user-top-read,streaming"}, PKCE: true, ShowDialog: true, NoBrowser: true, Timeout: time.Minute, RedirectPort: 8888}},
		{args: []string{"--timeout", "-1s"}, wantErr: true},
		{args: []string{"--redirect-port", "-2"}, wantErr: true},
		{args: []string{"stray"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *loginOptions
			f := testFactory()
			f.Browser = &stubBrowser{}
			err := execute(t, f, newLoginCmd(f, func(_ context.Context, o *loginOptions) error { got = o; return nil }), tt.args...)
			if tt.wantErr {
				if err == nil || exitCode(err) != ExitUsage {
					t.Errorf("login %v: error %v (exit %d); want a usage error", tt.args, err, exitCode(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("login %v: %v", tt.args, err)
			}
			if strings.Join(got.Scopes, "|") != strings.Join(tt.want.Scopes, "|") || got.PKCE != tt.want.PKCE || got.ShowDialog != tt.want.ShowDialog ||
				got.NoBrowser != tt.want.NoBrowser || got.Timeout != tt.want.Timeout || got.RedirectPort != tt.want.RedirectPort {
				t.Errorf("login %v options = %+v; want %+v", tt.args, *got, tt.want)
			}
			if got.Browser != f.Browser || got.Env == nil {
				t.Errorf("login %v: options have browser %v, environment %v; want the factory's", tt.args, got.Browser, got.Env)
			}
		})
	}
}

func TestTokenFlags(t *testing.T) {
	t.Parallel()
	var got *tokenOptions
	f := testFactory()
	err := execute(t, f, newTokenCmd(f, func(_ context.Context, o *tokenOptions) error { got = o; return nil }),
		"--json", "--min-valid", "10m", "--require-scope", "read", "--require-scope", "user-top-read")
	if err != nil {
		t.Fatal(err)
	}
	if !got.JSON || got.MinValid != 10*time.Minute || len(got.RequireScopes) != 2 || got.ClientCredentials {
		t.Errorf("token options = %+v", *got)
	}
	got = nil
	if err := execute(t, f, newTokenCmd(f, func(_ context.Context, o *tokenOptions) error { got = o; return nil })); err != nil || got.MinValid != expiryMargin {
		t.Errorf("token default --min-valid = %v, %v; want %v", got, err, expiryMargin)
	}
}

func TestParseScopeArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    spotauth.Scopes
		wantErr error
	}{
		{nil, spotauth.Scopes{}, nil},
		{[]string{"user-read-private, user-read-email"}, spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserReadEmail), nil},
		{[]string{"user-read-private user-top-read", "user-top-read"}, spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserTopRead), nil},
		{[]string{"READ"}, spotauth.ReadScopes(), nil},
		{[]string{"read,write"}, spotauth.ReadScopes().Union(spotauth.WriteScopes()), nil},
		{[]string{"every", "streaming"}, spotauth.ReadScopes().Union(spotauth.WriteScopes()).Union(spotauth.NewScopes(spotauth.ScopeStreaming)), nil},
		{[]string{"user-read-birthdate"}, spotauth.Scopes{}, spotauth.ErrUnknownScope},
	}
	for _, tt := range tests {
		got, err := parseScopeArgs(tt.args)
		if !errors.Is(err, tt.wantErr) || !got.Equal(tt.want) {
			t.Errorf("parseScopeArgs(%q) = %v, %v; want %v, %v", tt.args, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseScopeArgs(f *testing.F) {
	f.Add("read, user-top-read")
	f.Add("every\tstreaming,,")
	f.Add("nonsense")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseScopeArgs([]string{in})
		if err != nil {
			if exitCode(err) != ExitUsage {
				t.Errorf("parseScopeArgs(%q) error %v has exit %d; want %d", in, err, exitCode(err), ExitUsage)
			}
			return
		}
		again, err := parseScopeArgs([]string{got.String()})
		if err != nil || !again.Equal(got) {
			t.Errorf("parseScopeArgs(%q) = %v; reparsing gives %v, %v", in, got, again, err)
		}
	})
}

func FuzzParseStore(f *testing.F) {
	f.Add("")
	f.Add("redis://:pw@127.0.0.1:6379/0")
	f.Add("file:///tmp/x")
	f.Add("file://host/x")
	f.Add("s3://b")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, spec string) {
		loc, err := parseStore(spec, "/cfg")
		if err != nil {
			if exitCode(err) != ExitUsage {
				t.Errorf("parseStore(%q) error exit %d; want %d", spec, exitCode(err), ExitUsage)
			}
			return
		}
		if loc.kind != "file" && loc.kind != "redis" {
			t.Errorf("parseStore(%q) kind %q", spec, loc.kind)
		}
		if loc.kind == "file" && loc.dir == "" {
			t.Errorf("parseStore(%q) = empty directory", spec)
		}
	})
}

func FuzzParseLoopbackRedirect(f *testing.F) {
	f.Add("http://127.0.0.1/callback")
	f.Add("http://[::1]:8080/cb?x=1")
	f.Add("http://localhost/cb")
	f.Add("https://example.com/cb")
	f.Add("http://127.0.0.1:0/")
	f.Fuzz(func(t *testing.T, raw string) {
		rd, err := parseLoopbackRedirect(raw)
		if err != nil {
			if !errors.Is(err, spotauth.ErrInvalidRedirectURI) || exitCode(err) != ExitConfig {
				t.Errorf("parseLoopbackRedirect(%q) error %v; want ErrInvalidRedirectURI with exit %d", raw, err, ExitConfig)
			}
			return
		}
		if rd.host != "127.0.0.1" && rd.host != "::1" {
			t.Errorf("parseLoopbackRedirect(%q) host %q; want a loopback literal", raw, rd.host)
		}
		if rd.port == 0 {
			if _, err := spotauth.WithRedirectPort(raw, 4242); err != nil {
				t.Errorf("WithRedirectPort(%q, 4242): %v", raw, err)
			}
		}
	})
}
