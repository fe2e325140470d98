package spotauth

import (
	"errors"
	"io"
	"net/http"
)

// Transport is an [http.RoundTripper] that authorizes Web API requests with
// the bearer token of a [RefreshingSource], like [oauth2.Transport].
//
// When the Web API answers 401 (an expired, revoked or otherwise refused
// access token; the decision rests on the status code alone, as Spotify's
// messages have changed over time), Transport calls
// [RefreshingSource.Invalidate] with the token it sent: all requests that
// saw the same token share one refresh. It then sends the request once more
// with the new token, if its body can be sent again (no body, or
// [http.Request.GetBody] set, as [http.NewRequest] does for bytes, strings
// and buffers); otherwise the 401 is returned. A 401 on the retry, or on a
// token that a refresh produced just before, is returned as is: no loop.
//
// Transport never modifies the request it is given; it closes the request
// body on every path, as a RoundTripper must.
type Transport struct {
	// Source supplies the tokens. It must not be nil.
	Source *RefreshingSource
	// Base sends the requests; nil means [http.DefaultTransport].
	Base http.RoundTripper
}

// maxDrain bounds how much of a 401 body is read before it is closed, so
// that the connection can be reused.
const maxDrain = 64 << 10

// RoundTrip authorizes and sends req, refreshing and retrying once on a 401.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if t.Source == nil {
		closeBody()
		return nil, errors.New("spotauth: Transport has no Source")
	}
	ctx := req.Context()
	tok, err := t.Source.TokenContext(ctx)
	if err != nil {
		closeBody()
		return nil, err
	}
	base := t.base()
	r2 := req.Clone(ctx)
	r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	// base closes r2.Body, which is req.Body.
	resp, err := base.RoundTrip(r2)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	nt, ierr := t.Source.Invalidate(ctx, tok)
	if ierr != nil || nt.AccessToken == tok.AccessToken {
		// No better token: the caller gets the 401.
		return resp, nil
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	r3 := req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		body, gerr := req.GetBody()
		if gerr != nil {
			return resp, nil
		}
		r3.Body = body
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	r3.Header.Set("Authorization", "Bearer "+nt.AccessToken)
	return base.RoundTrip(r3)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// Client returns an HTTP client whose requests carry the source's bearer
// token, through a [Transport] over base's transport. base may be nil
// (meaning [http.DefaultClient]); its Timeout, CheckRedirect and Jar are
// kept. base is not modified.
func (s *RefreshingSource) Client(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	c.Transport = &Transport{Source: s, Base: c.Transport}
	return &c
}
