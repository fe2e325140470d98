// Package spotauth implements authorization for the Spotify Web API, as
// described by Spotify's Authorization guide and RFC 6749 (OAuth 2.0) with
// RFC 7636 (PKCE).
//
// It covers every flow Spotify supports today:
//
//   - authorization code, for confidential clients that hold a client secret
//     ([Config.AuthCodeURL], [Config.Exchange]);
//   - authorization code with PKCE, for public clients such as command-line
//     tools and mobile apps ([GenerateVerifier], [S256ChallengeOption],
//     [VerifierOption]);
//   - client credentials, for app-only access ([Config.ClientCredentials]);
//   - refresh ([Config.Refresh]), keeping or replacing the refresh token as
//     Spotify's response says.
//
// [UserAuth] bundles one login attempt (URL, CSRF state and PKCE verifier)
// in the manner of tekore's UserAuth. [RefreshingSource] keeps a token valid
// for long-running programs, refreshing it once per expiry in the
// background, and implements [golang.org/x/oauth2.TokenSource].
//
// Errors returned by Spotify's token endpoint are [*TokenError] values that
// match sentinels such as [ErrInvalidGrant] with [errors.Is]. No error,
// String method or log value produced by this package contains a client
// secret, code verifier, access token or refresh token, and none shows an
// authorization code in full. Two limits of fmt and log/slog remain: fmt
// prints a value held in an unexported struct field without calling its
// methods, and slog's JSON handler marshals a struct's fields with
// encoding/json, where a [Token] is its stored JSON. Hold [Config],
// [Credentials] and [Token] values in unexported fields by pointer, and log
// them themselves.
//
// The package spotauthtest provides a fake Spotify Accounts service for
// tests that run offline.
package spotauth
