package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/atomicfile"
)

// profile is what a login remembers of a profile, in its profile file
// (<config dir>/profiles/<name>.json, mode 0600): everything refreshing its
// token needs besides the client secret, and the account seen at login,
// which status shows without a network call. It holds no secret and no
// token: for a login with the client secret, SecretFrom says where the
// secret came from.
type profile struct {
	ClientID    string   `json:"client_id"`
	RedirectURI string   `json:"redirect_uri"`
	AccountsURL string   `json:"accounts_url"`
	APIURL      string   `json:"api_url"`
	Store       string   `json:"store"` // the --store value; "" is the file store in the config directory
	PKCE        bool     `json:"pkce"`
	SecretFrom  string   `json:"client_secret_from,omitempty"` // "flag --client-secret", "environment ...", "config file ..."
	Account     *account `json:"account,omitempty"`
}

// hasSettings reports whether p holds the settings of a login.
func (p *profile) hasSettings() bool { return p != nil && p.ClientID != "" }

// account returns the account seen at login, or nil.
func (p *profile) account() *account {
	if p == nil {
		return nil
	}
	return p.Account
}

// profileDir holds the profile files.
func profileDir(configDir string) string { return filepath.Join(configDir, "profiles") }

func profileFile(configDir, name string) string {
	return filepath.Join(profileDir(configDir), name+".json")
}

// loadProfile reads the profile file of name; nil if there is none.
func loadProfile(configDir, name string) (*profile, error) {
	path := profileFile(configDir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var p profile
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	if err != nil {
		return nil, withHint(&configError{fmt.Errorf("spotauth: profile file %s: %w", path, err)},
			"Remove it and log in again: spotauth login --profile %s", name)
	}
	return &p, nil
}

// saveProfile writes the profile file of a login of s that got tok, as
// acct (nil if unknown).
func saveProfile(s *settings, tok *spotauth.Token, acct *account) error {
	p := &profile{
		ClientID:    s.ClientID,
		RedirectURI: s.RedirectURI,
		AccountsURL: s.AccountsURL,
		APIURL:      s.APIURL,
		Store:       s.Store,
		PKCE:        tok.PKCE,
		Account:     acct,
	}
	if !tok.PKCE {
		p.SecretFrom = s.source["client-secret"]
	}
	return writeProfile(s.ConfigDir, s.Profile, p)
}

// writeProfile writes p as the profile file of name, atomically.
func writeProfile(configDir, name string, p *profile) error {
	if err := os.MkdirAll(profileDir(configDir), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(profileFile(configDir, name), append(data, '\n'), 0o600)
}

// removeProfile removes the profile file of s's profile and the records
// of its short tokens.
func removeProfile(s *settings) error {
	for _, path := range []string{profileFile(s.ConfigDir, s.Profile), shortTokenFile(s, userToken), shortTokenFile(s, appToken)} {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// knownProfiles lists, sorted, s's profile and every profile with a
// profile file in the config directory or a token in s's file store. A Redis store is not
// listed: its profiles are found through their profile files.
func knownProfiles(s *settings) ([]string, error) {
	set := map[string]bool{s.Profile: true}
	dirs := []string{profileDir(s.ConfigDir)}
	if loc, err := parseStore(s.Store, s.ConfigDir); err == nil && loc.kind == "file" {
		dirs = append(dirs, loc.dir)
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, withHint(fmt.Errorf("spotauth: %w", err), "Check that %s is readable.", dir)
		}
		for _, e := range entries {
			p, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok || e.IsDir() {
				continue
			}
			p = strings.TrimSuffix(p, ".app")
			if validProfile(p) == nil {
				set[p] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}
