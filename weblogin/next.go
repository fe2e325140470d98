package weblogin

import "net/url"

// maxNext bounds the length of a "next" URL.
const maxNext = 2048

// localPath returns next if it is a path on this site, and so safe to
// redirect to after a login or logout: it starts with a single "/", has no
// scheme or host, and none of the characters that browsers strip or turn
// into "/" (control characters, backslashes), which would make "/\evil"
// or "/\t/evil" a link to another site. "" means "/".
func localPath(next string) (string, bool) {
	if next == "" {
		return "/", true
	}
	if len(next) > maxNext || next[0] != '/' {
		return "", false
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return next, true
}
