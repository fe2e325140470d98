package cli

// A Browser opens a URL for the user. Tests replace the system browser
// with a stub or with an HTTP client that follows the redirects; without
// one, login opens the system browser (github.com/spotauth/spotauth/login).
type Browser interface {
	Browse(url string) error
}
