// Package spotauthtest provides a fake Spotify Accounts service, in the
// spirit of net/http/httptest, so that code using spotauth can be tested
// offline. It implements the server side independently of the client code.
//
//	srv := spotauthtest.NewServer()
//	defer srv.Close()
//	cfg := spotauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
//		AccountsURL: srv.URL, HTTPClient: srv.Client()}
//
// A [Server] serves, on a loopback address:
//
//   - GET /authorize: Spotify's checks and text/plain error pages, then a
//     consent page like Spotify's (the app's [App.Name], each scope with
//     its description) whose form has two buttons, Agree (id "approve")
//     and Cancel (id "deny"); or, with [Server.AutoApprove], [Server.Decide] or the
//     [ConsentParam] query parameter, an immediate 302 to the redirect URI
//     with code and state, or error=access_denied and state;
//   - POST /api/token: the authorization_code (with or without PKCE),
//     refresh_token and client_credentials grants, with Spotify's error
//     bodies, client authentication by Basic header or body parameters;
//   - GET /v1/me: the Web API's current-user profile, checking the bearer
//     token, so that clients can be tested end to end;
//   - a few other Web API endpoints, for tools that call it: a paged list
//     (GET /v1/me/playlists, with Spotify's paging object and its next
//     links), a JSON body (POST /v1/users/{user_id}/playlists) and a 204 or
//     404 NO_ACTIVE_DEVICE (PUT /v1/me/player/pause), each checking the
//     scopes Spotify checks ([Server.Playlists], [Server.NoActiveDevice]).
//
// Tests control time with a [Clock], which can drive the client under test
// as well (it has the Now and AfterFunc methods of spotauth's Clock);
// inject latency, 429, 5xx, bad bodies and dropped connections with
// [Server.FailToken], [Server.FailGrant], [Server.FailMe],
// [Server.FailWebAPI] and [Server.SetTokenFaultRule]; revoke grants ([Server.RevokeGrant], [Server.RevokeGrants]);
// expire tokens; mint tokens and codes without the browser flow
// ([Server.IssueUserToken], [Server.IssueAppToken], [Server.IssueCode]);
// play the browser ([Server.Authorize]); and assert on [Server.Stats] and
// [Server.TokenLog]. Nothing the server records, logs or panics with holds a
// client secret, code verifier or token.
//
// # Where Spotify's behaviour is undocumented
//
// The fake follows the project's wire contract. Where that contract leaves
// a choice to the fake, it does this:
//
//   - /authorize runs all error-page checks (client, redirect URI, scopes)
//     before the checks answered by redirect (response_type, then PKCE
//     parameters). A code_challenge that is not exactly 43 base64url
//     characters (a padded one included) is refused there with
//     error=invalid_request. show_dialog is accepted and ignored: the
//     consent page is shown unless consent is automatic.
//   - A code is consumed by its first successful exchange only; a failed
//     exchange (wrong verifier, wrong redirect_uri) leaves it usable until
//     it expires. Reusing a code does not revoke the tokens it gave.
//   - A refresh token from a non-PKCE authorization needs the client secret
//     ("invalid_client" without it); one from a PKCE authorization needs
//     only client_id. Refresh errors are checked in this order: unknown
//     token or another client's ("Invalid refresh token"), missing client
//     authentication, revoked or rotated away ("Refresh token revoked"),
//     expired ("Refresh token expired").
//   - An empty client_secret, or an empty secret in a Basic header, counts
//     as no secret. Basic credentials are read by [http.Request.BasicAuth]
//     ("Basic", one space, base64) and are not URL-decoded.
//   - The body is read by [http.Request.ParseForm], and only the body:
//     parameters in the token URL's query are ignored. The first occurrence
//     of a repeated parameter wins. A body the parser refuses (a bad
//     %-escape, a raw semicolon, more than 64 KiB), or a malformed query
//     string, counts as a request without parameters.
//   - /api/token answers other methods than POST with 405 and
//     {"error":"invalid_request",...}.
//   - /v1/me answers a client-credentials token, which has no user, with 401
//     {"error":{"status":401,"message":"Unauthorized."}}. Clients should
//     decide on the status, never the message.
//   - Other /v1 paths answer 404 {"error":{"status":404,"message":"Service not found"}}.
//   - Injected 429s carry the Web API's error body on every endpoint; see
//     [FaultKind] for every fault's exact answer.
//
// All methods are safe for concurrent use. Misuse, such as starting a
// server twice, panics with a "spotauthtest: " message, as httptest does.
package spotauthtest
