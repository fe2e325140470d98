// Package ini reads and edits INI files the way Python's configparser, as
// tekore configures it, reads and writes them, so that a file written by
// either side reads the same on the other.
//
// The rules followed are configparser's defaults, with tekore's
// case-sensitive keys (optionxform = str):
//
//   - a section starts with a "[name]" line; the name is case-sensitive and
//     "DEFAULT" is special: every other section inherits its keys;
//   - "key = value" or "key: value", split at the first '=' or ':', both
//     sides trimmed; keys are case-sensitive;
//   - lines whose first non-blank character is '#' or ';' are comments;
//     there are no inline comments ("a = b # c" has the value "b # c");
//   - a line indented deeper than its key line continues the value, joined
//     with "\n"; blank lines inside a value are kept, trailing ones dropped;
//   - a key before any section, a line that is neither, an empty key, a
//     section or a key given twice (DEFAULT excepted for sections) are
//     errors, as with configparser's strict mode;
//   - values are interpolated as by configparser's BasicInterpolation:
//     "%%" stands for "%" and "%(key)s" for the value of key in the same
//     section or in DEFAULT.
//
// Edits change only the lines of the entries edited, so comments, order and
// formatting elsewhere survive. Line endings ("\n" or "\r\n") are kept; a
// UTF-8 byte order mark is dropped (configparser would refuse it).
package ini

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultSection is the section whose keys every other section inherits.
const DefaultSection = "DEFAULT"

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

// maxInterpolationRefs bounds the references one Get expands. Depth alone
// does not bound the work: ten levels of keys that each refer to the next
// a few times expand exponentially, so a file of a few hundred bytes would
// hang a reader (configparser's included).
const maxInterpolationRefs = 10000

// maxInterpolatedLen bounds the length of an interpolated value.
const maxInterpolatedLen = 1 << 16

// File is a parsed INI file. It keeps the file's text so that edits leave
// the rest of it unchanged. The zero value is an empty file.
type File struct {
	lines   []string // physical lines, without line terminators
	crlf    bool     // write "\r\n" line endings
	finalNL bool     // the text ends with a line terminator

	sections []*section // in order of appearance; DEFAULT may appear repeatedly
}

type section struct {
	name    string
	header  int // line index of the header
	indent  string
	entries []*entry
}

type entry struct {
	key         string
	first, last int    // the key line and the last line holding part of the value
	indent      string // leading white space of the key line
	value       string // raw value, before interpolation
}

// SyntaxError reports a line that configparser would refuse. It never
// quotes the line, which may hold a secret.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

// Error gives the line number and what is wrong, without the line.
func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// isSpace reports whether Python's str.isspace holds for r.
func isSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func trim(s string) string { return strings.TrimFunc(s, isSpace) }

// indentOf returns the leading white space of line and its width in
// characters, as configparser measures indentation.
func indentOf(line string) (string, int) {
	n := 0
	for i, r := range line {
		if !isSpace(r) {
			return line[:i], n
		}
		n++
	}
	return line, n
}

// Parse parses data. Errors are [*SyntaxError] values.
func Parse(data []byte) (*File, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	text := string(data)
	f := &File{crlf: strings.Contains(text, "\r\n")}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if text != "" {
		f.lines = strings.Split(text, "\n")
		if f.lines[len(f.lines)-1] == "" {
			f.lines = f.lines[:len(f.lines)-1]
			f.finalNL = true
		}
	}
	if err := f.parse(); err != nil {
		return nil, err
	}
	return f, nil
}

