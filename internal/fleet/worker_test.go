// The worker role: a fleet test binary re-run with [EnvWorker] set runs one
// [spotauth.RefreshingSource] with many goroutines calling it and reports
// what they saw.

package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	redisstore "github.com/spotauth/spotauth/store/redis"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// EnvWorker, when set in a process's environment, holds the JSON
// [WorkerConfig] that makes the process a worker.
const EnvWorker = "SPOTAUTH_FLEET_WORKER"

// Output line prefixes of a worker.
const (
	eventPrefix  = "FLEET-EVENT "
	resultPrefix = "FLEET-RESULT "
)

// WorkerConfig is what a worker process is told.
type WorkerConfig struct {
	ID           int
	Store        string // "redis://..." or "file:/path"
	StoreKey     string // base64 encryption key; empty: none
	ServerURL    string
	ClientID     string
	ClientSecret string
	Goroutines   int
	Duration     time.Duration
	// CallEvery is the pause between two Token calls of a goroutine.
	CallEvery time.Duration
	// CallTimeout bounds each Token call (0 means 5 s).
	CallTimeout time.Duration
	// NoLock hides the store's lease (a control experiment: the workers
	// then coordinate through Load and Save only).
	NoLock bool
	// NoWatch hides the store's Watch method (the sources then learn of
	// changes only when they refresh).
	NoWatch bool
	// MeEvery is how often each goroutine checks its token at /v1/me.
	MeEvery       time.Duration
	RefreshWindow time.Duration
	Jitter        time.Duration
	Retry         spotauth.RetryPolicy
	// PauseFlag, if set, is a file name: the first worker to create it,
	// while holding the refresh lease at least PauseAfter into its run,
	// reports the event "holding" and stops there until killed.
	PauseFlag  string
	PauseAfter time.Duration
}

// WorkerResult is what a worker reports when its run ends.
type WorkerResult struct {
	ID, PID int
	// Calls counts Token calls, Errors the failed ones.
	Calls, Errors int64
	// ErrorsWithValidToken counts errors returned while the goroutine's
	// last token had more than [ValidSlack] of life left (there should be
	// none). MaxLifeAtError is the longest life left at an error.
	ErrorsWithValidToken int64
	MaxLifeAtError       time.Duration
	// ExpiredReturned counts tokens returned already expired by the
	// clock read before the call;
	// MaxExpiredBy is the longest such token had been expired, and
	// ExpiredCallTook how long that call took.
	ExpiredReturned               int64
	MaxExpiredBy, ExpiredCallTook time.Duration
	// LeaseLost counts OnError reports of a lost lease.
	LeaseLost int64
	// MeChecks counts /v1/me checks; MeInvalid the 401 answers for a token
	// whose expiry had not passed when the answer came; MeLate the 401s
	// for a token that expired on the way.
	MeChecks, MeInvalid, MeLate, MeOther int64
	// ErrorSamples holds a few error messages.
	ErrorSamples []string
	// FirstError and LastError are the times of the first and last error.
	FirstError, LastError time.Time
	// LastSuccess is the time of the last successful call.
	LastSuccess time.Time
	// FinalErrors counts the goroutines whose last Token call failed.
	FinalErrors int64
	// Tokens lists the access tokens served, by fingerprint, with the time
	// this worker first served each.
	Tokens map[string]time.Time
	// Refreshes counts refreshes made by this worker (OnRefresh).
	Refreshes int64
	// Holds counts leases this worker acquired.
	Holds int64
	// RoundTrips and Commands count the worker's Redis traffic;
	// CommandNames by command.
	RoundTrips, Commands int64
	CommandNames         map[string]int64
	// RefreshErrors counts OnError reports.
	RefreshErrors int64
	// ReauthErrors counts Token errors matching spotauth.ErrReauthorize.
	ReauthErrors int64
	// ReauthorizeAt is when OnError first reported ErrReauthorize.
	ReauthorizeAt time.Time
}

// ValidSlack is how long before its expiry a 2 s token may be withheld
// with an error: a RefreshingSource stops handing out a token a twentieth
// of its life (100 ms here) before it expires, so that it does not die in
// transit; the rest allows for a worker descheduled between the call and
// its own clock reading.
const ValidSlack = 350 * time.Millisecond

// Fingerprint names a token without revealing it.
func Fingerprint(access string) string {
	h := sha256.Sum256([]byte(access))
	return hex.EncodeToString(h[:6])
}

