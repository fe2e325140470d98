package spotauthtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkTokenHandler measures the token handler alone, without the
// network, to keep the fake's own share of a request small.
func BenchmarkTokenHandler(b *testing.B) {
	s := NewUnstartedServer()
	_, rt := s.IssueUserToken(DefaultClientID, []string{"user-read-private"}, false)
	for _, bc := range []struct{ name, body string }{
		{"client_credentials", "grant_type=client_credentials"},
		{"refresh", "grant_type=refresh_token&refresh_token=" + rt},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hdr := http.Header{
				"Content-Type":  {"application/x-www-form-urlencoded"},
				"Authorization": {"Basic c3BvdGF1dGh0ZXN0LWNsaWVudDpzcG90YXV0aHRlc3Qtc2VjcmV0"},
			}
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/token", strings.NewReader(bc.body))
				req.Header = hdr
				rec := httptest.NewRecorder()
				s.serveHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
