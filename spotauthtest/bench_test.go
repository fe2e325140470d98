package spotauthtest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/spotauthtest"
)

// BenchmarkTokenEndpoint measures token requests per second over loopback,
// client and server in one process, with a keep-alive client.
func BenchmarkTokenEndpoint(b *testing.B) {
	cases := []struct {
		name string
		body func(srv *spotauthtest.Server) string
	}{
		{"client_credentials", func(*spotauthtest.Server) string { return "grant_type=client_credentials" }},
		{"refresh", func(srv *spotauthtest.Server) string {
			_, rt := srv.IssueUserToken(spotauthtest.DefaultClientID, []string{"user-read-private"}, false)
			return "grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt)
		}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			srv := spotauthtest.NewServer()
			defer srv.Close()
			body := bc.body(srv)
			client := srv.Client()
			tokenURL := srv.Endpoint().TokenURL
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(spotauthtest.DefaultClientID, spotauthtest.DefaultClientSecret)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("POST /api/token status = %d; want 200", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
