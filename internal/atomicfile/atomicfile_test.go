package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "token.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatalf("WriteFile(%q) = %v; want nil", content, err)
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != content {
			t.Fatalf("ReadFile = %q, %v; want %q, nil", got, err, content)
		}
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %v; want 0600", perm)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries; want 1 (no temporary file left)", len(entries))
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	name := filepath.Join(t.TempDir(), "missing", "token.json")
	if err := WriteFile(name, []byte("secret-value"), 0o600); err == nil {
		t.Fatal("WriteFile into a missing directory = nil; want an error")
	} else if s := err.Error(); filepath.Base(s) == "" || contains(s, "secret-value") {
		t.Errorf("error %q leaks the content", s)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
