package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/filestore"
)

// Kill points of TestE2ERefreshKill9.
const (
	killAfterAnswer = iota // right after the fake's token answer was sent
	killTempCreate         // on the temporary file's IN_CREATE
	killTempModify         // on the temporary file's first IN_MODIFY
	killRandom             // after a uniformly random delay
	numKillPoints
)

var killPointNames = [numKillPoints]string{"after answer", "temp created", "temp written", "random delay"}

// killer kills the armed process once.
type killer struct{ p atomic.Pointer[os.Process] }

func (k *killer) arm(p *os.Process) { k.p.Store(p) }
func (k *killer) disarm()           { k.p.Store(nil) }
func (k *killer) fire() {
	if p := k.p.Swap(nil); p != nil {
		p.Signal(syscall.SIGKILL)
	}
}

// watchTemp watches dir with inotify and calls fire on the first event of
// mask on a temporary file of prefix. The returned stop ends the watch.
func watchTemp(t *testing.T, dir, prefix string, mask uint32, fire func()) (stop func()) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify_init1: %v", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		t.Fatalf("inotify_add_watch: %v", err)
	}
	f := os.NewFile(uintptr(fd), "inotify") // non-blocking: reads wait in the poller, Close ends them
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				name = bytes.TrimRight(name, "\x00")
				if ev.Mask&mask != 0 && strings.HasPrefix(string(name), prefix) {
					fire()
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	return func() {
		f.Close()
		<-done
	}
}

// decodeTokenFile decodes a token file's content as the file store does,
// by loading a copy in a scratch directory (a store opened on the real
// directory would recover pending writes, which is the CLI's job here).
func decodeTokenFile(t *testing.T, scratch string, data []byte) (*spotauth.Token, error) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(scratch, "x.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := filestore.New(scratch, "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.Load(context.Background())
}

// onDisk reports where refresh token rt is stored completely in dir: in
// the token file ("file"), in a complete temporary file ("temp"), or
// nowhere (""). It also returns the number of temporary files.
func onDisk(t *testing.T, dir, scratch, rt string) (where string, temps int) {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		var kind string
		switch n := e.Name(); {
		case n == "default.json":
			kind = "file"
		case strings.HasPrefix(n, ".default.json.tmp-"):
			kind = "temp"
			temps++
		default:
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if tok, err := decodeTokenFile(t, scratch, data); err == nil && tok.RefreshToken == rt && (where == "" || kind == "file") {
			where = kind
		}
	}
	return where, temps
}

