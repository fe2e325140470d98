package weblogin

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"
)

// The two cookies, sealed (see seal.go):
//
//	session: kind 1 | expires (Unix s, 8) | session ID (16) | authorized at (Unix ns, 8) | len (1) | user ID
//	login:   kind 2 | expires (Unix s, 8) | len (1) | state | len (1) | verifier | len (2) | next | len (2) | scopes
//
// A session carries the user's Spotify ID, a random session ID (new at
// every login: nothing an attacker planted before the login survives it)
// and when the user authorized the app at that login: a replica whose
// cached token is older loads the newer one from the store. A login
// attempt carries what the callback needs, so that it may land on any
// replica.

const (
	kindSession = 1
	kindLogin   = 2
	sidSize     = 16
	maxUserID   = 255
)

// errExpired: a cookie past its expiry.
var errExpired = errors.New("spotauth: web login: cookie expired")

// session is an opened session cookie.
type session struct {
	exp    int64
	sid    [sidSize]byte
	authAt int64  // 0: unknown
	uid    []byte // in the opening buffer: valid until it is released
	key    *sealKey
}

func appendSession(b []byte, s *session) []byte {
	b = append(b, kindSession)
	b = binary.BigEndian.AppendUint64(b, uint64(s.exp))
	b = append(b, s.sid[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.authAt))
	b = append(b, byte(len(s.uid)))
	return append(b, s.uid...)
}

func parseSession(b []byte, s *session) bool {
	if len(b) < 1+8+sidSize+8+1 || b[0] != kindSession {
		return false
	}
	s.exp = int64(binary.BigEndian.Uint64(b[1:]))
	copy(s.sid[:], b[9:])
	s.authAt = int64(binary.BigEndian.Uint64(b[9+sidSize:]))
	n := int(b[9+sidSize+8])
	rest := b[9+sidSize+8+1:]
	if n == 0 || len(rest) != n {
		return false
	}
	s.uid = rest
	return true
}

// loginAttempt is an opened login cookie.
type loginAttempt struct {
	exp      int64
	state    string
	verifier string
	next     string
	scopes   string // requested beyond Config.Scopes and those granted before
}

func appendLogin(b []byte, l *loginAttempt) []byte {
	b = append(b, kindLogin)
	b = binary.BigEndian.AppendUint64(b, uint64(l.exp))
	b = append(b, byte(len(l.state)))
	b = append(b, l.state...)
	b = append(b, byte(len(l.verifier)))
	b = append(b, l.verifier...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(l.next)))
	b = append(b, l.next...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(l.scopes)))
	return append(b, l.scopes...)
}

func parseLogin(b []byte, l *loginAttempt) bool {
	if len(b) < 9 || b[0] != kindLogin {
		return false
	}
	l.exp = int64(binary.BigEndian.Uint64(b[1:]))
	b = b[9:]
	var ok bool
	if l.state, b, ok = field(b, 1); !ok {
		return false
	}
	if l.verifier, b, ok = field(b, 1); !ok {
		return false
	}
	if l.next, b, ok = field(b, 2); !ok {
		return false
	}
	if l.scopes, b, ok = field(b, 2); !ok {
		return false
	}
	return len(b) == 0 && l.state != ""
}

// field reads a string after a big-endian length of size bytes.
func field(b []byte, size int) (string, []byte, bool) {
	if len(b) < size {
		return "", nil, false
	}
	n := int(b[0])
	if size == 2 {
		n = int(binary.BigEndian.Uint16(b))
	}
	b = b[size:]
	if len(b) < n {
		return "", nil, false
	}
	return string(b[:n]), b[n:], true
}

// maxCookies bounds how many cookies of one name a request may offer: a
// browser sends one per matching path and domain, most specific first.
const maxCookies = 4

// cookieValues returns the values of the cookies called name in r, in the
// order sent, without allocating (unlike http.Request.Cookie, which parses
// every cookie).
func cookieValues(r *http.Request, name string) (vals [maxCookies]string, n int) {
	for _, line := range r.Header["Cookie"] {
		for line != "" && n < maxCookies {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			vals[n] = v
			n++
		}
	}
	return vals, n
}

// readSession opens the session cookie of r. present reports whether r
// offered one at all; a present cookie that does not open (tampered with,
// expired, another deployment's) gives an error. Release s's buffer with
// a.seal.release(buf).
func (a *Auth) readSession(r *http.Request) (s session, buf *[]byte, present bool, err error) {
	vals, n := cookieValues(r, a.sessionName)
	if n == 0 {
		return s, nil, false, nil
	}
	err = errSeal
	now := a.now().Unix()
	for _, v := range vals[:n] {
		plain, k, b, oerr := a.seal.open(purposeSession, v)
		if oerr != nil {
			continue
		}
		if !parseSession(plain, &s) {
			a.seal.release(b)
			continue
		}
		if s.exp <= now {
			a.seal.release(b)
			err = errExpired
			continue
		}
		s.key = k
		return s, b, true, nil
	}
	return session{}, nil, true, err
}

// readLogin opens the login cookie of r.
func (a *Auth) readLogin(r *http.Request) (l loginAttempt, present bool, err error) {
	vals, n := cookieValues(r, a.loginName)
	if n == 0 {
		return l, false, nil
	}
	err = errSeal
	now := a.now().Unix()
	for _, v := range vals[:n] {
		plain, _, b, oerr := a.seal.open(purposeLogin, v)
		if oerr != nil {
			continue
		}
		ok := parseLogin(plain, &l)
		a.seal.release(b)
		if !ok {
			continue
		}
		if l.exp <= now {
			err = errExpired
			continue
		}
		return l, true, nil
	}
	return loginAttempt{}, true, err
}

// setCookie sets a cookie of this deployment: HttpOnly, SameSite=Lax,
// Secure when the redirect URI is https, on the whole site. A zero maxAge
// deletes it.
func (a *Auth) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}
