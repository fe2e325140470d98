package spotauth

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// BasicAuth returns the Authorization header of a confidential client at the
// token endpoint: "Basic " + base64(clientID:clientSecret). It is Python
// spotify's build_auth_token, with "Basic " and standard base64.
func BasicAuth(clientID, clientSecret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret))
}

// requireClient checks the client ID, and the secret when needSecret.
func (c *Config) requireClient(grant string, needSecret bool) error {
	if c.ClientID == "" {
		return fmt.Errorf("%w: ClientID is empty", ErrInvalidConfig)
	}
	if needSecret && c.ClientSecret == "" {
		switch grant {
		case grantAuthorizationCode:
			return fmt.Errorf("%w: a code exchange needs ClientSecret, or a PKCE verifier (VerifierOption)", ErrInvalidConfig)
		case grantRefreshToken:
			return fmt.Errorf("%w: refreshing a token that did not come from PKCE needs ClientSecret", ErrInvalidConfig)
		default:
			return fmt.Errorf("%w: the client-credentials grant needs ClientSecret", ErrInvalidConfig)
		}
	}
	return nil
}

// authenticate gives r its one client authentication: client_id in the
// body for a public (PKCE) request, or the Basic header with the secret,
// which is then redacted from errors with its base64 form. Every flow
// calls it once, so no request carries two styles and none is re-sent
// with the other.
func (c *Config) authenticate(r *tokenRequest, public bool) {
	if public {
		r.form.Set("client_id", c.ClientID)
		return
	}
	r.auth = BasicAuth(c.ClientID, c.ClientSecret)
	r.secrets = append(r.secrets, c.ClientSecret, strings.TrimPrefix(r.auth, "Basic "))
}

// Exchange trades an authorization code for a user token. Without options it
// authenticates with the client secret; with [VerifierOption] it is a PKCE
// exchange (client_id and code_verifier, no secret). The redirect_uri sent is
// c.RedirectURL or that of [RedirectURLOption], which must be the exact string
// sent to /authorize. The token's Expiry counts from when the request was
// sent, and so does AuthorizedAt. See [RetryPolicy] for retries.
func (c *Config) Exchange(ctx context.Context, code string, opts ...AuthCodeOption) (*Token, error) {
	p := collect(opts)
	pkce := p.verifier != ""
	if err := c.requireClient(grantAuthorizationCode, !pkce); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, fmt.Errorf("%w: the authorization code is empty", ErrMissingCode)
	}
	redirect := c.redirectURL(&p)
	if redirect == "" {
		return nil, fmt.Errorf("%w: RedirectURL is empty; the exchange must send the redirect URI used at /authorize", ErrInvalidConfig)
	}
	r := tokenRequest{
		grant: grantAuthorizationCode,
		form: url.Values{
			"grant_type":   {grantAuthorizationCode},
			"code":         {code},
			"redirect_uri": {redirect},
		},
		secrets: []string{code},
	}
	if pkce {
		if err := validateVerifier(p.verifier); err != nil {
			return nil, err
		}
		r.form.Set("code_verifier", p.verifier)
		r.secrets = append(r.secrets, p.verifier)
	}
	c.authenticate(&r, pkce)
	wt, sent, err := c.retrieve(ctx, &r)
	if err != nil {
		return nil, err
	}
	t := newToken(wt, sent)
	t.PKCE = pkce
	t.AuthorizedAt = sent
	return t, nil
}

// ClientCredentials requests an app token with the client secret. It has no
// refresh token and no scopes; see also [Config.AppSource] and
// [Config.EnsureAppToken].
func (c *Config) ClientCredentials(ctx context.Context) (*Token, error) {
	if err := c.requireClient(grantClientCredentials, true); err != nil {
		return nil, err
	}
	r := tokenRequest{
		grant: grantClientCredentials,
		form:  url.Values{"grant_type": {grantClientCredentials}},
		retry: true,
	}
	c.authenticate(&r, false)
	wt, sent, err := c.retrieve(ctx, &r)
	if err != nil {
		return nil, err
	}
	t := newToken(wt, sent)
	t.RefreshToken = "" // this grant has none; never keep a stray one
	return t, nil
}

// Refresh renews a user token; t is not modified. A PKCE token (t.PKCE) is
// refreshed with the client ID alone, any other with the client secret. A
// refresh token in the response replaces t's (Spotify may rotate them,
// revoking the old one); otherwise t's is kept, and so are PKCE, AuthorizedAt
// and, when the response has none, the scopes. invalid_grant (revoked, rotated
// away, or past the 6-month life) gives a [*TokenError] matching
// [ErrReauthorize]. A token without refresh token gives [ErrNoRefreshToken]
// before anything is sent.
func (c *Config) Refresh(ctx context.Context, t *Token) (*Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, fmt.Errorf("%w: the token has no refresh token (client-credentials tokens are requested again instead)", ErrNoRefreshToken)
	}
	if err := c.requireClient(grantRefreshToken, !t.PKCE); err != nil {
		return nil, err
	}
	r := tokenRequest{
		grant: grantRefreshToken,
		form: url.Values{
			"grant_type":    {grantRefreshToken},
			"refresh_token": {t.RefreshToken},
		},
		secrets: []string{t.RefreshToken, t.AccessToken},
		retry:   true,
	}
	c.authenticate(&r, t.PKCE)
	wt, sent, err := c.retrieve(ctx, &r)
	if err != nil {
		return nil, err
	}
	nt := newToken(wt, sent)
	if nt.RefreshToken == "" {
		nt.RefreshToken = t.RefreshToken
	}
	if wt.Scope == "" {
		nt.Scope = t.Scope
	}
	nt.PKCE = t.PKCE
	nt.AuthorizedAt = t.AuthorizedAt
	return nt, nil
}
