package spotauth_test

import (
	"errors"
	"fmt"

	"github.com/spotauth/spotauth"
)

// Spotify accepts https, http on a loopback IP literal, and custom schemes;
// it refuses localhost whatever the scheme.
func ExampleValidateRedirectURI() {
	for _, uri := range []string{
		"https://example.com/callback",
		"http://127.0.0.1:8888/callback",
		"myapp://callback",
		"http://localhost:8888/callback",
		"http://example.com/callback",
	} {
		if err := spotauth.ValidateRedirectURI(uri); err != nil {
			fmt.Println("refused:", errors.Is(err, spotauth.ErrInvalidRedirectURI), err)
			continue
		}
		fmt.Println("ok:", uri)
	}
	// Output:
	// ok: https://example.com/callback
	// ok: http://127.0.0.1:8888/callback
	// ok: myapp://callback
	// refused: true spotauth: invalid redirect URI: "http://localhost:8888/callback" uses localhost, which Spotify refuses whatever the scheme; use the loopback IP literal instead, http://127.0.0.1:PORT/... (or http://[::1]:PORT/...)
	// refused: true spotauth: invalid redirect URI: "http://example.com/callback" uses http on a host other than a loopback IP literal; use https, or http://127.0.0.1:PORT/... for a local listener
}

// A command-line tool registers http://127.0.0.1/callback without a port,
// listens on a free port, and sends the URI with that port to both
// /authorize and the code exchange.
func ExampleWithRedirectPort() {
	uri, err := spotauth.WithRedirectPort("http://127.0.0.1/callback", 43117)
	if err != nil {
		panic(err)
	}
	fmt.Println(uri)
	// Output:
	// http://127.0.0.1:43117/callback
}

// ParseRedirect accepts the whole URL or just the query a user pastes.
func ExampleParseRedirect() {
	for _, pasted := range []string{
		"http://127.0.0.1:43117/callback?code=AQBxyz&state=Zk3q",
		"?error=access_denied&state=Zk3q",
	} {
		r, err := spotauth.ParseRedirect(pasted)
		if err != nil {
			panic(err)
		}
		fmt.Printf("code=%q state=%q error=%q\n", r.Code, r.State, r.Error)
	}
	// Output:
	// code="AQBxyz" state="Zk3q" error=""
	// code="" state="Zk3q" error="access_denied"
}

func ExampleBasicAuth() {
	fmt.Println(spotauth.BasicAuth("abc123", "s3cr3t"))
	// Output:
	// Basic YWJjMTIzOnMzY3IzdA==
}

func ExampleS256Challenge() {
	// The test vector of RFC 7636, Appendix B.
	fmt.Println(spotauth.S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
	// Output:
	// E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
}
