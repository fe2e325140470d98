package spotauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode"
)

// A Scope is one Spotify authorization scope, such as "user-read-private".
// See https://developer.spotify.com/documentation/web-api/concepts/scopes.
type Scope string

// The 19 standard scopes Spotify documents for third-party apps.
const (
	// ScopeUGCImageUpload seeks write access to user-provided images.
	ScopeUGCImageUpload Scope = "ugc-image-upload"
	// ScopeUserReadPlaybackState seeks read access to a user's player state.
	ScopeUserReadPlaybackState Scope = "user-read-playback-state"
	// ScopeUserModifyPlaybackState seeks write access to a user's playback state.
	ScopeUserModifyPlaybackState Scope = "user-modify-playback-state"
	// ScopeUserReadCurrentlyPlaying seeks read access to a user's currently playing content.
	ScopeUserReadCurrentlyPlaying Scope = "user-read-currently-playing"
	// ScopeAppRemoteControl seeks remote control of playback in the iOS and Android SDKs.
	ScopeAppRemoteControl Scope = "app-remote-control"
	// ScopeStreaming seeks control of content playback in the Web Playback SDK (Premium only).
	ScopeStreaming Scope = "streaming"
	// ScopePlaylistReadPrivate seeks read access to a user's private playlists.
	ScopePlaylistReadPrivate Scope = "playlist-read-private"
	// ScopePlaylistReadCollaborative seeks read access to collaborative playlists.
	ScopePlaylistReadCollaborative Scope = "playlist-read-collaborative"
	// ScopePlaylistModifyPrivate seeks write access to a user's private playlists.
	ScopePlaylistModifyPrivate Scope = "playlist-modify-private"
	// ScopePlaylistModifyPublic seeks write access to a user's public playlists.
	ScopePlaylistModifyPublic Scope = "playlist-modify-public"
	// ScopeUserFollowModify seeks write access to the list of artists and users a user follows.
	ScopeUserFollowModify Scope = "user-follow-modify"
	// ScopeUserFollowRead seeks read access to the list of artists and users a user follows.
	ScopeUserFollowRead Scope = "user-follow-read"
	// ScopeUserReadPlaybackPosition seeks read access to a user's playback position in content.
	ScopeUserReadPlaybackPosition Scope = "user-read-playback-position"
	// ScopeUserTopRead seeks read access to a user's top artists and tracks.
	ScopeUserTopRead Scope = "user-top-read"
	// ScopeUserReadRecentlyPlayed seeks read access to a user's recently played tracks.
	ScopeUserReadRecentlyPlayed Scope = "user-read-recently-played"
	// ScopeUserLibraryModify seeks write access to a user's library.
	ScopeUserLibraryModify Scope = "user-library-modify"
	// ScopeUserLibraryRead seeks read access to a user's library.
	ScopeUserLibraryRead Scope = "user-library-read"
	// ScopeUserReadEmail seeks read access to a user's email address.
	ScopeUserReadEmail Scope = "user-read-email"
	// ScopeUserReadPrivate seeks read access to a user's subscription details.
	ScopeUserReadPrivate Scope = "user-read-private"
)

// The 5 Open Access scopes, granted only to clients in Spotify's Open Access
// partner program.
const (
	// ScopeUserSOALink seeks to link a partner user account to a Spotify user account.
	ScopeUserSOALink Scope = "user-soa-link"
	// ScopeUserSOAUnlink seeks to unlink a partner user account from a Spotify account.
	ScopeUserSOAUnlink Scope = "user-soa-unlink"
	// ScopeSOAManageEntitlements seeks to modify entitlements for linked users.
	ScopeSOAManageEntitlements Scope = "soa-manage-entitlements"
	// ScopeSOAManagePartner seeks to update partner information.
	ScopeSOAManagePartner Scope = "soa-manage-partner"
	// ScopeSOACreatePartner seeks to create new partners (platform integrators only).
	ScopeSOACreatePartner Scope = "soa-create-partner"
)

// Scopes is an immutable set of scopes. The zero value is the empty set.
// Methods never modify the receiver; they return new sets.
// Iteration, [Scopes.Slice] and [Scopes.String] are in sorted order.
type Scopes struct {
	s []Scope // sorted, without duplicates
}

