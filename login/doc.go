// Package login logs a user in to Spotify from a command-line or desktop Go
// program with one call, as tekore's prompt_for_user_token and
// prompt_for_pkce_token do for Python:
//
//	tok, err := login.Run(ctx, cfg, &login.Options{Scopes: spotauth.ReadScopes(), In: os.Stdin})
//
// [Run] listens on the loopback redirect URI (127.0.0.1 or [::1], on any
// free port when the URI was registered without one), opens the browser,
// accepts the redirect URL pasted on In at the same time (for a browser on
// another machine, with an ssh -L hint over SSH), checks the state, and
// exchanges the code, with PKCE when the [spotauth.Config] has no client
// secret. Each way a login can end is a typed error: [spotauth.ErrAccessDenied]
// (an [*spotauth.AuthorizeError]), [*WaitError] (timeout or interruption,
// counting forged redirects), [*ListenError] (a busy port), [*CheckError]
// (an unknown client ID, a wrong secret, an unregistered redirect URI, found
// before the browser opens; [Check] makes that check on its own).
//
// Web servers, where the redirect reaches another request, use
// [spotauth.Config.NewUserAuth] and [spotauth.UserAuth.Exchange] instead.
//
// Redirect URIs follow Spotify's rules, described at
// https://developer.spotify.com/documentation/web-api/concepts/redirect_uri.
package login
