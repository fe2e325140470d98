package weblogin

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// closeCounter is a store that counts Close calls.
type closeCounter struct {
	spotauth.MemoryStore
	closes *atomic.Int64
}

func (c *closeCounter) Close() error { c.closes.Add(1); return nil }

func testCache(capacity int) (*cache, *atomic.Int64, *atomic.Int64) {
	var opened, closed atomic.Int64
	c := newCache(capacity, func(id string) (*user, error) {
		opened.Add(1)
		return &user{id: id, store: &closeCounter{closes: &closed}}, nil
	})
	return c, &opened, &closed
}

// waitClosed waits until closed reaches want: entries close in the
// background.
func waitClosed(t *testing.T, closed *atomic.Int64, want int64) {
	t.Helper()
	for range 1000 {
		if closed.Load() == want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("closed entries = %d; want %d", closed.Load(), want)
}

func TestCacheLRU(t *testing.T) {
	c, opened, closed := testCache(2)
	get := func(id string) *user {
		u, err := c.get([]byte(id))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	a := get("a")
	c.unpin(a)
	c.unpin(get("b"))
	c.unpin(get("a")) // a is now the most recent
	c.unpin(get("c")) // evicts b
	waitClosed(t, closed, 1)
	if c.len() != 2 || opened.Load() != 3 {
		t.Fatalf("len %d, opened %d; want 2, 3", c.len(), opened.Load())
	}
	if u := get("a"); u != a {
		t.Error("a was evicted; want b (least recently used)")
	} else {
		c.unpin(u)
	}
	// A pinned entry evicted stays open until unpinned.
	pinned := get("c")
	c.unpin(get("d")) // evicts a
	c.unpin(get("e")) // evicts c, pinned
	waitClosed(t, closed, 2)
	time.Sleep(10 * time.Millisecond)
	if closed.Load() != 2 {
		t.Fatalf("closed = %d after evicting a pinned entry; want 2", closed.Load())
	}
	c.unpin(pinned)
	waitClosed(t, closed, 3)

	// remove and put replace.
	c.remove("d")
	waitClosed(t, closed, 4)
	nu := &user{id: "e", store: &closeCounter{closes: closed}}
	u, err := c.put(nu)
	if err != nil || u != nu {
		t.Fatalf("put = %v, %v", u, err)
	}
	c.unpin(u)
	waitClosed(t, closed, 5) // the e it replaced
	c.close()
	if closed.Load() != int64(opened.Load())+1 || c.len() != 0 {
		t.Errorf("after close: closed %d of %d, len %d", closed.Load(), opened.Load()+1, c.len())
	}
	if _, err := c.get([]byte("f")); err != spotauth.ErrClosed {
		t.Errorf("get after close = %v; want ErrClosed", err)
	}
	if closed.Load() != int64(opened.Load())+1 {
		t.Errorf("the entry opened after close was not closed")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c, opened, closed := testCache(64)
	if len(c.shards) != 1 {
		t.Fatalf("a cache of 64 has %d shards; want 1 (exact LRU)", len(c.shards))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				u, err := c.get(fmt.Appendf(nil, "user%d", (i*7+g)%200))
				if err != nil {
					t.Error(err)
					return
				}
				if u.refs.Load()&evictedBit != 0 && u.refs.Load()&(evictedBit-1) == 0 {
					t.Error("got an entry already released")
				}
				c.unpin(u)
			}
		})
	}
	wg.Wait()
	if c.len() != 64 {
		t.Errorf("len = %d; want 64", c.len())
	}
	c.close()
	if closed.Load() != opened.Load() {
		t.Errorf("closed %d of %d opened entries", closed.Load(), opened.Load())
	}
}

func TestCacheShards(t *testing.T) {
	for _, tc := range []struct{ capacity, shards int }{{1, 1}, {1000, 1}, {1024, 2}, {10000, 16}, {100000, 64}} {
		c := newCache(tc.capacity, nil)
		if len(c.shards) != tc.shards {
			t.Errorf("newCache(%d): %d shards; want %d", tc.capacity, len(c.shards), tc.shards)
		}
	}
	// The bound is on the whole cache: a sharded cache holds as many users
	// as its capacity, however they hash, and evicts beyond.
	c, _, closed := testCache(10000)
	for i := range 10000 {
		u, _ := c.get(fmt.Appendf(nil, "user%d", i))
		c.unpin(u)
	}
	if c.len() != 10000 || closed.Load() != 0 {
		t.Errorf("10000 users in a cache of 10000: len %d, evicted %d; want 10000, 0", c.len(), closed.Load())
	}
	for i := range 100 {
		u, _ := c.get(fmt.Appendf(nil, "more%d", i))
		c.unpin(u)
	}
	waitClosed(t, closed, 100)
	if c.len() != 10000 {
		t.Errorf("len = %d after 100 more; want 10000", c.len())
	}
	c.close()
}

