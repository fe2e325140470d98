package ini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

const tekoreFile = `# written by hand
[DEFAULT]
SPOTIFY_CLIENT_ID = df_id
SPOTIFY_CLIENT_SECRET = df_secret
SPOTIFY_REDIRECT_URI = df_uri
SPOTIFY_USER_REFRESH = df_refresh

[ANOTHER]
CLIENT_ID = an_id
CLIENT_SECRET: an_secret
; a comment
REDIRECT_URI=an_uri

[MISSING]
WHATEVER = something
`

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("Parse(%q) = %v; want no error", text, err)
	}
	return f
}

func TestGet(t *testing.T) {
	f := mustParse(t, tekoreFile)
	tests := []struct {
		sect, key string
		want      string
		ok        bool
	}{
		{"DEFAULT", "SPOTIFY_CLIENT_ID", "df_id", true},
		{"DEFAULT", "SPOTIFY_USER_REFRESH", "df_refresh", true},
		{"ANOTHER", "CLIENT_ID", "an_id", true},
		{"ANOTHER", "CLIENT_SECRET", "an_secret", true},
		{"ANOTHER", "REDIRECT_URI", "an_uri", true},
		{"ANOTHER", "SPOTIFY_CLIENT_ID", "df_id", true}, // inherited from DEFAULT
		{"MISSING", "WHATEVER", "something", true},
		{"MISSING", "CLIENT_ID", "", false},
		{"ANOTHER", "client_id", "", false}, // keys are case-sensitive, as in tekore
		{"another", "CLIENT_ID", "", false}, // and so are sections
		{"NOSUCH", "SPOTIFY_CLIENT_ID", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.sect+"/"+tt.key, func(t *testing.T) {
			got, ok, err := f.Get(tt.sect, tt.key)
			if err != nil || got != tt.want || ok != tt.ok {
				t.Errorf("Get(%q, %q) = %q, %v, %v; want %q, %v, nil", tt.sect, tt.key, got, ok, err, tt.want, tt.ok)
			}
		})
	}
	if got, want := f.Sections(), []string{"ANOTHER", "MISSING"}; !slices.Equal(got, want) {
		t.Errorf("Sections() = %q; want %q", got, want)
	}
	if got, want := f.Keys("MISSING"), []string{"WHATEVER", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REDIRECT_URI", "SPOTIFY_USER_REFRESH"}; !slices.Equal(got, want) {
		t.Errorf("Keys(MISSING) = %q; want %q", got, want)
	}
	if f.Keys("NOSUCH") != nil || f.HasSection("NOSUCH") || !f.HasSection("DEFAULT") {
		t.Errorf("NOSUCH exists or DEFAULT does not")
	}
	if got := string(f.Bytes()); got != tekoreFile {
		t.Errorf("Bytes() = %q; want the input unchanged", got)
	}
}

func TestLookup(t *testing.T) {
	f := mustParse(t, "[DEFAULT]\nSPOTIFY_CLIENT_ID = exact\nspotify_client_id = lower\nspotauth_store = folded\n[s]\nKey = a\nKEY = b\nOwn = own\n")
	tests := []struct {
		sect, name string
		want       string
		ok         bool
	}{
		{"DEFAULT", "SPOTIFY_CLIENT_ID", "exact", true}, // the exact spelling wins
		{"DEFAULT", "SPOTAUTH_STORE", "folded", true},   // else the one that folds to it
		{"s", "SPOTAUTH_STORE", "folded", true},         // inherited from DEFAULT
		{"s", "OWN", "own", true},
		{"s", "key", "", false}, // two keys fold to it and none is exact
		{"s", "Key", "a", true},
		{"DEFAULT", "NOSUCH", "", false},
		{"nosuch", "SPOTIFY_CLIENT_ID", "", false},
	}
	for _, tt := range tests {
		got, ok, err := f.Lookup(tt.sect, tt.name)
		if err != nil || got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q, %q) = %q, %v, %v; want %q, %v, nil", tt.sect, tt.name, got, ok, err, tt.want, tt.ok)
		}
	}
}

