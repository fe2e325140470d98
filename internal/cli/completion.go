package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// registerScopeCompletion completes the scope flag name of cmd with scope
// names and presets; in a comma-separated list, the last element.
func registerScopeCompletion(cmd *cobra.Command, name string) {
	_ = cmd.RegisterFlagCompletionFunc(name, completeScopes)
}

// completeScopes completes toComplete, a scope list, with the scope names
// and presets that extend its last element, keeping the elements before.
func completeScopes(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, p := range presets() {
		if strings.HasPrefix(p.Name, last) {
			out = append(out, done+p.Name+"\tpreset: "+p.Scopes.String())
		}
	}
	for _, sc := range allScopes() {
		if strings.HasPrefix(string(sc), last) {
			out = append(out, done+string(sc)+"\t"+sc.Description())
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeProfiles completes --profile with the known profiles.
func completeProfiles(f *Factory) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		s, err := f.Settings()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		profiles, err := knownProfiles(s)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, p := range profiles {
			if strings.HasPrefix(p, toComplete) {
				out = append(out, p)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
