// Package filestore stores spotauth tokens in files: one JSON file per
// profile, in a directory of the user's own.
//
// Files are written atomically with mode 0600, in a directory created with
// mode 0700. A token file that group or others can read is refused on Load
// (as ssh refuses such a key) with an error that says how to fix it; Save
// always writes 0600, so saving a token again also fixes it. An existing
// directory is used as it is: the files' own mode protects them. Load also
// refuses, on Unix, a token file owned by another user ([ErrNotOwned]),
// and anywhere a token path that is not a regular file ([ErrNotRegular]),
// such as a FIFO, which it opens without blocking: it never waits for a
// writer. A damaged file is [ErrCorrupt]; saving a token replaces it.
//
// A [Store] is a [spotauth.LockingStore], so that processes sharing the
// directory, such as concurrent `spotauth token` commands at expiry, make
// one refresh between them. Its lease is an exclusive advisory lock
// (flock(2) on Unix, LockFileEx on Windows) on a lock file beside the token
// file: the operating system releases it when its holder dies, however it
// dies, so a lease never outlives its process. The lock works where
// flock(2) does: on a local file system, not on every network one. A wait
// that the caller's context ends, behind a holder that hangs or was
// stopped, fails with a [*spotauth.LeaseBusyError] naming the holder
// ("process 4242 (stopped)", on Unix) and saying what to do.
//
// A process killed while it wrote the token leaves the new token in a
// temporary file beside it; whoever takes the lock next (or [New], if the
// lock is free) finishes that write.
//
// With [Options.Sealer], the token is encrypted at rest (for example with
// store/storecrypt's AES-GCM), so that a copied file reveals no token. A
// token written in clear before is read, and sealed at its next save; a
// store without a Sealer refuses a sealed token (see package storecrypt).
package filestore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/atomicfile"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// Options configure a [Store]. A nil *Options means the zero value.
type Options struct {
	// Sealer, if set, encrypts the token in the file, such as a
	// [storecrypt.AESGCM]. A token written in clear before a Sealer was
	// set is read, and sealed at the next save: the rule of package
	// storecrypt, which the Redis store follows too.
	Sealer storecrypt.Sealer
}

// Store is a token store of one profile in a directory. It is safe for
// concurrent use by goroutines and processes.
type Store struct {
	path     string // token file
	lockPath string
	sealer   storecrypt.Sealer
}

