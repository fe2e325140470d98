package filestore_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/store/storetest"
)

// content returns a token file holding token n at version, sealed with
// sealer if set.
func content(t *testing.T, n int, version uint64, sealer storecrypt.Sealer) []byte {
	t.Helper()
	b, err := filestore.Encode(storetest.SampleToken(n), version, sealer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// fileVersion reads the version in a token file.
func fileVersion(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Version uint64 }
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Version
}

// pendingScene fills dir with the token file of profile "default" (token
// 3, version 3), temporary files of every kind, and files of others that
// recovery must not touch. It returns the names of the latter.
func pendingScene(t *testing.T, dir string, sealer, otherSealer storecrypt.Sealer) (untouched []string) {
	t.Helper()
	main := filepath.Join(dir, "default.json")
	writeFile(t, main, content(t, 3, 3, sealer))
	tmp := func(suffix string) string { return filepath.Join(dir, ".default.json.tmp-"+suffix) }
	writeFile(t, tmp("100"), content(t, 5, 5, sealer)) // complete, newest: wins
	writeFile(t, tmp("101"), content(t, 4, 4, sealer)) // complete, newer, not newest
	writeFile(t, tmp("102"), content(t, 2, 2, sealer)) // complete, older
	writeFile(t, tmp("103"), content(t, 3, 3, sealer)) // complete, same version
	full := content(t, 6, 6, sealer)
	writeFile(t, tmp("104"), full[:len(full)-2]) // truncated
	writeFile(t, tmp("105"), nil)                // created, nothing written
	writeFile(t, tmp("106"), []byte("\x00\xffgarbage"))
	writeFile(t, tmp("107"), content(t, 7, 7, otherSealer)) // another key, or none
	untouched = []string{
		"default.app.json", ".default.app.json.tmp-200", // another token of the profile
		"other.json", ".other.json.tmp-201",
		".default.json.tmp-1.json.tmp-202", // the temporary file of profile "default.json.tmp-1"
		".default.json.tmp-x203",           // not os.CreateTemp's digits
		"default.json.tmp-204",             // no leading dot
		"notes.txt",
	}
	for _, n := range untouched {
		writeFile(t, filepath.Join(dir, n), content(t, 9, 9, sealer))
	}
	return untouched
}

// TestRecoverPending: whoever takes the lock, or opens the store while the
// lock is free, renames the newest complete temporary file over the token
// file, removes every other temporary file of the profile, and touches
// nothing else.
func TestRecoverPending(t *testing.T) {
	ctx := context.Background()
	sealers := []struct {
		name          string
		sealer, other storecrypt.Sealer
	}{
		{"plain", nil, toySealer{key: 1}},
		{"sealed", toySealer{key: 1}, toySealer{key: 2}},
	}
	triggers := []struct {
		name string
		run  func(t *testing.T, s *filestore.Store, dir string, sealer storecrypt.Sealer)
		// want is the token loaded afterwards (0: none) and its version.
		want    int
		version uint64
	}{
		{"New", func(t *testing.T, _ *filestore.Store, dir string, sealer storecrypt.Sealer) {
			if _, err := filestore.New(dir, "default", &filestore.Options{Sealer: sealer}); err != nil {
				t.Fatal(err)
			}
		}, 5, 5},
		{"Lock", func(t *testing.T, s *filestore.Store, _ string, _ storecrypt.Sealer) {
			l, err := s.Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := l.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(5)) {
				t.Errorf("Lease Load() = %v; want token 5", err)
			}
			l.Release(ctx)
		}, 5, 5},
		{"Lease Save", func(t *testing.T, s *filestore.Store, _ string, _ storecrypt.Sealer) {
			l, err := s.Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release(ctx)
			if err := l.Save(ctx, storetest.SampleToken(8)); err != nil {
				t.Errorf("Lease Save() = %v; want nil", err)
			}
		}, 8, 6},
		{"Save", func(t *testing.T, s *filestore.Store, _ string, _ storecrypt.Sealer) {
			if err := s.Save(ctx, storetest.SampleToken(8)); err != nil {
				t.Fatal(err)
			}
		}, 8, 6},
		{"Delete", func(t *testing.T, s *filestore.Store, _ string, _ storecrypt.Sealer) {
			if err := s.Delete(ctx); err != nil {
				t.Fatal(err)
			}
		}, 0, 0},
	}
	for _, sc := range sealers {
		for _, tr := range triggers {
			t.Run(sc.name+"/"+tr.name, func(t *testing.T) {
				dir := t.TempDir()
				// The store is opened before the scene is set, so that
				// New recovers only in the "New" case.
				s, err := filestore.New(dir, "default", &filestore.Options{Sealer: sc.sealer})
				if err != nil {
					t.Fatal(err)
				}
				untouched := pendingScene(t, dir, sc.sealer, sc.other)
				before := make(map[string][]byte)
				for _, n := range untouched {
					before[n], _ = os.ReadFile(filepath.Join(dir, n))
				}
				tr.run(t, s, dir, sc.sealer)

				got, err := s.Load(ctx)
				switch {
				case tr.want == 0:
					if !errors.Is(err, spotauth.ErrTokenNotFound) {
						t.Errorf("Load() = %v; want ErrTokenNotFound", err)
					}
				case err != nil || !storetest.Equal(got, storetest.SampleToken(tr.want)):
					t.Errorf("Load() = %+v, %v; want token %d", got, err, tr.want)
				default:
					if v := fileVersion(t, s.Path()); v != tr.version {
						t.Errorf("version in the token file = %d; want %d", v, tr.version)
					}
				}
				want := append([]string{"default.lock"}, untouched...)
				if tr.want != 0 {
					want = append(want, "default.json")
				}
				slices.Sort(want)
				if got := listDir(t, dir); !slices.Equal(got, want) {
					t.Errorf("files after %s = %q; want %q", tr.name, got, want)
				}
				for _, n := range untouched {
					if b, _ := os.ReadFile(filepath.Join(dir, n)); string(b) != string(before[n]) {
						t.Errorf("%s changed", n)
					}
				}
			})
		}
	}
}

// TestRecoverPendingNoTokenFile: a complete temporary file is recovered
// when the token file is missing (a first login killed before its rename).
func TestRecoverPendingNoTokenFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".default.json.tmp-42"), content(t, 1, 1, nil))
	s, err := filestore.New(dir, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(context.Background()); err != nil || !storetest.Equal(got, storetest.SampleToken(1)) {
		t.Errorf("Load() = %v; want token 1 from the temporary file", err)
	}
	if got, want := listDir(t, dir), []string{"default.json", "default.lock"}; !slices.Equal(got, want) {
		t.Errorf("files = %q; want %q", got, want)
	}
}

// TestRecoverPendingBusy: New leaves pending writes alone while another
// holds the lock; the next locked call recovers them.
func TestRecoverPendingBusy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := filestore.New(dir, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.Path(), content(t, 1, 1, nil))
	l, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".default.json.tmp-7")
	writeFile(t, tmp, content(t, 2, 2, nil))
	if _, err := filestore.New(dir, "default", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("New() while the lock is held touched the temporary file: %v", err)
	}
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(1)) {
		t.Errorf("Load() while the lock is held = %v; want token 1", err)
	}
	l.Release(ctx)
	l, err = s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if got, err := l.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(2)) {
		t.Errorf("Load() after the next Lock = %v; want token 2", err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file after the next Lock: Stat = %v; want not exist", err)
	}
}
