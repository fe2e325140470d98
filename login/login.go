package login

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spotauth/spotauth"
)

// DefaultRedirectURL is the redirect URI Run uses when the Config has none:
// the one to register in the app's settings on Spotify's developer
// dashboard. Registered without a port, it lets Run listen on any free
// port.
const DefaultRedirectURL = "http://127.0.0.1/callback"

// DefaultTimeout is how long Run waits for the redirect when
// Options.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Options configure a login. The zero value (or a nil *Options) opens the
// system browser, writes to os.Stderr, reads no pasted redirect and waits
// DefaultTimeout.
type Options struct {
	// Scopes are requested instead of the Config's Scopes when not empty.
	Scopes spotauth.Scopes
	// PKCE uses PKCE even though the Config has a client secret. Without
	// a secret, PKCE is always used.
	PKCE bool
	// ShowDialog makes Spotify ask for consent even if the user approved
	// the app before ([spotauth.ShowDialog]).
	ShowDialog bool
	// RedirectPort is the port to listen on when the redirect URI has
	// none: 0 means any free port, which Spotify accepts for a loopback
	// URI registered without a port. A URI with another port is an error.
	RedirectPort int
	// Timeout bounds the wait for the redirect, which starts once the URL
	// is shown: 0 means DefaultTimeout, a negative value no bound but
	// ctx's.
	Timeout time.Duration

	// Browser opens the authorization URL for the user; Run does not call
	// it with NoBrowser or over SSH. Run calls it in a goroutine of its own
	// and waits for it to return before returning, so it should return
	// once the browser has the URL. Nil means the system
	// browser: the commands of $BROWSER (a colon-separated list; "%s" is
	// replaced by the URL) or github.com/cli/browser, whose output is
	// captured so that a failure is one line of Out. A system opener that
	// is still running when Run returns (a browser that $BROWSER started in
	// the foreground) is left to finish on its own.
	Browser func(url string) error
	// NoBrowser opens no browser: the user opens the URL that Run writes.
	NoBrowser bool

	// Out receives the authorization URL, the hints and the messages of a
	// login (never a secret); nil means os.Stderr. Only the goroutine that
	// called Run writes to it.
	Out io.Writer
	// In, if set, is read for the redirect URL pasted by a user whose
	// browser cannot reach the listener (on another machine, say), one a
	// line, while the listener waits; the first genuine redirect, pasted or
	// received, wins. It may be read past the line Run used. Run stops
	// reading before it returns when In is an *os.File (on Linux; a file
	// that the runtime polls elsewhere) or has a SetReadDeadline method
	// (its deadline is then restored); another reader may stay blocked in
	// one Read after Run returns, and what that Read returns is discarded.
	// Paste-only logins (see Run) need In.
	In io.Reader

	// Getenv looks up SSH_CONNECTION, SSH_CLIENT, USER and BROWSER; nil
	// means os.Getenv.
	Getenv func(key string) string
	// Page writes the pages of the callback listener: on success, on
	// failure and for ignored requests. Nil means DefaultPage; see
	// TemplatePage to use an html/template.
	Page PageFunc
}

