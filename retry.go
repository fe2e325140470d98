package spotauth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/spotauth/spotauth/internal/wire"
)

// RetryPolicy bounds the retries of token requests; the zero value means the
// defaults. A 429 is retried for every grant after its Retry-After (one longer
// than MaxRetryAfter, or past ctx's deadline, is returned at once as a
// [*TokenError] with RetryAfter set). A 5xx or transport error is retried with
// backoff for refresh and client credentials, never for a code exchange: the
// single-use code may have been spent, and the retry would hide the real error
// behind invalid_grant. Other errors are never retried.
type RetryPolicy struct {
	MaxAttempts   int           // attempts in all (0 means 4; 1 disables retries)
	MaxRetryAfter time.Duration // longest Retry-After waited out (0 means 30 s)
	BaseDelay     time.Duration // first backoff delay, doubled each time, with jitter (0 means 200 ms)
	MaxDelay      time.Duration // longest backoff delay (0 means 5 s)
}

// The retry rules are documented on RetryPolicy.

type tokenRequest struct {
	grant   string
	form    url.Values
	auth    string   // Authorization header, "" for none
	secrets []string // redacted from error excerpts
	retry   bool     // 5xx and transport errors may be retried
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	return p
}

// backoff returns the full-jitter delay before attempt+1 (attempt counts
// from 1): uniform in [0, min(MaxDelay, BaseDelay·2^(attempt-1))].
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < attempt && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	return rand.N(ceiling + 1)
}

// retrieve sends r, retrying as documented above. It returns the decoded
// token and the time the successful attempt was sent.
func (c *Config) retrieve(ctx context.Context, r *tokenRequest) (*wire.Token, time.Time, error) {
	pol := c.Retry.withDefaults()
	req := &wire.Request{
		URL:           c.accountsURL() + "/api/token",
		Form:          r.form,
		Authorization: r.auth,
		Secrets:       r.secrets,
	}
	for attempt := 1; ; attempt++ {
		sent := c.now()
		wt, err := wire.Do(ctx, c.HTTPClient, req, sent)
		if err == nil {
			return wt, sent, nil
		}
		var we *wire.Error
		if !errors.As(err, &we) {
			// No complete answer: transport error, cut body, or ctx done.
			terr := c.transportError(ctx, r, err)
			if ctx.Err() != nil || !r.retry || attempt >= pol.MaxAttempts {
				return nil, time.Time{}, terr
			}
			if werr := wire.Sleep(ctx, pol.backoff(attempt)); werr != nil {
				return nil, time.Time{}, fmt.Errorf("spotauth: %s request: gave up retrying: %w (last error: %w)", r.grant, werr, unprefixed{terr})
			}
			continue
		}
		te := &TokenError{
			Grant:       r.grant,
			StatusCode:  we.StatusCode,
			Code:        we.Code,
			Description: we.Description,
			RetryAfter:  we.RetryAfter,
			Body:        we.Body,
			Reason:      we.Reason,
		}
		var wait time.Duration
		switch {
		case te.StatusCode == 429:
			wait = te.RetryAfter
			if wait == 0 {
				wait = pol.backoff(attempt)
			}
			if wait > pol.MaxRetryAfter {
				return nil, time.Time{}, te
			}
		case te.StatusCode >= 500 && te.StatusCode <= 599 && r.retry:
			wait = pol.backoff(attempt)
			if te.RetryAfter > pol.MaxRetryAfter {
				return nil, time.Time{}, te // the server asks for a longer pause
			}
			wait = max(wait, te.RetryAfter)
		default:
			return nil, time.Time{}, te
		}
		if attempt >= pol.MaxAttempts {
			return nil, time.Time{}, te
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Waiting would outlast ctx: report now, without sleeping.
			return nil, time.Time{}, te
		}
		if werr := wire.Sleep(ctx, wait); werr != nil {
			return nil, time.Time{}, fmt.Errorf("spotauth: %s request: gave up retrying: %w (last error: %w)", r.grant, werr, unprefixed{te})
		}
	}
}

// transportError wraps an error that left no HTTP answer.
func (c *Config) transportError(ctx context.Context, r *tokenRequest, err error) error {
	if r.grant == grantAuthorizationCode && ctx.Err() == nil {
		return fmt.Errorf("spotauth: %s request failed, not retried because the code may have been consumed: %w", r.grant, err)
	}
	return fmt.Errorf("spotauth: %s request failed: %w", r.grant, err)
}

// newToken builds a Token from a wire token received for a request sent
// at sent: expiry counts from the send time, never later than Spotify's.
func newToken(wt *wire.Token, sent time.Time) *Token {
	t := &Token{
		AccessToken:  wt.AccessToken,
		TokenType:    wt.TokenType,
		RefreshToken: wt.RefreshToken,
		Expiry:       sent.Add(time.Duration(wt.ExpiresIn) * time.Second),
	}
	if wt.Scope != "" {
		t.Scope = NewScopes(appendFields(nil, wt.Scope)...)
	}
	return t
}

// unprefixed is an error shown inside another's message: its text without
// "spotauth: ", which the outer message already says.
type unprefixed struct{ err error }

func (u unprefixed) Error() string { return strings.TrimPrefix(u.err.Error(), "spotauth: ") }
func (u unprefixed) Unwrap() error { return u.err }
