package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/store/storetest"
)

// Environment of a child process of TestCrossProcessLock.
const (
	envChild = "SPOTAUTH_FILESTORE_CHILD"
	envDir   = "SPOTAUTH_FILESTORE_DIR"
	envURL   = "SPOTAUTH_FILESTORE_URL"
	envStart = "SPOTAUTH_FILESTORE_START"
	envID    = "SPOTAUTH_FILESTORE_CLIENT_ID"
	envKey   = "SPOTAUTH_FILESTORE_CLIENT_SECRET"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		run := runChild
		switch mode {
		case "source":
			run = runSourceChild
		case "hold":
			run = runHoldChild
		}
		if err := run(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func newStore(t *testing.T, opts *filestore.Options) (*filestore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "spotauth")
	s, err := filestore.New(dir, "default", opts)
	if err != nil {
		t.Fatalf("New() error: %v", err)
	}
	return s, dir
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) spotauth.TokenStore {
		s, _ := newStore(t, nil)
		return s
	})
}

func TestConformanceSealed(t *testing.T) {
	storetest.Run(t, func(t *testing.T) spotauth.TokenStore {
		s, _ := newStore(t, &filestore.Options{Sealer: toySealer{key: 7}})
		return s
	})
	storetest.RunSealed(t, func(t *testing.T) func(storecrypt.Sealer) spotauth.TokenStore {
		dir := t.TempDir()
		return func(sealer storecrypt.Sealer) spotauth.TokenStore {
			s, err := filestore.New(dir, "default", &filestore.Options{Sealer: sealer})
			if err != nil {
				t.Fatalf("New() error: %v", err)
			}
			return s
		}
	})
}

// toySealer stands in for store/storecrypt: not encryption, but it hides
// the plaintext and fails with another key, which is what the store sees.
type toySealer struct{ key byte }

func (s toySealer) Seal(p []byte) ([]byte, error) {
	out := []byte{'T', s.key}
	for _, b := range p {
		out = append(out, b^0x5a^s.key)
	}
	return out, nil
}

var errWrongKey = errors.New("toy: sealed with another key")

func (s toySealer) Open(c []byte) ([]byte, error) {
	if len(c) < 2 || c[0] != 'T' {
		return nil, errors.New("toy: not sealed")
	}
	if c[1] != s.key {
		return nil, errWrongKey
	}
	out := make([]byte, 0, len(c)-2)
	for _, b := range c[2:] {
		out = append(out, b^0x5a^s.key)
	}
	return out, nil
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	s, dir := newStore(t, nil)
	ctx := context.Background()
	if err := s.Save(ctx, storetest.SampleToken(1)); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600, filepath.Join(dir, "default.lock"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("Stat(%s) = %v", path, err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %#o; want %#o", filepath.Base(path), got, want)
		}
	}
	// A world-readable token file is refused, with the fix in the message.
	if err := os.Chmod(s.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load(ctx)
	if !errors.Is(err, filestore.ErrInsecureFile) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Load() of a 0644 file = %v; want ErrInsecureFile saying chmod 600", err)
	}
	// Saving rewrites it 0600.
	if err := s.Save(ctx, storetest.SampleToken(2)); err != nil {
		t.Fatalf("Save() over a 0644 file = %v", err)
	}
	if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after Save = %#o; want 0600", fi.Mode().Perm())
	}
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, storetest.SampleToken(2)) {
		t.Errorf("Load() after Save = %v; want token 2", err)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	for _, profile := range []string{"", "../x", "a/b", ".hidden", "x y", strings.Repeat("a", 65), "a\x00"} {
		if _, err := filestore.New(dir, profile, nil); err == nil {
			t.Errorf("New(dir, %q) = nil error; want an invalid profile error", profile)
		}
	}
	for _, profile := range []string{"default", "work.2", "A_b-c"} {
		if _, err := filestore.New(dir, profile, nil); err != nil {
			t.Errorf("New(dir, %q) = %v; want nil", profile, err)
		}
	}
	if _, err := filestore.New("", "default", nil); err == nil {
		t.Errorf("New(\"\", default) = nil error; want an error")
	}
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o600)
	if _, err := filestore.New(filepath.Join(notDir, "sub"), "default", nil); err == nil {
		t.Errorf("New(under a file) = nil error; want an error")
	}
}

func TestCorruptFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		corrupt bool // the error wraps ErrCorrupt
	}{
		{"empty", "", "malformed JSON", true},
		{"html", "<html>oops</html>", "malformed JSON", true},
		{"truncated", `{"format":1,"version":3,"token":{"access_token":"BQ-sec`, "malformed JSON", true},
		{"future format", `{"format":9,"version":1,"token":{}}`, "format 9", false},
		{"json null", `null`, "neither access nor refresh", true},
		{"no token", `{"format":1,"version":1}`, "no token", true},
		{"empty token", `{"format":1,"version":1,"token":{}}`, "neither access nor refresh", true},
		{"malformed token", `{"format":1,"version":1,"token":[1]}`, "malformed token", true},
		{"sealed without key", `{"format":1,"version":1,"sealed":"VAdabc"}`, "no key", false},
		{"both", `{"format":1,"version":1,"sealed":"VAdabc","token":{"AccessToken":"x"}}`, "both", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t, nil)
			if err := os.WriteFile(s.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() = %v; want an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "BQ-sec") {
				t.Errorf("Load() error %q quotes the file", err)
			}
			// A damaged local file is not a malformed answer of Spotify.
			if errors.Is(err, filestore.ErrCorrupt) != tt.corrupt || errors.Is(err, spotauth.ErrBadResponse) {
				t.Errorf("Load() = %v; want ErrCorrupt %v, and not ErrBadResponse", err, tt.corrupt)
			}
			// Saving over a corrupt file works: login repairs it.
			if err := s.Save(context.Background(), storetest.SampleToken(1)); err != nil {
				t.Errorf("Save() over a corrupt file = %v", err)
			}
		})
	}
}

