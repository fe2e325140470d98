package spotauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode"

	"github.com/spotauth/spotauth/internal/atomicfile"
	"github.com/spotauth/spotauth/internal/ini"
)

// Names of the environment variables, and of the config file keys, that
// hold an app's settings. They are tekore's.
const (
	EnvClientID     = "SPOTIFY_CLIENT_ID"
	EnvClientSecret = "SPOTIFY_CLIENT_SECRET"
	EnvRedirectURI  = "SPOTIFY_REDIRECT_URI"
	EnvUserRefresh  = "SPOTIFY_USER_REFRESH"
)

// ConfigFromEnv reads an app's settings from tekore's environment variables
// (EnvClientID and the others), as tekore's config_from_environment does: a
// Config, and a token holding SPOTIFY_USER_REFRESH's refresh token (nil if
// unset). An empty client ID is an error wrapping [ErrInvalidConfig].
func ConfigFromEnv() (*Config, *Token, error) {
	get := func(name string) string { return strings.TrimSpace(os.Getenv(name)) }
	c, t := settings(get(EnvClientID), get(EnvClientSecret), get(EnvRedirectURI), get(EnvUserRefresh))
	if c.ClientID == "" {
		return nil, nil, fmt.Errorf("%w: environment variable %s is unset or empty", ErrInvalidConfig, EnvClientID)
	}
	return c, t, nil
}

// settings builds the Config and the refresh-only token of tekore's four
// settings. The token is marked PKCE when there is no client secret, so
// that its refresh authenticates with the client ID alone; having no access
// token, it is never [Token.Valid].
func settings(id, secret, redirect, refresh string) (*Config, *Token) {
	c := &Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect}
	if refresh == "" {
		return c, nil
	}
	return c, &Token{RefreshToken: refresh, PKCE: secret == ""}
}

// ReadConfigFile reads an app's settings from a section of a tekore config
// file ("" means DEFAULT, whose keys every section inherits), as tekore's
// config_from_file does, and returns them as [ConfigFromEnv] does. The file is
// an INI file as Python's configparser reads it (with %-interpolation), with
// the keys SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_REDIRECT_URI and
// SPOTIFY_USER_REFRESH; a key in another case is accepted when no exact one
// exists. A missing section or client ID is an error wrapping
// [ErrInvalidConfig]. Errors name the file, never its content.
func ReadConfigFile(path, section string) (*Config, *Token, error) {
	if section == "" {
		section = ini.DefaultSection
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("spotauth: read config: %w", err)
	}
	f, err := ini.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("spotauth: config file %s: %w", path, err)
	}
	if !f.HasSection(section) {
		return nil, nil, fmt.Errorf("%w: no section [%s] in %s (sections: %s)",
			ErrInvalidConfig, section, path, sectionList(f))
	}
	var v [4]string
	for i, key := range [...]string{EnvClientID, EnvClientSecret, EnvRedirectURI, EnvUserRefresh} {
		s, _, err := f.Lookup(section, key)
		if err != nil {
			return nil, nil, fmt.Errorf("spotauth: config file %s: %w", path, err)
		}
		v[i] = strings.TrimSpace(s)
	}
	c, t := settings(v[0], v[1], v[2], v[3])
	if c.ClientID == "" {
		return nil, nil, fmt.Errorf("%w: key %s is missing or empty in section [%s] of %s",
			ErrInvalidConfig, EnvClientID, section, path)
	}
	return c, t, nil
}

func sectionList(f *ini.File) string {
	names := append([]string{ini.DefaultSection}, f.Sections()...)
	return strings.Join(names, ", ")
}

// WriteConfigFile writes c's client ID, secret and redirect URI, and t's
// refresh token if t is not nil, to a section of a tekore config file (""
// means DEFAULT), as tekore's config_to_file does: empty values are skipped,
// other sections and keys are kept, and so are comments and formatting. Values
// must be single lines. The file is replaced atomically, with mode 0600.
func WriteConfigFile(path, section string, c *Config, t *Token) error {
	if section == "" {
		section = ini.DefaultSection
	}
	var refresh string
	if t != nil {
		refresh = t.RefreshToken
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spotauth: write config: %w", err)
	}
	f, err := ini.Parse(data)
	if err != nil {
		return fmt.Errorf("spotauth: config file %s: %w", path, err)
	}
	for _, kv := range []struct{ key, value string }{
		{EnvClientID, c.ClientID},
		{EnvClientSecret, c.ClientSecret},
		{EnvRedirectURI, c.RedirectURL},
		{EnvUserRefresh, refresh},
	} {
		if kv.value == "" {
			continue
		}
		if strings.ContainsFunc(kv.value, unicode.IsControl) {
			return fmt.Errorf("spotauth: write config %s: value of %s holds a line break or control character", path, kv.key)
		}
		old := kv.key
		for _, k := range f.OwnKeys(section) {
			if k != kv.key && strings.EqualFold(k, kv.key) {
				old = k
			}
		}
		if err := f.Replace(section, old, kv.key, kv.value); err != nil {
			return fmt.Errorf("spotauth: write config %s: section [%s]: %w", path, section, err)
		}
	}
	return atomicfile.WriteFile(path, f.Bytes(), 0o600)
}
