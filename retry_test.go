package spotauth

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryPolicyDefaults(t *testing.T) {
	got := RetryPolicy{}.withDefaults()
	want := RetryPolicy{MaxAttempts: 4, MaxRetryAfter: 30 * time.Second, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
	if got != want {
		t.Errorf("RetryPolicy{}.withDefaults() = %+v; want %+v", got, want)
	}
	custom := RetryPolicy{MaxAttempts: 1, MaxRetryAfter: time.Second, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	if got := custom.withDefaults(); got != custom {
		t.Errorf("%+v.withDefaults() = %+v; want unchanged", custom, got)
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	ceilings := map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 40: time.Second}
	for attempt, ceiling := range ceilings {
		var maxSeen time.Duration
		for range 2000 {
			d := p.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v; want within [0, %v]", attempt, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceiling/2 {
			t.Errorf("backoff(%d): largest of 2000 draws %v; want full jitter up to %v", attempt, maxSeen, ceiling)
		}
	}
}

// retryServer answers /api/token with the given handlers in turn, the
// last one repeating; it counts requests.
type retryServer struct {
	*httptest.Server
	n atomic.Int32
}

func newRetryServer(t *testing.T, handlers ...http.HandlerFunc) *retryServer {
	rs := &retryServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(rs.n.Add(1)) - 1
		handlers[min(i, len(handlers)-1)](w, r)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func status(code int, retryAfter, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

var ok200 = status(200, "", `{"access_token":"BQDok","token_type":"Bearer","expires_in":3600}`)

// drop closes the connection without an answer.
func drop(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func retryConfig(rs *retryServer) *Config {
	return &Config{
		ClientID: "abc123", ClientSecret: "s3cr3t", RedirectURL: "http://127.0.0.1/cb",
		AccountsURL: rs.URL, HTTPClient: rs.Client(),
		Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: 2 * time.Second},
	}
}

var grants = map[string]func(context.Context, *Config) error{
	grantAuthorizationCode: func(ctx context.Context, c *Config) error { _, err := c.Exchange(ctx, "AQBcode"); return err },
	grantRefreshToken: func(ctx context.Context, c *Config) error {
		_, err := c.Refresh(ctx, &Token{RefreshToken: "AQCrefresh"})
		return err
	},
	grantClientCredentials: func(ctx context.Context, c *Config) error { _, err := c.ClientCredentials(ctx); return err },
}

func TestRetries(t *testing.T) {
	e503 := status(503, "", `<html>Service Unavailable</html>`)
	e500 := status(500, "", `{"error":"server_error"}`)
	r429 := status(429, "", "")
	tests := []struct {
		name     string
		handlers []http.HandlerFunc
		// per grant: want success, want attempts
		want map[string]struct {
			ok       bool
			attempts int32
			is       error
		}
	}{
		{
			name:     "503 then success",
			handlers: []http.HandlerFunc{e503, ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrServerError},
				grantRefreshToken:      {true, 2, nil},
				grantClientCredentials: {true, 2, nil},
			},
		},
		{
			name:     "500 with JSON twice then success",
			handlers: []http.HandlerFunc{e500, e500, ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrServerError},
				grantRefreshToken:      {true, 3, nil},
				grantClientCredentials: {true, 3, nil},
			},
		},
		{
			name:     "always 503: bounded attempts",
			handlers: []http.HandlerFunc{e503},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrServerError},
				grantRefreshToken:      {false, 3, ErrServerError},
				grantClientCredentials: {false, 3, ErrServerError},
			},
		},
		{
			name:     "429 without Retry-After then success: every grant",
			handlers: []http.HandlerFunc{r429, ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {true, 2, nil},
				grantRefreshToken:      {true, 2, nil},
				grantClientCredentials: {true, 2, nil},
			},
		},
		{
			name:     "always 429: bounded attempts",
			handlers: []http.HandlerFunc{r429},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 3, ErrRateLimited},
				grantRefreshToken:      {false, 3, ErrRateLimited},
				grantClientCredentials: {false, 3, ErrRateLimited},
			},
		},
		{
			name:     "429 beyond MaxRetryAfter: returned at once",
			handlers: []http.HandlerFunc{status(429, "3600", ""), ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrRateLimited},
				grantRefreshToken:      {false, 1, ErrRateLimited},
				grantClientCredentials: {false, 1, ErrRateLimited},
			},
		},
		{
			name:     "503 with a long Retry-After: returned at once",
			handlers: []http.HandlerFunc{status(503, "3600", ""), ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrServerError},
				grantRefreshToken:      {false, 1, ErrServerError},
				grantClientCredentials: {false, 1, ErrServerError},
			},
		},
		{
			name:     "dropped connection then success",
			handlers: []http.HandlerFunc{drop, ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, nil},
				grantRefreshToken:      {true, 2, nil},
				grantClientCredentials: {true, 2, nil},
			},
		},
		{
			name:     "invalid_grant never retried",
			handlers: []http.HandlerFunc{status(400, "", `{"error":"invalid_grant","error_description":"Refresh token revoked"}`), ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrInvalidGrant},
				grantRefreshToken:      {false, 1, ErrReauthorize},
				grantClientCredentials: {false, 1, ErrInvalidGrant},
			},
		},
		{
			name:     "HTML 200 never retried",
			handlers: []http.HandlerFunc{status(200, "", "<html>captive portal</html>"), ok200},
			want: map[string]struct {
				ok       bool
				attempts int32
				is       error
			}{
				grantAuthorizationCode: {false, 1, ErrBadResponse},
				grantRefreshToken:      {false, 1, ErrBadResponse},
				grantClientCredentials: {false, 1, ErrBadResponse},
			},
		},
	}
	for _, tt := range tests {
		for grant, call := range grants {
			t.Run(tt.name+"/"+grant, func(t *testing.T) {
				rs := newRetryServer(t, tt.handlers...)
				err := call(context.Background(), retryConfig(rs))
				w := tt.want[grant]
				if (err == nil) != w.ok {
					t.Errorf("%s = %v; want ok=%t", grant, err, w.ok)
				}
				if w.is != nil && !errors.Is(err, w.is) {
					t.Errorf("%s = %v; want %v", grant, err, w.is)
				}
				if got := rs.n.Load(); got != w.attempts {
					t.Errorf("%s sent %d requests; want %d", grant, got, w.attempts)
				}
			})
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	rs := newRetryServer(t, status(429, "1", ""), ok200)
	cfg := retryConfig(rs)
	start := time.Now()
	if _, err := cfg.Exchange(context.Background(), "AQBcode"); err != nil {
		t.Fatalf("Exchange() after 429 Retry-After: 1 = %v; want success", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("Exchange() retried after %v; want Retry-After's 1s honoured", d)
	}
	if n := rs.n.Load(); n != 2 {
		t.Errorf("Exchange() sent %d requests; want 2", n)
	}
}

func TestRetryAfterReturned(t *testing.T) {
	rs := newRetryServer(t, status(429, "3600", `{"error":{"status":429,"message":"API rate limit exceeded"}}`))
	_, err := retryConfig(rs).ClientCredentials(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.RetryAfter != time.Hour || te.StatusCode != 429 {
		t.Fatalf("ClientCredentials() = %v; want *TokenError with RetryAfter 1h", err)
	}
	if !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Errorf("error %q; want it to say when to retry", err)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	t.Run("deadline shorter than Retry-After: no wait", func(t *testing.T) {
		// Retry-After 20 s (under MaxRetryAfter), a 10 s deadline: time for
		// the request on a busy machine, not for the wait.
		rs := newRetryServer(t, status(429, "20", ""), ok200)
		cfg := retryConfig(rs)
		cfg.Retry.MaxRetryAfter = time.Minute
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := cfg.ClientCredentials(ctx)
		if !errors.Is(err, ErrRateLimited) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ClientCredentials() = %v; want ErrRateLimited at once, not a wait until the deadline", err)
		}
		if ctx.Err() != nil {
			t.Errorf("ClientCredentials() returned after its deadline; want before, without waiting")
		}
		if n := rs.n.Load(); n != 1 {
			t.Errorf("ClientCredentials() sent %d requests; want 1", n)
		}
		t.Logf("ClientCredentials() returned after %v", time.Since(start).Round(time.Millisecond))
	})
	t.Run("cancel during backoff", func(t *testing.T) {
		rs := newRetryServer(t, status(503, "", ""))
		cfg := retryConfig(rs)
		cfg.Retry.BaseDelay, cfg.Retry.MaxDelay = time.Hour, time.Hour
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Canceled 50 ms after the client has read a 503 and closed its
		// body, never during a request however slow the machine: the
		// error must keep the ErrServerError.
		cfg.HTTPClient = &http.Client{Transport: onBodyClose{func() { time.AfterFunc(50*time.Millisecond, cancel) }}}
		start := time.Now()
		_, err := cfg.Refresh(ctx, &Token{RefreshToken: "AQC"})
		if !errors.Is(err, ErrServerError) || !errors.Is(err, context.Canceled) {
			t.Errorf("Refresh() = %v; want context.Canceled with the last ErrServerError kept", err)
		}
		// The backoff is drawn from [0, 1h]: only the cancellation can end
		// it within a minute (a draw under a minute, odds 1 in 60, sends one
		// more request, canceled the same way).
		if d := time.Since(start); d > time.Minute {
			t.Errorf("Refresh() returned %v after it began; want at the cancellation, before the backoff ended", d)
		}
		if rs.n.Load() > 3 {
			t.Errorf("Refresh() sent %d requests; want at most 3", rs.n.Load())
		}
	})
	t.Run("canceled before the request", func(t *testing.T) {
		rs := newRetryServer(t, ok200)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := retryConfig(rs).ClientCredentials(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ClientCredentials(canceled) = %v; want context.Canceled", err)
		}
	})
	t.Run("timeout of a slow server", func(t *testing.T) {
		block := make(chan struct{})
		rs := newRetryServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		})
		defer close(block)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := retryConfig(rs).Exchange(ctx, "AQBcode")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Exchange(timeout) = %v; want context.DeadlineExceeded", err)
		}
		// One request, or none if a busy machine let the deadline pass
		// before it arrived: never a retry after the deadline.
		if rs.n.Load() > 1 {
			t.Errorf("Exchange(timeout) sent %d requests; want at most 1", rs.n.Load())
		}
	})
}