// Presets in the manner of tekore. Like tekore's, they leave out
// [ScopeStreaming] and [ScopeAppRemoteControl], which the Web API does not use.
//
// The variables are set at package initialization; use [ScopePreset] for a
// copy that no other package can have reassigned.
var (
	// Read holds every standard scope that grants read access (11 scopes).
	Read = presetRead()
	// Write holds every standard scope that grants write access (6 scopes).
	Write = presetWrite()
	// Every is Read united with Write (17 scopes).
	Every = presetRead().Union(presetWrite())
)

// scopeAccess classifies a known scope for the presets.
type scopeAccess uint8

const (
	accessRead    scopeAccess = iota + 1 // in Read
	accessWrite                          // in Write
	accessSDK                            // app-remote-control, streaming: in no preset
	accessPartner                        // Open Access: in no preset
)

type scopeInfo struct {
	access      scopeAccess
	description string
}

// scopeTable describes every scope Spotify documents.
var scopeTable = map[Scope]scopeInfo{
	ScopeUGCImageUpload:            {accessWrite, "Upload images, such as playlist covers, on the user's behalf."},
	ScopeUserReadPlaybackState:     {accessRead, "Read the user's player state: devices, what plays, shuffle and repeat."},
	ScopeUserModifyPlaybackState:   {accessWrite, "Control the user's playback: play, pause, skip, seek, volume, queue."},
	ScopeUserReadCurrentlyPlaying:  {accessRead, "Read what the user is currently playing."},
	ScopeAppRemoteControl:          {accessSDK, "Control playback from the iOS and Android SDKs (not used by the Web API)."},
	ScopeStreaming:                 {accessSDK, "Play content in the Web Playback SDK (Premium only; not used by the Web API)."},
	ScopePlaylistReadPrivate:       {accessRead, "Read the user's private playlists."},
	ScopePlaylistReadCollaborative: {accessRead, "Include collaborative playlists when reading the user's playlists."},
	ScopePlaylistModifyPrivate:     {accessWrite, "Create, edit and delete the user's private playlists."},
	ScopePlaylistModifyPublic:      {accessWrite, "Create, edit and delete the user's public playlists."},
	ScopeUserFollowModify:          {accessWrite, "Follow and unfollow artists and users for the user."},
	ScopeUserFollowRead:            {accessRead, "Read the artists and users the user follows."},
	ScopeUserReadPlaybackPosition:  {accessRead, "Read the user's playback position in episodes and audiobooks."},
	ScopeUserTopRead:               {accessRead, "Read the user's top artists and tracks."},
	ScopeUserReadRecentlyPlayed:    {accessRead, "Read the user's recently played tracks."},
	ScopeUserLibraryModify:         {accessWrite, "Save and remove items in the user's library (Your Music)."},
	ScopeUserLibraryRead:           {accessRead, "Read the user's library (Your Music)."},
	ScopeUserReadEmail:             {accessRead, "Read the user's email address."},
	ScopeUserReadPrivate:           {accessRead, "Read the user's subscription details: country, product, explicit-content settings."},
	ScopeUserSOALink:               {accessPartner, "Open Access: link a partner user account to a Spotify account."},
	ScopeUserSOAUnlink:             {accessPartner, "Open Access: unlink a partner user account from a Spotify account."},
	ScopeSOAManageEntitlements:     {accessPartner, "Open Access: modify the entitlements of linked users."},
	ScopeSOAManagePartner:          {accessPartner, "Open Access: update partner information."},
	ScopeSOACreatePartner:          {accessPartner, "Open Access: create new partners (platform partners only)."},
}

func scopesWhere(keep func(scopeInfo) bool) Scopes {
	var s []Scope
	for sc, info := range scopeTable {
		if keep(info) {
			s = append(s, sc)
		}
	}
	slices.Sort(s)
	return Scopes{s: s}
}

func presetRead() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access == accessRead })
}

func presetWrite() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access == accessWrite })
}

// StandardScopes returns the 19 standard scopes Spotify documents for every
// app, [ScopeStreaming] and [ScopeAppRemoteControl] included.
func StandardScopes() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access != accessPartner })
}