// TestE2ERefreshKill9 kills spotauth refresh with SIGKILL at chosen and
// random points, 200 times, against a fake Accounts service that rotates
// the refresh token and revokes the old one at each refresh. Whenever the
// new refresh token had completely reached the disk (the token file or a
// temporary file), the next spotauth refresh must succeed: a kill may
// lose only a token that was never written.
func TestE2ERefreshKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs spotauth 400 times")
	}
	srv := spotauthtest.NewUnstartedServer()
	srv.Refresh = spotauthtest.RefreshRotate
	srv.Start()
	defer srv.Close()

	// A proxy in front of the fake, to kill spotauth as soon as a token
	// answer has been sent to it.
	var afterAnswer killer
	// The proxy forwards with a context of its own and waits for the
	// fake's answer: a request that a killed spotauth sent completely
	// still reaches the fake, which then rotates the refresh token, as
	// Spotify would. (httputil.ReverseProxy would cancel it when the
	// client's connection closes, and return before the fake is done.)
	fwd := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	forward := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // an incomplete request is not served
		}
		out, err := http.NewRequestWithContext(context.Background(), r.Method, srv.URL+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := fwd.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/barrier" {
			return
		}
		forward(w, r)
		if r.URL.Path == "/api/token" {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			afterAnswer.fire()
		}
	}))
	var connMu sync.Mutex
	open := map[net.Conn]bool{}
	front.Config.ConnState = func(c net.Conn, cs http.ConnState) {
		connMu.Lock()
		defer connMu.Unlock()
		if cs == http.StateClosed || cs == http.StateHijacked {
			delete(open, c)
		} else {
			open[c] = true
		}
	}
	front.Start()
	defer front.Close()
	// settle returns once the fake has answered every request a killed
	// spotauth sent: a barrier request on a new connection is accepted
	// after the connections queued before it, and then every connection
	// has to close (a killed client's ones end at EOF once served).
	barrier := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	settle := func() {
		t.Helper()
		resp, err := barrier.Get(front.URL + "/barrier")
		if err != nil {
			t.Fatalf("barrier request: %v", err)
		}
		resp.Body.Close()
		deadline := time.Now().Add(time.Minute)
		for {
			connMu.Lock()
			n := len(open)
			connMu.Unlock()
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d connections to the proxy still open a minute after the kill", n)
			}
			time.Sleep(time.Millisecond)
		}
	}

	p := newProc(t, srv)
	p.vars[envAccountsURL] = front.URL
	dir := p.vars[envConfigDir]
	scratch := t.TempDir()
	st := testFileStore(t, dir, userToken)
	login := func() string {
		t.Helper()
		p.must("login")
		tok, err := st.Load(context.Background())
		if err != nil {
			t.Fatalf("Load() after login = %v", err)
		}
		return tok.RefreshToken
	}
	grantRT := login() // any refresh token of the current grant

	// The random delays span an unkilled run (the shortest of 5).
	var span time.Duration
	for i := range 5 {
		start := time.Now()
		p.must("refresh")
		if d := time.Since(start); i == 0 || d < span {
			span = d
		}
	}

	const iterations = 200
	budget := time.Now().Add(4 * time.Minute)
	var (
		runs, kills, finished   int
		rotated, reached        int // kills after which the fake had rotated; of those, the new token on disk
		viaTemp                 int // of those, only in a temporary file: recovered by the next run
		lostReached, lostWindow int
		relogins                int
		perPoint                [numKillPoints]struct{ kills, lost int }
	)
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range iterations {
		if time.Now().After(budget) {
			t.Logf("stopped after %d iterations: time budget spent", i)
			break
		}
		runs++
		point := i % numKillPoints
		before, ok := srv.CurrentRefreshToken(grantRT)
		if !ok {
			t.Fatalf("iteration %d: the grant is unknown or revoked", i)
		}

		var k killer
		cmd := exec.Command(p.bin, "refresh")
		cmd.Env = p.environ()
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		var stop func()
		switch point {
		case killTempCreate:
			stop = watchTemp(t, dir, ".default.json.tmp-", unix.IN_CREATE, k.fire)
		case killTempModify:
			stop = watchTemp(t, dir, ".default.json.tmp-", unix.IN_MODIFY, k.fire)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		k.arm(cmd.Process)
		var timer *time.Timer
		switch point {
		case killAfterAnswer:
			afterAnswer.arm(cmd.Process)
		case killRandom:
			timer = time.AfterFunc(time.Duration(rng.Int64N(int64(span)+1)), k.fire)
		}
		err := cmd.Wait()
		k.disarm()
		afterAnswer.disarm()
		if timer != nil {
			timer.Stop()
		}
		if stop != nil {
			stop()
		}

		var ee *exec.ExitError
		switch {
		case err == nil:
			finished++
			continue
		case errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
		default:
			t.Errorf("iteration %d: spotauth refresh = %v; want success or SIGKILL\n%s", i, err, errOut.String())
			continue
		}
		kills++
		perPoint[point].kills++
		settle()

		current, ok := srv.CurrentRefreshToken(grantRT)
		if !ok {
			t.Fatalf("iteration %d: the grant is unknown or revoked", i)
		}
		where, _ := onDisk(t, dir, scratch, current)
		if current != before {
			rotated++
			if where != "" {
				reached++
			}
			if where == "temp" {
				viaTemp++
			}
		}

		// The next run, unkilled.
		r := p.run("refresh")
		if r.code == 0 {
			if where == "" {
				t.Errorf("iteration %d (%s): refresh succeeded though the current refresh token was on no disk", i, killPointNames[point])
			}
			if _, temps := onDisk(t, dir, scratch, ""); temps != 0 {
				t.Errorf("iteration %d: %d temporary files left after a successful refresh", i, temps)
			}
			continue
		}
		if r.code != ExitAuth {
			t.Fatalf("iteration %d (%s): refresh after the kill = exit %d; want 0, or %d for a lost token\n%s", i, killPointNames[point], r.code, ExitAuth, r.err)
		}
		perPoint[point].lost++
		if where != "" {
			lostReached++
			t.Errorf("iteration %d (%s): refresh after the kill lost the login though the current refresh token was in the %s: exit %d\n%s",
				i, killPointNames[point], map[string]string{"file": "token file", "temp": "temporary file"}[where], r.code, r.err)
		} else {
			lostWindow++
		}
		relogins++
		grantRT = login()
	}

	t.Logf("runs %d: finished before the kill %d, killed %d", runs, finished, kills)
	t.Logf("kills after the fake rotated the refresh token: %d; new token on disk %d (only in a temporary file %d)", rotated, reached, viaTemp)
	t.Logf("lost logins: token on disk %d (must be 0), token never written (kill between the answer and the write) %d; re-logins %d", lostReached, lostWindow, relogins)
	var b strings.Builder
	for pt := range numKillPoints {
		fmt.Fprintf(&b, " %s %d/%d;", killPointNames[pt], perPoint[pt].lost, perPoint[pt].kills)
	}
	t.Logf("lost/kills by kill point:%s", strings.TrimSuffix(b.String(), ";"))
	if kills == 0 {
		t.Errorf("no run was killed")
	}
}
