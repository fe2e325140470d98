package spotauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// cfgTestTekore is the file of tekore's own tests.
const cfgTestTekore = `
[DEFAULT]
SPOTIFY_CLIENT_ID = df_id
SPOTIFY_CLIENT_SECRET = df_secret
SPOTIFY_REDIRECT_URI = df_uri
SPOTIFY_USER_REFRESH = df_refresh

[ANOTHER]
CLIENT_ID = an_id
CLIENT_SECRET = an_secret
REDIRECT_URI = an_uri

[MISSING]
WHATEVER = something

[OWN]
SPOTIFY_CLIENT_ID: own_id
# tekore reads %% as %
SPOTIFY_REDIRECT_URI = http://127.0.0.1:8080/cb?x=%%20
`

func cfgTestFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tekore.cfg")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// appSettings are tekore's four settings, as ReadConfigFile returns them
// in a Config and a Token, flattened so that tests compare them with ==.
type appSettings struct {
	ClientID, ClientSecret, RedirectURL, RefreshToken string
}

// errShape marks a Config or Token of the wrong shape (see readSettings).
var errShape = errors.New("wrong shape")

// readSettings calls ReadConfigFile and checks the shape of what it
// returns: a Config with only the three settings, and a token holding only
// the refresh token (PKCE when there is no secret), nil without one.
func readSettings(path, section string) (appSettings, error) {
	c, tok, err := ReadConfigFile(path, section)
	if err != nil {
		if c != nil || tok != nil {
			return appSettings{}, fmt.Errorf("%w: ReadConfigFile returned %v and %v with its error %w", errShape, c, tok, err)
		}
		return appSettings{}, err
	}
	return settingsOf(c, tok)
}

// settingsOf flattens the Config and Token of ReadConfigFile or
// ConfigFromEnv, and checks their shape (see readSettings).
func settingsOf(c *Config, tok *Token) (appSettings, error) {
	if c == nil {
		return appSettings{}, fmt.Errorf("%w: nil Config without an error", errShape)
	}
	got := appSettings{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL}
	rest := *c
	rest.ClientID, rest.ClientSecret, rest.RedirectURL = "", "", ""
	if rest.Scopes.Len() != 0 || rest.AccountsURL != "" || rest.HTTPClient != nil || rest.Retry != (RetryPolicy{}) || rest.Clock != nil {
		return got, fmt.Errorf("%w: Config %v has more than the client ID, secret and redirect URI", errShape, c)
	}
	if tok != nil {
		if tok.RefreshToken == "" || tok.AccessToken != "" || tok.PKCE != (c.ClientSecret == "") || tok.Valid() {
			return got, fmt.Errorf("%w: token %v; want a refresh token only, PKCE without a secret", errShape, tok)
		}
		got.RefreshToken = tok.RefreshToken
	}
	return got, nil
}

// writeSettings calls WriteConfigFile with a Config of s's client ID,
// secret and redirect URI, and a token of its refresh token (nil if empty).
func writeSettings(path, section string, s appSettings) error {
	var tok *Token
	if s.RefreshToken != "" {
		tok = &Token{RefreshToken: s.RefreshToken}
	}
	return WriteConfigFile(path, section, &Config{ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURL: s.RedirectURL}, tok)
}

func TestReadConfigFile(t *testing.T) {
	path := cfgTestFile(t, cfgTestTekore)
	tests := []struct {
		section string
		want    appSettings
	}{
		{"", appSettings{"df_id", "df_secret", "df_uri", "df_refresh"}},
		{"DEFAULT", appSettings{"df_id", "df_secret", "df_uri", "df_refresh"}},
		// Sections inherit DEFAULT's keys, as in configparser.
		{"ANOTHER", appSettings{"df_id", "df_secret", "df_uri", "df_refresh"}},
		{"OWN", appSettings{"own_id", "df_secret", "http://127.0.0.1:8080/cb?x=%20", "df_refresh"}},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			got, err := readSettings(path, tt.section)
			if err != nil || got != tt.want {
				t.Errorf("ReadConfigFile(%q) = %#v, %v; want %#v", tt.section, got, err, tt.want)
			}
		})
	}
}