func TestParseSyntax(t *testing.T) {
	tests := []struct {
		name, text string
		sect, key  string
		want       string
	}{
		{"colon", "[s]\na: b", "s", "a", "b"},
		{"first delimiter wins", "[s]\na = b: c = d", "s", "a", "b: c = d"},
		{"colon before equals", "[s]\na:b=c", "s", "a", "b=c"},
		{"no inline comments", "[s]\na = b # c ; d", "s", "a", "b # c ; d"},
		{"empty value", "[s]\na =", "s", "a", ""},
		{"spaces trimmed", "[s]\n  a   =   b c   \n", "s", "a", "b c"},
		{"continuation", "[s]\na = one\n  two\n\tthree\nb = x", "s", "a", "one\ntwo\nthree"},
		{"blank line inside value", "[s]\na = one\n\n  two\n", "s", "a", "one\n\ntwo"},
		{"trailing blank lines dropped", "[s]\na = one\n\n\nb = 2", "s", "a", "one"},
		{"comment inside value skipped", "[s]\na = one\n  # note\n  two", "s", "a", "one\ntwo"},
		{"indented comment", "[s]\n   ; hi\na = 1", "s", "a", "1"},
		{"indented header is continuation", "[s]\na = 1\n  [t]", "s", "a", "1\n[t]"},
		{"indented keys", "[s]\n  a = 1\n  b = 2", "s", "b", "2"},
		{"crlf", "[s]\r\na = 1\r\nb = 2\r\n", "s", "b", "2"},
		{"lone cr", "[s]\ra = 1\rb = 2", "s", "b", "2"},
		{"bom", "\ufeff[s]\na = 1", "s", "a", "1"},
		{"header with trailing text", "[s] x\na = 1", "s", "a", "1"},
		{"header with bracket", "[a]b]\nk = v", "a]b", "k", "v"},
		{"header not trimmed", "[ s ]\nk = v", " s ", "k", "v"},
		{"interpolation", "[DEFAULT]\nhost = example.com\n[s]\nurl = https://%(host)s/cb?a=1%%20\n", "s", "url", "https://example.com/cb?a=1%20"},
		{"nested interpolation", "[s]\na = %(b)s!\nb = %(c)s%%\nc = x", "s", "a", "x%!"},
		{"default repeated", "[DEFAULT]\na = 1\n[s]\n[DEFAULT]\nb = 2", "s", "b", "2"},
		{"section overrides default", "[DEFAULT]\na = 1\n[s]\na = 2", "s", "a", "2"},
		{"unicode spaces trimmed", "[s]\na =\u00a0v\u2003\n", "s", "a", "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.text)
			got, ok, err := f.Get(tt.sect, tt.key)
			if err != nil || !ok || got != tt.want {
				t.Errorf("Get(%q, %q) = %q, %v, %v; want %q, true, nil", tt.sect, tt.key, got, ok, err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
	}{
		{"key before section", "a = 1\n[s]", 1},
		{"indented key before section", "  a = 1", 1},
		{"no delimiter", "[s]\nAQCsecretrefreshtoken", 2},
		{"empty key", "[s]\n= v", 2},
		{"duplicate section", "[s]\n[t]\n[s]", 3},
		{"duplicate key", "[s]\na = 1\na = 2", 3},
		{"duplicate key across DEFAULT headers", "[DEFAULT]\na = 1\n[DEFAULT]\na = 2", 4},
		{"empty header", "[]\na = 1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text))
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tt.line {
				t.Fatalf("Parse(%q) = %v; want a SyntaxError on line %d", tt.text, err, tt.line)
			}
			if strings.Contains(err.Error(), "AQCsecret") {
				t.Errorf("Parse(%q) error %q quotes the line", tt.text, err)
			}
		})
	}
}

func TestInterpolationErrors(t *testing.T) {
	tests := []struct{ name, text string }{
		{"lone percent", "[s]\na = 50% secret"},
		{"missing key", "[s]\na = %(nope)s"},
		{"no s", "[s]\na = %(b)d\nb = 1"},
		{"unclosed", "[s]\na = %(b"},
		{"loop", "[s]\na = %(a)s"},
		// Ten levels that each refer to the next 30 times: 30^10
		// expansions within the depth limit, unless the work is bounded.
		{"exponential, empty leaves", fanout(30, "")},
		{"exponential, long leaves", fanout(30, strings.Repeat("secret", 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.text)
			start := time.Now()
			_, ok, err := f.Get("s", "a")
			if err == nil || !ok {
				t.Fatalf("Get(s, a) = _, %v, %v; want true and an error", ok, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Get(s, a) took %v; want a quick error", d)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Get(s, a) error %q quotes the value", err)
			}
		})
	}
}

// fanout returns a section whose keys a, b, ... each refer n times to the
// next, down past the depth limit to a key holding leaf.
func fanout(n int, leaf string) string {
	var b strings.Builder
	b.WriteString("[s]\n")
	for i := range maxInterpolationDepth {
		fmt.Fprintf(&b, "%c = %s\n", 'a'+i, strings.Repeat(fmt.Sprintf("%%(%c)s", 'a'+i+1), n))
	}
	fmt.Fprintf(&b, "%c = %s\n", 'a'+maxInterpolationDepth, leaf)
	return b.String()
}

func TestSet(t *testing.T) {
	tests := []struct {
		name             string
		text             string
		sect, key, value string
		want             string
	}{
		{"replace keeps the rest", tekoreFile, "DEFAULT", "SPOTIFY_USER_REFRESH", "new",
			strings.Replace(tekoreFile, "SPOTIFY_USER_REFRESH = df_refresh", "SPOTIFY_USER_REFRESH = new", 1)},
		{"add to section", "[s]\na = 1\n\n[t]\n", "s", "b", "2", "[s]\na = 1\nb = 2\n\n[t]\n"},
		{"add to empty section", "[s]\n# c\n[t]\n", "s", "b", "2", "[s]\nb = 2\n# c\n[t]\n"},
		{"add section", "[s]\na = 1", "t", "b", "2", "[s]\na = 1\n\n[t]\nb = 2\n"},
		{"add DEFAULT first", "# top\n[s]\na = 1\n", "DEFAULT", "b", "2", "# top\n[DEFAULT]\nb = 2\n\n[s]\na = 1\n"},
		{"add DEFAULT to empty file", "", "DEFAULT", "b", "2", "[DEFAULT]\nb = 2\n"},
		{"add DEFAULT after indented header", "  [s]\n  a = 1\n", "DEFAULT", "b", "2", "  [s]\n  a = 1\n\n[DEFAULT]\nb = 2\n"},
		{"keep indentation", "[s]\n  a = 1\n  b = 2\n  [t]\n", "s", "c", "3", "[s]\n  a = 1\n  b = 2\n  c = 3\n  [t]\n"},
		{"replace multi-line", "[s]\na = x\n  y\n\n# keep\nb = 1\n", "s", "a", "z", "[s]\na = z\n\n# keep\nb = 1\n"},
		{"write multi-line", "[s]\n", "s", "a", "x\n\ny", "[s]\na = x\n\t\n\ty\n"},
		{"escape percent", "[s]\n", "s", "url", "https://e.com/?q=a%20b", "[s]\nurl = https://e.com/?q=a%%20b\n"},
		{"crlf kept", "[s]\r\na = 1\r\n", "s", "b", "2", "[s]\r\na = 1\r\nb = 2\r\n"},
		{"override inherited", "[DEFAULT]\na = 1\n[s]\n", "s", "a", "2", "[DEFAULT]\na = 1\n[s]\na = 2\n"},
		{"empty value", "[s]\n", "s", "a", "", "[s]\na = \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.text)
			if err := f.Set(tt.sect, tt.key, tt.value); err != nil {
				t.Fatalf("Set(%q, %q, %q) = %v; want no error", tt.sect, tt.key, tt.value, err)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("after Set(%q, %q, %q), Bytes() = %q; want %q", tt.sect, tt.key, tt.value, got, tt.want)
			}
			g := mustParse(t, string(f.Bytes()))
			if got, ok, err := g.Get(tt.sect, tt.key); got != tt.value || !ok || err != nil {
				t.Errorf("reparsed Get(%q, %q) = %q, %v, %v; want %q", tt.sect, tt.key, got, ok, err, tt.value)
			}
		})
	}
}

func TestSetRefuses(t *testing.T) {
	tests := []struct{ name, sect, key, value string }{
		{"empty section", "", "a", "v"},
		{"bracket in section", "a]b", "a", "v"},
		{"spaced section", " s", "a", "v"},
		{"empty key", "s", "", "v"},
		{"delimiter in key", "s", "a=b", "v"},
		{"comment key", "s", "#a", "v"},
		{"header key", "s", "[a", "v"},
		{"spaced key", "s", "a ", "v"},
		{"leading space value", "s", "a", " v"},
		{"trailing space value", "s", "a", "v "},
		{"cr in value", "s", "a", "v\rw"},
		{"trailing newline", "s", "a", "v\n"},
		{"comment continuation", "s", "a", "v\n#w"},
		{"bad utf8", "s", "a", "\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, "[s]\nx = 1\n")
			if err := f.Set(tt.sect, tt.key, tt.value); err == nil {
				t.Errorf("Set(%q, %q, %q) = nil; want an error", tt.sect, tt.key, tt.value)
			}
			if got := string(f.Bytes()); got != "[s]\nx = 1\n" {
				t.Errorf("after a refused Set, Bytes() = %q; want the file unchanged", got)
			}
		})
	}
}

