package cli

// This file is the only one that knows the store packages: it parses
// --store and opens the file or Redis store of a profile.

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/redisstore"
)

// tokenKind separates the two tokens a profile holds.
type tokenKind string

const (
	userToken tokenKind = "user" // from login: refreshable, carries scopes
	appToken  tokenKind = "app"  // from client credentials
)

// A storeOpener opens the store of one token of the profile. Commands get
// [Factory.openStore], which closes the store when the command ends;
// tests may give them another.
type storeOpener func(s *settings, kind tokenKind) (spotauth.TokenStore, error)

// storeLocation is the parsed --store value.
type storeLocation struct {
	kind string // "file" or "redis"
	dir  string // file: the directory holding the token files
	url  string // redis: the URL
}

// parseStore interprets --store / SPOTAUTH_STORE: "" means the file store
// in the config directory; "file:///dir" or a path means a file store in
// dir; "redis://..." or "rediss://..." the Redis store.
func parseStore(spec, configDir string) (storeLocation, error) {
	switch {
	case spec == "":
		return storeLocation{kind: "file", dir: configDir}, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"), strings.HasPrefix(spec, "unix://"):
		return storeLocation{kind: "redis", url: spec}, nil
	case strings.HasPrefix(spec, "file:"):
		u, err := url.Parse(spec)
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return storeLocation{}, usageErrorf("Use --store file:///absolute/dir or a plain path.", "invalid --store %q", redactURL(spec))
		}
		return storeLocation{kind: "file", dir: filepath.FromSlash(u.Path)}, nil
	case strings.Contains(spec, "://"):
		return storeLocation{}, usageErrorf("Use a directory, file:///dir or redis://host:port/db.", "unsupported --store %q", redactURL(spec))
	default:
		return storeLocation{kind: "file", dir: spec}, nil
	}
}

// String describes the location without credentials.
func (l storeLocation) String() string {
	if l.kind == "redis" {
		return redactURL(l.url)
	}
	return l.dir
}

// redactURL hides the password of every URL in s, a URL or a text that
// shows URLs (a message, a hint, a flag's value echoed by an error):
// "scheme://user:password@" becomes "scheme://user:xxxxx@", as
// url.URL.Redacted writes it. It does not need the URL to parse, and it
// hides too much rather than too little: whatever lies between the
// first ':' and the last '@' of the word after "://".
func redactURL(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			break
		}
		start := i + len("://")
		word := strings.IndexFunc(s[start:], func(r rune) bool { return strings.ContainsRune(" \t\r\n\"'`<>", r) })
		if word < 0 {
			word = len(s) - start
		}
		end := start + word
		auth := s[start:end]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if colon := strings.IndexByte(auth[:at], ':'); colon >= 0 {
				auth = auth[:colon+1] + "xxxxx" + auth[at:]
			}
		}
		b.WriteString(s[:start])
		b.WriteString(auth)
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

// storeName is the name of one token of a profile in a store: the
// profile for the user token, profile+".app" for the app token.
func storeName(profile string, kind tokenKind) string {
	if kind == appToken {
		return profile + ".app"
	}
	return profile
}

// tokenFile is the file of one token in a file store (store/filestore keeps
// name.json beside a name.lock).
func tokenFile(dir, profile string, kind tokenKind) string {
	return filepath.Join(dir, storeName(profile, kind)+".json")
}

// openStore opens the store of one token of the profile, without
// contacting it: a file store in a directory, or a Redis store whose key
// is the token's [storeName] under the URL's prefix. The caller closes
// what implements io.Closer.
func openStore(s *settings, kind tokenKind) (spotauth.TokenStore, error) {
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		return nil, err
	}
	if loc.kind == "redis" {
		st, err := redisstore.NewFromURL(loc.url, storeName(s.Profile, kind), nil)
		if err != nil {
			return nil, withHint(&configError{err}, "Check --store / %s (redis://[user:password@]host:port/db).", envStore)
		}
		return st, nil
	}
	st, err := filestore.New(loc.dir, storeName(s.Profile, kind), nil)
	if err != nil {
		return nil, withHint(err, "Make %s writable or choose another with --store or %s.", loc.dir, envConfigDir)
	}
	return st, nil
}

// quietRedis stops go-redis from logging its retries to stderr; the
// store's error already says what failed. Process-wide, so Main calls it,
// not Run.
func quietRedis() { redis.SetLogger(discardLogger{}) }

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// loadUser loads the user token of the profile. Not being logged in is an
// error wrapping [spotauth.ErrTokenNotFound] whose hint is the login line;
// other failures are [storeFailed] errors.
func loadUser(ctx context.Context, s *settings, st spotauth.TokenStore) (*spotauth.Token, error) {
	t, err := st.Load(ctx)
	switch {
	case errors.Is(err, spotauth.ErrTokenNotFound):
		return nil, notLoggedIn(s, spotauth.Scopes{})
	case err != nil:
		return nil, withHint(storeFailed("load", err), "Check the token store (%s), or log in again: %s", storeDesc(s), loginLine(s, spotauth.Scopes{}))
	}
	return t, nil
}

// storeFailed wraps the error of a store operation the CLI calls itself in
// a [spotauth.StoreError], as [spotauth.Config.EnsureToken] does: the
// failure is then the store's, whatever sentinel the store's error wraps
// (the file store calls a damaged file spotauth.ErrBadResponse).
func storeFailed(op string, err error) error {
	if err == nil || isA[*spotauth.StoreError](err) {
		return err
	}
	return &spotauth.StoreError{Op: op, Err: err}
}

// notLoggedIn is the error of a profile without a user token.
func notLoggedIn(s *settings, scopes spotauth.Scopes) error {
	return withHint(wrapf(spotauth.ErrTokenNotFound, "not logged in (profile %s)", s.Profile),
		"Run: %s", loginLine(s, scopes))
}

func storeDesc(s *settings) string {
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		return redactURL(s.Store)
	}
	return loc.String()
}

// boundedStoreOp runs a store operation that may wait for the store's lock
// (a save or delete), for at most storeOpTimeout: a lock
// held by a stopped process must not make the command wait forever.
func boundedStoreOp(ctx context.Context, op func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, storeOpTimeout)
	defer cancel()
	return op(ctx)
}

// storeOpTimeout bounds a save or delete that waits for the store's lock,
// as the library bounds a refresh.
const storeOpTimeout = 30 * time.Second