// OpenAccessScopes returns the 5 Open Access scopes, which Spotify grants
// only to clients in its Open Access partner program.
func OpenAccessScopes() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access == accessPartner })
}

// ScopePreset returns the preset named name: "read" ([Read]), "write"
// ([Write]) or "every" ([Every]), compared without regard to case or
// surrounding space. It reports false for any other name.
func ScopePreset(name string) (Scopes, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "read":
		return presetRead(), true
	case "write":
		return presetWrite(), true
	case "every":
		return presetRead().Union(presetWrite()), true
	}
	return Scopes{}, false
}

// Description returns a one-line, human-readable description of sc for help
// output, or "" if sc is not [Scope.Known].
func (sc Scope) Description() string { return scopeTable[sc].description }

// Known reports whether sc is one of the 19 standard or the 5 Open Access
// scopes.
func (sc Scope) Known() bool { _, ok := scopeTable[sc]; return ok }

// IsOpenAccess reports whether sc is one of the 5 Open Access scopes.
func (sc Scope) IsOpenAccess() bool { return scopeTable[sc].access == accessPartner }

// String returns sc as Spotify spells it.
func (sc Scope) String() string { return string(sc) }

// NewScopes returns the set of the given scopes. Scopes are taken verbatim,
// unknown ones included; empty strings are dropped and duplicates merged.
// NewScopes does not split or trim: a Scope holding a space or a comma is
// not a Spotify scope, and does not survive [Scopes.String] followed by
// [ParseScopes]. Use [ParseScopes] for text from users.
func NewScopes(scopes ...Scope) Scopes {
	s := make([]Scope, 0, len(scopes))
	for _, sc := range scopes {
		if sc != "" {
			s = append(s, sc)
		}
	}
	if len(s) == 0 {
		return Scopes{}
	}
	slices.Sort(s)
	return Scopes{s: slices.Compact(s)}
}

// All iterates over the set in sorted order.
func (s Scopes) All() iter.Seq[Scope] {
	return func(yield func(Scope) bool) {
		for _, sc := range s.s {
			if !yield(sc) {
				return
			}
		}
	}
}

// Slice returns the scopes in sorted order, in a new slice (nil for the
// empty set).
func (s Scopes) Slice() []Scope { return slices.Clone(s.s) }

// Strings returns the scopes in sorted order as strings, in a new slice
// (nil for the empty set), the form golang.org/x/oauth2.Config.Scopes takes.
func (s Scopes) Strings() []string {
	if len(s.s) == 0 {
		return nil
	}
	out := make([]string, len(s.s))
	for i, sc := range s.s {
		out[i] = string(sc)
	}
	return out
}

// Len reports the number of scopes in the set.
func (s Scopes) Len() int { return len(s.s) }

// IsEmpty reports whether the set holds no scope.
func (s Scopes) IsEmpty() bool { return len(s.s) == 0 }

// Contains reports whether sc is in the set.
func (s Scopes) Contains(sc Scope) bool {
	_, ok := slices.BinarySearch(s.s, sc)
	return ok
}

// ContainsAll reports whether every scope of o is in s.
func (s Scopes) ContainsAll(o Scopes) bool { return o.Difference(s).IsEmpty() }

// Union returns the scopes in s or o.
func (s Scopes) Union(o Scopes) Scopes {
	out := make([]Scope, 0, len(s.s)+len(o.s))
	i, j := 0, 0
	for i < len(s.s) && j < len(o.s) {
		switch {
		case s.s[i] < o.s[j]:
			out = append(out, s.s[i])
			i++
		case s.s[i] > o.s[j]:
			out = append(out, o.s[j])
			j++
		default:
			out = append(out, s.s[i])
			i++
			j++
		}
	}
	out = append(out, s.s[i:]...)
	out = append(out, o.s[j:]...)
	return scopesOf(out)
}

// Intersect returns the scopes in both s and o.
func (s Scopes) Intersect(o Scopes) Scopes {
	var out []Scope
	i, j := 0, 0
	for i < len(s.s) && j < len(o.s) {
		switch {
		case s.s[i] < o.s[j]:
			i++
		case s.s[i] > o.s[j]:
			j++
		default:
			out = append(out, s.s[i])
			i++
			j++
		}
	}
	return scopesOf(out)
}