// parse rebuilds f.sections from f.lines, following configparser's
// RawConfigParser._read.
func (f *File) parse() error {
	f.sections = nil
	var (
		cur         *section
		cont        *entry // the entry continuation lines extend
		valueLines  []string
		indentLevel = -1
		seenSect    = map[string]bool{}
		seenKey     = map[[2]string]bool{}
	)
	finish := func() {
		if cont != nil {
			cont.value = strings.TrimRightFunc(strings.Join(valueLines, "\n"), isSpace)
		}
		cont, valueLines = nil, nil
	}
	for i, line := range f.lines {
		stripped := trim(line)
		if stripped == "" || stripped[0] == '#' || stripped[0] == ';' {
			if stripped == "" && cont != nil {
				valueLines = append(valueLines, "")
			}
			continue
		}
		indent, level := indentOf(line)
		if cur != nil && cont != nil && level > indentLevel {
			valueLines = append(valueLines, stripped)
			cont.last = i
			continue
		}
		finish()
		indentLevel = level
		if stripped[0] == '[' {
			if end := strings.LastIndexByte(stripped, ']'); end >= 2 {
				name := stripped[1:end]
				if name != DefaultSection {
					if seenSect[name] {
						return &SyntaxError{i + 1, fmt.Sprintf("section %s given twice", quote(name))}
					}
					seenSect[name] = true
				}
				cur = &section{name: name, header: i, indent: indent}
				f.sections = append(f.sections, cur)
				continue
			}
		}
		if cur == nil {
			return &SyntaxError{i + 1, "text before the first [section] header"}
		}
		delim := strings.IndexAny(stripped, "=:")
		if delim < 0 {
			return &SyntaxError{i + 1, "want key = value, a [section] header or a comment"}
		}
		key := trim(stripped[:delim])
		if key == "" {
			return &SyntaxError{i + 1, "empty key"}
		}
		if seenKey[[2]string{cur.name, key}] {
			return &SyntaxError{i + 1, fmt.Sprintf("key %s given twice in section %s", quote(key), quote(cur.name))}
		}
		seenKey[[2]string{cur.name, key}] = true
		cont = &entry{key: key, first: i, last: i, indent: indent}
		valueLines = []string{trim(stripped[delim+1:])}
		cur.entries = append(cur.entries, cont)
	}
	finish()
	return nil
}

// quote quotes a name for an error message, shortened if long.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Bytes returns the file's text.
func (f *File) Bytes() []byte {
	eol := "\n"
	if f.crlf {
		eol = "\r\n"
	}
	var b bytes.Buffer
	for i, l := range f.lines {
		if i > 0 {
			b.WriteString(eol)
		}
		b.WriteString(l)
	}
	if f.finalNL && len(f.lines) > 0 {
		b.WriteString(eol)
	}
	return b.Bytes()
}

// Sections returns the names of the sections other than DEFAULT, in the
// order they appear, as configparser's sections() does.
func (f *File) Sections() []string {
	var names []string
	for _, s := range f.sections {
		if s.name != DefaultSection {
			names = append(names, s.name)
		}
	}
	return names
}

// HasSection reports whether the file has the section. DEFAULT always
// exists, as in configparser.
func (f *File) HasSection(name string) bool {
	if name == DefaultSection {
		return true
	}
	for _, s := range f.sections {
		if s.name == name {
			return true
		}
	}
	return false
}

// own returns the entries of the section itself, not inherited ones.
func (f *File) own(name string) []*entry {
	var es []*entry
	for _, s := range f.sections {
		if s.name == name {
			es = append(es, s.entries...)
		}
	}
	return es
}

func (f *File) ownEntry(sect, key string) *entry {
	for _, e := range f.own(sect) {
		if e.key == key {
			return e
		}
	}
	return nil
}

// OwnKeys returns the keys the section itself sets, in file order, without
// those inherited from DEFAULT.
func (f *File) OwnKeys(sect string) []string {
	var keys []string
	for _, e := range f.own(sect) {
		keys = append(keys, e.key)
	}
	return keys
}