func TestReadConfigFileKeyCase(t *testing.T) {
	path := cfgTestFile(t, "[s]\nspotify_client_id = lower\nSpotify_Client_Secret = mixed\n[t]\nSPOTIFY_CLIENT_ID = exact\nspotify_client_id = lower\n")
	got, err := readSettings(path, "s")
	if err != nil || got.ClientID != "lower" || got.ClientSecret != "mixed" {
		t.Errorf("ReadConfigFile(s) = %#v, %v; want keys matched without regard to case", got, err)
	}
	got, err = readSettings(path, "t")
	if err != nil || got.ClientID != "exact" {
		t.Errorf("ReadConfigFile(t) = %#v, %v; want the exact key preferred", got, err)
	}
}

func TestReadConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		content  string // "" with noFile: no file
		section  string
		is       error
		contains []string
	}{
		{"no file", "\x00nofile", "", fs.ErrNotExist, []string{"spotauth: "}},
		{"missing section", cfgTestTekore, "NOTSECTION", ErrInvalidConfig, []string{"[NOTSECTION]", "DEFAULT, ANOTHER, MISSING, OWN"}},
		{"section case", cfgTestTekore, "another", ErrInvalidConfig, []string{"[another]"}},
		{"missing client id in DEFAULT", "[DEFAULT]\nSPOTIFY_CLIENT_SECRET = SECRETvalue\n", "", ErrInvalidConfig, []string{"SPOTIFY_CLIENT_ID", "[DEFAULT]"}},
		{"empty file", "", "", ErrInvalidConfig, []string{"SPOTIFY_CLIENT_ID"}},
		{"empty client id", "[s]\nSPOTIFY_CLIENT_ID =\nSPOTIFY_CLIENT_SECRET = SECRETvalue\n", "s", ErrInvalidConfig, []string{"[s]"}},
		{"syntax", "[s]\nSPOTIFY_CLIENT_ID = x\nSECRETvalue-without-delimiter\n", "s", nil, []string{"line 3"}},
		{"no header", "SPOTIFY_CLIENT_SECRET = SECRETvalue\n", "", nil, []string{"line 1"}},
		{"bad interpolation", "[s]\nSPOTIFY_CLIENT_ID = x\nSPOTIFY_CLIENT_SECRET = 100%SECRETvalue\n", "s", nil, []string{"SPOTIFY_CLIENT_SECRET", "%%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".cfg")
			if tt.content != "\x00nofile" {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := readSettings(path, tt.section)
			if err == nil {
				t.Fatalf("ReadConfigFile(%q) = nil error; want one", tt.section)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("ReadConfigFile(%q) = %v; want errors.Is %v", tt.section, err, tt.is)
			}
			msg := err.Error()
			for _, c := range append(tt.contains, path) {
				if !strings.Contains(msg, c) {
					t.Errorf("ReadConfigFile(%q) error %q; want it to contain %q", tt.section, msg, c)
				}
			}
			if strings.Contains(msg, "SECRETvalue") || !strings.HasPrefix(msg, "spotauth: ") {
				t.Errorf("ReadConfigFile(%q) error %q quotes the file or lacks the prefix", tt.section, msg)
			}
		})
	}
}

