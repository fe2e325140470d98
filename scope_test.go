package spotauth

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// lenient parses text as [Scopes.UnmarshalText] does, keeping unknown
// scopes.
func lenient(text string) Scopes {
	var s Scopes
	if err := s.UnmarshalText([]byte(text)); err != nil {
		panic(err)
	}
	return s
}

// knownScopes are the standard and the Open Access scopes.
func knownScopes() Scopes { return StandardScopes().Union(OpenAccessScopes()) }

// everyScope is the old Every preset: ReadScopes().Union(WriteScopes()).
func everyScope() Scopes { return ReadScopes().Union(WriteScopes()) }

func TestScopeTable(t *testing.T) {
	std := StandardScopes()
	oa := OpenAccessScopes()
	if std.Len() != 19 || oa.Len() != 5 {
		t.Fatalf("StandardScopes().Len(), OpenAccessScopes().Len() = %d, %d; want 19, 5", std.Len(), oa.Len())
	}
	if !std.Difference(oa).Equal(std) {
		t.Errorf("StandardScopes() ∩ OpenAccessScopes() = %v; want empty", std.Difference(std.Difference(oa)))
	}
	// The spec's list, spelt out so that a renamed constant is caught.
	spec := "ugc-image-upload user-read-playback-state user-modify-playback-state user-read-currently-playing " +
		"app-remote-control streaming playlist-read-private playlist-read-collaborative playlist-modify-private " +
		"playlist-modify-public user-follow-modify user-follow-read user-read-playback-position user-top-read " +
		"user-read-recently-played user-library-modify user-library-read user-read-email user-read-private"
	if got := std.String(); got != lenient(spec).String() {
		t.Errorf("StandardScopes() = %q; want %q", got, spec)
	}
	if got, want := oa.String(), "soa-create-partner soa-manage-entitlements soa-manage-partner user-soa-link user-soa-unlink"; got != want {
		t.Errorf("OpenAccessScopes() = %q; want %q", got, want)
	}
	for sc := range std.Union(oa).All() {
		if !sc.Known() || sc.Description() == "" || !strings.HasSuffix(sc.Description(), ".") {
			t.Errorf("Scope(%q): Known() = %v, Description() = %q; want true and a sentence", sc, sc.Known(), sc.Description())
		}
	}
	for _, sc := range []Scope{"user-read-birthdate", "openid", "", "USER-READ-EMAIL"} {
		if sc.Known() || sc.Description() != "" || oa.Contains(sc) || std.Contains(sc) {
			t.Errorf("Scope(%q): Known, Description, in OpenAccessScopes, in StandardScopes = %v, %q, %v, %v; want false, \"\", false, false",
				sc, sc.Known(), sc.Description(), oa.Contains(sc), std.Contains(sc))
		}
	}
}

func TestScopePresets(t *testing.T) {
	// tekore's tk.scope.read and tk.scope.write, spelt out.
	wantRead := NewScopes(ScopeUserReadEmail, ScopeUserReadPrivate, ScopeUserTopRead, ScopeUserReadRecentlyPlayed,
		ScopeUserFollowRead, ScopeUserLibraryRead, ScopeUserReadCurrentlyPlaying, ScopeUserReadPlaybackState,
		ScopeUserReadPlaybackPosition, ScopePlaylistReadCollaborative, ScopePlaylistReadPrivate)
	wantWrite := NewScopes(ScopeUserFollowModify, ScopeUserLibraryModify, ScopeUserModifyPlaybackState,
		ScopePlaylistModifyPublic, ScopePlaylistModifyPrivate, ScopeUGCImageUpload)
	tests := []struct {
		name   string
		preset Scopes
		want   Scopes
	}{
		{"read", ReadScopes(), wantRead},
		{"write", WriteScopes(), wantWrite},
		{"every", everyScope(), wantRead.Union(wantWrite)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.preset.Equal(tt.want) {
				t.Errorf("%s = %v; want %v", tt.name, tt.preset, tt.want)
			}
			for _, sdk := range []Scope{ScopeStreaming, ScopeAppRemoteControl} {
				if tt.preset.Contains(sdk) {
					t.Errorf("%s contains %s; want it left out as in tekore", tt.name, sdk)
				}
			}
		})
	}
	if n := everyScope().Len(); n != 17 {
		t.Errorf("ReadScopes().Union(WriteScopes()).Len() = %d; want 17", n)
	}
	// The presets are functions: each call gives the full set, whatever
	// callers did with an earlier result.
	r := ReadScopes()
	_ = r.Union(WriteScopes()).Difference(r)
	if got := ReadScopes(); !got.Equal(wantRead) || !r.Equal(wantRead) {
		t.Errorf("ReadScopes() after set operations on an earlier result = %v; want %v", got, wantRead)
	}
}