// validProfile reports whether profile is 1 to 64 letters, digits, '.',
// '_' or '-', starting with a letter or digit. (A loop, not a regexp: the
// regexp's compilation at init cost every process start 0.2 ms.)
func validProfile(profile string) bool {
	if len(profile) == 0 || len(profile) > 64 {
		return false
	}
	for i := 0; i < len(profile); i++ {
		c := profile[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Errors of Load about the token file itself, matched with [errors.Is].
// A file that cannot be opened at all gives the operating system's error
// (wrapping [fs.ErrPermission] when the user may not read it).
var (
	// ErrInsecureFile: a token file is readable or writable by group or others.
	ErrInsecureFile = errors.New("spotauth: token file is accessible to other users")
	// ErrNotOwned: a token file is owned by another user (Unix), who could
	// replace the token at will; it is refused, as ssh refuses such keys.
	ErrNotOwned = errors.New("spotauth: token file is owned by another user")
	// ErrNotRegular: the token path is not a regular file, such as a FIFO
	// (or a symbolic link to one), which is never read.
	ErrNotRegular = errors.New("spotauth: token path is not a regular file")
	// ErrCorrupt: the token file is damaged: not the JSON this package
	// writes, or without a token. Saving a token (logging in again)
	// replaces it.
	ErrCorrupt = errors.New("spotauth: token file is damaged")
)

// New returns the store of profile in dir, creating dir (mode 0700) if
// needed. The token lives in dir/profile.json and the lock in
// dir/profile.lock. A profile is 1 to 64 letters, digits, '.', '_' or '-',
// starting with a letter or digit. opts may be nil.
//
// If a killed process left a write pending (see the package doc) and the
// lock is free, New finishes it, so that Load sees the newest token.
func New(dir, profile string, opts *Options) (*Store, error) {
	if !validProfile(profile) {
		return nil, fmt.Errorf("spotauth: invalid profile name %q: use 1 to 64 letters, digits, '.', '_' or '-'", profile)
	}
	if dir == "" {
		return nil, errors.New("spotauth: file store: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spotauth: file store: %w", err)
	}
	s := &Store{
		path:     filepath.Join(dir, profile+".json"),
		lockPath: filepath.Join(dir, profile+".lock"),
	}
	if opts != nil {
		s.sealer = opts.Sealer
	}
	s.recoverIfFree()
	return s, nil
}

// lockPoll is how often a wait for the lock tries it again: flock(2) has
// no wait that a context can end.
const lockPoll = 10 * time.Millisecond

// recoverIfFree finishes the writes pending in temporary files (see
// recoverPending) if there are any and the lock is free, so that Load,
// which takes no lock, sees a token whose rename a killed process did not
// make. A busy lock is left alone: its holder, or the next, recovers.
// Errors are ignored here; the next locked call meets them again.
func (s *Store) recoverIfFree() {
	if pending, err := s.pendingFiles(); err != nil || len(pending) == 0 {
		return // the common case: no lock taken, no lock file created
	}
	lf, err := openLock(s.lockPath)
	if err != nil {
		return
	}
	defer lf.Close()
	if ok, err := lf.tryLock(); err != nil || !ok {
		return
	}
	lf.writeHolder(holderRecord())
	_ = s.recoverPending()
}

// Path returns the path of the token file.
func (s *Store) Path() string { return s.path }

// record is the file's JSON form. Version is not secret: it stays readable
// when the token is sealed.
type record struct {
	Format  int             `json:"format"`
	Version uint64          `json:"version"`
	Token   json.RawMessage `json:"token,omitempty"`
	Sealed  string          `json:"sealed,omitempty"` // base64 of the sealed token JSON
	// ExpiryNano is the token's Expiry in Unix nanoseconds: the token's
	// own JSON keeps whole seconds, and rounding a 2-second test token's
	// expiry to the second would make a fleet refresh early.
	ExpiryNano int64 `json:"expiry_ns,omitempty"`
}

const format = 1

// maxFile bounds the size of a token file read.
const maxFile = 1 << 20

// read returns the token and version in the file; a missing file gives
// ErrTokenNotFound and version 0.
func (s *Store) read() (*spotauth.Token, uint64, error) {
	data, fi, err := s.readFile()
	if err != nil {
		return nil, 0, err
	}
	if uid, other := otherOwner(fi); other {
		return nil, 0, fmt.Errorf("%w: %s belongs to user ID %d; remove it, or run spotauth as that user", ErrNotOwned, s.path, uid)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, 0, fmt.Errorf("%w: %s has mode %#o; run chmod 600 %s", ErrInsecureFile, s.path, fi.Mode().Perm(), s.path)
	}
	tok, ver, err := decode(data, s.sealer)
	if err != nil {
		return nil, 0, fmt.Errorf("spotauth: token file %s: %w", s.path, err)
	}
	return tok, ver, nil
}

// readFile returns the content of the token file and its FileInfo. It
// opens the file without blocking and refuses anything but a regular file
// (a FIFO, a device, a directory), so that a FIFO at the token path makes
// Load fail rather than wait forever for a writer. A missing file gives
// ErrTokenNotFound.
func (s *Store) readFile() ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(s.path, openReadFlags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("spotauth: no token in %s: %w", s.path, spotauth.ErrTokenNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("spotauth: file store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("spotauth: file store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s is a %s; remove it (spotauth login writes a new token file)", ErrNotRegular, s.path, fileType(fi.Mode()))
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFile+1)); err != nil {
		return nil, nil, fmt.Errorf("spotauth: file store: read %s: %w", s.path, err)
	}
	if buf.Len() > maxFile {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, s.path, maxFile)
	}
	return buf.Bytes(), fi, nil
}

// fileType names the type of a file that is not a regular one.
func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "FIFO (named pipe)"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// decode parses a token file. Its errors never quote the content.
func decode(data []byte, sealer storecrypt.Sealer) (*spotauth.Token, uint64, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, 0, fmt.Errorf("%w: not a spotauth token file (malformed JSON)", ErrCorrupt)
	}
	if r.Format == 0 && len(r.Token) == 0 && r.Sealed == "" && r.Version == 0 {
		// A bare token, as an earlier spotauth CLI wrote: version 0.
		r.Format, r.Token = format, json.RawMessage(data)
	}
	if r.Format != format {
		return nil, 0, fmt.Errorf("unsupported token file format %d", r.Format)
	}
	raw := []byte(r.Token)
	switch {
	case r.Sealed != "" && len(r.Token) > 0:
		return nil, 0, fmt.Errorf("%w: both sealed and plain token", ErrCorrupt)
	case r.Sealed != "":
		if sealer == nil {
			return nil, 0, fmt.Errorf("the token is encrypted and no key is configured: %w", storecrypt.ErrNoKey)
		}
		sealed, err := base64.StdEncoding.DecodeString(r.Sealed)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: the encrypted token is not valid base64", ErrCorrupt)
		}
		if raw, err = sealer.Open(sealed); err != nil {
			return nil, 0, fmt.Errorf("decrypt the token: %w", err)
		}
	case len(r.Token) == 0:
		return nil, 0, fmt.Errorf("%w: no token in the file", ErrCorrupt)
	}
	var t spotauth.Token
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, 0, fmt.Errorf("%w: malformed token", ErrCorrupt)
	}
	if t.AccessToken == "" && t.RefreshToken == "" {
		return nil, 0, fmt.Errorf("%w: the stored token has neither access nor refresh token", ErrCorrupt)
	}
	if r.ExpiryNano != 0 {
		// Only a refinement of the same second: never move the expiry.
		if exact := time.Unix(0, r.ExpiryNano); exact.Unix() == t.Expiry.Unix() {
			t.Expiry = exact
		}
	}
	return &t, r.Version, nil
}

