package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type scopesOptions struct {
	f    *Factory
	JSON bool
}

// scopeInfo describes every scope of Spotify's documentation, in its order.
var scopeInfo = []struct {
	Scope       spotauth.Scope
	Description string
	OpenAccess  bool
}{
	{spotauth.ScopeUGCImageUpload, "Upload images (playlist covers)", false},
	{spotauth.ScopeUserReadPlaybackState, "Read the player state (device, track, progress)", false},
	{spotauth.ScopeUserModifyPlaybackState, "Control playback (play, pause, skip, volume)", false},
	{spotauth.ScopeUserReadCurrentlyPlaying, "Read the currently playing content", false},
	{spotauth.ScopeAppRemoteControl, "Remote control in the iOS and Android SDKs (not used by the Web API)", false},
	{spotauth.ScopeStreaming, "Play content in the Web Playback SDK (Premium; not used by the Web API)", false},
	{spotauth.ScopePlaylistReadPrivate, "Read private playlists", false},
	{spotauth.ScopePlaylistReadCollaborative, "Read collaborative playlists", false},
	{spotauth.ScopePlaylistModifyPrivate, "Create and change private playlists", false},
	{spotauth.ScopePlaylistModifyPublic, "Create and change public playlists", false},
	{spotauth.ScopeUserFollowModify, "Follow and unfollow artists and users", false},
	{spotauth.ScopeUserFollowRead, "Read followed artists and users", false},
	{spotauth.ScopeUserReadPlaybackPosition, "Read the playback position in episodes and audiobooks", false},
	{spotauth.ScopeUserTopRead, "Read top artists and tracks", false},
	{spotauth.ScopeUserReadRecentlyPlayed, "Read recently played tracks", false},
	{spotauth.ScopeUserLibraryModify, "Save and remove items in Your Library", false},
	{spotauth.ScopeUserLibraryRead, "Read Your Library", false},
	{spotauth.ScopeUserReadEmail, "Read the account's email address", false},
	{spotauth.ScopeUserReadPrivate, "Read subscription details and country", false},
	{spotauth.ScopeUserSOALink, "Link a partner account to a Spotify account (Open Access partners)", true},
	{spotauth.ScopeUserSOAUnlink, "Unlink a partner account from a Spotify account (Open Access partners)", true},
	{spotauth.ScopeSOAManageEntitlements, "Change entitlements of linked users (Open Access partners)", true},
	{spotauth.ScopeSOAManagePartner, "Update partner information (Open Access partners)", true},
	{spotauth.ScopeSOACreatePartner, "Create partners (Open Access platform integrators)", true},
}

func newScopesCmd(f *Factory, runF func(context.Context, *scopesOptions) error) *cobra.Command {
	opts := &scopesOptions{f: f}
	cmd := &cobra.Command{
		Use:   "scopes",
		Short: "List every scope with its description, and the presets",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runScopes(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON on stdout")
	return cmd
}

type scopeJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	OpenAccess  bool   `json:"open_access"`
}

func presets() []struct {
	Name   string
	Scopes spotauth.Scopes
} {
	return []struct {
		Name   string
		Scopes spotauth.Scopes
	}{{"read", spotauth.Read}, {"write", spotauth.Write}, {"every", spotauth.Every}}
}

func runScopes(opts *scopesOptions) error {
	out := opts.f.IO.Out
	if opts.JSON {
		var v struct {
			Scopes  []scopeJSON         `json:"scopes"`
			Presets map[string][]string `json:"presets"`
		}
		for _, s := range scopeInfo {
			v.Scopes = append(v.Scopes, scopeJSON{string(s.Scope), s.Description, s.OpenAccess})
		}
		v.Presets = map[string][]string{}
		for _, p := range presets() {
			names := []string{}
			for sc := range p.Scopes.All() {
				names = append(names, string(sc))
			}
			v.Presets[p.Name] = names
		}
		data, _ := json.MarshalIndent(v, "", "  ")
		_, err := fmt.Fprintf(out, "%s\n", data)
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tDESCRIPTION")
	for _, s := range scopeInfo {
		fmt.Fprintf(tw, "%s\t%s\n", s.Scope, s.Description)
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Presets (for spotauth login --scope; they leave out streaming and app-remote-control):")
	for _, p := range presets() {
		fmt.Fprintf(out, "  %-6s %s\n", p.Name, p.Scopes)
	}
	return nil
}