// Run logs a user in to Spotify with the authorization-code flow and
// returns the token, as tekore's prompt_for_user_token does. It uses PKCE
// unless the Config has a client secret (and Options.PKCE is false).
//
//  1. It checks cfg.RedirectURL (DefaultRedirectURL if empty) with
//     [spotauth.ValidateRedirectURI]. A loopback URI (http://127.0.0.1 or
//     http://[::1]) gets a listener on that address and on its port, or on
//     Options.RedirectPort or any free port when it has none (as
//     [spotauth.RedirectPort] and [spotauth.WithRedirectPort] allow).
//     A busy port is a [*ListenError] matching [ErrPortBusy]. Any other
//     URI (https, a custom scheme) means a paste-only login: no listener,
//     and the user pastes the URL the browser ended on into Options.In.
//  2. It starts the attempt with [spotauth.Config.NewUserAuth] and checks,
//     before opening the browser, that the Accounts service knows the
//     client ID, the redirect URI and the scopes, and accepts the client
//     secret if the login uses it, with [Check]; a problem is a
//     [*CheckError].
//  3. It writes the URL to Options.Out and opens it in the browser, except
//     with NoBrowser or over SSH (SSH_CONNECTION or SSH_CLIENT set), where
//     it writes the ssh -L command that forwards the listener's port, as it
//     does when the browser cannot be opened.
//  4. It waits for the redirect on the listener and on Options.In, until
//     Options.Timeout or ctx's end (a [*WaitError]). Only the genuine
//     redirect, whose state is this login's, ends the wait, and it does so
//     even when it is a refusal ([spotauth.ErrAccessDenied], from
//     [spotauth.UserAuth.Exchange]). Anything else gets a page saying why
//     and the wait goes on: a request for another path (404) or with
//     another method (405), one whose Host header is not the listener's
//     address (421, against DNS rebinding), a bare callback, or a redirect
//     with another state (an old tab, or a forgery, which the *WaitError
//     counts).
//  5. It exchanges the code at once and answers the browser with the
//     success page, or the failure page with the error it returns.
//
// Run returns when the login has ended and its listener, its goroutines and
// its reads of Options.In have stopped, with the exceptions documented at
// Options.Browser and Options.In.
func Run(ctx context.Context, cfg *spotauth.Config, opts *Options) (*spotauth.Token, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: login.Run needs a Config", spotauth.ErrInvalidConfig)
	}
	f := &flow{cfg: cfg}
	if opts != nil {
		f.o = *opts
	}
	f.out = f.o.Out
	if f.out == nil {
		f.out = os.Stderr
	}
	f.getenv = f.o.Getenv
	if f.getenv == nil {
		f.getenv = os.Getenv
	}
	f.page = f.o.Page
	if f.page == nil {
		f.page = DefaultPage
	}
	return f.run(ctx)
}

// flow is one call of Run.
type flow struct {
	cfg    *spotauth.Config
	o      Options
	out    io.Writer
	getenv func(string) string
	page   PageFunc

	ua       *spotauth.UserAuth
	pkce     bool
	ln       net.Listener // nil for a paste-only login
	addr     string       // the listener's address, as the Host header must name it
	path     string       // the callback path
	redirect string       // the exact redirect URI sent, with the listener's port

	cands      chan *candidate // redirects, from the listener and from In
	done       chan struct{}   // closed when Run no longer waits
	pasteEnd   chan error      // In ended (EOF or a read error)
	inEnded    bool            // pasteEnd was received: hints offer no paste
	mismatches int
	final      *candidate // the one that ended the login
}

// candidate is a request to end the login: a redirect received by the
// listener or pasted. Run answers each with the page the browser gets.
type candidate struct {
	raw     string // the redirect URL, or its query
	pasted  bool
	reply   chan *verdict // buffered: Run never waits for the taker
	written chan struct{} // closed by the listener's handler when it has answered
}