// encode returns the file content for t at version.
func encode(t *spotauth.Token, version uint64, sealer storecrypt.Sealer) ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode the token: %w", err)
	}
	r := record{Format: format, Version: version}
	if !t.Expiry.IsZero() {
		r.ExpiryNano = t.Expiry.UnixNano()
	}
	if sealer != nil {
		sealed, err := sealer.Seal(raw)
		if err != nil {
			return nil, fmt.Errorf("encrypt the token: %w", err)
		}
		r.Sealed = base64.StdEncoding.EncodeToString(sealed)
	} else {
		r.Token = raw
	}
	return json.Marshal(r)
}

// write replaces the token file with t at version, atomically: atomicfile
// writes a temporary file, syncs it and renames it over the token file (a
// rename that a killed process did not make is recovered: see recover.go).
// The caller holds the lock.
func (s *Store) write(t *spotauth.Token, version uint64) error {
	data, err := encode(t, version, s.sealer)
	if err != nil {
		return fmt.Errorf("spotauth: file store: %w", err)
	}
	return atomicfile.WriteFile(s.path, data, 0o600)
}

// Load returns the stored token, or an error wrapping
// [spotauth.ErrTokenNotFound]. It takes no lock: writes are atomic.
func (s *Store) Load(ctx context.Context) (*spotauth.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spotauth: file store: %w", err)
	}
	t, _, err := s.read()
	return t, err
}

// Sealed reports whether the stored token is sealed (encrypted at rest,
// see [Options.Sealer]), without decrypting it; with no token, its error
// wraps [spotauth.ErrTokenNotFound].
func (s *Store) Sealed(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("spotauth: file store: %w", err)
	}
	data, _, err := s.readFile()
	if err != nil {
		return false, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return false, fmt.Errorf("spotauth: token file %s: %w: not a spotauth token file (malformed JSON)", s.path, ErrCorrupt)
	}
	return r.Sealed != "", nil
}

// Save stores t, replacing any stored token. It waits for the lock
// (bounded by ctx), so it waits while a lease is held.
func (s *Store) Save(ctx context.Context, t *spotauth.Token) error {
	if t == nil {
		return errors.New("spotauth: file store: save of a nil token")
	}
	return s.withLock(ctx, func() error {
		_, ver, err := s.read()
		if err != nil && !errors.Is(err, spotauth.ErrTokenNotFound) {
			ver = s.readVersion()
		}
		return s.write(t, ver+1)
	})
}

// readVersion returns the version in the token file even if the token
// cannot be read (another key, an insecure mode), 0 if there is none.
func (s *Store) readVersion() uint64 {
	data, _, err := s.readFile()
	if err != nil {
		return 0
	}
	var r record
	if json.Unmarshal(data, &r) != nil {
		return 0
	}
	return r.Version
}

// Delete removes the token file, waiting for the lock. The lock file stays,
// so that a process waiting on it keeps waiting on the same file.
func (s *Store) Delete(ctx context.Context) error {
	return s.withLock(ctx, func() error {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("spotauth: file store: %w", err)
		}
		return nil
	})
}

func (s *Store) withLock(ctx context.Context, f func() error) error {
	lf, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer lf.Close() // closing unlocks
	return f()
}

