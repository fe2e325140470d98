package spotauth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Refreshing in flight: one refresh (or reload) at a time per source, its
// scheduling, backoff and outcome.

// A flight is one refresh, shared by everyone who waits for it.
type flight struct {
	done chan struct{}
	err  error
}

var doneFlight = func() *flight { f := &flight{done: make(chan struct{})}; close(f.done); return f }()

// flightKind says what a flight does.
type flightKind int

const (
	flightRefresh flightKind = iota // replace the token of a given state
	flightForce                     // replace the current token, whatever the state
	flightReload                    // after a permanent error: adopt a new stored token, never refresh
)

// reloadInterval bounds how often a source in a permanent-error state looks
// in its store for a token stored after a new authorization.
const reloadInterval = time.Second

// reloadDue reports whether a reload may start now, and if so counts it.
func (s *RefreshingSource) reloadDue() bool {
	_, mono := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reloaded && mono-s.lastReload < int64(reloadInterval) {
		return false
	}
	s.reloaded, s.lastReload = true, mono
	return true
}

// startFlight returns the flight in progress, or starts one of kind. A
// refresh or reload starts only if the published state is still st, a
// forced refresh only if the published token is still st's; otherwise
// startFlight returns doneFlight, so that the caller reads the new state.
func (s *RefreshingSource) startFlight(st *state, kind flightKind) *flight {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return s.flight
	}
	if s.closed {
		return doneFlight // the caller then reads closedState
	}
	cur := s.st.Load()
	if kind == flightForce {
		// A forced refresh replaces the token its caller found stale; if
		// another flight replaced that token meanwhile (a 401 seen by
		// several requests at once), the new token is the answer.
		if cur.tok == nil || st.tok == nil || cur.tok.AccessToken != st.tok.AccessToken {
			return doneFlight
		}
	} else if cur != st {
		return doneFlight
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	s.wg.Add(1)
	go s.run(f, s.st.Load(), s.deletions, kind)
	return f
}

// run performs flight f, replacing the token of from. dels is s.deletions
// when the flight started.
func (s *RefreshingSource) run(f *flight, from *state, dels uint64, kind flightKind) {
	defer s.wg.Done()
	stale := from.tok
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	if kind == flightReload {
		s.runReload(ctx, f, stale)
		return
	}

	s.mu.Lock()
	pending, pbase, pold := s.pendingSave, s.pendingBase, s.pendingOld
	s.mu.Unlock()

	var (
		res renewResult
		err error
	)
	if pending != nil && stale == pending && s.opts.Store != nil && !s.dueNow(stale) {
		// Only the save of the published token is due.
		res = renewResult{tok: pending, base: pbase, stored: pold}
		adopted, ferr := s.renewal(stale, pold).resave(ctx, pbase, pending)
		switch {
		case ferr == nil && adopted != nil:
			res = renewResult{tok: adopted}
		case ferr == errDeleted:
			err = ferr
		case ferr != nil:
			res.saveErr = &StoreError{Op: "save", Err: ferr}
		}
	} else {
		r := s.renewal(stale, from.stored)
		r.unsaved = pending != nil && stale == pending
		res, err = r.run(ctx)
	}
	s.mu.Lock()
	closed := s.closed
	if err == nil && s.deletions != dels {
		// The stored token was deleted (a logout) while this flight ran:
		// its token must not outlive the deletion.
		err = errDeleted
	}
	if closed {
		err = ErrClosed
	}
	var report []error
	if !closed {
		report, err = s.settle(from, res, err)
	}
	s.mu.Unlock()
	tok, refreshed := res.tok, res.refreshed

	// The callbacks run before the flight's waiters are released, so that
	// a caller of Invalidate or Token that waited for this
	// refresh finds them done; callers on the hot path already have the
	// new token.
	if !closed {
		if s.opts.OnError != nil {
			for _, e := range report {
				s.opts.OnError(e)
			}
		}
		if err == nil && refreshed && s.opts.OnRefresh != nil {
			s.opts.OnRefresh(tok)
		}
	}
	s.mu.Lock()
	f.err = err
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

// runReload performs a reload flight: it adopts a stored token of another
// authorization than the one whose refresh failed permanently, if there is
// one.
func (s *RefreshingSource) runReload(ctx context.Context, f *flight, stale *Token) {
	cur, err := s.opts.Store.Load(ctx)
	s.mu.Lock()
	st := s.st.Load()
	if err == nil && !s.closed && st.err != nil && s.newAuthorization(cur, stale) {
		// A token of a new authorization: publish it, even expired (the
		// next call then refreshes it with its own refresh token).
		s.failures = 0
		s.pendingSave = nil
		st := s.newState(cur, false)
		st.stored = true
		s.publish(st)
	}
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

// permanent reports whether a refresh error must not be retried.
func permanent(err error) bool {
	return errors.Is(err, ErrInvalidGrant) || errors.Is(err, ErrReauthorize) ||
		errors.Is(err, ErrInvalidClient) || errors.Is(err, ErrNoRefreshToken) ||
		errors.Is(err, ErrUnsupportedGrantType)
}

// newAuthorization reports whether cur, read from the store while the
// source is failed or dropped, is to be adopted: a usable token newer than
// stale, or one of another authorization (another refresh token: a new
// login), even expired (the next call then refreshes it).
func (s *RefreshingSource) newAuthorization(cur, stale *Token) bool {
	if cur == nil || cur.AccessToken == "" || stale != nil && cur.AccessToken == stale.AccessToken {
		return false
	}
	return s.adoptable(cur, stale) ||
		authorization(cur) && (stale == nil || cur.RefreshToken != stale.RefreshToken)
}

// adoptable reports whether a stored token t should replace stale without
// a refresh: usable, and another token at least as new.
func (s *RefreshingSource) adoptable(t, stale *Token) bool {
	if !usableAt(t, s.wallTime()) {
		return false
	}
	if stale == nil || stale.AccessToken == "" {
		return true
	}
	return t.AccessToken != stale.AccessToken && !olderThan(t, stale)
}

// wallTime returns the clock's wall time.
func (s *RefreshingSource) wallTime() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock.Now()
}

// renewal returns the renewal of stale (stored: it is the store's token)
// that a flight performs.
func (s *RefreshingSource) renewal(stale *Token, stored bool) *renewal {
	return &renewal{
		renew:  s.renew,
		store:  s.opts.Store,
		stale:  stale,
		stored: stored,
		adopt:  func(t *Token) bool { return s.adoptable(t, stale) },
		now:    s.wallTime,
		lock:   s.lock,
		report: s.report,
	}
}

// lock waits for ls's lease. A store event can stop the wait (see
// lockCancel): lock then returns errAdopted or errDeleted.
func (s *RefreshingSource) lock(ctx context.Context, ls LockingStore) (Lease, error) {
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.lockCancel = cancel
	s.mu.Unlock()
	l, err := ls.Lock(lctx)
	s.mu.Lock()
	s.lockCancel = nil
	s.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		if c := context.Cause(lctx); c == errAdopted || c == errDeleted {
			return nil, c
		}
	}
	return l, err
}

