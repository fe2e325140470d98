package spotauth

import (
	"slices"
)

// A Scope is one Spotify authorization scope, such as "user-read-private".
// See https://developer.spotify.com/documentation/web-api/concepts/scopes.
type Scope string

// The 19 standard scopes Spotify documents for third-party apps.
const (
	ScopeUGCImageUpload            Scope = "ugc-image-upload"
	ScopeUserReadPlaybackState     Scope = "user-read-playback-state"
	ScopeUserModifyPlaybackState   Scope = "user-modify-playback-state"
	ScopeUserReadCurrentlyPlaying  Scope = "user-read-currently-playing"
	ScopeAppRemoteControl          Scope = "app-remote-control"
	ScopeStreaming                 Scope = "streaming"
	ScopePlaylistReadPrivate       Scope = "playlist-read-private"
	ScopePlaylistReadCollaborative Scope = "playlist-read-collaborative"
	ScopePlaylistModifyPrivate     Scope = "playlist-modify-private"
	ScopePlaylistModifyPublic      Scope = "playlist-modify-public"
	ScopeUserFollowModify          Scope = "user-follow-modify"
	ScopeUserFollowRead            Scope = "user-follow-read"
	ScopeUserReadPlaybackPosition  Scope = "user-read-playback-position"
	ScopeUserTopRead               Scope = "user-top-read"
	ScopeUserReadRecentlyPlayed    Scope = "user-read-recently-played"
	ScopeUserLibraryModify         Scope = "user-library-modify"
	ScopeUserLibraryRead           Scope = "user-library-read"
	ScopeUserReadEmail             Scope = "user-read-email"
	ScopeUserReadPrivate           Scope = "user-read-private"
)

// The 5 Open Access scopes, granted only to clients in Spotify's Open Access
// partner program.
const (
	ScopeUserSOALink           Scope = "user-soa-link"
	ScopeUserSOAUnlink         Scope = "user-soa-unlink"
	ScopeSOAManageEntitlements Scope = "soa-manage-entitlements"
	ScopeSOAManagePartner      Scope = "soa-manage-partner"
	ScopeSOACreatePartner      Scope = "soa-create-partner"
)

// scopeAccess classifies a known scope for the presets.
type scopeAccess uint8

const (
	accessRead    scopeAccess = iota + 1 // in ReadScopes
	accessWrite                          // in WriteScopes
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

// ReadScopes returns the 11 standard scopes that grant read access, like
// tekore's scope.read (without streaming and app-remote-control, which the Web
// API does not use).
func ReadScopes() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access == accessRead })
}

// WriteScopes returns the 6 standard scopes that grant write access, like
// tekore's scope.write.
func WriteScopes() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access == accessWrite })
}

// StandardScopes returns the 19 standard scopes.
func StandardScopes() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access != accessPartner })
}

// OpenAccessScopes returns the 5 Open Access scopes.
func OpenAccessScopes() Scopes {
	return scopesWhere(func(i scopeInfo) bool { return i.access == accessPartner })
}

// Description returns a one-line description of a known scope, "" for another.
func (sc Scope) Description() string { return scopeTable[sc].description }

// Known reports whether sc is a standard or Open Access scope.
func (sc Scope) Known() bool { _, ok := scopeTable[sc]; return ok }
