package spotauth

import (
	"io"
	"net/http"
)

// transport authorizes Web API requests with the bearer token of a
// RefreshingSource, and retries once on a 401; see RefreshingSource.Client.
type transport struct {
	Source *RefreshingSource
	Base   http.RoundTripper // nil: http.DefaultTransport
}

// maxDrain bounds how much of a 401 body is read before it is closed, so
// that the connection can be reused.
const maxDrain = 64 << 10

// RoundTrip authorizes and sends req, refreshing and retrying once on a 401.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
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

func (t *transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// Client returns an HTTP client whose requests carry the source's token,
// keeping base's Transport, Timeout, CheckRedirect and Jar (a nil base means
// http.DefaultClient; it is not modified). On a 401 it calls
// [RefreshingSource.Invalidate] (all requests that saw the token share one
// refresh) and sends the request once more if its body can be replayed
// (GetBody); it never loops.
func (s *RefreshingSource) Client(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	c.Transport = &transport{Source: s, Base: c.Transport}
	return &c
}
