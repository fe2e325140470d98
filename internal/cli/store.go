package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
)

// tokenKind separates the two tokens a profile holds.
type tokenKind string

const (
	userToken tokenKind = "user" // from login: refreshable, carries scopes
	appToken  tokenKind = "app"  // from client credentials
)

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
			return storeLocation{}, usageErrorf("Use --store file:///absolute/dir or a plain path.", "invalid --store %q", spec)
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

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
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

// openStore opens the store of one token of the profile.
func (f *Factory) openStore(ctx context.Context, s *settings, kind tokenKind) (spotauth.TokenStore, error) {
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		return nil, err
	}
	switch loc.kind {
	case "redis":
		st, err := f.openRedisStore(ctx, loc.url, s.Profile, kind)
		if err != nil {
			return nil, withCode(ExitConfig, err, "Check --store / %s (redis://[user:password@]host:port/db).", envStore)
		}
		return st, nil
	default:
		st, err := filestore.New(loc.dir, storeName(s.Profile, kind), nil)
		if err != nil {
			return nil, withCode(ExitError, err,
				"Make %s writable or choose another with --store or %s.", loc.dir, envConfigDir)
		}
		return st, nil
	}
}

// loadUser loads the user token of the profile; not logged in gives an
// ExitAuth error with the login line.
func (f *Factory) loadUser(ctx context.Context, s *settings, st spotauth.TokenStore) (*spotauth.Token, error) {
	t, err := st.Load(ctx)
	if errors.Is(err, spotauth.ErrTokenNotFound) {
		return nil, withCode(ExitAuth, fmt.Errorf("spotauth: not logged in (profile %s)", s.Profile),
			"Run: %s", loginLine(s, spotauth.Scopes{}))
	}
	if err != nil {
		return nil, withCode(storeErrCode(err), err, "Check the token store (%s), or log in again: %s", storeDesc(s), loginLine(s, spotauth.Scopes{}))
	}
	f.warnAuthorizationEnd(s, t)
	return t, nil
}

// storeErrCode is the exit code of a store failure: network when the
// store (Redis) could not be reached, else a plain error (a damaged or
// unreadable file).
func storeErrCode(err error) int {
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) {
		return ExitNetwork
	}
	return ExitError
}

func storeDesc(s *settings) string {
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		return s.Store
	}
	return loc.String()
}

// boundedStoreOp runs a store operation that may wait for the store's lock
// (a save or delete), for at most spotauth.DefaultRefreshTimeout: a lock
// held by a stopped process must not make the command wait forever.
func boundedStoreOp(ctx context.Context, op func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, spotauth.DefaultRefreshTimeout)
	defer cancel()
	return op(ctx)
}

// busyHint returns the hint of a *spotauth.LeaseBusyError in err (what to
// do about the holder of the store's lock), or else fallback.
func busyHint(err error, fallback string) string {
	var busy *spotauth.LeaseBusyError
	if errors.As(err, &busy) && busy.Hint != "" {
		return busy.Hint
	}
	return fallback
}
