package login

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
)

// Outcome is what a request to the callback listener did to the login.
type Outcome int

const (
	// Success: this redirect logged the user in.
	Success Outcome = iota + 1
	// Failure: this redirect ended the login without a token: the user
	// denied access, or the code could not be exchanged.
	Failure
	// Ignored: the request is not this login's redirect (a stray request,
	// an old tab, a forged state); the login goes on waiting.
	Ignored
	// Over: the login had already ended.
	Over
)

// String returns "success", "failure", "ignored" or "over".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	case Over:
		return "over"
	}
	return "Outcome(?)"
}

// PageData is what a page of the callback listener tells the user's
// browser. Message is written for the person at the browser; Err, for
// programs, is nil on Success.
type PageData struct {
	Status  int    // the HTTP status to answer with
	Title   string // such as "Logged in" or "Login failed"
	Message string // one or two sentences saying what happened and what to do
	Outcome Outcome
	Err     error
}

// PageFunc writes the page that answers a request to the callback
// listener, from d: on success, on failure, and for ignored requests. It
// may be called concurrently, and Run returns only after every call has
// returned. It may also redirect the browser elsewhere, such as to the
// app's own "you are logged in" page.
type PageFunc func(w http.ResponseWriter, r *http.Request, d *PageData)

// defaultPage is DefaultPage's page; fmt fills in the escaped title, the
// heading's color, the title again and the escaped message.
const defaultPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>body{font-family:system-ui,sans-serif;background:#121212;color:#fff;display:flex;align-items:center;justify-content:center;height:100vh;margin:0}
main{max-width:32em;padding:2em;border-radius:8px;background:#181818}h1{color:%s;font-size:1.5em}</style></head>
<body><main><h1 id="result">%s</h1><p id="message">%s</p></main></body></html>
`

// DefaultPage writes the page the spotauth command shows: a small
// self-contained HTML page whose title (d.Title) has the id "result" and
// whose message (d.Message) has the id "message", both escaped, green on
// success and red otherwise, with the headers of [TemplatePage].
//
// It is written without html/template: a program that links this package
// but not html/template keeps the linker's dead-code elimination of
// unused methods, which text/template's reflection turns off.
func DefaultPage(w http.ResponseWriter, r *http.Request, d *PageData) {
	color := "#e22134"
	if d.Outcome == Success {
		color = "#1db954"
	}
	title := html.EscapeString(d.Title)
	writePage(w, d.Status, fmt.Appendf(nil, defaultPage, title, color, title, html.EscapeString(d.Message)))
}

// A Template is what [TemplatePage] executes, such as an
// *html/template.Template, which escapes what it inserts for its place in
// the page. (A text/template.Template escapes nothing: do not use one.)
type Template interface {
	Execute(w io.Writer, data any) error
}

// TemplatePage returns a PageFunc that executes t with the *PageData, as
// text/html, with d.Status and headers that keep the page out of caches,
// frames and Referer headers (the URL holds the authorization code). An
// execution error gives a plain 500 answer instead of half a page.
func TemplatePage(t Template) PageFunc {
	return func(w http.ResponseWriter, r *http.Request, d *PageData) {
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			http.Error(w, "spotauth: login: the page template failed", http.StatusInternalServerError)
			return
		}
		writePage(w, d.Status, b.Bytes())
	}
}

// writePage answers with page, as text/html with the given status and
// headers that keep it out of caches, frames and Referer headers.
func writePage(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(page)
}