// lock takes the lock file's exclusive lock, trying every lockPoll until ctx
// is done; a wait that ctx ends gives a [*spotauth.LeaseBusyError] naming
// the holder. The holder's process ID and host are then written into the
// lock file, and writes that a killed holder left pending are recovered.
func (s *Store) lock(ctx context.Context) (*lockFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spotauth: file store: waiting for the lock on %s: %w", s.lockPath, err)
	}
	lf, err := openLock(s.lockPath)
	if err != nil {
		return nil, fmt.Errorf("spotauth: file store: lock %s: %w", s.lockPath, err)
	}
	var timer *time.Timer
	for {
		ok, err := lf.tryLock()
		if err != nil {
			lf.Close()
			return nil, fmt.Errorf("spotauth: file store: lock %s: %w", s.lockPath, err)
		}
		if ok {
			break
		}
		if timer == nil {
			timer = time.NewTimer(lockPoll)
			defer timer.Stop()
		} else {
			timer.Reset(lockPoll)
		}
		select {
		case <-ctx.Done():
			lf.Close()
			holder, hint := describeHolder(s.lockPath)
			return nil, &spotauth.LeaseBusyError{Store: s.lockPath, Holder: holder, Hint: hint, Err: ctx.Err()}
		case <-timer.C:
		}
	}
	lf.writeHolder(holderRecord())
	if err := s.recoverPending(); err != nil {
		lf.Close()
		return nil, err
	}
	return lf, nil
}

// Lock takes the store's lease: the exclusive lock on the lock file,
// waiting until it is free or ctx is done. A wait that ctx ends fails with
// a [*spotauth.LeaseBusyError] naming the holder.
//
// The lease's Save and Delete write only while the lease is held and if no
// other token was stored since Lock (by a writer that ignored the lock);
// otherwise they fail with an error wrapping [spotauth.ErrLeaseLost] and
// write nothing. Release unlocks; releasing twice is not an error.
func (s *Store) Lock(ctx context.Context) (spotauth.Lease, error) {
	lf, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	_, ver, rerr := s.read()
	if rerr != nil && !errors.Is(rerr, spotauth.ErrTokenNotFound) {
		ver = s.readVersion()
	}
	return &lease{s: s, lf: lf, version: ver}, nil
}

// lease is a Store's Lease.
type lease struct {
	s       *Store
	mu      sync.Mutex // guards the fields below
	lf      *lockFile  // nil once released
	version uint64     // version when acquired or last saved
}

// Load returns the stored token.
func (l *lease) Load(ctx context.Context) (*spotauth.Token, error) { return l.s.Load(ctx) }

// Save stores t if the lease is held and the version is unchanged.
func (l *lease) Save(ctx context.Context, t *spotauth.Token) error {
	if t == nil {
		return errors.New("spotauth: file store: save of a nil token")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spotauth: file store: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lf == nil {
		return fmt.Errorf("spotauth: file store: the lease was released: %w", spotauth.ErrLeaseLost)
	}
	_, ver, err := l.s.read()
	if err != nil && !errors.Is(err, spotauth.ErrTokenNotFound) {
		ver = l.s.readVersion()
	}
	if ver != l.version {
		return fmt.Errorf("spotauth: file store: a newer token was stored: %w", spotauth.ErrLeaseLost)
	}
	if err := l.s.write(t, ver+1); err != nil {
		return err
	}
	l.version = ver + 1
	return nil
}

// Delete removes the stored token if the lease is held and the version is
// unchanged, fenced like Save.
func (l *lease) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spotauth: file store: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lf == nil {
		return fmt.Errorf("spotauth: file store: the lease was released: %w", spotauth.ErrLeaseLost)
	}
	if ver := l.s.readVersion(); ver != l.version {
		return fmt.Errorf("spotauth: file store: a newer token was stored: %w", spotauth.ErrLeaseLost)
	}
	if err := os.Remove(l.s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spotauth: file store: %w", err)
	}
	l.version = 0
	return nil
}

// Release unlocks the lock file. Releasing twice is not an error.
func (l *lease) Release(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lf == nil {
		return nil
	}
	err := l.lf.Close()
	l.lf = nil
	if err != nil {
		return fmt.Errorf("spotauth: file store: unlock %s: %w", l.s.lockPath, err)
	}
	return nil
}

// String returns "filestore.Store{path}".
func (s *Store) String() string {
	if s == nil {
		return "filestore.Store(nil)"
	}
	sealed := ""
	if s.sealer != nil {
		sealed = ", sealed"
	}
	return "filestore.Store{" + s.path + sealed + "}"
}