func TestScopesSetOperations(t *testing.T) {
	a := NewScopes("c", "a", "b", "a", "")
	b := NewScopes("b", "d")
	tests := []struct {
		name string
		got  Scopes
		want string
	}{
		{"NewScopes sorts, merges, drops empty", a, "a b c"},
		{"Union", a.Union(b), "a b c d"},
		{"Union empty", Scopes{}.Union(b), "b d"},
		{"Difference", a.Difference(b), "a c"},
		{"Difference of all", b.Difference(a.Union(b)), ""},
		// required.Difference(granted): the scopes a step-up login asks for.
		{"Difference missing from a grant", NewScopes("a", "d", "e").Difference(a), "d e"},
		{"Difference none missing", NewScopes("a").Difference(a), ""},
		{"Union adds", a.Union(NewScopes("z", "a")), "a b c z"},
		{"Difference removes", a.Difference(NewScopes("a", "q")), "b c"},
		{"Difference of the known: unknown", NewScopes(ScopeUserReadEmail, "nope").Difference(knownScopes()), "nope"},
		{"zero value", Scopes{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.String(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
			// The empty set is always the zero value, so == style
			// comparisons of structs holding Scopes stay simple.
			if tt.want == "" && tt.got.s != nil {
				t.Errorf("empty result holds a non-nil slice")
			}
		})
	}
	if a.String() != "a b c" || b.String() != "b d" {
		t.Errorf("operations changed their operands: %q, %q", a, b)
	}
	if !a.Contains("b") || a.Contains("d") || !a.ContainsAll(NewScopes("a", "c")) || a.ContainsAll(b) || !a.ContainsAll(Scopes{}) {
		t.Errorf("Contains/ContainsAll wrong for %v", a)
	}
	if !a.Equal(NewScopes("a", "b", "c")) || a.Equal(b) || !(Scopes{}).Equal(NewScopes()) {
		t.Errorf("Equal wrong")
	}
	if got := slices.Collect(a.All()); !slices.Equal(got, []Scope{"a", "b", "c"}) {
		t.Errorf("All() = %q; want [a b c]", got)
	}
	for sc := range a.All() {
		if sc != "a" {
			t.Errorf("All() yielded %q after break", sc)
		}
		break
	}
	if got := a.Strings(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Strings() = %q", got)
	}
	s := a.Strings()
	s[0] = "zzz"
	if a.String() != "a b c" {
		t.Errorf("changing Strings() changed the set: %v", a)
	}
	if (Scopes{}).Strings() != nil || (Scopes{}).Len() != 0 {
		t.Errorf("empty Strings not nil, or Len not 0")
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"   ", ""},
		{"user-read-email", "user-read-email"},
		{"user-read-private user-read-email", "user-read-email user-read-private"},
		{"user-read-private,user-read-email", "user-read-email user-read-private"},
		{" user-read-private ,, user-read-email,\tstreaming\n", "streaming user-read-email user-read-private"},
		{"user-read-email user-read-email", "user-read-email"},
		{"user-soa-link", "user-soa-link"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScopes(tt.in)
			if err != nil || got.String() != tt.want {
				t.Errorf("ParseScopes(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseScopesUnknown(t *testing.T) {
	tests := []struct {
		in      string
		unknown []string
		msg     []string // substrings of Error()
	}{
		{"user-read-birthdate", []string{"user-read-birthdate"}, []string{`unknown scope "user-read-birthdate" (removed by Spotify)`}},
		{"user-read-email,openid", []string{"openid"}, []string{`"openid" (only Spotify's own apps`}},
		{"user_read_email", []string{"user_read_email"}, []string{`did you mean "user-read-email"?`}},
		{"User-Read-Email", []string{"User-Read-Email"}, []string{`did you mean "user-read-email"?`}},
		{"user-reed-emial", []string{"user-reed-emial"}, []string{`did you mean "user-read-email"?`}},
		{"b a b streaming a", []string{"b", "a"}, []string{`unknown scopes "b", "a"`}},
		{"totally-unrelated-thing", []string{"totally-unrelated-thing"}, []string{`unknown scope "totally-unrelated-thing"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScopes(tt.in)
			var ue *UnknownScopeError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownScope) {
				t.Fatalf("ParseScopes(%q) = %v, %v; want an *UnknownScopeError matching ErrUnknownScope", tt.in, got, err)
			}
			if got.Len() != 0 {
				t.Errorf("ParseScopes(%q) returned scopes %v with its error", tt.in, got)
			}
			if !slices.Equal(ue.Scopes, tt.unknown) {
				t.Errorf("ParseScopes(%q) error Scopes = %q; want %q", tt.in, ue.Scopes, tt.unknown)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) || !strings.HasPrefix(err.Error(), "spotauth: ") {
					t.Errorf("ParseScopes(%q) error = %q; want it to contain %q", tt.in, err, m)
				}
			}
			if scopeHint("totally-unrelated-thing") != "" || scopeHint("user-read-email") != "" {
				t.Errorf("scopeHint gave a hint for an unrelated or known scope")
			}
			kept := lenient(tt.in)
			for _, u := range tt.unknown {
				if !kept.Contains(Scope(u)) {
					t.Errorf("UnmarshalText(%q) = %v; want it to keep %q", tt.in, kept, u)
				}
			}
		})
	}
	many := strings.Repeat("x ", 1) + "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12"
	_, err := ParseScopes(many)
	if err == nil || !strings.Contains(err.Error(), "and 3 more") {
		t.Errorf("ParseScopes(%q) = %v; want a list cut after 10 with \"and 3 more\"", many, err)
	}
}

func TestScopesText(t *testing.T) {
	s := NewScopes(ScopeUserReadPrivate, ScopePlaylistReadPrivate)
	b, err := s.MarshalText()
	if err != nil || string(b) != "playlist-read-private user-read-private" {
		t.Errorf("MarshalText() = %q, %v", b, err)
	}
	var u Scopes
	if err := u.UnmarshalText([]byte("user-read-private,playlist-read-private future-scope")); err != nil {
		t.Fatal(err)
	}
	if got, want := u.String(), "future-scope playlist-read-private user-read-private"; got != want {
		t.Errorf("UnmarshalText = %q; want %q", got, want)
	}
}

func TestScopesJSON(t *testing.T) {
	b, err := json.Marshal(struct{ S Scopes }{NewScopes("b", "a")})
	if err != nil || string(b) != `{"S":"a b"}` {
		t.Errorf("json.Marshal = %s, %v; want {\"S\":\"a b\"}", b, err)
	}
	b, _ = json.Marshal(Scopes{})
	if string(b) != `""` {
		t.Errorf("json.Marshal(empty) = %s; want \"\"", b)
	}
	tests := []struct {
		in   string
		want string
	}{
		{`"b a"`, "a b"},
		{`"b,a"`, "a b"},
		{`""`, ""},
		{` " b,, a\tc " `, "a b c"},
		{`"future-scope"`, "future-scope"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var s Scopes
			if err := json.Unmarshal([]byte(tt.in), &s); err != nil || s.String() != tt.want {
				t.Errorf("json.Unmarshal(%s) = %q, %v; want %q", tt.in, s, err, tt.want)
			}
		})
	}
	s := NewScopes("keep")
	if err := json.Unmarshal([]byte("null"), &s); err != nil || s.String() != "keep" {
		t.Errorf("json.Unmarshal(null) = %q, %v; want the set unchanged", s, err)
	}
	for _, bad := range []string{`1`, `{}`, `[1]`, `["a",`, `true`, `"a`} {
		var s Scopes
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("json.Unmarshal(%s) = nil error; want one", bad)
		}
	}
}

func FuzzParseScopes(f *testing.F) {
	f.Add("user-read-private user-read-email")
	f.Add(" a,,b\tc\n")
	f.Add("user-read-birthdate")
	f.Add("é ,\u00a0x\u2003y")
	f.Add("\xff\xfe a")
	f.Fuzz(func(t *testing.T, text string) {
		kept := lenient(text)
		if again := NewScopes(appendFields(nil, kept.String())...); !again.Equal(kept) {
			t.Fatalf("UnmarshalText(%q) = %q; parsing its String gives %q", text, kept, again)
		}
		strict, err := ParseScopes(text)
		if err != nil {
			var ue *UnknownScopeError
			if !errors.As(err, &ue) || len(ue.Scopes) == 0 || kept.Difference(knownScopes()).Len() == 0 {
				t.Fatalf("ParseScopes(%q) = %v; want an UnknownScopeError only for unknown scopes", text, err)
			}
			_ = err.Error()
			return
		}
		if !strict.Equal(kept) {
			t.Fatalf("ParseScopes(%q) = %q; UnmarshalText gives %q", text, strict, kept)
		}
		again, err := ParseScopes(strict.String())
		if err != nil || !again.Equal(strict) {
			t.Fatalf("ParseScopes(%q) = %q, %v; want %q", strict.String(), again, err, strict)
		}
	})
}

func FuzzScopesJSON(f *testing.F) {
	f.Add([]byte(`"user-read-private user-read-email"`))
	f.Add([]byte(`["a","b c"]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`"\ud800 x"`))
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Scopes
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("json.Marshal(%q) = %v", s, err)
		}
		var again Scopes
		if err := json.Unmarshal(b, &again); err != nil || !again.Equal(s) {
			t.Fatalf("json round trip of %q via %s = %q, %v", s, b, again, err)
		}
	})
}

func BenchmarkParseScopes(b *testing.B) {
	b.ReportAllocs()
	text := everyScope().String()
	for b.Loop() {
		if _, err := ParseScopes(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScopesString(b *testing.B) {
	b.ReportAllocs()
	every := everyScope()
	for b.Loop() {
		_ = every.String()
	}
}