// Keys returns the keys of the section, its own first, then those it
// inherits from DEFAULT; nil if the section does not exist.
func (f *File) Keys(sect string) []string {
	if !f.HasSection(sect) {
		return nil
	}
	keys := f.OwnKeys(sect)
	if sect != DefaultSection {
		for _, k := range f.OwnKeys(DefaultSection) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// Raw returns the value of key in the section, or in DEFAULT, without
// interpolation.
func (f *File) Raw(sect, key string) (string, bool) {
	if !f.HasSection(sect) {
		return "", false
	}
	if e := f.ownEntry(sect, key); e != nil {
		return e.value, true
	}
	if e := f.ownEntry(DefaultSection, key); e != nil {
		return e.value, true
	}
	return "", false
}

// Lookup is [File.Get] for the key spelt name or, when the section (with
// DEFAULT) has none, for the one key equal to name without regard to case:
// tekore matches keys case-sensitively, while a hand-written file may say
// spotify_client_id. With several such keys and no exact one, the key is
// missing. spotauth.ReadConfigFile and the CLI's reader of its own
// SPOTAUTH_ settings both use it.
func (f *File) Lookup(sect, name string) (string, bool, error) {
	key := name
	var fold []string
	for _, k := range f.Keys(sect) {
		if k == name {
			fold = nil
			break
		}
		if strings.EqualFold(k, name) {
			fold = append(fold, k)
		}
	}
	if len(fold) == 1 {
		key = fold[0]
	}
	return f.Get(sect, key)
}

// Get returns the value of key in the section, or in DEFAULT, interpolated
// as configparser's BasicInterpolation does. It reports false when the
// section or key is missing, and fails on a malformed interpolation (whose
// error names the key but never quotes the value).
func (f *File) Get(sect, key string) (string, bool, error) {
	raw, ok := f.Raw(sect, key)
	if !ok {
		return "", false, nil
	}
	if !strings.Contains(raw, "%") {
		return raw, true, nil
	}
	var b strings.Builder
	refs := 0
	if err := f.interpolate(&b, sect, key, raw, 1, &refs); err != nil {
		return "", true, err
	}
	return b.String(), true, nil
}

func (f *File) interpolate(b *strings.Builder, sect, key, rest string, depth int, refs *int) error {
	if depth > maxInterpolationDepth {
		return fmt.Errorf("key %s in section %s: interpolation deeper than %d levels", quote(key), quote(sect), maxInterpolationDepth)
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			end := strings.IndexByte(rest, ')')
			if end < 3 || !strings.HasPrefix(rest[end:], ")s") {
				return fmt.Errorf("key %s in section %s: bad interpolation reference (write %%%% for %%)", quote(key), quote(sect))
			}
			name := rest[2:end]
			rest = rest[end+2:]
			if *refs++; *refs > maxInterpolationRefs || b.Len() > maxInterpolatedLen {
				return fmt.Errorf("key %s in section %s: interpolation expands too far (over %d references or %d bytes)", quote(key), quote(sect), maxInterpolationRefs, maxInterpolatedLen)
			}
			v, ok := f.Raw(sect, name)
			if !ok {
				return fmt.Errorf("key %s in section %s: interpolation refers to missing key %s", quote(key), quote(sect), quote(name))
			}
			if strings.Contains(v, "%") {
				if err := f.interpolate(b, sect, name, v, depth+1, refs); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return fmt.Errorf("key %s in section %s: '%%' must be followed by '%%' or '(' (write %%%% for %%)", quote(key), quote(sect))
		}
	}
	return nil
}

// Escape returns value with every '%' doubled, so that interpolation gives
// value back.
func Escape(value string) string { return strings.ReplaceAll(value, "%", "%%") }

// CheckSection reports whether name can be written as a section header
// that reads back the same.
func CheckSection(name string) error {
	switch {
	case name == "":
		return errors.New("empty section name")
	case !utf8.ValidString(name):
		return errors.New("section name is not UTF-8")
	case trim(name) != name:
		return errors.New("section name starts or ends with white space")
	case strings.ContainsAny(name, "[]\n\r"):
		return errors.New("section name holds '[', ']' or a line break")
	}
	return nil
}

// CheckKey reports whether key can be written as a key that reads back
// the same.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case !utf8.ValidString(key):
		return errors.New("key is not UTF-8")
	case trim(key) != key:
		return errors.New("key starts or ends with white space")
	case strings.ContainsAny(key, "=:\n\r"):
		return errors.New("key holds '=', ':' or a line break")
	case strings.ContainsAny(key[:1], "#;["):
		return errors.New("key starts with '#', ';' or '['")
	}
	return nil
}

// CheckValue reports whether value can be written so that it reads back
// the same: configparser trims each line of a value and drops comment-like
// continuation lines, and universal newlines turn '\r' into a line break.
func CheckValue(value string) error {
	if !utf8.ValidString(value) {
		return errors.New("value is not UTF-8")
	}
	if strings.ContainsRune(value, '\r') {
		return errors.New("value holds a carriage return")
	}
	for i, l := range strings.Split(value, "\n") {
		if trim(l) != l {
			return errors.New("a line of the value starts or ends with white space")
		}
		if i > 0 && (strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")) {
			return errors.New("a continuation line of the value starts with '#' or ';'")
		}
	}
	if strings.HasSuffix(value, "\n") {
		return errors.New("value ends with a line break")
	}
	return nil
}