func TestSealRoundTripAndRotation(t *testing.T) {
	old, _ := newSealer([][]byte{[]byte(strings.Repeat("o", 32))})
	rotated, _ := newSealer([][]byte{[]byte(strings.Repeat("n", 32)), []byte(strings.Repeat("o", 32))})
	s := session{exp: 1 << 40, authAt: 42, uid: []byte("user")}
	s.sid[0] = 7
	v := old.seal(purposeSession, appendSession(nil, &s))
	// The rotated deployment opens cookies sealed with the old key, and
	// checks CSRF tokens made with it.
	plain, k, buf, err := rotated.open(purposeSession, v)
	if err != nil {
		t.Fatalf("open with the old key second = %v", err)
	}
	var got session
	if !parseSession(plain, &got) || string(got.uid) != "user" || got.authAt != 42 || got.sid != s.sid {
		t.Errorf("session round trip = %+v", got)
	}
	if !rotated.checkCSRF(s.sid[:], k.csrfToken(s.sid[:])) || !rotated.checkCSRF(s.sid[:], old.keys[0].csrfToken(s.sid[:])) {
		t.Error("CSRF token of the old key refused after rotation")
	}
	rotated.release(buf)
	// New cookies are sealed with the new key, which the old deployment
	// does not have.
	if _, _, _, err := old.open(purposeSession, rotated.seal(purposeSession, appendSession(nil, &s))); err == nil {
		t.Error("a deployment opened a cookie sealed with a key it does not have")
	}
	if _, _, _, err := rotated.open(purposeLogin, v); err == nil {
		t.Error("a session cookie opened as a login cookie")
	}
}

func FuzzOpenCookie(f *testing.F) {
	sl, _ := newSealer([][]byte{[]byte(strings.Repeat("k", 32))})
	s := session{exp: 1 << 40, uid: []byte("id")}
	f.Add(sl.seal(purposeSession, appendSession(nil, &s)))
	f.Add(sl.seal(purposeLogin, appendLogin(nil, &loginAttempt{state: "s", next: "/"})))
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, v string) {
		for p := range numPurposes {
			plain, _, buf, err := sl.open(p, v)
			if err != nil {
				continue
			}
			var s session
			var l loginAttempt
			parseSession(plain, &s)
			parseLogin(plain, &l)
			sl.release(buf)
		}
		// Whatever parses must round-trip.
		var l loginAttempt
		if parseLogin([]byte(v), &l) {
			if got := string(appendLogin(nil, &l)); got != v {
				t.Errorf("login round trip of %q = %q", v, got)
			}
		}
	})
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c#d", "//evil", `/\evil`, "/\t/evil", "https://x", "/%2F/evil", "/a/../b", "/@evil", "javascript:x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/dir/page")
	f.Fuzz(func(t *testing.T, next string) {
		p, ok := localPath(next)
		if !ok {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\t\r\n") {
			t.Fatalf("localPath(%q) accepted %q", next, p)
		}
		u, err := base.Parse(p)
		if err != nil || u.Host != "app.example" || u.Scheme != "https" {
			t.Fatalf("localPath(%q) = %q resolves to %v (%v); want a URL on app.example", next, p, u, err)
		}
	})
}

func FuzzDecodeBase64(f *testing.F) {
	f.Add("AQID")
	f.Add("AQI")
	f.Add("AQ==")
	f.Fuzz(func(t *testing.T, s string) {
		dst := make([]byte, 64)
		n, err := decodeBase64(dst, s)
		want, werr := base64Decode(s)
		if (err == nil) != (werr == nil) || err == nil && string(dst[:n]) != string(want) {
			t.Fatalf("decodeBase64(%q) = %x, %v; encoding/base64 gives %x, %v", s, dst[:n], err, want, werr)
		}
	})
}

// base64Decode is decodeBase64's reference: encoding/base64, strict,
// without the newlines it skips, into at most 64 bytes.
func base64Decode(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errSeal
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err == nil && len(b) > 64 {
		return nil, errSeal
	}
	return b, err
}

func TestOlderThan(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 500, time.UTC)
	for _, tc := range []struct {
		tok  time.Time
		want bool
	}{
		{at, false},
		{at.Add(-1), true},
		{at.Add(1), false},
		{at.Truncate(time.Second), false}, // a store of whole seconds: the same second
		{at.Truncate(time.Second).Add(-time.Second), true},
		{time.Time{}, false},
	} {
		if got := olderThan(tc.tok, at.UnixNano()); got != tc.want {
			t.Errorf("olderThan(%v, %v) = %v; want %v", tc.tok, at, got, tc.want)
		}
	}
	if olderThan(at, 0) {
		t.Error("olderThan(t, 0) = true; want false (unknown)")
	}
}