func TestReplaceAndDelete(t *testing.T) {
	f := mustParse(t, "[s]\nclient_id = old\nother = 1\n")
	if err := f.Replace("s", "client_id", "CLIENT_ID", "new"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Bytes()), "[s]\nCLIENT_ID = new\nother = 1\n"; got != want {
		t.Errorf("after Replace, Bytes() = %q; want %q", got, want)
	}
	f = mustParse(t, "[s]\na = 1\nA = 2\nb = 3\n")
	if err := f.Replace("s", "a", "A", "9"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Bytes()), "[s]\nA = 9\nb = 3\n"; got != want {
		t.Errorf("after Replace with both spellings, Bytes() = %q; want %q", got, want)
	}
	if err := f.Delete("s", "A"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete("s", "nope"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Bytes()), "[s]\nb = 3\n"; got != want {
		t.Errorf("after Delete, Bytes() = %q; want %q", got, want)
	}
}

// TestAgainstConfigparser checks the parser against Python's configparser,
// configured as tekore configures it, when python3 is installed.
func TestAgainstConfigparser(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	inputs := []string{
		tekoreFile,
		"[s]\na: b\nc = d = e\n  cont\n\n  more\n\n[t]\nx=%(y)s%%\ny = 1\n",
		"[DEFAULT]\nk = v\n[s]\n  a = 1\n  b = 2\n    deep\n",
		"[s] trailing\na = b # not a comment\n; comment\n  # indented comment\nc =\n",
		"[a]b]\nk = v\n[ spaced ]\nk2 = v2\n",
	}
	// Files we write must read back the same in configparser.
	f := mustParse(t, tekoreFile)
	for _, kv := range [][3]string{
		{"DEFAULT", "SPOTIFY_REDIRECT_URI", "http://127.0.0.1:8080/cb?x=%20&y=a:b"},
		{"NEW", "SPOTIFY_CLIENT_ID", "id#1;x"},
		{"ANOTHER", "multi", "l1\n\nl3"},
	} {
		if err := f.Set(kv[0], kv[1], kv[2]); err != nil {
			t.Fatal(err)
		}
	}
	inputs = append(inputs, string(f.Bytes()))

	const script = `
import configparser, json, sys
out = []
for text in json.load(sys.stdin):
    c = configparser.ConfigParser()
    c.optionxform = str
    c.read_string(text)
    d = {}
    for s in ["DEFAULT"] + c.sections():
        d[s] = {k: c.get(s, k) for k in c[s]}
    out.append(d)
json.dump(out, sys.stdout)
`
	in, _ := json.Marshal(inputs)
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	outb, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python3: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("python3: %v", err)
	}
	var want []map[string]map[string]string
	if err := json.Unmarshal(outb, &want); err != nil {
		t.Fatal(err)
	}
	for i, text := range inputs {
		f := mustParse(t, text)
		got := map[string]map[string]string{}
		for _, s := range append([]string{"DEFAULT"}, f.Sections()...) {
			got[s] = map[string]string{}
			for _, k := range f.Keys(s) {
				v, _, err := f.Get(s, k)
				if err != nil {
					t.Fatalf("input %d: Get(%q, %q) = %v", i, s, k, err)
				}
				got[s][k] = v
			}
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want[i])
		if !bytes.Equal(g, w) {
			t.Errorf("input %d %q:\n ini         = %s\n configparser = %s", i, text, g, w)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse([]byte(tekoreFile)); err != nil {
			b.Fatal(err)
		}
	}
}
