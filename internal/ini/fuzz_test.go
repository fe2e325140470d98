package ini

import (
	"bytes"
	"strings"
	"testing"
)

// snapshot returns every section's interpolated values, or nil when one
// does not interpolate.
func snapshot(f *File) map[[2]string]string {
	m := map[[2]string]string{}
	for _, s := range append([]string{DefaultSection}, f.Sections()...) {
		for _, k := range f.Keys(s) {
			v, _, err := f.Get(s, k)
			if err != nil {
				v = "\x00error"
			}
			m[[2]string{s, k}] = v
		}
	}
	return m
}

func FuzzINI(f *testing.F) {
	f.Add(tekoreFile, "DEFAULT", "SPOTIFY_USER_REFRESH", "AQC-new_token")
	f.Add("[s]\na = 1\n  cont\n\n[t]\nb: %(a)s%%\n", "t", "c", "x\ny")
	f.Add("", "DEFAULT", "k", "v")
	f.Add("  [s]\n  a = 1\n", "DEFAULT", "b", "2")
	f.Add("[s]\r\na=1\r\n", "s", "a", "50%")
	f.Add("# c\n[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n", "DEFAULT", "a", "")
	f.Fuzz(func(t *testing.T, text, sect, key, value string) {
		file, err := Parse([]byte(text))
		if err != nil {
			return
		}
		out := file.Bytes()
		if !strings.ContainsRune(text, '\r') && !strings.HasPrefix(text, "\ufeff") && !bytes.Equal(out, []byte(text)) {
			t.Fatalf("Parse(%q).Bytes() = %q; want the input", text, out)
		}
		before := snapshot(file)
		re, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Bytes()) = %v; want no error", err)
		}
		if got := snapshot(re); !mapsEqual(got, before) {
			t.Fatalf("reparse changed values: %v; want %v", got, before)
		}
		if err := file.Set(sect, key, value); err != nil {
			if !bytes.Equal(file.Bytes(), out) {
				t.Fatalf("a failed Set changed the file")
			}
			return
		}
		after, err := Parse(file.Bytes())
		if err != nil {
			t.Fatalf("Parse after Set(%q, %q, %q) = %v", sect, key, value, err)
		}
		if got, ok, err := after.Get(sect, key); got != value || !ok || err != nil {
			t.Fatalf("Get(%q, %q) after Set = %q, %v, %v; want %q", sect, key, got, ok, err, value)
		}
		// Every other value is unchanged, except those that interpolate
		// the key just set and those DEFAULT's key was inherited by.
		got := snapshot(after)
		for k, v := range before {
			if k[1] == key || strings.Contains(text, "%(") {
				continue
			}
			if got[k] != v {
				t.Fatalf("Set(%q, %q, %q) changed %v from %q to %q", sect, key, value, k, v, got[k])
			}
		}
	})
}

func mapsEqual(a, b map[[2]string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
