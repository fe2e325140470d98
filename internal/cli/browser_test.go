package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSystemBrowserHonoursBROWSER(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := filepath.Join(dir, "browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" > "+out+"\necho chatter\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  string
		want string
	}{
		{script, "http://127.0.0.1/x?a=1&b=2"},
		{"/nonexistent/browser:" + script + " --new-tab %s", "--new-tab http://127.0.0.1/x?a=1&b=2"},
	}
	for _, tt := range tests {
		os.Remove(out)
		var stderr bytes.Buffer
		b := &systemBrowser{env: MapEnv(map[string]string{"BROWSER": tt.env}), stderr: &stderr}
		if err := b.Browse("http://127.0.0.1/x?a=1&b=2"); err != nil {
			t.Fatalf("Browse with BROWSER=%q: %v", tt.env, err)
		}
		got, _ := os.ReadFile(out)
		if strings.TrimSpace(string(got)) != tt.want {
			t.Errorf("BROWSER=%q got args %q; want %q", tt.env, got, tt.want)
		}
		if !strings.Contains(stderr.String(), "chatter") {
			t.Errorf("browser output %q did not go to stderr", stderr.String())
		}
	}
	b := &systemBrowser{env: MapEnv(map[string]string{"BROWSER": "/nonexistent/a:/nonexistent/b"}), stderr: new(bytes.Buffer)}
	if err := b.Browse("http://127.0.0.1/"); err == nil || !strings.Contains(err.Error(), "/nonexistent/b") {
		t.Errorf("Browse with only missing browsers = %v; want an error naming them", err)
	}
}
