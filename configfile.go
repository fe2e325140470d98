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

// DefaultConfigSection is the section [ReadConfigFile] and
// [WriteConfigFile] use when given "", as tekore's config_from_file does.
const DefaultConfigSection = ini.DefaultSection

// ReadConfigFile reads credentials from a tekore config file: an INI file
// as Python's configparser reads it, with the keys SPOTIFY_CLIENT_ID,
// SPOTIFY_CLIENT_SECRET, SPOTIFY_REDIRECT_URI and SPOTIFY_USER_REFRESH in
// the given section ("" means "DEFAULT", whose keys every section
// inherits):
//
//	[DEFAULT]
//	SPOTIFY_CLIENT_ID = 0123456789abcdef
//	SPOTIFY_CLIENT_SECRET = fedcba9876543210
//	SPOTIFY_REDIRECT_URI = http://127.0.0.1/callback
//	SPOTIFY_USER_REFRESH = AQC...
//
// Keys are matched case-sensitively first, as tekore (which sets
// configparser's optionxform to str) matches them; unlike tekore, a key
// spelt in another case is accepted when no exact one exists. Section names are
// case-sensitive. "%%" stands for "%" and "%(key)s" for another key's value,
// as with configparser's default interpolation.
//
// A missing section is an error wrapping [ErrConfigSection] that names it;
// a missing or empty client ID is an error wrapping [ErrNoClientID] that
// names the key and the section. Errors name the file, never its content.
func ReadConfigFile(path, section string) (Credentials, error) {
	if section == "" {
		section = DefaultConfigSection
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("spotauth: read config: %w", err)
	}
	f, err := ini.Parse(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("spotauth: config file %s: %w", path, err)
	}
	if !f.HasSection(section) {
		return Credentials{}, fmt.Errorf("%w: no section [%s] in %s (sections: %s)",
			ErrConfigSection, section, path, sectionList(f))
	}
	var c Credentials
	for _, kv := range []struct {
		key string
		dst *string
	}{
		{EnvClientID, &c.ClientID},
		{EnvClientSecret, &c.ClientSecret},
		{EnvRedirectURI, &c.RedirectURI},
		{EnvUserRefresh, &c.RefreshToken},
	} {
		key := configKey(f, section, kv.key)
		v, _, err := f.Get(section, key)
		if err != nil {
			return Credentials{}, fmt.Errorf("spotauth: config file %s: %w", path, err)
		}
		*kv.dst = strings.TrimSpace(v)
	}
	if c.ClientID == "" {
		return Credentials{}, fmt.Errorf("%w: key %s is missing or empty in section [%s] of %s",
			ErrNoClientID, EnvClientID, section, path)
	}
	return c, nil
}

// configKey returns the key of the section that spells name: name itself if
// present, else the one key equal to it without regard to case, else name.
func configKey(f *ini.File, section, name string) string {
	keys := f.Keys(section)
	var fold []string
	for _, k := range keys {
		if k == name {
			return name
		}
		if strings.EqualFold(k, name) {
			fold = append(fold, k)
		}
	}
	if len(fold) == 1 {
		return fold[0]
	}
	return name
}

func sectionList(f *ini.File) string {
	names := append([]string{DefaultConfigSection}, f.Sections()...)
	return strings.Join(names, ", ")
}

// WriteConfigFile writes c to the section of a tekore config file ("" means
// "DEFAULT"), creating the file or the section if needed. Like tekore's
// config_to_file, it leaves other sections and keys alone and skips empty
// fields of c, keeping the values the file has for them. Unlike
// configparser, it also keeps comments and formatting. The keys are written
// as tekore names them ([EnvClientID] and the others), replacing a
// differently capitalised spelling, and '%' is written "%%", so that tekore
// reads the values back unchanged.
//
// Values must be single lines without surrounding white space.
// The file is replaced atomically and gets mode 0600, since it holds
// secrets. A file that does not parse is left untouched, with an error.
func WriteConfigFile(path, section string, c Credentials) error {
	if section == "" {
		section = DefaultConfigSection
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
		{EnvRedirectURI, c.RedirectURI},
		{EnvUserRefresh, c.RefreshToken},
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
