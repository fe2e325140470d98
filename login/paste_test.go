package login_test

import (
	"errors"
	"io"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

// pastingUser plays a user whose browser cannot reach the listener: when
// Run shows the URL, they approve (or deny) elsewhere and paste lines into
// w: junk, a redirect of another login, then the URL the browser ended on.
func pastingUser(t *testing.T, srv *spotauthtest.Server, w io.Writer, deny bool) func(string) {
	return func(authURL string) {
		loc, err := srv.Authorize(authURL, !deny)
		if err != nil {
			t.Errorf("Authorize: %v", err)
			return
		}
		forged := *loc
		q := forged.Query()
		q.Set("state", "another-login")
		forged.RawQuery = q.Encode()
		if _, err := io.WriteString(w, "not a url\n\n"+forged.String()+"\n"+loc.String()+"\n"); err != nil {
			t.Errorf("paste: %v", err)
		}
	}
}

// A pasted redirect logs the user in, whether no browser was opened, one
// was opened (its redirect may never come), or opening it failed; junk
// and another login's redirect are refused with a message, and the wait
// goes on.
func TestRunPaste(t *testing.T) {
	tests := []struct {
		name       string
		opts       login.Options
		wantOut    []string
		wantOpened bool
	}{
		{"no browser", login.Options{NoBrowser: true}, []string{"ssh -L", "paste here"}, false},
		{"browser opened", login.Options{}, []string{"or for its URL pasted here"}, true},
		{"browser failed", login.Options{}, []string{"Could not open a browser (no display); open the URL above yourself.", "ssh -L", "paste here"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			paste := pastingUser(t, f.srv, w, false)
			f.out.onURL = paste
			if tt.name == "browser failed" { // a user reads the message, then pastes
				f.out.onURL = func(u string) { f.out.await("Could not open a browser"); paste(u) }
			}
			opened := 0
			opts := tt.opts
			opts.In, opts.Out = r, f.out
			if !opts.NoBrowser {
				opts.Browser = func(string) error {
					opened++
					if tt.name == "browser failed" {
						return errors.New("no display")
					}
					return nil
				}
			}
			tok, err := login.Run(background, f.cfg, &opts)
			if err != nil || !tok.Valid() {
				t.Fatalf("Run with a pasted redirect = %v, %v; want a token\nOut:\n%s", tok, err, f.out)
			}
			out := f.out.String()
			for _, want := range append(tt.wantOut, "That is not the redirect URL", "That redirect belongs to another login attempt") {
				if !strings.Contains(out, want) {
					t.Errorf("Out = %q; want it to contain %q", out, want)
				}
			}
			if (opened == 1) != tt.wantOpened {
				t.Errorf("browser opened %d times; want opened %v", opened, tt.wantOpened)
			}
			if n := f.srv.Stats().Grants[spotauthtest.GrantAuthorizationCode]; n != 1 {
				t.Errorf("code exchanges = %d; want 1", n)
			}
			f.noLeaks() // with the pipe still open: Run stopped reading it
		})
	}
}

// A pasted refusal with the right state ends the login.
func TestRunPasteDenied(t *testing.T) {
	f := newFixture(t, nil)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f.out.onURL = pastingUser(t, f.srv, w, true)
	tok, err := login.Run(background, f.cfg, &login.Options{NoBrowser: true, In: r, Out: f.out})
	if tok != nil || !errors.Is(err, spotauth.ErrAccessDenied) {
		t.Fatalf("Run with a pasted denial = %v, %v; want ErrAccessDenied", tok, err)
	}
	f.noLeaks()
}

// A registered redirect URI that is not a loopback one (https, or an app's
// custom scheme) gives a paste-only login: nothing listens, the user pastes
// the URL the browser ended on. If the input ends first, Run says so.
func TestRunPasteOnly(t *testing.T) {
	for _, redirect := range []string{"https://app.example/callback", "myapp://callback"} {
		t.Run(redirect, func(t *testing.T) {
			f := newFixture(t, func(s *spotauthtest.Server) {
				if err := s.AddApp(spotauthtest.App{ClientID: "paste-app", RedirectURIs: []string{redirect}}); err != nil {
					t.Fatal(err)
				}
			})
			f.cfg.ClientID, f.cfg.RedirectURL = "paste-app", redirect
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			f.out.onURL = pastingUser(t, f.srv, w, false)
			var opened string
			tok, err := login.Run(background, f.cfg, &login.Options{In: r, Out: f.out, Browser: func(u string) error { opened = u; return nil }})
			if err != nil || !tok.Valid() || !tok.PKCE {
				t.Fatalf("paste-only Run = %v, %v; want a PKCE token\nOut:\n%s", tok, err, f.out)
			}
			if got := redirectParam(t, opened); got != redirect {
				t.Errorf("redirect_uri = %q; want %q unchanged", got, redirect)
			}
			out := f.out.String()
			if !strings.Contains(out, "not on this machine") || strings.Contains(out, "Waiting for the browser") || strings.Contains(out, "ssh -L") {
				t.Errorf("Out = %q; want a paste-only prompt, no listener", out)
			}
			f.noLeaks()
		})
	}
	t.Run("input ends", func(t *testing.T) {
		f := newFixture(t, func(s *spotauthtest.Server) {
			if err := s.AddApp(spotauthtest.App{ClientID: "paste-app", RedirectURIs: []string{"https://app.example/callback"}}); err != nil {
				t.Fatal(err)
			}
		})
		f.cfg.ClientID, f.cfg.RedirectURL = "paste-app", "https://app.example/callback"
		tok, err := login.Run(background, f.cfg, &login.Options{In: strings.NewReader("junk\n"), Out: f.out, NoBrowser: true})
		if tok != nil || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "input ended") {
			t.Errorf("Run with an input that ends = %v, %v; want an error saying the input ended", tok, err)
		}
		f.noLeaks()
	})
}

