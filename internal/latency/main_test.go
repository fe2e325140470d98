package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		if got > tt.want || float64(got) < 0.93*float64(tt.want) {
			t.Errorf("quantile(%v) = %v; want within 7%% below %v", tt.q, got, tt.want)
		}
	}
	if h.max != time.Millisecond {
		t.Errorf("max = %v; want 1ms", h.max)
	}
	for _, d := range []time.Duration{0, 1, 15, 16, 17, 1 << 20, 1<<40 + 12345} {
		if lo := lower(bucket(d)); lo > max(d, 1) || float64(lo) < 0.93*float64(d) {
			t.Errorf("lower(bucket(%d)) = %d; want within 7%% below", d, lo)
		}
	}
	var empty histogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v; want 0", got)
	}
}

// TestRunShort runs the harness briefly and checks counts, not timings:
// spotauth makes one token request per token replaced and never returns an
// expired token.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 3 s")
	}
	cfg := config{goroutines: 8, lifetime: time.Second, delay: 50 * time.Millisecond, duration: 1200 * time.Millisecond}
	results, err := run(cfg)
	if err != nil {
		t.Fatalf("run() error: %v", err)
	}
	if len(results) != 2 {
		t.Fatalf("run() = %d results; want 2", len(results))
	}
	sa := results[0]
	if sa.name != "spotauth" || sa.errors != 0 || sa.expired != 0 {
		t.Errorf("spotauth result = %+v; want no errors and no expired token", sa)
	}
	if sa.replaced < 1 || sa.requests != sa.replaced {
		t.Errorf("spotauth: %d token requests for %d tokens replaced; want one each", sa.requests, sa.replaced)
	}
	var buf bytes.Buffer
	printTable(&buf, results)
	for _, want := range []string{"spotauth", "oauth2.ReuseTokenSource", "p99", "requests per expiry"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}
