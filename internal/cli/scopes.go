package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
)

type scopesOptions struct {
	IO *IOStreams

	JSON bool
}

// allScopes lists the standard scopes, then the Open Access ones.
func allScopes() []spotauth.Scope {
	return slices.AppendSeq(slices.Collect(spotauth.StandardScopes().All()), spotauth.OpenAccessScopes().All())
}

func newScopesCmd(f *Factory, runF func(context.Context, *scopesOptions) error) *cobra.Command {
	opts := &scopesOptions{IO: f.IO}
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
	}{{"read", spotauth.ReadScopes()}, {"write", spotauth.WriteScopes()}, {"every", spotauth.ReadScopes().Union(spotauth.WriteScopes())}}
}

func runScopes(opts *scopesOptions) error {
	out := opts.IO.Out
	if opts.JSON {
		var v struct {
			Scopes  []scopeJSON         `json:"scopes"`
			Presets map[string][]string `json:"presets"`
		}
		for _, sc := range allScopes() {
			v.Scopes = append(v.Scopes, scopeJSON{string(sc), sc.Description(), spotauth.OpenAccessScopes().Contains(sc)})
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
	for _, sc := range allScopes() {
		fmt.Fprintf(tw, "%s\t%s\n", sc, sc.Description())
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Presets (for spotauth login --scope; they leave out streaming and app-remote-control):")
	for _, p := range presets() {
		fmt.Fprintf(out, "  %-6s %s\n", p.Name, p.Scopes)
	}
	return nil
}
