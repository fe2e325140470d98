package login

import (
	"bytes"
	"html/template"
	"net/http"
	"sync"
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

// defaultTemplate is the page of DefaultPage, parsed when first used, not
// at init: programs that link this package, such as the spotauth command,
// start faster.
var defaultTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;background:#121212;color:#fff;display:flex;align-items:center;justify-content:center;height:100vh;margin:0}
main{max-width:32em;padding:2em;border-radius:8px;background:#181818}h1{color:{{if eq .Outcome.String "success"}}#1db954{{else}}#e22134{{end}};font-size:1.5em}</style></head>
<body><main><h1 id="result">{{.Title}}</h1><p id="message">{{.Message}}</p></main></body></html>
`))
})

// DefaultPage writes the page the spotauth command shows: a small
// self-contained HTML page whose title (d.Title) has the id "result" and
// whose message (d.Message) has the id "message", green on success and red
// otherwise, with the headers of [TemplatePage].
func DefaultPage(w http.ResponseWriter, r *http.Request, d *PageData) {
	writeTemplate(w, defaultTemplate(), d)
}

// TemplatePage returns a PageFunc that executes t with the *PageData, as
// text/html, with d.Status and headers that keep the page out of caches,
// frames and Referer headers (the URL holds the authorization code). An
// execution error gives a plain 500 answer instead of half a page.
func TemplatePage(t *template.Template) PageFunc {
	return func(w http.ResponseWriter, r *http.Request, d *PageData) { writeTemplate(w, t, d) }
}

func writeTemplate(w http.ResponseWriter, t *template.Template, d *PageData) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		http.Error(w, "spotauth: login: the page template failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(d.Status)
	_, _ = w.Write(b.Bytes())
}
