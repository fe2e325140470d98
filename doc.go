// Package spotauth implements authorization for the Spotify Web API: the
// authorization code flow with or without PKCE, client credentials and
// refresh, with tokens that refresh themselves and token stores shared by
// processes. The common path, a user login then Web API calls:
//
//	cfg := &spotauth.Config{ClientID: id, RedirectURL: "http://127.0.0.1:8080/callback",
//		Scopes: spotauth.NewScopes(spotauth.ScopeUserReadEmail)}
//	login, _ := cfg.NewUserAuth(true) // PKCE: no client secret needed
//	// Send the user's browser to login.URL; it comes back to RedirectURL.
//	tok, err := login.Exchange(ctx, redirectedURL)
//	...
//	src := cfg.UserSource(tok, &spotauth.SourceOptions{Store: store})
//	defer src.Close()
//	client := src.Client(nil) // refreshes once per expiry; retries a 401 once
//
// Errors of Spotify's Accounts service are [*TokenError] and
// [*AuthorizeError] values matching sentinels such as [ErrReauthorize]. No
// error, fmt verb or slog handler shows a client secret, code verifier,
// access or refresh token in full. The package spotauthtest provides a fake
// Accounts service for offline tests.
package spotauth
