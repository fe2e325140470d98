package cli

import (
	"fmt"
	"strings"

	"github.com/spotauth/spotauth"
)

// loginLine is the command that logs in again with scopes, repeating the
// flags given on this command line (never the secret's value, nor a
// password in a URL). Hints print it wherever the user has to log in.
func loginLine(s *settings, scopes spotauth.Scopes) string {
	var b strings.Builder
	b.WriteString("spotauth login")
	for _, name := range []string{"profile", "client-id", "accounts-url", "api-url", "redirect-uri", "store"} {
		if !strings.HasPrefix(s.source[name], "flag") {
			continue
		}
		var v string
		switch name {
		case "profile":
			v = s.Profile
		case "client-id":
			v = s.ClientID
		case "accounts-url":
			v = s.AccountsURL
		case "api-url":
			v = s.APIURL
		case "redirect-uri":
			v = s.RedirectURI
		case "store":
			v = storeDesc(s)
		}
		fmt.Fprintf(&b, " --%s %s", name, shellQuote(redactURL(v)))
	}
	if strings.HasPrefix(s.source["client-secret"], "flag") {
		b.WriteString(" --client-secret ...")
	}
	if scopes.Len() > 0 {
		fmt.Fprintf(&b, " --scope %s", shellQuote(strings.Join(scopeWords(scopes), ",")))
	}
	return b.String()
}

// scopeWords names scopes as the user would pass them to --scope: the
// presets they hold in full (every, or read and write) by name, then the
// other scopes.
func scopeWords(scopes spotauth.Scopes) []string {
	var words []string
	rest := scopes
	for _, name := range []string{"every", "read", "write"} {
		p, _ := scopePreset(name)
		if p.Difference(scopes).Len() == 0 && p.Difference(scopes.Difference(rest)).Len() > 0 {
			words = append(words, name)
			rest = rest.Difference(p)
		}
	}
	if rest.Len() > 0 {
		words = append(words, strings.Fields(rest.String())...)
	}
	return words
}
