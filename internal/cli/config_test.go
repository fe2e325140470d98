package cli

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
)

func TestResolveSettingsPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ini := filepath.Join(dir, "tekore.ini")
	if err := os.WriteFile(ini, []byte("[DEFAULT]\nSPOTIFY_CLIENT_ID = file-id\nspotify_client_secret: file-secret\nSPOTIFY_REDIRECT_URI=http://127.0.0.1:9/file\n\n[work]\nSPOTIFY_CLIENT_ID = work-id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		flags   globalFlags
		changed []string
		env     map[string]string
		want    settings
		source  map[string]string
	}{
		{
			name: "defaults",
			env:  map[string]string{envConfigDir: dir},
			want: settings{RedirectURI: defaultRedirectURI, AccountsURL: defaultAccountsURL, APIURL: defaultAPIURL, Profile: "default"},
		},
		{
			name:  "file",
			flags: globalFlags{ConfigFile: ini},
			env:   map[string]string{envConfigDir: dir},
			want:  settings{ClientID: "file-id", ClientSecret: "file-secret", RedirectURI: "http://127.0.0.1:9/file", AccountsURL: defaultAccountsURL, APIURL: defaultAPIURL, Profile: "default"},
		},
		{
			name:  "section inherits DEFAULT",
			flags: globalFlags{ConfigFile: ini, ConfigSection: "work"},
			env:   map[string]string{envConfigDir: dir},
			want:  settings{ClientID: "work-id", ClientSecret: "file-secret", RedirectURI: "http://127.0.0.1:9/file", AccountsURL: defaultAccountsURL, APIURL: defaultAPIURL, Profile: "default"},
		},
		{
			name:  "env over file",
			flags: globalFlags{ConfigFile: ini},
			env: map[string]string{envConfigDir: dir, spotauth.EnvClientID: "env-id", envAccountsURL: "http://127.0.0.1:1/", envAPIURL: "http://127.0.0.1:2",
				envProfile: "p1", envStore: "/tmp/x", spotauth.EnvRedirectURI: "http://127.0.0.1/env"},
			want: settings{ClientID: "env-id", ClientSecret: "file-secret", RedirectURI: "http://127.0.0.1/env", AccountsURL: "http://127.0.0.1:1", APIURL: "http://127.0.0.1:2", Profile: "p1", Store: "/tmp/x"},
		},
		{
			name:    "flags over env",
			flags:   globalFlags{ConfigFile: ini, ClientID: "flag-id", ClientSecret: "", Profile: "p2", AccountsURL: "http://127.0.0.1:3"},
			changed: []string{"client-id", "client-secret", "profile", "accounts-url"},
			env:     map[string]string{envConfigDir: dir, spotauth.EnvClientID: "env-id", spotauth.EnvClientSecret: "env-secret", envProfile: "p1"},
			want:    settings{ClientID: "flag-id", ClientSecret: "", RedirectURI: "http://127.0.0.1:9/file", AccountsURL: "http://127.0.0.1:3", APIURL: defaultAPIURL, Profile: "p2"},
			source:  map[string]string{"client-id": "flag --client-id", "client-secret": "flag --client-secret", "redirect-uri": "config file " + ini},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := func(n string) bool {
				for _, c := range tt.changed {
					if c == n {
						return true
					}
				}
				return false
			}
			s, err := resolveSettings(&tt.flags, changed, MapEnv(tt.env))
			if err != nil {
				t.Fatalf("resolveSettings() error %v", err)
			}
			got := *s
			got.source, got.ConfigDir, got.ConfigFile, got.layers = nil, "", "", nil
			tt.want.source = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resolveSettings() = %+v; want %+v", got, tt.want)
			}
			for k, v := range tt.source {
				if s.source[k] != v {
					t.Errorf("source[%q] = %q; want %q", k, s.source[k], v)
				}
			}
		})
	}
}