// onBodyClose is a transport that calls f when a response body is closed.
type onBodyClose struct{ f func() }

func (o onBodyClose) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = closeHook{resp.Body, o.f}
	}
	return resp, err
}

type closeHook struct {
	io.ReadCloser
	f func()
}

func (c closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.f()
	return err
}

func TestTransportErrorExchangeExplains(t *testing.T) {
	rs := newRetryServer(t, drop)
	_, err := retryConfig(rs).Exchange(context.Background(), "AQBcode")
	if err == nil || !strings.Contains(err.Error(), "code may have been consumed") || !strings.HasPrefix(err.Error(), "spotauth: ") {
		t.Errorf("Exchange(dropped) = %v; want a spotauth: error explaining why it was not retried", err)
	}
	var te *TokenError
	if errors.As(err, &te) {
		t.Errorf("Exchange(dropped) = %T; want a transport error, not a *TokenError", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := &Config{ClientID: "abc", ClientSecret: "s3cr3tvalue", AccountsURL: "http://" + addr,
		Retry: RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	_, err = cfg.ClientCredentials(context.Background())
	var ne net.Error
	if err == nil || !errors.As(err, &ne) {
		t.Errorf("ClientCredentials(refused) = %v; want a net.Error", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cr3tvalue") {
		t.Errorf("ClientCredentials(refused) = %v; contains the secret", err)
	}
}