// MaybeWorker runs the worker role and exits if [EnvWorker] is set; it
// returns otherwise. Call it first in TestMain.
func MaybeWorker() {
	raw := os.Getenv(EnvWorker)
	if raw == "" {
		return
	}
	var cfg WorkerConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "fleet worker: bad %s: %v\n", EnvWorker, err)
		os.Exit(2)
	}
	res, err := runWorker(cfg, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fleet worker %d: %v\n", cfg.ID, err)
		os.Exit(1)
	}
	b, _ := json.Marshal(res)
	fmt.Fprintf(os.Stdout, "%s%s\n", resultPrefix, b)
	os.Exit(0)
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// OpenStore opens the store a spec names: a redis:// URL (see
// [redisstore.NewFromURL]) or "file:" and a path. A non-empty key (base64,
// see [storecrypt.ParseKey]) encrypts the tokens.
func OpenStore(spec, key string) (spotauth.TokenStore, io.Closer, error) {
	var sealer *storecrypt.AESGCM
	if key != "" {
		k, err := storecrypt.ParseKey(key)
		if err != nil {
			return nil, nil, err
		}
		if sealer, err = storecrypt.New(k); err != nil {
			return nil, nil, err
		}
	}
	if strings.HasPrefix(spec, "file:") {
		return openFileStore(strings.TrimPrefix(spec, "file:"), sealer)
	}
	var opts []redisstore.Option
	if sealer != nil {
		opts = append(opts, redisstore.WithSealer(sealer))
	}
	s, err := redisstore.NewFromURL(spec, opts...)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}

// hookedStore counts leases and pauses the chosen holder.
type hookedStore struct {
	spotauth.LockingStore
	holds   atomic.Int64
	onLease func()
}

func (h *hookedStore) Lock(ctx context.Context) (spotauth.Lease, error) {
	l, err := h.LockingStore.Lock(ctx)
	if err == nil {
		h.holds.Add(1)
		if h.onLease != nil {
			h.onLease()
		}
	}
	return l, err
}

// watchingHooked is a hookedStore on a WatchingStore, which it stays.
type watchingHooked struct {
	*hookedStore
	w spotauth.WatchingStore
}

func (h watchingHooked) Watch(ctx context.Context) (<-chan spotauth.StoreEvent, error) {
	return h.w.Watch(ctx)
}

// plainStore hides the LockingStore methods.
type plainStore struct{ s spotauth.TokenStore }

func (p plainStore) Load(ctx context.Context) (*spotauth.Token, error) { return p.s.Load(ctx) }
func (p plainStore) Save(ctx context.Context, t *spotauth.Token) error { return p.s.Save(ctx, t) }
func (p plainStore) Delete(ctx context.Context) error                  { return p.s.Delete(ctx) }