func (f *flow) run(ctx context.Context) (*spotauth.Token, error) {
	if err := f.prepare(); err != nil {
		return nil, err
	}
	if f.ln != nil {
		defer func() {
			if f.ln != nil {
				f.ln.Close()
			}
		}()
	}
	authOpts := []spotauth.AuthCodeOption{spotauth.RedirectURLOption(f.redirect)}
	if f.o.Scopes.Len() > 0 {
		authOpts = append(authOpts, spotauth.ScopesOption(f.o.Scopes))
	}
	if f.o.ShowDialog {
		authOpts = append(authOpts, spotauth.ShowDialog)
	}
	f.pkce = f.o.PKCE || f.cfg.ClientSecret == ""
	ua, err := f.cfg.NewUserAuth(f.pkce, authOpts...)
	if err != nil {
		return nil, err
	}
	f.ua = ua
	if err := Check(ctx, f.cfg, &f.o); err != nil {
		return nil, err
	}

	f.cands = make(chan *candidate)
	f.done = make(chan struct{})
	f.pasteEnd = make(chan error, 1)
	var stop []func() // run in reverse order when Run returns
	defer func() {
		close(f.done)
		for i := len(stop) - 1; i >= 0; i-- {
			stop[i]()
		}
	}()
	if f.ln != nil {
		stop = append(stop, f.serve())
		f.ln = nil // closed by the server
	}

	fmt.Fprintf(f.out, "Open this URL in a browser to log in to Spotify:\n\n  %s\n\n", ua.URL)
	if f.addr == "" {
		fmt.Fprintf(f.out, "After you approve, the browser goes to %s, which is not on this machine (it may show an error page).\nPaste here the whole URL it ended on, then press Enter.\n", f.redirectBase())
	}
	browserErr := make(chan error, 1)
	sshVar, ssh := overSSH(f.getenv)
	switch {
	case f.o.NoBrowser:
		f.hints()
	case ssh:
		fmt.Fprintf(f.out, "This is an SSH session (%s is set), so no browser is opened here.\n", sshVar)
		f.hints()
	default:
		open := f.o.Browser
		if open == nil {
			open = systemBrowser(f.getenv)
		}
		go func() { browserErr <- open(ua.URL) }()
		if f.o.Browser != nil {
			stop = append(stop, func() {
				if browserErr != nil {
					<-browserErr
				}
			})
		}
	}
	if f.o.In != nil {
		stop = append(stop, f.readPasted())
	}

	waitCtx := ctx
	timeout := f.o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeoutCause(ctx, timeout, errTimeoutCause)
		defer cancel()
	}
	switch {
	case f.addr == "":
		fmt.Fprintf(f.out, "Waiting for the pasted URL")
	case f.o.In != nil:
		fmt.Fprintf(f.out, "Waiting for the browser to return to %s, or for its URL pasted here", f.redirect)
	default:
		fmt.Fprintf(f.out, "Waiting for the browser to return to %s", f.redirect)
	}
	if timeout > 0 {
		fmt.Fprintf(f.out, " (up to %v)", timeout)
	}
	fmt.Fprintf(f.out, "...\n")

	for {
		select {
		case c := <-f.cands:
			tok, final, err := f.decide(ctx, c)
			if final {
				return tok, err
			}
		case err := <-browserErr:
			browserErr = nil
			if err != nil {
				fmt.Fprintf(f.out, "Could not open a browser (%s); open the URL above yourself.\n", oneLine(err))
				f.hints()
			}
		case err := <-f.pasteEnd:
			f.inEnded = true
			if f.addr == "" { // paste-only: nothing else can end the wait
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return nil, &wrapped{msg: "the input ended before a redirect URL was pasted", err: err}
			}
		case <-waitCtx.Done():
			return nil, newWaitError(waitCtx, timeout, f.mismatches)
		}
	}
}

// prepare works out the redirect URI and, for a loopback one, listens.
func (f *flow) prepare() error {
	redirect := f.cfg.RedirectURL
	if redirect == "" {
		redirect = DefaultRedirectURL
	}
	if err := spotauth.ValidateRedirectURI(redirect); err != nil {
		return err
	}
	if f.o.RedirectPort < 0 || f.o.RedirectPort > 65535 {
		return fmt.Errorf("%w: Options.RedirectPort %d, want 1 to 65535 (or 0 for any free port)", spotauth.ErrInvalidConfig, f.o.RedirectPort)
	}
	port, err := spotauth.RedirectPort(redirect)
	if err != nil { // not a loopback URI: paste only
		if f.o.RedirectPort != 0 {
			return fmt.Errorf("%w: Options.RedirectPort %d with the redirect URI %s, which is not a loopback URI that Run can listen on", spotauth.ErrInvalidConfig, f.o.RedirectPort, redirect)
		}
		if f.o.In == nil {
			return fmt.Errorf("%w: the redirect URI %s is not a loopback URI (http://127.0.0.1/... or http://[::1]/...), so the user must paste the URL the browser ends on; set Options.In, such as to os.Stdin", spotauth.ErrInvalidConfig, redirect)
		}
		f.redirect = redirect
		return nil
	}
	if f.o.RedirectPort != 0 {
		if port != 0 && port != f.o.RedirectPort {
			return fmt.Errorf("%w: Options.RedirectPort %d conflicts with the port of the redirect URI %s", spotauth.ErrInvalidConfig, f.o.RedirectPort, redirect)
		}
		port = f.o.RedirectPort
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return err // ValidateRedirectURI parsed it
	}
	addr := net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &ListenError{Addr: addr, Err: err}
	}
	if u.Port() == "" {
		redirect, err = spotauth.WithRedirectPort(redirect, ln.Addr().(*net.TCPAddr).Port)
		if err != nil {
			ln.Close()
			return err
		}
	}
	f.ln, f.addr, f.redirect = ln, ln.Addr().String(), redirect
	f.path = u.EscapedPath()
	if f.path == "" {
		f.path = "/"
	}
	return nil
}

