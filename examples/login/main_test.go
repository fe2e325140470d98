package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/spotauthtest"
)

// The test binary plays two more parts, chosen by EXAMPLE_LOGIN_ROLE: the
// example program itself, and the user's browser that $BROWSER starts.
func TestMain(m *testing.M) {
	switch os.Getenv("EXAMPLE_LOGIN_ROLE") {
	case "main":
		main()
		os.Exit(0)
	case "browser": // follow the URL, as a browser does when the fake approves at once
		resp, err := http.Get(os.Args[len(os.Args)-1])
		if err != nil {
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The example runs against the fake Accounts service and Web API with the
// environment spotauth accounts-server prints, opens the "browser" through
// $BROWSER, and greets the test user by name; with a client secret too.
func TestExample(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("$BROWSER is started through env(1)")
	}
	for _, secret := range []bool{false, true} {
		srv := spotauthtest.NewUnstartedServer()
		srv.AutoApprove = true
		srv.Start()
		defer srv.Close()
		env := []string{
			"EXAMPLE_LOGIN_ROLE=main",
			"BROWSER=env EXAMPLE_LOGIN_ROLE=browser " + os.Args[0],
			"SPOTAUTH_ACCOUNTS_URL=" + srv.URL,
			"SPOTAUTH_API_URL=" + srv.URL,
			"SPOTIFY_CLIENT_ID=" + srv.ClientID,
			"SPOTIFY_REDIRECT_URI=" + spotauthtest.DefaultRedirectURI,
		}
		if secret {
			env = append(env, "SPOTIFY_CLIENT_SECRET="+srv.ClientSecret)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(cleanEnv(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("example with secret %v: %v\nstderr:\n%s", secret, err, stderr.String())
		}
		if got := stdout.String(); got != "Hello, Test User\n" {
			t.Errorf("example with secret %v printed %q; want \"Hello, Test User\\n\"\nstderr:\n%s", secret, got, stderr.String())
		}
		if n := srv.Stats().GrantsSucceeded[spotauthtest.GrantAuthorizationCode]; n != 1 {
			t.Errorf("example with secret %v: %d codes exchanged; want 1", secret, n)
		}
	}
}

// cleanEnv is the environment without the settings the example reads, so
// that a developer's own (a real client secret, an SSH session) do not
// change the test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPOTIFY_") && !strings.HasPrefix(kv, "SPOTAUTH_") &&
			!strings.HasPrefix(kv, "SSH_") && !strings.HasPrefix(kv, "BROWSER=") {
			env = append(env, kv)
		}
	}
	return env
}
