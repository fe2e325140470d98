package spotauth

import (
	"context"
	"math"
	"time"
)

// Watching a WatchingStore: tokens other processes store or delete.

// droppedState is cur without its token, failing with err: the stored
// token was deleted. A permanent error cur already had (the invalid_grant
// that made this source delete the token, say) is kept, as more precise.
func (s *RefreshingSource) droppedState(cur *state, err error) *state {
	if cur.err != nil && cur.err != ErrClosed {
		err = cur.err
	}
	return &state{err: err, dueWall: math.MinInt64, dueMono: math.MinInt64,
		expWall: math.MinInt64, expMono: math.MinInt64, gotMono: math.MinInt64, window: cur.window}
}

// watch follows the events of a WatchingStore until Close (see
// [WatchingStore] for what the source does with them). If watching fails
// or stops, it tries again after a backoff (1 s, doubling up to 30 s).
func (s *RefreshingSource) watch(ws WatchingStore) {
	defer s.wg.Done()
	delay := time.Second
	for {
		ch, err := ws.Watch(s.ctx)
		if err != nil && s.ctx.Err() == nil {
			s.report(&StoreError{Op: "watch", Err: err})
		}
		if err == nil {
			for ev := range ch {
				delay = time.Second
				s.onEvent(ws, ev)
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// onEvent handles one store event: it reads the store (the truth; events
// are hints) and adopts a newer token, or drops a deleted one.
func (s *RefreshingSource) onEvent(ws WatchingStore, ev StoreEvent) {
	if ev.Kind != StoreSaved && ev.Kind != StoreDeleted {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	cur, err := ws.Load(ctx)
	cancel()
	switch {
	case err == nil:
		// Saved, or deleted and stored again since (a new login).
		s.adoptStored(cur)
	case ev.Kind == StoreDeleted && s.ctx.Err() == nil:
		// Not found, or the store cannot say: the event is the news.
		s.drop()
	}
}

// adoptStored publishes cur, read from the store, if it is newer than the
// token of the source, or is a new authorization after a permanent error;
// a flight waiting for the lease then stops waiting.
func (s *RefreshingSource) adoptStored(cur *Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st.Load()
	if s.closed || st.closed || cur == nil || cur.AccessToken == "" {
		return
	}
	switch {
	case st.err != nil:
		// As runReload: a token of another authorization than the one
		// that ended.
		if !s.newAuthorization(cur, st.tok) {
			return
		}
	case st.tok == nil || st.tok.AccessToken == "" || s.pendingSave != nil || !s.adoptable(cur, st.tok):
		// Nothing loaded yet (the first call loads), our token is not
		// stored yet, or the stored one is not newer.
		return
	}
	s.failures = 0
	n := s.newState(cur, false)
	n.stored = true
	s.publish(n)
	if s.lockCancel != nil {
		s.lockCancel(errAdopted)
	}
}

// drop drops the token of a source whose stored authorization was deleted
// (an app token is simply requested again), and reports errDeleted, unless
// it was dropped already.
func (s *RefreshingSource) drop() {
	s.mu.Lock()
	st := s.st.Load()
	if s.closed || st.closed || !authorization(st.tok) {
		s.mu.Unlock()
		return
	}
	s.deletions++
	s.failures = 0
	s.pendingSave = nil
	known := st.err != nil // this source found the end itself, and said so
	s.publish(s.droppedState(st, errDeleted))
	if s.lockCancel != nil {
		s.lockCancel(errDeleted)
	}
	s.mu.Unlock()
	if !known {
		s.report(errDeleted)
	}
}