// hints tells a user whose browser may be on another machine how to
// finish a login with a listener.
func (f *flow) hints() {
	if f.addr == "" {
		return // paste-only: said already
	}
	fmt.Fprintf(f.out, "If the browser runs on another machine, forward the port first:\n  %s\n", sshForward(f.getenv, f.addr))
	if f.o.In != nil && !f.inEnded {
		fmt.Fprintf(f.out, "Or paste here the whole URL the browser ended on after approving (it may show an error page), then press Enter.\n")
	}
}

// decide tries a candidate as the redirect of this login. final reports
// whether it ended the login.
func (f *flow) decide(ctx context.Context, c *candidate) (tok *spotauth.Token, final bool, err error) {
	d := f.judge(ctx, c)
	c.reply <- d
	switch d.Outcome {
	case Success:
		tok, final = d.token, true
	case Failure:
		final, err = true, d.Err
	}
	if final {
		f.final = c
	}
	if !final && c.pasted {
		fmt.Fprintf(f.out, "%s\n", d.pasteMessage)
	}
	return tok, final, err
}

// verdict is a PageData with what Run needs besides.
type verdict struct {
	PageData
	token        *spotauth.Token
	pasteMessage string
}

func (f *flow) judge(ctx context.Context, c *candidate) *verdict {
	v := &verdict{}
	state, err := spotauth.ParseState(c.raw)
	if err == nil && state == "" {
		err = errNoState
	}
	if err != nil {
		v.PageData = PageData{Status: http.StatusBadRequest, Title: "Not a login redirect", Outcome: Ignored, Err: err,
			Message: "This address receives Spotify's redirect after you approve the app, and this request is not one. The program is still waiting: open the URL it shows."}
		v.pasteMessage = fmt.Sprintf("That is not the redirect URL. Paste the whole address the browser ended on (it starts with %s and contains code= or error=).", f.redirectBase())
		return v
	}
	tok, err := f.ua.Exchange(ctx, c.raw)
	switch {
	case err == nil:
		v.PageData = PageData{Status: http.StatusOK, Title: "Logged in", Outcome: Success,
			Message: "You are logged in to Spotify. You can close this tab and return to the program."}
		v.token = tok
	case errors.Is(err, spotauth.ErrStateMismatch):
		f.mismatches++
		v.PageData = PageData{Status: http.StatusBadRequest, Title: "Not this login", Outcome: Ignored, Err: err,
			Message: "This redirect belongs to another login attempt (an old tab, or a link from someone else), so it was ignored. The program is still waiting for the login it started."}
		v.pasteMessage = "That redirect belongs to another login attempt (its state differs), so it was ignored. Paste the URL of this login's redirect."
	case errors.Is(err, spotauth.ErrMissingCode), errors.Is(err, spotauth.ErrMalformedRedirect):
		v.PageData = PageData{Status: http.StatusBadRequest, Title: "Not a login redirect", Outcome: Ignored, Err: err,
			Message: "This request carries neither an authorization code nor an error. The program is still waiting."}
		v.pasteMessage = "That URL carries neither code= nor error=. Paste the whole address the browser ended on."
	default:
		var ae *spotauth.AuthorizeError
		v.PageData = PageData{Status: http.StatusBadRequest, Title: "Login failed", Outcome: Failure}
		if errors.As(err, &ae) {
			v.Err = err
			if errors.Is(err, spotauth.ErrAccessDenied) {
				v.Status = http.StatusForbidden
				v.Message = "You denied access, so the program is not logged in. Close this tab; to log in, start again and choose Agree."
			} else {
				v.Message = "Spotify refused the authorization (" + ae.Code + "), so the program is not logged in. See its output for what to do next."
			}
		} else {
			v.Err = &wrapped{msg: "could not exchange the code for a token", err: err}
			v.Status = http.StatusBadGateway
			v.Message = "Spotify redirected back, but the code could not be exchanged for a token: " + strings.TrimPrefix(err.Error(), "spotauth: ") + ". See the program's output for what to do next."
		}
	}
	return v
}

