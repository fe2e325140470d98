package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/ini"
)

// Environment variables spotauth reads besides tekore's credentials
// (spotauth.EnvClientID, spotauth.EnvClientSecret, spotauth.EnvRedirectURI).
// A config file may set them too.
const (
	envAccountsURL = "SPOTAUTH_ACCOUNTS_URL"
	envAPIURL      = "SPOTAUTH_API_URL"
	envProfile     = "SPOTAUTH_PROFILE"
	envStore       = "SPOTAUTH_STORE"
	envConfigDir   = "SPOTAUTH_CONFIG_DIR"
)

// Defaults of the settings.
const (
	defaultAccountsURL = spotauth.SpotifyAccountsURL
	defaultAPIURL      = "https://api.spotify.com"
	defaultProfile     = "default"
	defaultRedirectURI = "http://127.0.0.1/callback"
	configFileName     = "config.ini"
)

// globalFlags are the persistent flags of the root command.
type globalFlags struct {
	ClientID, ClientSecret, RedirectURI string
	ConfigFile, ConfigSection           string
	AccountsURL, APIURL                 string
	Profile, Store                      string
}

// settings is the configuration resolved from flags, then the profile's
// saved settings (its profile file, for the client ID, redirect URI,
// Accounts and API URLs and store), then the environment, then the config
// file, then defaults. source records where each came from ("flag
// --client-id", "profile work", "environment ...", "config file ...",
// "default"), for doctor and status.
type settings struct {
	ClientID, ClientSecret, RedirectURI string
	AccountsURL, APIURL                 string
	Profile, Store                      string
	ConfigDir                           string
	ConfigFile                          string   // the file read, "" if none
	Saved                               *profile // the profile file of Profile; nil if none
	source                              map[string]string
	layers                              *layers
}

// layers are the sources of the settings, kept so that [settings.forProfile]
// resolves another profile's settings from the same command line.
type layers struct {
	flags   *globalFlags
	changed func(name string) bool
	env     LookupEnv
	file    map[string]string // the config file's keys
}

// GoString keeps the client secret out of %#v.
func (s *settings) GoString() string { return "cli.settings{...}" }

func (s *settings) String() string { return "cli.settings{...}" }

// resolveSettings applies the precedence flags > the profile's saved
// settings > environment > config file > defaults. changed reports whether
// a flag was given on the command line.
func resolveSettings(g *globalFlags, changed func(name string) bool, env LookupEnv) (*settings, error) {
	s := &settings{source: map[string]string{}}

	s.ConfigDir = env.get(envConfigDir)
	if s.ConfigDir == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, withHint(&configError{fmt.Errorf("spotauth: no config directory: %w", err)},
				"Set %s to a directory for spotauth's tokens and configuration.", envConfigDir)
		}
		s.ConfigDir = filepath.Join(dir, "spotauth")
	}

	file := map[string]string{}
	section := g.ConfigSection
	if section == "" {
		section = "DEFAULT"
	}
	switch {
	case g.ConfigFile != "":
		m, err := readConfigFile(g.ConfigFile, section)
		if err != nil {
			return nil, withHint(err, "Fix or remove --config %s (a tekore-style INI file with %s=... under [%s]).", g.ConfigFile, spotauth.EnvClientID, section)
		}
		file, s.ConfigFile = m, g.ConfigFile
	default:
		name := filepath.Join(s.ConfigDir, configFileName)
		m, err := readConfigFile(name, section)
		switch {
		case err == nil:
			file, s.ConfigFile = m, name
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, errNoSection) && !changed("config-section"):
			// The default file need not have a [DEFAULT] section.
		default:
			return nil, withHint(err, "Fix or remove %s.", name)
		}
	}
	s.layers = &layers{flags: g, changed: changed, env: env, file: file}

	var profile string
	s.pick(&profile, "profile", g.Profile, envProfile, defaultProfile, nil)
	s.pick(&s.ClientSecret, "client-secret", g.ClientSecret, spotauth.EnvClientSecret, "", nil)
	if err := s.useProfile(profile); err != nil {
		return nil, err
	}
	return s, nil
}

// pick sets *dst from the first layer that has a value: the flag, saved
// (the profile's settings, by flag name), the environment, the config
// file, def.
func (s *settings) pick(dst *string, flagName, flagVal, envName, def string, saved map[string]string) {
	l := s.layers
	switch {
	case l.changed(flagName):
		*dst, s.source[flagName] = flagVal, "flag --"+flagName
	case saved != nil:
		*dst, s.source[flagName] = saved[flagName], "profile "+s.Profile
	case l.env.get(envName) != "":
		*dst, s.source[flagName] = l.env.get(envName), "environment "+envName
	case l.file[envName] != "":
		*dst, s.source[flagName] = l.file[envName], "config file "+s.ConfigFile
	default:
		*dst, s.source[flagName] = def, "default"
	}
}

