package cli

// This file is the only one that knows the store packages: it parses
// --store and opens the file or Redis store of a profile.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
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
// dir; a URL whose scheme is unix or starts with redis (redis://,
// rediss://, redis+sentinel://, redis+cluster://, ...) the Redis store,
// whose package checks the rest ([redisstore.NewFromURL]).
func parseStore(spec, configDir string) (storeLocation, error) {
	scheme, _, isURL := strings.Cut(spec, "://")
	switch {
	case spec == "":
		return storeLocation{kind: "file", dir: configDir}, nil
	case isURL && (scheme == "unix" || strings.HasPrefix(scheme, "redis")):
		return storeLocation{kind: "redis", url: spec}, nil
	case strings.HasPrefix(spec, "file:"):
		u, err := url.Parse(spec)
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return storeLocation{}, usageErrorf("Use --store file:///absolute/dir or a plain path.", "invalid --store %q", redactURL(spec))
		}
		return storeLocation{kind: "file", dir: filepath.FromSlash(u.Path)}, nil
	case strings.Contains(spec, "://"):
		return storeLocation{}, usageErrorf("Use a directory, file:///dir or a Redis URL:\n"+redisURLForms, "unsupported --store %q", redactURL(spec))
	default:
		return storeLocation{kind: "file", dir: spec}, nil
	}
}

// redisURLForms is the hint for a --store Redis URL spotauth cannot use.
const redisURLForms = `  redis://[user:password@]host:port[/db]   (rediss:// for TLS)
  unix://[user:password@]/path/to/redis.sock?db=N
  redis+sentinel://host:port[/db]?master_name=NAME[&addr=host2:port]
  redis+cluster://host:port?addr=host2:port[&addr=...]
Parameters: prefix=, lease_ttl= (such as 10s) and go-redis's (dial_timeout=,
read_timeout=, max_retries=, ...). The profile is chosen with --profile, not
in the URL.`

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
// is the token's [storeName] under the URL's prefix. Tokens are sealed
// with sealer if it is not nil ([storeSealer]). The caller closes what
// implements io.Closer.
func openStore(s *settings, kind tokenKind, sealer storecrypt.Sealer) (spotauth.TokenStore, error) {
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		return nil, err
	}
	if loc.kind == "redis" {
		st, err := redisstore.NewFromURL(loc.url, storeName(s.Profile, kind), &redisstore.Options{Sealer: sealer})
		if err != nil {
			// NewFromURL contacts nothing: its errors are about the URL.
			return nil, withHint(&usageError{err}, "Check --store / %s; the forms spotauth accepts:\n%s", envStore, redisURLForms)
		}
		return st, nil
	}
	st, err := filestore.New(loc.dir, storeName(s.Profile, kind), &filestore.Options{Sealer: sealer})
	if err != nil {
		return nil, withHint(err, "Make %s writable or choose another with --store or %s.", loc.dir, envConfigDir)
	}
	return st, nil
}

// storeSealer returns the Sealer of the key in SPOTAUTH_STORE_KEY (with
// the keys for opening only in SPOTAUTH_STORE_KEY_OLD), read with env; nil
// when no key is set, and tokens are stored in clear. A key that is not
// one is a configuration error, which never shows the key.
func storeSealer(env LookupEnv) (storecrypt.Sealer, error) {
	if env == nil {
		return nil, nil
	}
	sealer, err := storecrypt.FromEnv(env)
	switch {
	case errors.Is(err, storecrypt.ErrNoKey):
		return nil, nil
	case err != nil:
		return nil, withHint(&configError{err},
			"Set %s to 32 random bytes in base64 (openssl rand -base64 32), and %s_OLD to earlier keys, comma-separated.", storecrypt.EnvKey, storecrypt.EnvKey)
	}
	return sealer, nil
}

// sealedStore is a store that tells whether its token is encrypted at
// rest, as both of spotauth's stores do.
type sealedStore interface {
	Sealed(ctx context.Context) (bool, error)
}

// encryptedText is the status line saying whether the stored token is
// encrypted at rest.
func encryptedText(sealed bool) string {
	if sealed {
		return "yes (" + storecrypt.EnvKey + ")"
	}
	return "no (with " + storecrypt.EnvKey + " set, the token is encrypted at its next save)"
}