// errNoState is a callback request without state: not a redirect of
// Spotify, which always returns the state Run sends.
var errNoState = errors.New("spotauth: login: request without state")

// redirectBase is the redirect URI without its query, as a user sees the
// start of the address bar.
func (f *flow) redirectBase() string {
	base, _, _ := strings.Cut(f.redirect, "?")
	return base
}

// serve answers on the listener until the returned stop, which closes it
// and waits until every connection has ended.
func (f *flow) serve() (stop func()) {
	var mu sync.Mutex
	conns := 0
	idle := sync.NewCond(&mu)
	srv := &http.Server{
		Handler:           http.HandlerFunc(f.serveHTTP),
		ReadTimeout:       10 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			switch s {
			case http.StateNew:
				conns++
			case http.StateClosed, http.StateHijacked:
				conns--
				idle.Broadcast()
			}
		},
	}
	served := make(chan struct{})
	ln := f.ln
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	return func() {
		if c := f.final; c != nil && c.written != nil {
			<-c.written // the browser gets its page before the listener closes
		}
		srv.Close()
		<-served
		mu.Lock()
		for conns > 0 {
			idle.Wait()
		}
		mu.Unlock()
	}
}

// pageWriteTimeout bounds the write of a page to the browser.
const pageWriteTimeout = 10 * time.Second

func (f *flow) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(pageWriteTimeout))
	if r.Host != f.addr {
		f.page(w, r, &PageData{Status: http.StatusMisdirectedRequest, Title: "Wrong address", Outcome: Ignored, Err: errWrongHost,
			Message: "This listener answers only requests addressed to " + f.addr + "."})
		return
	}
	if r.URL.EscapedPath() != f.path {
		f.page(w, r, &PageData{Status: http.StatusNotFound, Title: "Not found", Outcome: Ignored, Err: errNotFound,
			Message: "This listener receives only Spotify's redirect, at " + f.redirectBase() + "."})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		f.page(w, r, &PageData{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Outcome: Ignored, Err: errMethod,
			Message: "Spotify's redirect is a GET request; this " + r.Method + " request was ignored."})
		return
	}
	c := &candidate{raw: "?" + r.URL.RawQuery, reply: make(chan *verdict, 1), written: make(chan struct{})}
	defer close(c.written)
	select {
	case f.cands <- c:
	case <-f.done:
		f.page(w, r, overPage())
		return
	case <-r.Context().Done():
		return
	}
	// Run always replies: the wait for the exchange needs no deadline.
	_ = rc.SetWriteDeadline(time.Time{})
	select {
	case v := <-c.reply:
		_ = rc.SetWriteDeadline(time.Now().Add(pageWriteTimeout))
		f.page(w, r, &v.PageData)
	case <-r.Context().Done():
	}
}

var (
	errWrongHost = errors.New("spotauth: login: request for another host")
	errNotFound  = errors.New("spotauth: login: request for another path")
	errMethod    = errors.New("spotauth: login: request with a method other than GET")
	errOver      = errors.New("spotauth: login: the login had already ended")
)

func overPage() *PageData {
	return &PageData{Status: http.StatusGone, Title: "Login over", Outcome: Over, Err: errOver,
		Message: "The program is no longer waiting for this login. If you are not logged in, start the login again."}
}

// readPasted reads pasted redirects from In until one ends the login, In
// ends, or Run returns; stop interrupts the read and waits for it.
func (f *flow) readPasted() (stop func()) {
	in, interrupt, restore, ok := interruptible(f.o.In)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			c := &candidate{raw: line, pasted: true, reply: make(chan *verdict, 1)}
			select {
			case f.cands <- c:
			case <-f.done:
				return
			}
			if d := <-c.reply; d.Outcome != Ignored {
				return
			}
		}
		f.pasteEnd <- sc.Err()
	}()
	return func() {
		if ok {
			interrupt()
			<-ended
			restore()
		}
	}
}

// oneLine returns err's text on one line, without "spotauth: ".
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "spotauth: ")), " ")
}