func TestWriteConfigFile(t *testing.T) {
	const orig = `# my Spotify app
[DEFAULT]
SOMETHING = whatever
SPOTIFY_CLIENT_ID = df_id
spotify_client_secret = old_secret

[SECTION]
; keep me
WHATEVER = something
`
	path := cfgTestFile(t, orig)
	c := appSettings{ClientSecret: "new_secret", RedirectURL: "http://127.0.0.1:8080/cb?q=100%", RefreshToken: "AQCnew"}
	if err := writeSettings(path, "", c); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := `# my Spotify app
[DEFAULT]
SOMETHING = whatever
SPOTIFY_CLIENT_ID = df_id
SPOTIFY_CLIENT_SECRET = new_secret
SPOTIFY_REDIRECT_URI = http://127.0.0.1:8080/cb?q=100%%
SPOTIFY_USER_REFRESH = AQCnew

[SECTION]
; keep me
WHATEVER = something
`
	if string(data) != want {
		t.Errorf("file after WriteConfigFile =\n%s\nwant\n%s", data, want)
	}
	got, err := readSettings(path, "")
	if wantC := (appSettings{"df_id", "new_secret", "http://127.0.0.1:8080/cb?q=100%", "AQCnew"}); err != nil || got != wantC {
		t.Errorf("ReadConfigFile after write = %#v, %v; want %#v", got, err, wantC)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode after WriteConfigFile = %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}

	// A new file and a new section.
	path2 := filepath.Join(t.TempDir(), "new.cfg")
	all := appSettings{"id", "secret", "https://example.com/callback", "AQC"}
	if err := writeSettings(path2, "app", all); err != nil {
		t.Fatal(err)
	}
	if got, err := readSettings(path2, "app"); err != nil || got != all {
		t.Errorf("ReadConfigFile(new file) = %#v, %v; want %#v", got, err, all)
	}
	// What ReadConfigFile returns writes back unchanged.
	cfg, tok, err := ReadConfigFile(path2, "app")
	if err != nil {
		t.Fatal(err)
	}
	path3 := filepath.Join(t.TempDir(), "copy.cfg")
	if err := WriteConfigFile(path3, "app", cfg, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := readSettings(path3, "app"); err != nil || got != all {
		t.Errorf("ReadConfigFile(file written from ReadConfigFile's values) = %#v, %v; want %#v", got, err, all)
	}
	if err := writeSettings(path2, "", appSettings{ClientID: "default-id"}); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path2)
	if want := "[DEFAULT]\nSPOTIFY_CLIENT_ID = default-id\n\n[app]\nSPOTIFY_CLIENT_ID = id\nSPOTIFY_CLIENT_SECRET = secret\nSPOTIFY_REDIRECT_URI = https://example.com/callback\nSPOTIFY_USER_REFRESH = AQC\n"; string(data) != want {
		t.Errorf("file = %q; want %q", data, want)
	}
}

func TestWriteConfigFileErrors(t *testing.T) {
	bad := cfgTestFile(t, "not an ini file\n")
	if err := writeSettings(bad, "", appSettings{ClientID: "x"}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("WriteConfigFile(broken file) = %v; want a syntax error", err)
	}
	if data, _ := os.ReadFile(bad); string(data) != "not an ini file\n" {
		t.Errorf("WriteConfigFile changed a file it could not parse: %q", data)
	}
	path := cfgTestFile(t, "")
	for _, tt := range []struct {
		section string
		c       appSettings
	}{
		{"a]b", appSettings{ClientID: "x"}},
		{"s", appSettings{ClientID: " x"}},
		{"s", appSettings{ClientID: "x", ClientSecret: "s3cr3t\nvalue"}},
	} {
		err := writeSettings(path, tt.section, tt.c)
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("WriteConfigFile(%q, %v) = %v; want an error without the value", tt.section, tt.c, err)
		}
	}
	if err := writeSettings(filepath.Join(t.TempDir(), "no", "dir.cfg"), "", appSettings{ClientID: "x"}); err == nil {
		t.Errorf("WriteConfigFile into a missing directory = nil; want an error")
	}
}

