package cli

import (
	"fmt"
	"time"

	"github.com/spotauth/spotauth"
)

// This file holds how commands show times and scopes to a person.

// describeTime shows t in local time and how far it is from now:
// "2026-01-01T10:00:00+01:00 (in 59m0s)".
func describeTime(t, now time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := t.Sub(now).Round(time.Second)
	if d < 0 {
		return fmt.Sprintf("%s (%s ago)", t.Local().Format(time.RFC3339), humanDuration(-d))
	}
	return fmt.Sprintf("%s (in %s)", t.Local().Format(time.RFC3339), humanDuration(d))
}

// humanDuration shows days for long durations: "181 days", "3h0m0s".
func humanDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.String()
}

// rfc3339 is t in UTC for JSON output, "" when unknown.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// scopesText lists scopes, saying so when there are none.
func scopesText(sc spotauth.Scopes) string {
	if sc.Len() == 0 {
		return "(none: public data only)"
	}
	return sc.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