// TestBareToken: a file holding just the token's JSON, as the CLI wrote
// before it used this package, loads as version 0.
func TestBareToken(t *testing.T) {
	s, _ := newStore(t, nil)
	bare := `{"access_token":"BQ-a","token_type":"Bearer","refresh_token":"AQ-r","expires_at":1795003600}`
	if err := os.WriteFile(s.Path(), []byte(bare), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(context.Background())
	if err != nil || got.AccessToken != "BQ-a" || got.RefreshToken != "AQ-r" || got.Expiry.Unix() != 1795003600 {
		t.Fatalf("Load() of a bare token = %v; want the token", err)
	}
	l, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if err := l.Save(context.Background(), storetest.SampleToken(1)); err != nil {
		t.Errorf("Lease.Save() over a bare token = %v; want nil", err)
	}
}

// TestExactExpiry: the file keeps the expiry to the nanosecond, though the
// token's JSON keeps whole seconds.
func TestExactExpiry(t *testing.T) {
	s, _ := newStore(t, &filestore.Options{Sealer: toySealer{key: 1}})
	want := storetest.SampleToken(1)
	want.Expiry = want.Expiry.Add(123456789 * time.Nanosecond)
	if err := s.Save(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(context.Background())
	if err != nil || !got.Expiry.Equal(want.Expiry) {
		t.Errorf("Load().Expiry = %v, %v; want %v", got.Expiry, err, want.Expiry)
	}
}

func TestSealed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	s, err := filestore.New(dir, "p", &filestore.Options{Sealer: toySealer{key: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := storetest.SampleToken(1)
	if err := s.Save(ctx, want); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	raw, _ := os.ReadFile(s.Path())
	if bytes.Contains(raw, []byte(want.AccessToken)) || bytes.Contains(raw, []byte(want.RefreshToken)) {
		t.Errorf("sealed file shows a token: %s", raw)
	}
	other, _ := filestore.New(dir, "p", &filestore.Options{Sealer: toySealer{key: 2}})
	if _, err := other.Load(ctx); !errors.Is(err, errWrongKey) {
		t.Errorf("Load() with another key = %v; want the sealer's wrong-key error", err)
	}
	plain, _ := filestore.New(dir, "p", nil)
	if _, err := plain.Load(ctx); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("Load() without a key = %v; want an error saying the token is encrypted", err)
	}
	// A plaintext file is read with a key, and sealed by the next save.
	if err := plain.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx); err != nil || !storetest.Equal(got, want) {
		t.Errorf("Load() of a plaintext file with a key = %v; want the token", err)
	}
}

// deleter is the lease's Delete, asserted through this interface so that
// the tests compile whether or not spotauth.Lease declares it.
type deleter interface {
	Delete(ctx context.Context) error
}

// TestLeaseDeleteFenced: a holder may delete the stored token (the refresh
// token Spotify refused), unless someone saved since it locked.
func TestLeaseDeleteFenced(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := context.Background()
	s.Save(ctx, storetest.SampleToken(1))
	l, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.(deleter).Delete(ctx); err != nil {
		t.Errorf("Lease Delete() = %v; want nil", err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, spotauth.ErrTokenNotFound) {
		t.Errorf("Load() after Lease Delete = %v; want ErrTokenNotFound", err)
	}
	l.Release(ctx)
	if err := l.(deleter).Delete(ctx); !errors.Is(err, spotauth.ErrLeaseLost) {
		t.Errorf("Delete() by a released lease = %v; want ErrLeaseLost", err)
	}
}

// runChild is one process of TestCrossProcessLock: at the agreed moment it
// takes the lease, adopts the stored token if it is fresh or else
// "refreshes" it at the counting server, saves, and prints the token.
func runChild() error {
	s, err := filestore.New(os.Getenv(envDir), "default", nil)
	if err != nil {
		return err
	}
	start, _ := strconv.ParseInt(os.Getenv(envStart), 10, 64)
	time.Sleep(time.Until(time.Unix(0, start)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer l.Release(ctx)
	cur, err := l.Load(ctx)
	if err != nil {
		return err
	}
	if !cur.Expiry.After(time.Now()) {
		resp, err := http.Post(os.Getenv(envURL), "application/x-www-form-urlencoded", strings.NewReader("grant_type=refresh_token"))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cur = &spotauth.Token{AccessToken: string(b), TokenType: "Bearer", RefreshToken: cur.RefreshToken, Expiry: time.Now().Add(time.Hour)}
		if err := l.Save(ctx, cur); err != nil {
			return err
		}
	}
	fmt.Println(cur.AccessToken)
	return nil
}

// TestCrossProcessLock: 8 processes find the stored token expired at the
// same moment and make exactly one refresh between them.
func TestCrossProcessLock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes")
	}
	var refreshes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := refreshes.Add(1)
		time.Sleep(100 * time.Millisecond) // the others pile up on the lock
		fmt.Fprintf(w, "BQ-new-%d", n)
	}))
	defer srv.Close()
	s, dir := newStore(t, nil)
	expired := &spotauth.Token{AccessToken: "BQ-old", TokenType: "Bearer", RefreshToken: "AQ-1", Expiry: time.Now().Add(-time.Minute)}
	if err := s.Save(context.Background(), expired); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(500 * time.Millisecond).UnixNano()
	const n = 8
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"=1", envDir+"="+dir, envURL+"="+srv.URL, envStart+"="+strconv.FormatInt(start, 10))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v: %s", i, err, outs[i])
		}
		if got := strings.TrimSpace(outs[i].String()); got != "BQ-new-1" {
			t.Errorf("process %d printed %q; want BQ-new-1", i, got)
		}
	}
	if got := refreshes.Load(); got != 1 {
		t.Errorf("refreshes by %d processes = %d; want 1", n, got)
	}
}

