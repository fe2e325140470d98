package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spotauth/spotauth"
)

// redirectResult is one redirect that reached spotauth: from the browser
// (reply is then the browser's answer) or pasted on stdin (reply nil).
type redirectResult struct {
	raw   string // the redirect URL, or its query
	via   string
	reply chan<- error
}

// callbackServer answers the browser's redirect on the loopback address:
// once (sync.Once), on its path only, with a small HTML page.
type callbackServer struct {
	path    string
	results chan<- redirectResult
	done    <-chan struct{} // closed when the login no longer waits
	once    sync.Once
}

func (c *callbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != c.path {
		http.NotFound(w, r) // favicon.ico and the like
		return
	}
	first := false
	c.once.Do(func() { first = true })
	if !first {
		writePage(w, http.StatusConflict, "Already handled", "This login was already handled. You can close this tab.")
		return
	}
	reply := make(chan error, 1)
	select {
	case c.results <- redirectResult{raw: "?" + r.URL.RawQuery, via: "browser", reply: reply}:
	case <-c.done:
		writePage(w, http.StatusGone, "Login over", "spotauth is no longer waiting for this login. Run spotauth login again.")
		return
	}
	var err error
	select {
	case err = <-reply:
	case <-c.done:
		err = errors.New("spotauth stopped waiting")
	case <-r.Context().Done():
		return
	}
	if err != nil {
		writePage(w, http.StatusBadRequest, "Login failed", "spotauth could not log you in: "+err.Error()+". See the terminal for what to do next.")
		return
	}
	writePage(w, http.StatusOK, "Logged in", "spotauth is logged in to Spotify. You can close this tab and return to the terminal.")
}

// writePage answers with a small self-contained HTML page.
func writePage(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spotauth: %[1]s</title>
<style>body{font-family:system-ui,sans-serif;background:#121212;color:#fff;display:flex;align-items:center;justify-content:center;height:100vh;margin:0}
main{max-width:32em;padding:2em;border-radius:8px;background:#181818}h1{color:%[3]s;font-size:1.5em}</style></head>
<body><main><h1 id="result">%[1]s</h1><p id="message">%[2]s</p></main></body></html>
`, html.EscapeString(title), html.EscapeString(msg), map[bool]string{true: "#1db954", false: "#e22134"}[status == http.StatusOK])
}

// readPasted reads redirect URLs pasted on in, one a line, and sends the
// first usable one. Blank lines are skipped; a line that is not a redirect
// URL gets a message and another chance.
func readPasted(in io.Reader, msgs io.Writer, results chan<- redirectResult, done <-chan struct{}) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if _, err := spotauth.ParseState(line); err != nil {
			fmt.Fprintf(msgs, "That is not the redirect URL. Paste the whole address the browser ended on (it starts with http://127.0.0.1 and contains code= or error=).\n")
			continue
		}
		select {
		case results <- redirectResult{raw: line, via: "paste"}:
		case <-done:
		}
		return
	}
}

// serveCallback serves c on ln until stop is called; stop shuts the server
// down, giving the last answer a short time to reach the browser.
func serveCallback(ln net.Listener, c *callbackServer) (stop func()) {
	srv := &http.Server{
		Handler:           c,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		<-served
	}
}