// TestConfigFileTekoreInterop checks, when python3 is installed, that
// configparser set up as tekore's config_from_file sets it up reads a file
// written by WriteConfigFile.
func TestConfigFileTekoreInterop(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	path := cfgTestFile(t, cfgTestTekore)
	c := appSettings{"id", "se%cret", "http://127.0.0.1:43117/callback?a=%20", "AQC-_x"}
	if err := writeSettings(path, "NEW", c); err != nil {
		t.Fatal(err)
	}
	const script = `
import configparser, sys
c = configparser.ConfigParser()
c.optionxform = str
with open(sys.argv[1]) as f:
    c.read_file(f)
s = c["NEW"]
print("\n".join(s.get(k) for k in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REDIRECT_URI", "SPOTIFY_USER_REFRESH")))
`
	out, err := exec.Command(py, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	if got, want := string(out), strings.Join([]string{c.ClientID, c.ClientSecret, c.RedirectURL, c.RefreshToken}, "\n")+"\n"; got != want {
		t.Errorf("configparser read %q; want %q", got, want)
	}
}

// FuzzConfigFile reads arbitrary files as tekore config files, then writes
// credentials into them and reads them back. Errors never show a value of
// the file, and what WriteConfigFile wrote ReadConfigFile reads.
func FuzzConfigFile(f *testing.F) {
	f.Add(cfgTestTekore, "", "id", "secret", "http://127.0.0.1/cb", "AQC")
	f.Add(cfgTestTekore, "ANOTHER", "id2", "", "", "AQC%(x)s")
	f.Add("[s]\nspotify_client_id = lower\n", "s", "", "s3cr3t", "", "")
	f.Add("[DEFAULT]\nSPOTIFY_CLIENT_SECRET = %(missing)s\n", "", "", "", "", "")
	f.Add("SPOTIFY_CLIENT_ID = before-any-section\n", "", "id", "", "", "")
	f.Add("[s]\r\nSPOTIFY_CLIENT_ID=a\r\n  continued\r\n", "s", "", "", "", "tok")
	f.Fuzz(func(t *testing.T, text, section, id, secret, redirect, refresh string) {
		path := filepath.Join(t.TempDir(), "tekore.cfg")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		before, beforeErr := readSettings(path, section)
		if errors.Is(beforeErr, errShape) {
			t.Fatalf("ReadConfigFile(%q): %v", text, beforeErr)
		}
		if beforeErr != nil {
			// Errors name keys, sections and the file, never a value.
			for _, line := range strings.Split(text, "\n") {
				if _, v, ok := strings.Cut(line, "="); ok && len(strings.TrimSpace(v)) >= 12 && strings.Contains(beforeErr.Error(), strings.TrimSpace(v)) {
					t.Fatalf("ReadConfigFile(%q) = %v; shows the value %q", text, beforeErr, strings.TrimSpace(v))
				}
			}
		}
		c := appSettings{ClientID: id, ClientSecret: secret, RedirectURL: redirect, RefreshToken: refresh}
		if err := writeSettings(path, section, c); err != nil {
			if data, _ := os.ReadFile(path); string(data) != text {
				t.Fatalf("WriteConfigFile(%q, %q, %v) = %v and changed the file", text, section, c, err)
			}
			return
		}
		if beforeErr != nil && !errors.Is(beforeErr, ErrInvalidConfig) {
			return // a value that did not read (a bad interpolation) still does not
		}
		after, err := readSettings(path, section)
		if errors.Is(err, errShape) {
			t.Fatalf("ReadConfigFile after WriteConfigFile(%q, %q, %v): %v", text, section, c, err)
		}
		if err != nil {
			noClientID := errors.Is(err, ErrInvalidConfig) && strings.Contains(err.Error(), "key "+EnvClientID+" is missing or empty")
			if noClientID && id == "" && before.ClientID == "" {
				return // nothing gave a client ID
			}
			data, _ := os.ReadFile(path)
			t.Fatalf("ReadConfigFile after WriteConfigFile(%q, %q, %v) = %v; file:\n%s", text, section, c, err, data)
		}
		for _, fv := range []struct{ name, wrote, old, got string }{
			{EnvClientID, id, before.ClientID, after.ClientID},
			{EnvClientSecret, secret, before.ClientSecret, after.ClientSecret},
			{EnvRedirectURI, redirect, before.RedirectURL, after.RedirectURL},
			{EnvUserRefresh, refresh, before.RefreshToken, after.RefreshToken},
		} {
			want := fv.wrote
			if want == "" {
				// An empty field is skipped, keeping the file's value;
				// before is zero when the first read failed as a whole.
				if before.ClientID == "" {
					continue
				}
				want = fv.old
			}
			if fv.got != want {
				t.Fatalf("%s after WriteConfigFile(%q, %q, %v) = %q; want %q", fv.name, text, section, c, fv.got, want)
			}
		}
	})
}