// When Run returns, it stops reading In even while a Read waits for input
// that never comes, on a terminal-like file that the runtime does not poll
// (read with poll(2)) and on one it polls (read with a deadline, which is
// restored). The file stays usable.
func TestRunStopsReadingIn(t *testing.T) {
	tests := []struct {
		name string
		pipe func(t *testing.T) (r, w *os.File)
	}{
		{"blocking file", blockingPipe},
		{"polled file", func(t *testing.T) (*os.File, *os.File) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			return r, w
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r, w := tt.pipe(t)
			defer r.Close()
			defer w.Close()
			u := &user{t: t, srv: f.srv}
			if _, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, In: r, Out: f.out}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			f.noLeaks() // the writer is still open
			if t.Failed() {
				return // a reader left running would take the line below
			}
			if _, err := io.WriteString(w, "after\n"); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 6)
			if _, err := io.ReadFull(r, b); err != nil || string(b) != "after\n" {
				t.Errorf("read In after Run = %q, %v; want the next line: Run must leave In usable", b, err)
			}
		})
	}
}

// blockingPipe returns a pipe whose read end is in blocking mode, as a
// terminal on standard input is: os.NewFile does not register it with the
// runtime's poller, so it has no read deadline.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(p[0]), "blocking-pipe-r"), os.NewFile(uintptr(p[1]), "blocking-pipe-w")
	if err := r.SetReadDeadline(noDeadline); err == nil {
		t.Fatalf("the blocking pipe has a read deadline; the test needs one without")
	}
	return r, w
}

// A reader that Run cannot interrupt (an io.Pipe) still ends when its
// writer closes, and what it reads after Run returned is not used.
func TestRunUninterruptibleIn(t *testing.T) {
	f := newFixture(t, nil)
	r, w := io.Pipe()
	u := &user{t: t, srv: f.srv}
	if _, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, In: r, Out: f.out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	loc, err := url.Parse(u.urls[0])
	if err != nil {
		t.Fatal(err)
	}
	// A late paste reaches the reader, which drops it.
	if _, err := io.WriteString(w, loc.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.noLeaks()
}
