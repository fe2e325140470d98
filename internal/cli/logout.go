package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type logoutOptions struct {
	IO        *IOStreams
	Settings  func() (*settings, error)
	OpenStore storeOpener

	All bool
}

func newLogoutCmd(f *Factory, runF func(context.Context, *logoutOptions) error) *cobra.Command {
	opts := &logoutOptions{IO: f.IO, Settings: f.Settings, OpenStore: f.openStore}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Remove the stored tokens of the profile (or of all profiles)",
		Long: `Remove the stored user and app tokens of the profile, or with --all of every
profile spotauth knows in the store. Spotify has no revocation endpoint: to
withdraw the app's access itself, remove it at https://www.spotify.com/account/apps/.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogout(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "remove the tokens of every profile")
	return cmd
}

func runLogout(ctx context.Context, opts *logoutOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	profiles := []string{s.Profile}
	if opts.All {
		if profiles, err = knownProfiles(s); err != nil {
			return err
		}
	}
	removed := 0
	for _, p := range profiles {
		ps, err := s.forProfile(p)
		if err != nil {
			return err
		}
		had := false
		for _, kind := range []tokenKind{userToken, appToken} {
			st, err := opts.OpenStore(ps, kind)
			if err != nil {
				return err
			}
			_, err = st.Load(ctx)
			if errors.Is(err, spotauth.ErrTokenNotFound) {
				// Nothing to remove: no lock taken, so no lock file left.
				continue
			}
			had = had || err == nil
			if err := boundedStoreOp(ctx, st.Delete); err != nil {
				return withHint(wrapf(storeFailed("delete", err), "could not remove the tokens of profile %s", p),
					"Check the token store (%s) and try again.", storeDesc(ps))
			}
		}
		if err := removeProfile(ps); err != nil {
			return withHint(wrapf(err, "could not remove the profile file of profile %s", p),
				"Check that %s is writable.", profileDir(s.ConfigDir))
		}
		if had {
			removed++
			opts.IO.Printf("Removed the tokens of profile %s.\n", p)
		}
	}
	if removed == 0 {
		opts.IO.Printf("No stored tokens to remove (profile %s).\n", strings.Join(profiles, ", "))
	}
	opts.IO.Printf("To withdraw the app's access at Spotify too, remove it at https://www.spotify.com/account/apps/.\n")
	return nil
}
