package cli

import (
	"time"

	"github.com/spotauth/spotauth"
)

// authorizationWarning is how long before the end of the 6-month
// authorization every command warns.
const authorizationWarning = 14 * 24 * time.Hour

// authorizationEnd is when Spotify stops accepting t's refresh token: 6
// months after the user authorized the app, whatever the refreshes. Zero
// when unknown.
func authorizationEnd(t *spotauth.Token) time.Time {
	if t == nil || t.RefreshToken == "" {
		return time.Time{}
	}
	return t.AuthorizationExpiry()
}

// warnAuthorizationEnd prints a warning on stderr when the authorization
// ends within 14 days.
func warnAuthorizationEnd(io *IOStreams, now time.Time, s *settings, t *spotauth.Token) {
	end := authorizationEnd(t)
	if end.IsZero() {
		return
	}
	left := end.Sub(now)
	if left > authorizationWarning {
		return
	}
	if left <= 0 {
		io.Printf("warning: the 6-month authorization of profile %s ended on %s; run: %s\n",
			s.Profile, end.Local().Format("2006-01-02"), loginLine(s, t.Scope))
		return
	}
	io.Printf("warning: the 6-month authorization of profile %s ends on %s (in %d days); run before then: %s\n",
		s.Profile, end.Local().Format("2006-01-02 15:04"), int(left.Hours()/24)+1, loginLine(s, t.Scope))
}