// useProfile makes name the profile and resolves the settings its profile
// file may hold: a logged-in profile keeps the app and places of its login
// (a refresh token is bound to the client that issued it) unless flags say
// otherwise.
func (s *settings) useProfile(name string) error {
	if err := validProfile(name); err != nil {
		return err
	}
	s.Profile = name
	p, err := loadProfile(s.ConfigDir, name)
	if err != nil {
		return err
	}
	s.Saved = p
	var saved map[string]string
	if p.hasSettings() {
		saved = map[string]string{"client-id": p.ClientID, "redirect-uri": p.RedirectURI,
			"accounts-url": p.AccountsURL, "api-url": p.APIURL, "store": p.Store}
	}
	g := s.layers.flags
	s.pick(&s.ClientID, "client-id", g.ClientID, spotauth.EnvClientID, "", saved)
	s.pick(&s.RedirectURI, "redirect-uri", g.RedirectURI, spotauth.EnvRedirectURI, defaultRedirectURI, saved)
	s.pick(&s.AccountsURL, "accounts-url", g.AccountsURL, envAccountsURL, defaultAccountsURL, saved)
	s.pick(&s.APIURL, "api-url", g.APIURL, envAPIURL, defaultAPIURL, saved)
	s.pick(&s.Store, "store", g.Store, envStore, "", saved)
	s.AccountsURL = strings.TrimRight(s.AccountsURL, "/")
	s.APIURL = strings.TrimRight(s.APIURL, "/")
	return nil
}

// forProfile returns the settings of another profile, resolved from the
// same flags, environment and config file.
func (s *settings) forProfile(name string) (*settings, error) {
	c := *s
	c.source = maps.Clone(s.source)
	if err := c.useProfile(name); err != nil {
		return nil, err
	}
	return &c, nil
}

// validProfile accepts names usable as file names and Redis key parts.
func validProfile(p string) error {
	ok := p != "" && len(p) <= 64 && p[0] != '.' && p[0] != '-'
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			ok = false
		}
	}
	if !ok {
		return usageErrorf("Use letters, digits, '-', '_' and '.' (at most 64, not starting with '.' or '-'), e.g. --profile work.",
			"invalid profile name %q", p)
	}
	return nil
}

// configKeys are the keys spotauth reads from a config file: tekore's
// credentials and spotauth's own settings, under their environment names.
var configKeys = []string{
	spotauth.EnvClientID, spotauth.EnvClientSecret, spotauth.EnvRedirectURI,
	envAccountsURL, envAPIURL, envProfile, envStore,
}

// readConfigFile reads the keys spotauth uses from section of a
// tekore-style INI file, with the keys of DEFAULT as fallback, through the
// parser and key rule of spotauth.ReadConfigFile (Python configparser's
// syntax; a key spelt exactly wins over other spellings). Unlike
// ReadConfigFile it does not require a client ID, which may come from
// elsewhere, and reads spotauth's own settings too. Errors are
// configuration errors; they name the file, never a value.
func readConfigFile(name, section string) (map[string]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &configError{fmt.Errorf("spotauth: config file: %w", err)}
	}
	return parseConfig(data, name, section)
}

// parseConfig is [readConfigFile] for the file's content.
func parseConfig(data []byte, name, section string) (map[string]string, error) {
	f, err := ini.Parse(data)
	if err != nil {
		return nil, &configError{fmt.Errorf("spotauth: config file %s: %w", name, err)}
	}
	if !f.HasSection(section) {
		return nil, fmt.Errorf("%w: no section [%s] in %s", errNoSection, section, name)
	}
	out := map[string]string{}
	for _, key := range configKeys {
		v, ok, err := f.Lookup(section, key)
		if err != nil {
			return nil, &configError{fmt.Errorf("spotauth: config file %s: %w", name, err)}
		}
		if ok {
			out[key] = strings.TrimSpace(v)
		}
	}
	return out, nil
}

// errNoSection: a config file lacks the section asked for.
var errNoSection = fmt.Errorf("%w: config section not found", spotauth.ErrInvalidConfig)

// newConfig returns the spotauth.Config of the resolved settings. A
// missing client ID is an error wrapping [spotauth.ErrInvalidConfig] that
// says where to set one.
func newConfig(s *settings, hc *http.Client, now func() time.Time) (*spotauth.Config, error) {
	if s.ClientID == "" {
		return nil, withHint(fmt.Errorf("%w: no client ID", spotauth.ErrInvalidConfig),
			"Pass --client-id, set %s, or add %s = ... to %s.\nFind the client ID of your app at https://developer.spotify.com/dashboard.",
			spotauth.EnvClientID, spotauth.EnvClientID, configFilePathHint(s))
	}
	return &spotauth.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		RedirectURL:  s.RedirectURI,
		AccountsURL:  s.AccountsURL,
		HTTPClient:   hc,
		Clock:        nowClock(now),
	}, nil
}

// nowClock is a spotauth.Clock that reads now (tests set it) and uses the
// system's timers.
type nowClock func() time.Time

func (c nowClock) Now() time.Time { return c() }

func (nowClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

func configFilePathHint(s *settings) string {
	if s.ConfigFile != "" {
		return s.ConfigFile
	}
	return s.ConfigDir + "/" + configFileName
}
