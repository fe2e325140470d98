package cli

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listFiles returns the paths of everything under dir.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		names = append(names, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestLogoutNothingStored: logout of a profile with nothing stored creates
// no file, not even the lock file of the profile (nosuch.lock).
func TestLogoutNothingStored(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	before := listFiles(t, e.dir)
	r := e.must("logout", "--profile", "nosuch")
	if !strings.Contains(r.err, "No stored tokens to remove (profile nosuch)") {
		t.Errorf("logout --profile nosuch = %q; want nothing removed", r.err)
	}
	if after := listFiles(t, e.dir); !slices.Equal(before, after) {
		t.Errorf("files after logout --profile nosuch = %q; want them unchanged: %q", after, before)
	}
	e.must("token") // the default profile is untouched
}
