package spotauthtest_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/spotauthtest"
)

// BenchmarkTokenEndpoint measures token requests per second over loopback,
// client and server in one process, with a keep-alive client.
func BenchmarkTokenEndpoint(b *testing.B) {
	// Client and server share one heap and allocate ~8 KB per request
	// between them (mostly net/http): at the default GOGC the collector
	// runs hundreds of times a second. A load test's usual setting:
	defer debug.SetGCPercent(debug.SetGCPercent(400))
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
			u, err := url.Parse(srv.URL + "/api/token")
			if err != nil {
				b.Fatal(err)
			}
			hdr := http.Header{
				"Content-Type":  {"application/x-www-form-urlencoded"},
				"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(spotauthtest.DefaultClientID+":"+spotauthtest.DefaultClientSecret))},
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					// Built by hand: http.NewRequest would parse the URL each time.
					req := &http.Request{
						Method:        http.MethodPost,
						URL:           u,
						Host:          u.Host,
						Proto:         "HTTP/1.1",
						ProtoMajor:    1,
						ProtoMinor:    1,
						Header:        hdr, // read-only: shared by all requests
						Body:          io.NopCloser(strings.NewReader(body)),
						ContentLength: int64(len(body)),
					}
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
			// CPU per request, client and server together: on a shared
			// machine req/s depends on the load, this much less.
			// GOMAXPROCS/cpu-ns gives the throughput of an idle machine.
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
