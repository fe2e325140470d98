package spotauth

import (
	"fmt"
	"strings"
)

// notForThirdParties lists scopes seen only with Spotify's own clients.
var notForThirdParties = map[string]bool{
	"user-personalized": true,
	"playlist-read":     true,
	"playlist-modify":   true,
	"user-modify":       true,
	"openid":            true,
}

// scopeHint returns a short hint about an unknown scope, or "" when there is
// none: that Spotify removed it, that only Spotify's own apps use it, or the
// known scope it most likely misspells ("did you mean ...?").
func scopeHint(text string) string {
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
