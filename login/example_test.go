package login_test

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/login"
	"github.com/spotauth/spotauth/spotauthtest"
)

// fakeBrowser plays the user's browser against a fake Accounts service
// that approves at once: it follows the redirect back to Run's listener,
// as a browser does after the user clicks Agree, and returns the page.
func fakeBrowser(authURL string) (string, error) {
	resp, err := http.Get(authURL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A program logs its user in with one call. Against Spotify, cfg comes from
// the app's settings (spotauth.ConfigFromEnv reads tekore's variables) and
// Options.Browser stays nil: Run opens the system browser.
func Example() {
	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true
	srv.Start()
	defer srv.Close()

	cfg := &spotauth.Config{
		ClientID:    srv.ClientID, // no secret: PKCE
		RedirectURL: "http://127.0.0.1/callback",
		AccountsURL: srv.URL,
	}
	tok, err := login.Run(context.Background(), cfg, &login.Options{
		Scopes:  spotauth.NewScopes(spotauth.ScopeUserReadPrivate),
		Browser: func(u string) error { _, err := fakeBrowser(u); return err },
		Out:     io.Discard, // nil (os.Stderr) shows the URL and hints
		// In: os.Stdin would also take the redirect URL pasted by a user
		// whose browser is on another machine.
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Valid(), tok.PKCE, tok.Scope)
	// Output:
	// true true user-read-private
}

// Each way a login ends is an error to branch on.
func Example_errors() {
	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove, srv.Deny = true, true // the user clicks Cancel
	srv.Start()
	defer srv.Close()

	cfg := &spotauth.Config{ClientID: srv.ClientID, AccountsURL: srv.URL}
	_, err := login.Run(context.Background(), cfg, &login.Options{
		Browser: func(u string) error { _, err := fakeBrowser(u); return err },
		Out:     io.Discard,
	})
	var ce *login.CheckError
	var we *login.WaitError
	switch {
	case errors.Is(err, spotauth.ErrAccessDenied):
		fmt.Println("the user refused")
	case errors.Is(err, login.ErrTimeout):
		fmt.Println("no answer in time; forged redirects seen:", errors.Is(err, spotauth.ErrStateMismatch))
	case errors.As(err, &we):
		fmt.Println("interrupted")
	case errors.Is(err, login.ErrPortBusy):
		fmt.Println("another program listens on the redirect URI's port")
	case errors.As(err, &ce):
		fmt.Println("fix the app's settings:", ce.Reason)
	case err != nil:
		fmt.Println("login failed:", err)
	}
	// Output:
	// the user refused
}

// The browser's pages can be the program's own, from an html/template.
func ExampleTemplatePage() {
	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true
	srv.Start()
	defer srv.Close()

	page := template.Must(template.New("page").Parse(
		`<h1>{{if eq .Outcome.String "success"}}Welcome to MyApp{{else}}{{.Title}}{{end}}</h1>`))
	var got string
	cfg := &spotauth.Config{ClientID: srv.ClientID, AccountsURL: srv.URL}
	_, err := login.Run(context.Background(), cfg, &login.Options{
		Page: login.TemplatePage(page),
		Browser: func(u string) (err error) {
			got, err = fakeBrowser(u)
			return err
		},
		Out: io.Discard,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.TrimSpace(got))
	// Output:
	// <h1>Welcome to MyApp</h1>
}