// Difference returns the scopes in s and not in o.
func (s Scopes) Difference(o Scopes) Scopes {
	var out []Scope
	j := 0
	for _, sc := range s.s {
		for j < len(o.s) && o.s[j] < sc {
			j++
		}
		if j < len(o.s) && o.s[j] == sc {
			continue
		}
		out = append(out, sc)
	}
	return scopesOf(out)
}

// With returns s with the given scopes added.
func (s Scopes) With(scopes ...Scope) Scopes { return s.Union(NewScopes(scopes...)) }

// Without returns s with the given scopes removed.
func (s Scopes) Without(scopes ...Scope) Scopes { return s.Difference(NewScopes(scopes...)) }

// scopesOf wraps a sorted, duplicate-free slice, keeping the empty set's
// zero value canonical.
func scopesOf(sorted []Scope) Scopes {
	if len(sorted) == 0 {
		return Scopes{}
	}
	return Scopes{s: sorted}
}

// Missing returns the scopes of required that s lacks: the scopes an
// application must ask for in a step-up login.
func (s Scopes) Missing(required Scopes) Scopes { return required.Difference(s) }

// Equal reports whether s and o hold the same scopes.
func (s Scopes) Equal(o Scopes) bool { return slices.Equal(s.s, o.s) }

// Unknown returns the scopes of s that are not [Scope.Known].
func (s Scopes) Unknown() Scopes {
	var out []Scope
	for _, sc := range s.s {
		if !sc.Known() {
			out = append(out, sc)
		}
	}
	return scopesOf(out)
}

// String returns the scopes sorted and separated by single spaces, the form
// Spotify expects in the scope parameter. The empty set gives "".
func (s Scopes) String() string {
	switch len(s.s) {
	case 0:
		return ""
	case 1:
		return string(s.s[0])
	}
	n := len(s.s) - 1
	for _, sc := range s.s {
		n += len(sc)
	}
	var b strings.Builder
	b.Grow(n)
	for i, sc := range s.s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(sc))
	}
	return b.String()
}

// MarshalText returns [Scopes.String].
func (s Scopes) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText sets s to the scopes in text, separated by spaces and/or
// commas. Like [ParseScopesLenient] it keeps unknown scopes, so that data
// written by a newer program, or scopes Spotify adds later, still load.
func (s *Scopes) UnmarshalText(text []byte) error {
	*s = ParseScopesLenient(string(text))
	return nil
}

// MarshalJSON encodes s as one JSON string, sorted and space-separated like
// Spotify's "scope" field: "playlist-read-private user-read-email".
func (s Scopes) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON accepts a JSON string of scopes separated by spaces and/or
// commas (Spotify's form), or a JSON array of such strings. Unknown scopes
// are kept, as by [ParseScopesLenient]. JSON null leaves s unchanged.
func (s *Scopes) UnmarshalJSON(data []byte) error {
	data = trimJSONSpace(data)
	switch {
	case string(data) == "null":
		return nil
	case len(data) > 0 && data[0] == '"':
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return errors.New("spotauth: scopes: malformed JSON string")
		}
		*s = ParseScopesLenient(str)
		return nil
	case len(data) > 0 && data[0] == '[':
		var list []string
		if err := json.Unmarshal(data, &list); err != nil {
			return errors.New("spotauth: scopes: want a JSON string or an array of strings")
		}
		var all []Scope
		for _, item := range list {
			all = appendFields(all, item)
		}
		*s = NewScopes(all...)
		return nil
	}
	return errors.New("spotauth: scopes: want a JSON string or an array of strings")
}

