package login_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/spotauth/spotauth/login"
)

// A template replaces the default pages, for every answer: ignored
// requests, then the success page. It is executed with the PageData and
// escaped as HTML.
func TestRunTemplatePage(t *testing.T) {
	f := newFixture(t, nil)
	tmpl := template.Must(template.New("p").Parse(`<p id="outcome">{{.Outcome}}</p><p id="title">{{.Title}}</p>{{if .Err}}<p id="err">{{.Err}}</p>{{end}}`))
	var stray page
	u := &user{t: t, srv: f.srv, before: func(loc *url.URL) {
		forged := *loc
		forged.RawQuery = "code=x&state=<script>"
		stray, _ = send(http.MethodGet, forged.String(), "")
	}}
	if _, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out, Page: login.TemplatePage(tmpl)}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := `<p id="outcome">ignored</p><p id="title">Not this login</p><p id="err">`; stray.status != http.StatusBadRequest || !strings.HasPrefix(stray.body, want) {
		t.Errorf("forged redirect's page = %d %q; want 400 starting %q", stray.status, stray.body, want)
	}
	if p := u.lastPage(); p.status != http.StatusOK || p.body != `<p id="outcome">success</p><p id="title">Logged in</p>` {
		t.Errorf("success page = %d %q; want the template's", p.status, p.body)
	}
	f.noLeaks()
}

// A PageFunc may send the browser elsewhere, such as to the app's own page,
// and sees each outcome.
func TestRunPageFuncRedirects(t *testing.T) {
	f := newFixture(t, nil)
	var mu sync.Mutex
	var outcomes []login.Outcome
	page := func(w http.ResponseWriter, r *http.Request, d *login.PageData) {
		mu.Lock()
		outcomes = append(outcomes, d.Outcome)
		mu.Unlock()
		http.Redirect(w, r, "https://app.example/"+d.Outcome.String(), http.StatusFound)
	}
	u := &user{t: t, srv: f.srv, deny: true}
	if _, err := login.Run(background, f.cfg, &login.Options{Browser: u.Browse, Out: f.out, Page: page}); err == nil {
		t.Fatalf("Run with a denial succeeded")
	}
	if p := u.lastPage(); p.status != http.StatusFound {
		t.Errorf("denied page status %d; want the PageFunc's redirect", p.status)
	}
	if len(outcomes) != 1 || outcomes[0] != login.Failure {
		t.Errorf("outcomes = %v; want [failure]", outcomes)
	}
	f.noLeaks()
}

// The default page is the spotauth command's: the title in #result, the
// message in #message, escaped, and headers that keep the code out of
// caches and Referer headers.
func TestDefaultPage(t *testing.T) {
	tests := []struct {
		d     login.PageData
		color string
	}{
		{login.PageData{Status: http.StatusOK, Title: "Logged in", Message: "You can close this tab.", Outcome: login.Success}, "#1db954"},
		{login.PageData{Status: http.StatusForbidden, Title: "Login failed", Message: "denied <script>", Outcome: login.Failure}, "#e22134"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		login.DefaultPage(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), &tt.d)
		body := rec.Body.String()
		if rec.Code != tt.d.Status || !strings.Contains(body, `<h1 id="result">`+tt.d.Title+`</h1>`) || !strings.Contains(body, tt.color) {
			t.Errorf("DefaultPage(%+v) = %d %q; want status, title in #result and color %s", tt.d, rec.Code, body, tt.color)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("DefaultPage(%+v) does not escape the message: %q", tt.d, body)
		}
		for k, v := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("DefaultPage header %s = %q; want %q", k, got, v)
			}
		}
	}
	broken := template.Must(template.New("b").Parse(`{{.Nope}}`))
	rec := httptest.NewRecorder()
	login.TemplatePage(broken)(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), &login.PageData{Status: http.StatusOK})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("TemplatePage with a failing template answered %d; want 500", rec.Code)
	}
}