// checkEncryption is doctor's finding on whether the profile's token is
// encrypted at rest: a warning for a token in clear in Redis, which
// whoever reads the server, a dump or a replica can read too.
func checkEncryption(ctx context.Context, s *settings, env LookupEnv, open storeOpener) finding {
	sealer, err := storeSealer(env)
	if err != nil {
		_, hint := classify(err)
		return finding{levelFail, "store key: " + err.Error(), hint, err}
	}
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		return finding{level: levelOK, what: "token encryption not checked (no usable token store)"}
	}
	// A file store is opened only if it has a token file: opening it
	// would create its directory.
	stored := loc.kind == "redis"
	if !stored {
		_, err := os.Lstat(tokenFile(loc.dir, s.Profile, userToken))
		stored = err == nil
	}
	sealed, known := false, false
	if stored {
		if st, err := open(s, userToken); err == nil {
			if ss, ok := st.(sealedStore); ok {
				ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				sealed, err = ss.Sealed(ctx)
				cancel()
				known = err == nil
			}
		}
	}
	fix := fmt.Sprintf("Set %s (generate a key with: openssl rand -base64 32) wherever spotauth runs on this store; the token is encrypted at its next save (spotauth refresh).", storecrypt.EnvKey)
	switch {
	case known && sealed:
		return finding{level: levelOK, what: fmt.Sprintf("the token of profile %s is encrypted at rest (%s)", s.Profile, storecrypt.EnvKey)}
	case !known && sealer != nil:
		return finding{level: levelOK, what: fmt.Sprintf("%s is set: tokens are encrypted when saved", storecrypt.EnvKey)}
	case known && sealer != nil:
		return finding{level: levelWarn, what: fmt.Sprintf("the token of profile %s is still stored in clear", s.Profile),
			fix: "Run spotauth refresh to save it encrypted with " + storecrypt.EnvKey + "."}
	case loc.kind == "redis":
		return finding{level: levelWarn, what: "tokens are stored in clear in Redis (" + storecrypt.EnvKey + " is not set)", fix: fix}
	}
	return finding{level: levelOK, what: "tokens are stored in clear, in files only you can read (" + storecrypt.EnvKey + " is not set)"}
}

// quietRedis stops go-redis from logging its retries to stderr; the
// store's error already says what failed. Process-wide, so Main calls it,
// not Run.
func quietRedis() { redis.SetLogger(discardLogger{}) }

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// loadUser loads the user token of the profile. Not being logged in is an
// error wrapping [spotauth.ErrTokenNotFound] whose hint is the login line;
// other failures are [loadFailed] errors.
func loadUser(ctx context.Context, s *settings, st spotauth.TokenStore) (*spotauth.Token, error) {
	t, err := st.Load(ctx)
	switch {
	case errors.Is(err, spotauth.ErrTokenNotFound):
		return nil, notLoggedIn(s, spotauth.Scopes{})
	case err != nil:
		return nil, loadFailed(s, err)
	}
	return t, nil
}

// openUser opens the profile's store and loads its user token, as
// [loadUser] does, warning on stderr when the authorization ends soon.
func openUser(ctx context.Context, s *settings, open storeOpener, io *IOStreams, now time.Time) (spotauth.TokenStore, *spotauth.Token, error) {
	st, err := open(s, userToken)
	if err != nil {
		return nil, nil, err
	}
	t, err := loadUser(ctx, s, st)
	if err != nil {
		return nil, nil, err
	}
	warnAuthorizationEnd(io, now, s, t)
	return st, t, nil
}

// loadFailed is the error of a token of the profile that could not be
// loaded (not a missing one), a [storeFailed] error with what to do.
func loadFailed(s *settings, err error) error {
	err = storeFailed("load", err)
	switch {
	case errors.Is(err, storecrypt.ErrNoKey), errors.Is(err, storecrypt.ErrWrongKey):
		return withHint(err, "The token is encrypted with a key spotauth was not given: set %s to that key (keys for opening only go in %s_OLD, comma-separated), or log in again: %s",
			storecrypt.EnvKey, storecrypt.EnvKey, loginLine(s, spotauth.Scopes{}))
	case errors.Is(err, fs.ErrPermission):
		return withHint(err, "You may not read the token file: give it back to yourself (chown, then chmod 600), or remove it and log in again: %s", loginLine(s, spotauth.Scopes{}))
	case errors.Is(err, filestore.ErrCorrupt), errors.Is(err, redisstore.ErrCorrupt), errors.Is(err, storecrypt.ErrDecrypt):
		return withHint(err, "The stored token is damaged. Log in again, which replaces it: %s\nor remove it: spotauth logout --profile %s", loginLine(s, spotauth.Scopes{}), s.Profile)
	}
	return withHint(err, "Check the token store (%s), or log in again: %s", storeDesc(s), loginLine(s, spotauth.Scopes{}))
}

// storeFailed wraps the error of a store operation the CLI calls itself in
// a [spotauth.StoreError], as [spotauth.Config.EnsureToken] does: the
// failure is then the store's, whatever sentinel the store's error wraps.
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