func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// isScopeSep reports whether r separates scopes in text: a comma or
// white space.
func isScopeSep(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// appendFields appends the scopes of text, split at commas and white space,
// dropping empty entries.
func appendFields(dst []Scope, text string) []Scope {
	for f := range strings.FieldsFuncSeq(text, isScopeSep) {
		dst = append(dst, Scope(f))
	}
	return dst
}

// ParseScopes parses scopes separated by spaces and/or commas. Extra white
// space (tabs and newlines included) and empty entries such as ",," are
// ignored, and duplicates merged. It fails with an [*UnknownScopeError]
// naming every scope that is neither standard nor Open Access; use
// [ParseScopesLenient] to keep unknown scopes. Empty text gives the empty set.
func ParseScopes(text string) (Scopes, error) {
	s := ParseScopesLenient(text)
	if len(s.Unknown().s) == 0 {
		return s, nil
	}
	var unknown []string
	seen := make(map[string]bool)
	for f := range strings.FieldsFuncSeq(text, isScopeSep) {
		if !Scope(f).Known() && !seen[f] {
			seen[f] = true
			unknown = append(unknown, f)
		}
	}
	return Scopes{}, &UnknownScopeError{Scopes: unknown}
}

// ParseScopesLenient is like [ParseScopes] but keeps unknown scopes, for
// forward compatibility with scopes Spotify adds later.
func ParseScopesLenient(text string) Scopes {
	return NewScopes(appendFields(nil, text)...)
}

// MustParseScopes is like [ParseScopes] but panics on an unknown scope. It
// is meant for constant text in variable initializations.
func MustParseScopes(text string) Scopes {
	s, err := ParseScopes(text)
	if err != nil {
		panic(err)
	}
	return s
}

// UnknownScopeError reports scopes that are neither standard nor Open
// Access. It matches [ErrUnknownScope] with [errors.Is].
type UnknownScopeError struct {
	// Scopes are the unknown scopes, without duplicates, in input order.
	Scopes []string
}

// maxListedScopes bounds how many unknown scopes an error message lists.
const maxListedScopes = 10

// Error names every unknown scope (up to 10), each with a hint where one is
// obvious: a removed scope, a first-party-only scope, a typo.
func (e *UnknownScopeError) Error() string {
	var b strings.Builder
	b.WriteString("spotauth: unknown scope")
	if len(e.Scopes) != 1 {
		b.WriteString("s")
	}
	for i, sc := range e.Scopes {
		if i == maxListedScopes {
			fmt.Fprintf(&b, " and %d more", len(e.Scopes)-maxListedScopes)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %q", truncateForError(sc))
		if h := ScopeHint(sc); h != "" {
			fmt.Fprintf(&b, " (%s)", h)
		}
	}
	return b.String()
}

// Is reports whether target is [ErrUnknownScope].
func (e *UnknownScopeError) Is(target error) bool { return target == ErrUnknownScope }

func truncateForError(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// notForThirdParties lists scopes seen only with Spotify's own clients.
var notForThirdParties = map[string]bool{
	"user-personalized": true,
	"playlist-read":     true,
	"playlist-modify":   true,
	"user-modify":       true,
	"openid":            true,
}

// ScopeHint returns a short hint about an unknown scope, or "" when there is
// none: that Spotify removed it, that only Spotify's own apps use it, or the
// known scope it most likely misspells ("did you mean ...?").
func ScopeHint(text string) string {
	sc := Scope(text)
	if sc.Known() {
		return ""
	}
	if text == "user-read-birthdate" {
		return "removed by Spotify"
	}
	if notForThirdParties[text] {
		return "only Spotify's own apps may use it"
	}
	if len(text) > 64 {
		return ""
	}
	norm := Scope(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(text), "_", "-")))
	if norm.Known() {
		return fmt.Sprintf("did you mean %q?", string(norm))
	}
	best, bestDist := Scope(""), 3
	for known := range scopeTable {
		d := editDistance(string(norm), string(known), bestDist)
		if d < bestDist || (d == bestDist && best != "" && known < best) {
			best, bestDist = known, d
		}
	}
	if best != "" && bestDist <= 2 {
		return fmt.Sprintf("did you mean %q?", string(best))
	}
	return ""
}

// editDistance returns the optimal-string-alignment distance of a and b
// (Levenshtein with adjacent transpositions), or any value above limit once
// it is sure to exceed limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	pprev := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pprev[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		pprev, prev, cur = prev, cur, pprev
	}
	return prev[len(b)]
}
