package cli

import (
	"strings"

	"github.com/spotauth/spotauth"
)

// parseScopeArgs parses --scope and --require-scope values: scope names
// and the presets read, write and every, separated by spaces or commas.
// An unknown name is an error matching [spotauth.ErrUnknownScope].
func parseScopeArgs(args []string) (spotauth.Scopes, error) {
	var out spotauth.Scopes
	var names []string
	for _, a := range args {
		for _, w := range strings.FieldsFunc(a, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
			if p, ok := scopePreset(w); ok {
				out = out.Union(p)
			} else {
				names = append(names, w)
			}
		}
	}
	if len(names) > 0 {
		sc, err := spotauth.ParseScopes(strings.Join(names, " "))
		if err != nil {
			return spotauth.Scopes{}, err
		}
		out = out.Union(sc)
	}
	return out, nil
}

// scopePreset returns the preset named name, tekore's: "read", "write"
// or "every" (both), whatever the case.
func scopePreset(name string) (spotauth.Scopes, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "read":
		return spotauth.ReadScopes(), true
	case "write":
		return spotauth.WriteScopes(), true
	case "every":
		return spotauth.ReadScopes().Union(spotauth.WriteScopes()), true
	}
	return spotauth.Scopes{}, false
}
