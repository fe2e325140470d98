package spotauthtest_test

import (
	"html"
	"strings"
	"testing"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

// TestConsentPageLooksLikeSpotifys: the app's name, each scope with its
// description, Agree and Cancel; everything escaped; Cancel denies.
func TestConsentPageLooksLikeSpotifys(t *testing.T) {
	s := start(t, nil)
	const name = `Tom & Jerry's <b>player</b>`
	if err := s.AddApp(spotauthtest.App{Name: name, ClientID: "named-app", RedirectURIs: []string{redirect}}); err != nil {
		t.Fatal(err)
	}
	q := authParams("client_id", "named-app", "scope", "user-read-email playlist-read-private")
	r := get(t, s, "/authorize", q)
	if r.status != 200 {
		t.Fatalf("GET /authorize = %d %s", r.status, r.body)
	}
	for _, id := range []string{"#approve", "#deny", "#scopes", "#app"} {
		if strings.Contains(r.body, id) {
			// chromedp's default query matches text too: a second,
			// invisible match that WaitVisible(id) would wait on forever.
			t.Errorf("consent page text contains %q (in its style?)", id)
		}
	}
	if strings.Contains(r.body, "<b>player") {
		t.Errorf("consent page does not escape the app name:\n%s", r.body)
	}
	page := html.UnescapeString(r.body)
	for _, want := range []string{
		`<span id="app" class="app">` + name + `</span> would like to:`,
		spotauth.ScopeUserReadEmail.Description(), "user-read-email",
		spotauth.ScopePlaylistReadPrivate.Description(), "playlist-read-private",
		`id="approve" class="agree" name="decision" value="approve">Agree</button>`,
		`id="deny" class="cancel" name="decision" value="deny">Cancel</button>`,
		"background:#121212", // the login success page's style
	} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q:\n%s", want, r.body)
		}
	}
	if spotauth.ScopeUserReadEmail.Description() == "" {
		t.Error("user-read-email has no description to show")
	}

	// An app without a name shows its client ID.
	r = get(t, s, "/authorize", authParams())
	if !strings.Contains(r.body, `<span id="app" class="app">`+spotauthtest.DefaultClientID+`</span>`) {
		t.Errorf("consent page of an app without a name lacks its client ID:\n%s", r.body)
	}

	// Cancel is a denial.
	id := consentForm(t, s, q)
	if loc := location(t, postConsent(t, s, id, "deny")); loc.Get("error") != "access_denied" || loc.Get("state") != "st4te" {
		t.Errorf("Cancel redirected with %v; want error=access_denied and the state", loc)
	}
}
