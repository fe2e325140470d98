// Package atomicfile writes files so that readers see the old content or the
// new, never a mix, and a crash leaves no partial file behind.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes data to a temporary file in the directory of name, syncs
// it, gives it mode perm, renames it over name and syncs the directory.
// Errors name the file but never its content.
func WriteFile(name string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("spotauth: write %s: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; Chmod sets perm exactly, whatever the umask.
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("spotauth: write %s: %w", name, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("spotauth: write %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("spotauth: write %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("spotauth: write %s: %w", name, err)
	}
	if err = os.Rename(tmp, name); err != nil {
		return fmt.Errorf("spotauth: write %s: %w", name, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		// Make the rename durable; a failure here loses nothing already
		// written, so it is not reported.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
