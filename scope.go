package spotauth

import "iter"

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
var (
	// Read holds every standard scope that grants read access.
	Read Scopes
	// Write holds every standard scope that grants write access.
	Write Scopes
	// Every is Read united with Write.
	Every Scopes
)

// NewScopes returns the set of the given scopes.
func NewScopes(scopes ...Scope) Scopes { panic("unimplemented") }

// All iterates over the set in sorted order.
func (s Scopes) All() iter.Seq[Scope] { panic("unimplemented") }

// Slice returns the scopes in sorted order, in a new slice.
func (s Scopes) Slice() []Scope { panic("unimplemented") }

// Len reports the number of scopes in the set.
func (s Scopes) Len() int { return len(s.s) }

// Contains reports whether sc is in the set.
func (s Scopes) Contains(sc Scope) bool { panic("unimplemented") }

// ContainsAll reports whether every scope of o is in s.
func (s Scopes) ContainsAll(o Scopes) bool { panic("unimplemented") }

// Union returns the scopes in s or o.
func (s Scopes) Union(o Scopes) Scopes { panic("unimplemented") }

// Intersect returns the scopes in both s and o.
func (s Scopes) Intersect(o Scopes) Scopes { panic("unimplemented") }

// Difference returns the scopes in s and not in o.
func (s Scopes) Difference(o Scopes) Scopes { panic("unimplemented") }

// Missing returns the scopes of required that s lacks: the scopes an
// application must ask for in a step-up login.
func (s Scopes) Missing(required Scopes) Scopes { return required.Difference(s) }

// Equal reports whether s and o hold the same scopes.
func (s Scopes) Equal(o Scopes) bool { panic("unimplemented") }

// String returns the scopes sorted and separated by single spaces, the form
// Spotify expects in the scope parameter.
func (s Scopes) String() string { panic("unimplemented") }

// ParseScopes parses scopes separated by spaces and/or commas. It fails with
// an [*UnknownScopeError] naming every scope that is neither standard nor
// Open Access; use [ParseScopesLenient] to keep unknown scopes.
func ParseScopes(text string) (Scopes, error) { panic("unimplemented") }

// ParseScopesLenient is like [ParseScopes] but keeps unknown scopes, for
// forward compatibility with scopes Spotify adds later.
func ParseScopesLenient(text string) Scopes { panic("unimplemented") }