// runSourceChild is one process of TestCrossProcessSource: a
// RefreshingSource on the shared file store asks for a token at the agreed
// moment and prints it.
func runSourceChild() error {
	s, err := filestore.New(os.Getenv(envDir), "default", nil)
	if err != nil {
		return err
	}
	url := os.Getenv(envURL)
	cfg := &spotauth.Config{ClientID: os.Getenv(envID), ClientSecret: os.Getenv(envKey), AccountsURL: url}
	src := cfg.UserSource(nil, &spotauth.SourceOptions{Store: s})
	defer src.Close()
	start, _ := strconv.ParseInt(os.Getenv(envStart), 10, 64)
	time.Sleep(time.Until(time.Unix(0, start)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	if !tok.Expiry.After(time.Now()) {
		return errors.New("got an expired token")
	}
	fmt.Println(tok.AccessToken)
	return nil
}

// TestCrossProcessSource: 8 processes, each with a RefreshingSource on the
// same file store, find the stored token expired at the same moment; the
// fake Accounts service (rotating refresh tokens, answering after 200 ms)
// sees exactly one refresh, and all 8 print its token.
func TestCrossProcessSource(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes")
	}
	srv := spotauthtest.NewUnstartedServer()
	srv.Refresh = spotauthtest.RefreshRotate
	srv.Start()
	defer srv.Close()
	srv.SetTokenFaultRule(func(spotauthtest.TokenRequest) *spotauthtest.Fault {
		return &spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: 200 * time.Millisecond}
	})
	access, refresh := srv.IssueUserToken(srv.ClientID, []string{"user-read-private"}, false)
	s, dir := newStore(t, nil)
	expired := &spotauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: time.Now().Add(-time.Minute)}
	if err := s.Save(context.Background(), expired); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(time.Second).UnixNano()
	const n = 8
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"=source", envDir+"="+dir, envURL+"="+srv.URL,
			envID+"="+srv.ClientID, envKey+"="+srv.ClientSecret, envStart+"="+strconv.FormatInt(start, 10))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	var first string
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v: %s", i, err, outs[i])
			continue
		}
		got := strings.TrimSpace(outs[i].String())
		if first == "" {
			first = got
		}
		if got == "" || got != first || got == access {
			t.Errorf("process %d printed another token than process 0, or the expired one", i)
		}
	}
	st := srv.Stats()
	if r := st.Grants["refresh_token"]; r != 1 {
		t.Errorf("refresh requests by %d processes = %d; want 1", n, r)
	}
	if e := st.Errors["invalid_grant"]; e != 0 {
		t.Errorf("invalid_grant answers = %d; want 0", e)
	}
	stored, err := s.Load(context.Background())
	if err != nil || stored.AccessToken != first || stored.RefreshToken == refresh {
		t.Errorf("stored token = %v; want the refreshed token with the rotated refresh token", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"format":1,"version":3,"token":{"AccessToken":"a","RefreshToken":"r"}}`))
	f.Add([]byte(`{"format":1,"version":1,"token":{"access_token":"BQ-access-1","token_type":"Bearer","scope":"user-read-email","refresh_token":"AQ-refresh-1","expires_at":1795003600,"pkce":true,"authorized_at":1790000001}}`))
	f.Add([]byte(`{"format":1,"version":1,"sealed":"VAdabc"}`))
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"format":1,"version":18446744073709551615,"token":{"AccessToken":"a","Expiry":"2026-01-01T00:00:00Z"}}`))
	dir := f.TempDir()
	s, err := filestore.New(dir, "fuzz", &filestore.Options{Sealer: toySealer{key: 3}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(s.Path(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		got, err := s.Load(ctx)
		if err != nil {
			return
		}
		// Whatever loads saves and loads again unchanged.
		if err := s.Save(ctx, got); err != nil {
			t.Fatalf("Save() of a loaded token = %v", err)
		}
		again, err := s.Load(ctx)
		if err != nil || !storetest.Equal(got, again) {
			t.Fatalf("round trip of a loaded token = %v; want equal", err)
		}
	})
}