// entryLines renders key = value (value already escaped) as configparser
// writes it: " = " between, continuation lines indented one tab deeper.
func entryLines(indent, key, escaped string) []string {
	parts := strings.Split(escaped, "\n")
	out := []string{indent + key + " = " + parts[0]}
	for _, p := range parts[1:] {
		out = append(out, indent+"\t"+p)
	}
	return out
}

// Set sets key to value in the section, adding the section (and the key)
// if needed. The value is stored escaped (see [Escape]), so [File.Get]
// returns it unchanged. In a section other than DEFAULT, a key that is only
// inherited from DEFAULT is added to the section, overriding it.
func (f *File) Set(sect, key, value string) error { return f.Replace(sect, key, key, value) }

// Replace is [File.Set] that also removes the section's own key old (such
// as a differently capitalised spelling of key), writing key = value in its
// place.
func (f *File) Replace(sect, old, key, value string) error {
	if err := CheckSection(sect); err != nil {
		return err
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := CheckValue(value); err != nil {
		return fmt.Errorf("key %s: %w", quote(key), err)
	}
	g := &File{lines: slices.Clone(f.lines), crlf: f.crlf, finalNL: f.finalNL}
	if err := g.parse(); err != nil {
		return err
	}
	if old != key && g.ownEntry(sect, old) != nil {
		// Drop key first, so that neither spelling is left twice.
		if err := g.Delete(sect, key); err != nil {
			return err
		}
	}
	e := g.ownEntry(sect, old)
	if e == nil {
		e = g.ownEntry(sect, key)
	}
	newLines := func(indent string) []string { return entryLines(indent, key, Escape(value)) }
	var edited []string
	switch {
	case e != nil:
		edited = slices.Concat(g.lines[:e.first], newLines(e.indent), g.lines[e.last+1:])
	case g.HasSectionHeader(sect):
		// Append after the last entry of the section's last occurrence,
		// at that entry's indentation so that the lines after it keep
		// their meaning.
		var s *section
		for _, c := range g.sections {
			if c.name == sect {
				s = c
			}
		}
		at, indent := s.header, s.indent
		if n := len(s.entries); n > 0 {
			at, indent = s.entries[n-1].last, s.entries[n-1].indent
		}
		edited = slices.Concat(g.lines[:at+1], newLines(indent), g.lines[at+1:])
	default:
		block := append([]string{"[" + sect + "]"}, newLines("")...)
		edited = g.addSection(sect, block)
	}
	h := &File{lines: edited, crlf: f.crlf, finalNL: true}
	if err := h.parse(); err != nil {
		return fmt.Errorf("edit would break the file: %w", err)
	}
	if got, ok, err := h.Get(sect, key); err != nil || !ok || got != value {
		return fmt.Errorf("key %s would not read back unchanged", quote(key))
	}
	*f = *h
	return nil
}

// HasSectionHeader reports whether the section has a header in the file
// (DEFAULT may have none).
func (f *File) HasSectionHeader(sect string) bool {
	for _, s := range f.sections {
		if s.name == sect {
			return true
		}
	}
	return false
}

// addSection returns f's lines with a new section block: DEFAULT before the
// first section when that is safe (configparser writes DEFAULT first),
// anything else at the end after a blank line.
func (f *File) addSection(sect string, block []string) []string {
	if sect == DefaultSection {
		for i, l := range f.lines {
			s := trim(l)
			if s == "" || s[0] == '#' || s[0] == ';' {
				continue
			}
			if _, level := indentOf(l); level == 0 {
				return slices.Concat(f.lines[:i], block, []string{""}, f.lines[i:])
			}
			break
		}
	}
	lines := slices.Clone(f.lines)
	if n := len(lines); n > 0 && trim(lines[n-1]) != "" {
		lines = append(lines, "")
	}
	return append(lines, block...)
}

// Delete removes the section's own key (not one inherited from DEFAULT),
// with its continuation lines. Deleting a missing key is not an error.
func (f *File) Delete(sect, key string) error {
	e := f.ownEntry(sect, key)
	if e == nil {
		return nil
	}
	g := &File{lines: slices.Concat(f.lines[:e.first], f.lines[e.last+1:]), crlf: f.crlf, finalNL: f.finalNL || len(f.lines) > 0}
	if err := g.parse(); err != nil {
		return fmt.Errorf("edit would break the file: %w", err)
	}
	*f = *g
	return nil
}