func runWorker(cfg WorkerConfig, out io.Writer) (*WorkerResult, error) {
	redis.SetLogger(quietLogger{})
	start := time.Now()
	var outMu sync.Mutex
	event := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, eventPrefix+format+"\n", args...)
	}

	store, closer, err := OpenStore(cfg.Store, cfg.StoreKey)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	counter := &redistest.Counter{}
	if rs, ok := store.(*redisstore.Store); ok {
		rs.Client().AddHook(counter)
	}
	ls, ok := store.(spotauth.LockingStore)
	if !ok {
		return nil, fmt.Errorf("store %T is not a LockingStore", store)
	}
	hs := &hookedStore{LockingStore: ls}
	var srcStore spotauth.TokenStore = hs
	if ws, ok := store.(spotauth.WatchingStore); ok && !cfg.NoWatch {
		srcStore = watchingHooked{hs, ws}
	}
	if cfg.NoLock {
		srcStore = plainStore{hs}
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.PauseFlag != "" {
		hs.onLease = func() {
			if time.Since(start) < cfg.PauseAfter {
				return
			}
			f, err := os.OpenFile(cfg.PauseFlag, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return // another worker paused already
			}
			f.Close()
			event("holding %d %d", os.Getpid(), time.Now().UnixNano())
			select {} // hold the lease (renewed in the background) until killed
		}
	}

	res := &WorkerResult{ID: cfg.ID, PID: os.Getpid(), Tokens: map[string]time.Time{}}
	var refreshes, refreshErrors, reauthErrors, leaseLost atomic.Int64
	var reauthAt atomic.Int64
	conf := &spotauth.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		AccountsURL:  cfg.ServerURL,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second},
		Retry:        cfg.Retry,
	}
	src := conf.UserSource(nil, &spotauth.SourceOptions{
		Store:         srcStore,
		RefreshWindow: cfg.RefreshWindow,
		Jitter:        cfg.Jitter,
		OnRefresh:     func(*spotauth.Token) { refreshes.Add(1) },
		OnError: func(err error) {
			refreshErrors.Add(1)
			if errors.Is(err, spotauth.ErrLeaseLost) {
				leaseLost.Add(1)
			}
			if errors.Is(err, spotauth.ErrReauthorize) {
				reauthAt.CompareAndSwap(0, time.Now().UnixNano())
			}
		},
	})
	defer src.Close()

	end := start.Add(cfg.Duration)
	var mu sync.Mutex // guards res
	var wg sync.WaitGroup
	meClient := &http.Client{Timeout: 2 * time.Second}
	for g := 0; g < cfg.Goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last *spotauth.Token
			var lastErr error
			nextMe := time.Now().Add(time.Duration(g) * cfg.MeEvery / time.Duration(cfg.Goroutines))
			local := struct{ calls, errs, errsValid, expired, me, meBad, meLate, meOther int64 }{}
			defer func() {
				mu.Lock()
				res.Calls += local.calls
				res.Errors += local.errs
				res.ErrorsWithValidToken += local.errsValid
				res.ExpiredReturned += local.expired
				res.MeChecks += local.me
				res.MeInvalid += local.meBad
				res.MeLate += local.meLate
				res.MeOther += local.meOther
				mu.Unlock()
			}()
			for time.Now().Before(end) {
				ctx, cancel := context.WithTimeout(context.Background(), cfg.CallTimeout)
				before := time.Now()
				tok, err := src.Token(ctx)
				cancel()
				now := time.Now()
				local.calls++
				lastErr = err
				if err != nil {
					local.errs++
					if errors.Is(err, spotauth.ErrReauthorize) {
						reauthErrors.Add(1)
					}
					var left time.Duration
					if last != nil {
						left = last.Expiry.Sub(now)
					}
					if left > ValidSlack {
						local.errsValid++
					}
					mu.Lock()
					res.MaxLifeAtError = max(res.MaxLifeAtError, left)
					if res.FirstError.IsZero() {
						res.FirstError = now
					}
					res.LastError = now
					if len(res.ErrorSamples) < 5 {
						res.ErrorSamples = append(res.ErrorSamples, err.Error())
					}
					mu.Unlock()
					time.Sleep(20 * time.Millisecond)
					continue
				}
				// The promise is about the clock read when the call
				// began: a token valid then may expire while a starved
				// caller waits to be scheduled again, which no library
				// can prevent.
				if !tok.Expiry.After(before) {
					local.expired++
					mu.Lock()
					if by := before.Sub(tok.Expiry); by > res.MaxExpiredBy {
						res.MaxExpiredBy, res.ExpiredCallTook = by, now.Sub(before)
					}
					mu.Unlock()
				}
				if last == nil || tok.AccessToken != last.AccessToken {
					fp := Fingerprint(tok.AccessToken)
					mu.Lock()
					if _, seen := res.Tokens[fp]; !seen {
						res.Tokens[fp] = now
					}
					if now.After(res.LastSuccess) {
						res.LastSuccess = now
					}
					mu.Unlock()
				}
				last = tok
				if now.After(nextMe) {
					nextMe = now.Add(cfg.MeEvery)
					local.me++
					switch code := checkMe(meClient, cfg.ServerURL, tok.AccessToken); {
					case code == http.StatusOK:
					case code == http.StatusUnauthorized && time.Now().Before(tok.Expiry):
						local.meBad++
					case code == http.StatusUnauthorized:
						local.meLate++
					default:
						local.meOther++
					}
				}
				time.Sleep(cfg.CallEvery)
			}
			mu.Lock()
			if last != nil && res.LastSuccess.Before(end) {
				res.LastSuccess = time.Now()
			}
			if lastErr != nil {
				res.FinalErrors++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Refreshes = refreshes.Load()
	res.RefreshErrors = refreshErrors.Load()
	res.ReauthErrors = reauthErrors.Load()
	res.LeaseLost = leaseLost.Load()
	if at := reauthAt.Load(); at != 0 {
		res.ReauthorizeAt = time.Unix(0, at)
	}
	res.Holds = hs.holds.Load()
	res.RoundTrips, res.Commands = counter.RoundTrips(), counter.Commands()
	res.CommandNames = counter.ByName()
	return res, nil
}

// checkMe asks /v1/me whether access is valid and returns the HTTP status
// (0 if the request failed).
func checkMe(c *http.Client, base, access string) int {
	req, err := http.NewRequest(http.MethodGet, base+"/v1/me", nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Generations returns the fingerprints of the tokens served by any worker,
// ordered by when the first worker served them.
func Generations(results []*WorkerResult) []string {
	first := map[string]time.Time{}
	for _, r := range results {
		for fp, t := range r.Tokens {
			if f, ok := first[fp]; !ok || t.Before(f) {
				first[fp] = t
			}
		}
	}
	out := make([]string, 0, len(first))
	for fp := range first {
		out = append(out, fp)
	}
	sort.Slice(out, func(i, j int) bool { return first[out[i]].Before(first[out[j]]) })
	return out
}