// A profile's saved settings come after flags and before the environment
// and the config file; the secret is never among them.
func TestResolveSettingsProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	saved := &profile{ClientID: "saved-id", RedirectURI: "http://127.0.0.1:5/saved", AccountsURL: "http://127.0.0.1:6", APIURL: "http://127.0.0.1:7", Store: "/saved/store", SecretFrom: "environment " + spotauth.EnvClientSecret}
	if err := writeProfile(dir, "work", saved); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, configFileName), []byte("[DEFAULT]\nSPOTIFY_CLIENT_ID=file-id\nSPOTIFY_CLIENT_SECRET=file-secret\n"), 0o600)
	env := MapEnv(map[string]string{envConfigDir: dir, envProfile: "work", spotauth.EnvClientID: "env-id", envStore: "redis://127.0.0.1:1"})

	s, err := resolveSettings(&globalFlags{}, func(string) bool { return false }, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "saved-id" || s.RedirectURI != saved.RedirectURI || s.AccountsURL != saved.AccountsURL || s.APIURL != saved.APIURL || s.Store != saved.Store {
		t.Errorf("settings of profile work = %+v; want the saved ones", *s)
	}
	if s.ClientSecret != "file-secret" || s.source["client-secret"] != "config file "+filepath.Join(dir, configFileName) {
		t.Errorf("client secret from %q; want the config file's", s.source["client-secret"])
	}
	for _, k := range []string{"client-id", "redirect-uri", "accounts-url", "api-url", "store"} {
		if s.source[k] != "profile work" {
			t.Errorf("source[%q] = %q; want %q", k, s.source[k], "profile work")
		}
	}

	s, err = resolveSettings(&globalFlags{ClientID: "flag-id"}, func(n string) bool { return n == "client-id" }, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "flag-id" || s.source["client-id"] != "flag --client-id" || s.Store != saved.Store {
		t.Errorf("with --client-id: client ID %q from %q, store %q; want the flag's, and the saved store", s.ClientID, s.source["client-id"], s.Store)
	}

	other, err := s.forProfile("other")
	if err != nil {
		t.Fatal(err)
	}
	if other.ClientID != "flag-id" || other.Store != "redis://127.0.0.1:1" || other.source["store"] != "environment "+envStore || other.Saved != nil {
		t.Errorf("profile other: client ID %q, store %q from %q; want the flag's and the environment's", other.ClientID, other.Store, other.source["store"])
	}
}

func TestResolveSettingsDefaultConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, configFileName), []byte("[DEFAULT]\nSPOTIFY_CLIENT_ID=from-default-file\nSPOTAUTH_ACCOUNTS_URL=http://127.0.0.1:7\n"), 0o600)
	s, err := resolveSettings(&globalFlags{}, func(string) bool { return false }, MapEnv(map[string]string{envConfigDir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "from-default-file" || s.AccountsURL != "http://127.0.0.1:7" {
		t.Errorf("resolveSettings() = %q, %q; want the default config file's values", s.ClientID, s.AccountsURL)
	}
}

func TestResolveSettingsErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ini")
	os.WriteFile(bad, []byte("SPOTIFY_CLIENT_SECRET=topsecret\n"), 0o600)
	tests := []struct {
		name  string
		flags globalFlags
		code  int
	}{
		{"missing file", globalFlags{ConfigFile: filepath.Join(dir, "nope.ini")}, ExitConfig},
		{"key outside section", globalFlags{ConfigFile: bad}, ExitConfig},
		{"bad profile", globalFlags{Profile: "../etc"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveSettings(&tt.flags, func(n string) bool { return n == "profile" && tt.flags.Profile != "" }, MapEnv(map[string]string{envConfigDir: dir}))
			if err == nil {
				t.Fatalf("resolveSettings() = nil error; want one")
			}
			if c := exitCode(err); c != tt.code {
				t.Errorf("exitCode(%v) = %d; want %d", err, c, tt.code)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error %q leaks a config value", err)
			}
			if hintFor(err) == "" {
				t.Errorf("error %q has no hint", err)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, section string
		want              map[string]string
		wantErr           error
	}{
		{"basic", "[DEFAULT]\nSPOTIFY_CLIENT_ID = 1\n", "DEFAULT", map[string]string{"SPOTIFY_CLIENT_ID": "1"}, nil},
		{"comments and colon", "# c\n; c\n[DEFAULT]\nSPOTAUTH_STORE: v v \n", "DEFAULT", map[string]string{"SPOTAUTH_STORE": "v v"}, nil},
		{"crlf and bom", "\ufeff[DEFAULT]\r\nSPOTAUTH_PROFILE=v\r\n", "DEFAULT", map[string]string{"SPOTAUTH_PROFILE": "v"}, nil},
		{"continuation", "[DEFAULT]\nSPOTAUTH_API_URL = a\n  b\n", "DEFAULT", map[string]string{"SPOTAUTH_API_URL": "a\nb"}, nil},
		{"section override", "[DEFAULT]\nSPOTIFY_CLIENT_ID=1\nSPOTAUTH_STORE=2\n[s]\nSPOTIFY_CLIENT_ID=3\n", "s", map[string]string{"SPOTIFY_CLIENT_ID": "3", "SPOTAUTH_STORE": "2"}, nil},
		{"other spelling", "[DEFAULT]\nspotify_client_id = low\n", "DEFAULT", map[string]string{"SPOTIFY_CLIENT_ID": "low"}, nil},
		{"exact spelling wins", "[DEFAULT]\nspotify_client_id = low\nSPOTIFY_CLIENT_ID = up\n", "DEFAULT", map[string]string{"SPOTIFY_CLIENT_ID": "up"}, nil},
		{"other keys ignored", "[DEFAULT]\nSPOTIFY_USER_REFRESH = r\nX = y\n", "DEFAULT", map[string]string{}, nil},
		{"no section", "[DEFAULT]\nk=1\n", "other", nil, errNoSection},
		{"empty file", "", "DEFAULT", map[string]string{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig([]byte(tt.in), "f.ini", tt.section)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || exitCode(err) != ExitConfig {
					t.Fatalf("parseConfig(%q) error %v (exit %d); want %v (exit %d)", tt.in, err, exitCode(err), tt.wantErr, ExitConfig)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig(%q) error %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseConfig(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"k=v\n", "[DEFAULT]\nnovalue\n", "[DEFAULT\n", "[]\n", "[DEFAULT]\n=v\n"} {
		if _, err := parseConfig([]byte(bad), "f.ini", "DEFAULT"); err == nil || exitCode(err) != ExitConfig {
			t.Errorf("parseConfig(%q) = %v; want a configuration error", bad, err)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("[DEFAULT]\nSPOTIFY_CLIENT_ID = x\n", "DEFAULT")
	f.Add("[a]\nSPOTAUTH_STORE: v\n  cont\n[DEFAULT]\nj=1\n", "a")
	f.Add("\ufeff# c\r\n[DEFAULT]\r\n", "DEFAULT")
	f.Add("SPOTIFY_CLIENT_SECRET=secretvalue", "DEFAULT")
	f.Fuzz(func(t *testing.T, in, section string) {
		m, err := parseConfig([]byte(in), "f.ini", section)
		if err != nil {
			if strings.Contains(in, "secretvalue") && strings.Contains(err.Error(), "secretvalue") {
				t.Errorf("parseConfig error %q shows a value", err)
			}
			if exitCode(err) != ExitConfig {
				t.Errorf("parseConfig(%q) error %v has exit %d; want %d", in, err, exitCode(err), ExitConfig)
			}
			return
		}
		for k := range m {
			if !slices.Contains(configKeys, k) {
				t.Errorf("parseConfig gave key %q; want only %q", k, configKeys)
			}
		}
	})
}

func TestParseStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, kind, dir string
		wantErr         bool
	}{
		{"", "file", "/cfg", false},
		{"/var/tokens", "file", "/var/tokens", false},
		{"rel/dir", "file", "rel/dir", false},
		{"file:///var/t", "file", "/var/t", false},
		{"file://localhost/var/t", "file", "/var/t", false},
		{"file://otherhost/var/t", "", "", true},
		{"redis://:pw@127.0.0.1:6379/2", "redis", "", false},
		{"rediss://h:1/0", "redis", "", false},
		{"unix:///run/redis.sock?db=1", "redis", "", false},
		{"redis+sentinel://:pw@h:26379/0?master_name=m", "redis", "", false},
		{"rediss+sentinel://h:26379/0?master_name=m", "redis", "", false},
		{"redis+cluster://h:1?addr=h:2", "redis", "", false},
		{"rediss+cluster://h:1?addr=h:2", "redis", "", false},
		{"s3://bucket", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseStore(tt.spec, "/cfg")
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStore(%q) error %v; want error %v", tt.spec, err, tt.wantErr)
			}
			if err != nil {
				if exitCode(err) != ExitUsage {
					t.Errorf("exitCode(parseStore(%q)) = %d; want %d", tt.spec, exitCode(err), ExitUsage)
				}
				return
			}
			if got.kind != tt.kind || (tt.kind == "file" && got.dir != tt.dir) {
				t.Errorf("parseStore(%q) = %+v; want kind %s dir %s", tt.spec, got, tt.kind, tt.dir)
			}
			if strings.Contains(got.String(), "pw") {
				t.Errorf("storeLocation.String() = %q shows the password", got.String())
			}
		})
	}
}