// report passes err to OnError, if set.
func (s *RefreshingSource) report(err error) {
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// settle publishes the state that the outcome of a flight from the state
// from leads to: the transitions listed in state.go. It returns the errors
// to report to OnError and the flight's error for its waiters. s.mu must
// be held.
func (s *RefreshingSource) settle(from *state, res renewResult, err error) (report []error, _ error) {
	stale := from.tok
	tok, refreshed, saveErr := res.tok, res.refreshed, res.saveErr
	switch {
	case err == nil:
		st := s.newState(tok, refreshed)
		st.stored = saveErr == nil
		switch {
		case saveErr != nil && res.base != nil && !errors.Is(saveErr, ErrLeaseLost):
			// Keep trying, fenced to the token it was renewed from.
			s.failures++
			s.pendingSave, s.pendingBase, s.pendingOld = tok, res.base, res.stored
			st = s.withRetry(st, s.backoff(st.window, saveErr))
			report = append(report, saveErr)
		case saveErr != nil:
			// The store moved on to another token: nothing to retry.
			s.failures = 0
			s.pendingSave, s.pendingBase = nil, nil
			report = append(report, saveErr)
		default:
			s.failures = 0
			s.pendingSave, s.pendingBase = nil, nil
		}
		s.publish(st)
	case errors.Is(err, errDeleted):
		// The stored token was deleted: drop ours, valid or not.
		if saveErr != nil {
			report = append(report, saveErr)
		}
		if cur := s.st.Load(); cur.tok != nil || cur.err == nil {
			report = append(report, err)
			s.publish(s.droppedState(cur, err))
		}
	default:
		if errors.Is(err, ErrInvalidGrant) && !errors.Is(err, ErrReauthorize) {
			err = fmt.Errorf("%w: %w", ErrReauthorize, err)
		}
		if saveErr != nil {
			report = append(report, saveErr)
		}
		cur := s.st.Load()
		valid := cur.tok != nil && cur.tok.AccessToken != "" && cur.err == nil
		switch {
		case cur.tok == nil && cur.err == errDeleted && permanent(err):
			// Dropped already: the deletion this refusal made reached the
			// watch first, which reported the end. Keep the more precise
			// error, and report the end once.
			n := cur.clone()
			n.err = err
			s.publish(n)
		case cur.tok == nil && cur.err == errDeleted:
			report = append(report, err) // dropped: stays so
		case valid && cur != from && !permanent(err) && s.adoptable(cur.tok, stale):
			// A newer token was adopted meanwhile (a store event): nothing
			// to retry.
			report = append(report, err)
		case valid && permanent(err):
			// Failed: the token is served until it expires, then err.
			report = append(report, err)
			n := cur.clone()
			n.err = err
			n.dueWall, n.dueMono = n.expWall, n.expMono
			s.publish(n)
		case valid:
			// Due again after a backoff.
			report = append(report, err)
			s.failures++
			s.publish(s.withRetry(cur, s.backoff(cur.window, err)))
		case permanent(err) && cur.err == nil:
			// Empty or expired: failed.
			report = append(report, err)
			n := cur.clone()
			n.err = err
			s.publish(n)
		default:
			report = append(report, err) // expired: the next call retries
		}
	}
	return report, err
}
