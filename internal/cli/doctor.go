package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
)

type doctorOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Now        func() time.Time
	Settings   func() (*settings, error)
	Env        LookupEnv   // SPOTAUTH_STORE_KEY
	OpenStore  storeOpener // for whether the token is encrypted

	Offline bool
}

func newDoctorCmd(f *Factory, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{IO: f.IO, HTTPClient: f.httpClient(), Now: f.clock(), Settings: f.Settings, Env: f.Env, OpenStore: f.openStore}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration and say what to change",
		Long: `Check what users get wrong: the client ID, the redirect URI (localhost, http on
a non-loopback host, port and path), a client secret where PKCE is meant, the
permissions of the config file and token files, whether the token files can be
read, whether the token store (a Redis server) answers and accepts the
credentials of --store, whether a stopped process holds a token's lock, and
whether the Accounts service is reachable, knows the client ID and redirect
URI, and accepts the client secret. Each problem comes with what to change.
Passwords in URLs are never shown, so the output can go into a bug report.

Exits non-zero when a check fails, with the code the first failure would give
other commands: 6 for a configuration problem, 5 for an unreachable Accounts
service or Redis, 1 for a damaged token file or a lock held by another process.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "skip the checks that contact the Accounts service")
	return cmd
}

// Levels of a finding.
const (
	levelOK   = "ok"
	levelWarn = "warn"
	levelFail = "FAIL"
)

// A finding is the result of one check of doctor, or of login's check of
// the Accounts service: what was seen and, unless it is ok, what to change.
type finding struct {
	level string // levelOK, levelWarn or levelFail
	what  string
	fix   string
	err   error // for a failure: the cause, whose type gives the exit code
}

// asError returns a failed finding as an error: "spotauth: " and what was
// seen, matching its cause, with the fix as hint.
func (f finding) asError() error {
	return withHint(&findingError{f.what, f.err}, "%s", f.fix)
}

type findingError struct {
	what string
	err  error
}

func (e *findingError) Error() string { return "spotauth: " + e.what }
func (e *findingError) Unwrap() error { return e.err }

// doctorStoreWait bounds each request of doctor to the token store, and
// doctorLockWait its try of a token's lock: a lock still busy after it is
// held by a process that does not let go (a stopped or hung one).
const (
	doctorStoreWait = 10 * time.Second
	doctorLockWait  = 2 * time.Second
)

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	var fs []finding
	add := func(level, what, fix string) { fs = append(fs, finding{level: level, what: what, fix: fix}) }

	// Client ID.
	if s.ClientID == "" {
		fs = append(fs, finding{levelFail, "no client ID", fmt.Sprintf("Pass --client-id, set %s, or add %s = ... to %s (the ID is on your app's page at https://developer.spotify.com/dashboard).",
			spotauth.EnvClientID, spotauth.EnvClientID, configFilePathHint(s)), fmt.Errorf("%w: no client ID", spotauth.ErrInvalidConfig)})
	} else {
		add(levelOK, fmt.Sprintf("client ID %s (from %s)", s.ClientID, s.source["client-id"]), "")
	}

	// Client secret.
	switch {
	case s.ClientSecret == "" && s.Saved.hasSettings() && !s.Saved.PKCE:
		err := missingSecret(s)
		_, hint := classify(err)
		fs = append(fs, finding{levelFail, fmt.Sprintf("profile %s logged in with the client secret, and none is configured: its token cannot be refreshed", s.Profile), hint, err})
	case s.ClientSecret != "":
		add(levelWarn, fmt.Sprintf("a client secret is configured (from %s): login uses the secret flow, not PKCE", s.source["client-secret"]),
			fmt.Sprintf("For a command-line or desktop app, PKCE needs no secret: unset %s (or pass --pkce to login). Keep the secret only for spotauth token --client-credentials, and never ship it.", spotauth.EnvClientSecret))
	default:
		add(levelOK, "no client secret: login uses PKCE", "")
	}

	// Redirect URI.
	rd, rerr := parseLoopbackRedirect(s.RedirectURI)
	switch {
	case rerr != nil:
		_, hint := classify(rerr)
		fs = append(fs, finding{levelFail, fmt.Sprintf("redirect URI %s (from %s): %v", s.RedirectURI, s.source["redirect-uri"], rerr), hint, rerr})
	case rd.port != 0:
		add(levelOK, fmt.Sprintf("redirect URI %s (fixed port %d, from %s)", s.RedirectURI, rd.port, s.source["redirect-uri"]), "")
		add(levelWarn, fmt.Sprintf("login needs port %d free on %s", rd.port, rd.host),
			fmt.Sprintf("Register %s without a port (http://%s%s) so spotauth can pick a free one.", s.RedirectURI, hostForURL(rd.host), rd.path()))
	default:
		add(levelOK, fmt.Sprintf("redirect URI %s (any port, from %s)", s.RedirectURI, s.source["redirect-uri"]), "")
	}
	if rd != nil && (rd.u.Path == "" || rd.u.Path == "/") {
		add(levelWarn, "the redirect URI has no path", "A path such as /callback is clearer; register http://127.0.0.1/callback and use it.")
	}

	// Files and the token store.
	if s.ConfigFile != "" {
		fs = append(fs, checkFileMode(s.ConfigFile, "config file", s.ClientSecret != "" && strings.HasPrefix(s.source["client-secret"], "config"))...)
	}
	fs = append(fs, checkStore(ctx, opts, s)...)
	fs = append(fs, checkEncryption(ctx, s, opts.Env, opts.OpenStore))

	// Accounts service.
	if !opts.Offline {
		if s.ClientID != "" && rerr == nil {
			fs = append(fs, checkAccounts(ctx, opts, s))
		} else {
			fs = append(fs, reachable(ctx, opts.HTTPClient, s))
		}
	}

	var first error // the cause of the first failure, which gives the exit code
	failed := 0
	out := opts.IO.Out
	for _, x := range fs {
		fmt.Fprintf(out, "[%-4s] %s\n", x.level, redactURL(x.what))
		if x.fix != "" && x.level != levelOK {
			for _, line := range strings.Split(redactURL(x.fix), "\n") {
				fmt.Fprintf(out, "       %s\n", line)
			}
		}
		if x.level == levelFail {
			failed++
			if first == nil {
				first = x.err
				if first == nil {
					first = &configError{errors.New(x.what)}
				}
			}
		}
	}
	if failed > 0 {
		return withHint(&findingError{fmt.Sprintf("doctor found %d problem(s)", failed), first}, "Change what the FAIL lines say, then run spotauth doctor again.")
	}
	fmt.Fprintln(out, "No problems found.")
	return nil
}

// checkAccounts makes login's check before the browser opens
// ([login.Check]): the Accounts service knows the client ID and the
// redirect URI and, when a secret is configured, accepts it (with a
// client-credentials request, which needs no user).
func checkAccounts(ctx context.Context, opts *doctorOptions, s *settings) finding {
	cfg, err := newConfig(s, opts.HTTPClient, opts.Now)
	if err != nil {
		return finding{levelFail, err.Error(), "", err}
	}
	err = login.Check(ctx, cfg, nil)
	if ce, ok := errors.AsType[*login.CheckError](err); ok {
		return checkError(ce, s, spotauth.Scopes{})
	}
	if err != nil {
		_, hint := classify(err)
		return finding{levelFail, fmt.Sprintf("Accounts service %s: %v", s.AccountsURL, err), hint, err}
	}
	what := fmt.Sprintf("Accounts service %s knows client ID and redirect URI", s.AccountsURL)
	if s.ClientSecret != "" {
		what += ", and accepts the client secret"
	}
	return finding{level: levelOK, what: what}
}

// reachable checks only that the token endpoint answers, when there is no
// client ID or redirect URI to check.
func reachable(ctx context.Context, client *http.Client, s *settings) finding {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.AccountsURL+"/api/token", strings.NewReader(""))
	if err != nil {
		return finding{levelFail, fmt.Sprintf("accounts URL %q: %v", s.AccountsURL, err), "Fix --accounts-url / " + envAccountsURL + ".", &configError{err}}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return unreachable(s, err)
	}
	resp.Body.Close()
	return finding{level: levelOK, what: fmt.Sprintf("Accounts service %s reachable", s.AccountsURL)}
}

// The findings of an Accounts service's refusal, shared with login, whose
// check before the browser opens finds the same problems.

func unknownClient(s *settings) finding {
	return finding{levelFail, fmt.Sprintf("Accounts service %s does not know client ID %s", s.AccountsURL, s.ClientID),
		"Copy the client ID from your app's page at https://developer.spotify.com/dashboard.", spotauth.ErrInvalidClient}
}

func unregisteredRedirect(s *settings) finding {
	return finding{levelFail, fmt.Sprintf("redirect URI %s is not registered for the app", s.RedirectURI),
		"Add exactly " + s.RedirectURI + " to the app's Redirect URIs at https://developer.spotify.com/dashboard (no port: any port works).", spotauth.ErrInvalidRedirectURI}
}

func unreachable(s *settings, err error) finding {
	return finding{levelFail, fmt.Sprintf("Accounts service %s unreachable: %v", s.AccountsURL, err),
		"Check the network, proxy settings and --accounts-url / " + envAccountsURL + ".", err}
}

// checkStore checks the token store of the profile: the directory and
// token files of a file store (modes), then, through the store as the
// other commands open it, that each stored token loads (a damaged file, an
// unreachable Redis or one refusing the credentials fail) and that no
// process holds a token's lock without letting go.
func checkStore(ctx context.Context, opts *doctorOptions, s *settings) []finding {
	loc, err := parseStore(s.Store, s.ConfigDir)
	if err != nil {
		_, hint := classify(err)
		return []finding{{levelFail, fmt.Sprintf("token store %q: %v", s.Store, err), hint, err}}
	}
	var fs []finding
	if loc.kind == "file" {
		fs = checkDirMode(loc.dir)
		if _, err := os.Stat(loc.dir); err != nil {
			return fs // nothing stored yet, or the failure is reported
		}
	} else {
		fs = []finding{{level: levelOK, what: "token store " + loc.String()}}
	}
	for _, kind := range []tokenKind{userToken, appToken} {
		lockHeld := true // a Redis lease may be held whatever the token
		if loc.kind == "file" {
			name := tokenFile(loc.dir, s.Profile, kind)
			if _, err := os.Stat(name); err == nil {
				modes := checkFileMode(name, string(kind)+" token file", true)
				fs = append(fs, modes...)
				if modes[0].level == levelFail {
					continue
				}
			}
			_, err := os.Stat(filepath.Join(loc.dir, storeName(s.Profile, kind)+".lock"))
			lockHeld = err == nil
		}
		f, ok := checkStoredToken(ctx, opts, s, loc, kind, lockHeld)
		fs = append(fs, f...)
		if !ok {
			break // the store fails: once is enough
		}
	}
	return fs
}

// checkStoredToken loads one token of the profile through its store and tries
// its lock (if tryLock) for a short while. ok is false when the store
// itself failed.
func checkStoredToken(ctx context.Context, opts *doctorOptions, s *settings, loc storeLocation, kind tokenKind, tryLock bool) (fs []finding, ok bool) {
	st, err := opts.OpenStore(s, kind)
	if err != nil {
		_, hint := classify(err)
		return []finding{{levelFail, fmt.Sprintf("token store %s: %v", loc, err), hint, err}}, false
	}
	lctx, cancel := context.WithTimeout(ctx, doctorStoreWait)
	t, err := st.Load(lctx)
	cancel()
	what := fmt.Sprintf("the %s token of profile %s", kind, s.Profile)
	switch {
	case errors.Is(err, spotauth.ErrTokenNotFound):
		if kind == userToken {
			fs = append(fs, finding{level: levelOK, what: fmt.Sprintf("profile %s is not logged in (spotauth login stores its token)", s.Profile)})
		}
	case err != nil:
		err = storeFailed("load", err)
		return append(fs, finding{levelFail, fmt.Sprintf("cannot load %s from %s: %v", what, loc, err), storeFix(s, loc, kind, err), err}), exitCode(err) != ExitNetwork && !refusedCredentials(err)
	case t != nil:
		fs = append(fs, finding{level: levelOK, what: what + " loads"})
	}
	ls, locking := st.(spotauth.LockingStore)
	if !tryLock || !locking {
		return fs, true
	}
	lctx, cancel = context.WithTimeout(ctx, doctorLockWait)
	defer cancel()
	lease, err := ls.Lock(lctx)
	if busy, isBusy := errors.AsType[*spotauth.LeaseBusyError](err); isBusy {
		holder := busy.Holder
		if holder == "" {
			holder = "another process"
		}
		fix := "Commands that refresh or store this token wait for the lock, then give up."
		if busy.Hint != "" {
			fix += "\n" + strings.ToUpper(busy.Hint[:1]) + busy.Hint[1:] + "."
		} else {
			fix += "\nEnd the process that holds it, or wait for its lease to expire."
		}
		return append(fs, finding{levelFail, fmt.Sprintf("the lock of %s is held by %s", what, holder), fix, storeFailed("lock", err)}), true
	}
	if err == nil {
		_ = lease.Release(ctx)
	}
	return fs, true // another failure to lock (a newer token meanwhile) is no problem
}

// refusedCredentials reports a Redis server that refused the user or
// password of --store (or wanted one).
func refusedCredentials(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "NOPERM")
}

// storeFix says what to do about a token that cannot be loaded.
func storeFix(s *settings, loc storeLocation, kind tokenKind, err error) string {
	switch {
	case refusedCredentials(err):
		return "The Redis server refused the credentials: put the right user and password in the URL of --store / " + envStore + "."
	case exitCode(err) == ExitNetwork:
		return "Check that the Redis server at " + loc.String() + " runs and is reachable from here (--store / " + envStore + ")."
	}
	remove := "spotauth logout"
	if s.Profile != defaultProfile {
		remove += " --profile " + s.Profile
	}
	if loc.kind == "file" {
		remove = "rm " + shellQuote(tokenFile(loc.dir, s.Profile, kind))
	}
	if kind == appToken {
		return "The stored app token is damaged: remove it (" + remove + "); spotauth token --client-credentials gets a new one."
	}
	return "The stored token is damaged: remove it (" + remove + "), then log in again: " + loginLine(s, spotauth.Scopes{})
}

func checkDirMode(dir string) []finding {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []finding{{level: levelOK, what: "token directory " + dir + " (created at first login)"}}
	}
	if err != nil {
		return []finding{{levelFail, fmt.Sprintf("token directory %s: %v", dir, err), "Make it readable by you: chmod 700 " + dir, err}}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return []finding{{level: levelWarn, what: fmt.Sprintf("token directory %s is accessible to others (mode %v)", dir, fi.Mode().Perm()), fix: "Run: chmod 700 " + dir}}
	}
	return []finding{{level: levelOK, what: "token directory " + dir}}
}

func checkFileMode(name, what string, secret bool) []finding {
	fi, err := os.Stat(name)
	if err != nil {
		return []finding{{levelFail, fmt.Sprintf("%s %s: %v", what, name, err), "Create it or point spotauth elsewhere.", err}}
	}
	if !fi.Mode().IsRegular() {
		// Opening a FIFO for reading would wait for a writer.
		return []finding{{levelFail, fmt.Sprintf("%s %s is not a regular file (%v)", what, name, fi.Mode().Type()), "Remove it: rm " + name,
			&configError{fmt.Errorf("spotauth: %s %s is not a regular file", what, name)}}}
	}
	fh, err := os.Open(name)
	if err != nil {
		return []finding{{levelFail, fmt.Sprintf("%s %s is unreadable: %v", what, name, err), "Run: chmod 600 " + name + " (as its owner)", err}}
	}
	fh.Close()
	if secret && fi.Mode().Perm()&0o077 != 0 {
		return []finding{{levelFail, fmt.Sprintf("%s %s holds secrets and is readable by others (mode %v)", what, name, fi.Mode().Perm()), "Run: chmod 600 " + name,
			&configError{fmt.Errorf("spotauth: %s %s is readable by others", what, name)}}}
	}
	return []finding{{level: levelOK, what: fmt.Sprintf("%s %s (mode %v)", what, name, fi.Mode().Perm())}}
}
