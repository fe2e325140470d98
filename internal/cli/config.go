package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/ini"
)

// Environment variables spotauth reads. The SPOTIFY_ ones are tekore's.
const (
	envClientID     = "SPOTIFY_CLIENT_ID"
	envClientSecret = "SPOTIFY_CLIENT_SECRET"
	envRedirectURI  = "SPOTIFY_REDIRECT_URI"
	envAccountsURL  = "SPOTAUTH_ACCOUNTS_URL"
	envAPIURL       = "SPOTAUTH_API_URL"
	envProfile      = "SPOTAUTH_PROFILE"
	envStore        = "SPOTAUTH_STORE"
	envConfigDir    = "SPOTAUTH_CONFIG_DIR"
)

// Defaults of the settings.
const (
	defaultAccountsURL = "https://accounts.spotify.com"
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

// settings is the configuration resolved from flags, then the environment,
// then the config file, then defaults. source records where each came from
// ("flag", "env", "config file", "default"), for doctor and status.
type settings struct {
	ClientID, ClientSecret, RedirectURI string
	AccountsURL, APIURL                 string
	Profile, Store                      string
	ConfigDir                           string
	ConfigFile                          string // the file read, "" if none
	source                              map[string]string
}

// GoString keeps the client secret out of %#v.
func (s *settings) GoString() string { return "cli.settings{...}" }

func (s *settings) String() string { return "cli.settings{...}" }

// resolveSettings applies the precedence flags > environment > config file
// > defaults. changed reports whether a flag was given on the command line.
func resolveSettings(g *globalFlags, changed func(name string) bool, env LookupEnv) (*settings, error) {
	s := &settings{source: map[string]string{}}

	s.ConfigDir = env.get(envConfigDir)
	if s.ConfigDir == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, withCode(ExitConfig, fmt.Errorf("spotauth: no config directory: %w", err),
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
		m, err := readINIFile(g.ConfigFile, section)
		if err != nil {
			return nil, withCode(ExitConfig, err, "Fix or remove --config %s (a tekore-style INI file with SPOTIFY_CLIENT_ID=... under [%s]).", g.ConfigFile, section)
		}
		file, s.ConfigFile = m, g.ConfigFile
	default:
		name := filepath.Join(s.ConfigDir, configFileName)
		m, err := readINIFile(name, section)
		switch {
		case err == nil:
			file, s.ConfigFile = m, name
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, errNoSection) && !changed("config-section"):
			// The default file need not have a [DEFAULT] section.
		default:
			return nil, withCode(ExitConfig, err, "Fix or remove %s.", name)
		}
	}

	pick := func(dst *string, flagName, flagVal, envName, def string) {
		switch {
		case changed(flagName):
			*dst, s.source[flagName] = flagVal, "flag --"+flagName
		case env.get(envName) != "":
			*dst, s.source[flagName] = env.get(envName), "environment "+envName
		case file[envName] != "":
			*dst, s.source[flagName] = file[envName], "config file "+s.ConfigFile
		default:
			*dst, s.source[flagName] = def, "default"
		}
	}
	pick(&s.ClientID, "client-id", g.ClientID, envClientID, "")
	pick(&s.ClientSecret, "client-secret", g.ClientSecret, envClientSecret, "")
	pick(&s.RedirectURI, "redirect-uri", g.RedirectURI, envRedirectURI, defaultRedirectURI)
	pick(&s.AccountsURL, "accounts-url", g.AccountsURL, envAccountsURL, defaultAccountsURL)
	pick(&s.APIURL, "api-url", g.APIURL, envAPIURL, defaultAPIURL)
	pick(&s.Profile, "profile", g.Profile, envProfile, defaultProfile)
	pick(&s.Store, "store", g.Store, envStore, "")
	s.AccountsURL = strings.TrimRight(s.AccountsURL, "/")
	s.APIURL = strings.TrimRight(s.APIURL, "/")
	if err := validProfile(s.Profile); err != nil {
		return nil, err
	}
	return s, nil
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

// errNoSection: the INI file lacks the requested section.
var errNoSection = errors.New("spotauth: no such section")

// readINIFile reads section of a tekore-style INI file, with the keys of
// DEFAULT as fallback, through the same reader as spotauth.ReadConfigFile
// (Python configparser's rules). Keys are upper-cased, as configparser
// compares them case-insensitively; a key spelled exactly in upper case
// wins over other spellings, as in tekore.
func readINIFile(name, section string) (map[string]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("spotauth: config file: %w", err)
	}
	m, err := parseINI(data, section)
	if err != nil {
		return nil, fmt.Errorf("spotauth: config file %s: %w", name, err)
	}
	return m, nil
}

// parseINI parses data and returns the keys of section, with those of
// DEFAULT as fallback. Values never appear in its errors.
func parseINI(data []byte, section string) (map[string]string, error) {
	f, err := ini.Parse(data)
	if err != nil {
		return nil, err
	}
	if !f.HasSection(section) {
		return nil, fmt.Errorf("%w [%s]", errNoSection, section)
	}
	out := map[string]string{}
	exact := map[string]bool{}
	for _, k := range f.Keys(section) {
		v, _, err := f.Get(section, k)
		if err != nil {
			return nil, err
		}
		uk := strings.ToUpper(k)
		if _, seen := out[uk]; seen && (exact[uk] || k != uk) {
			continue
		}
		out[uk], exact[uk] = strings.TrimSpace(v), k == uk
	}
	return out, nil
}

// config returns the spotauth.Config of the resolved settings. needID
// makes a missing client ID an error.
func (f *Factory) config(s *settings) (*spotauth.Config, error) {
	if s.ClientID == "" {
		return nil, withCode(ExitConfig, errors.New("spotauth: no client ID"),
			"Pass --client-id, set %s, or add %s = ... to %s.\nFind the client ID of your app at https://developer.spotify.com/dashboard.",
			envClientID, envClientID, configFilePathHint(s))
	}
	return &spotauth.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		RedirectURL:  s.RedirectURI,
		Endpoint:     spotauth.NewEndpoint(s.AccountsURL),
		HTTPClient:   f.httpClient(),
		Now:          f.Now,
	}, nil
}

func configFilePathHint(s *settings) string {
	if s.ConfigFile != "" {
		return s.ConfigFile
	}
	return s.ConfigDir + "/" + configFileName
}
