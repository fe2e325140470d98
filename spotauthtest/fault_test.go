package spotauthtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth/spotauthtest"
)

func ccRequest(t testing.TB, s *spotauthtest.Server) *http.Request {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cid, secret)
	return req
}

func TestTokenFaults(t *testing.T) {
	tests := []struct {
		fault      spotauthtest.Fault
		wantStatus int
		wantHeader [2]string
		wantBody   string
		wantErr    bool // transport or body read error
	}{
		{spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: 1500 * time.Millisecond}, 429, [2]string{"Retry-After", "2"}, `{"error":{"status":429,"message":"API rate limit exceeded"}}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit}, 429, [2]string{"Retry-After", "1"}, `{"error":{"status":429,"message":"API rate limit exceeded"}}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: 4 * time.Hour}, 429, [2]string{"Retry-After", "14400"}, `{"error":{"status":429,"message":"API rate limit exceeded"}}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: -1}, 429, [2]string{"Retry-After", ""}, `{"error":{"status":429,"message":"API rate limit exceeded"}}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultServerError}, 500, [2]string{"Content-Type", "application/json"}, `{"error":"server_error","error_description":"Internal server error"}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultServerError, Status: 502}, 502, [2]string{}, `{"error":"server_error","error_description":"Internal server error"}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable}, 503, [2]string{}, `{"error":"temporarily_unavailable","error_description":"Service unavailable"}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultMalformedJSON}, 200, [2]string{"Content-Type", "application/json"}, `{"access_token":"BQmalformed""token_type":"Bearer","expires_in":3600`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultWrongShape}, 200, [2]string{}, `{"access_token":42,"token_type":["Bearer"],"expires_in":"soon"}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultEmptyBody}, 200, [2]string{"Content-Type", "application/json"}, ``, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultHTML}, 502, [2]string{"Content-Type", "text/html; charset=utf-8"}, "<!DOCTYPE html>", false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultHTML, Status: 200}, 200, [2]string{"Content-Type", "text/html; charset=utf-8"}, "<!DOCTYPE html>", false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultError}, 400, [2]string{}, `{"error":"invalid_grant"}`, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultError, Code: "invalid_client", Description: "Invalid client"}, 400, [2]string{}, errInvalidClient, false},
		{spotauthtest.Fault{Kind: spotauthtest.FaultTruncated}, 200, [2]string{}, "", true},
		{spotauthtest.Fault{Kind: spotauthtest.FaultDrop}, 0, [2]string{}, "", true},
		{spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: 20 * time.Millisecond}, 200, [2]string{"Cache-Control", "no-store"}, `{"access_token":"BQ`, false},
	}
	for _, tt := range tests {
		t.Run(tt.fault.Kind.String(), func(t *testing.T) {
			s := start(t, nil)
			s.FailToken(1, tt.fault)
			t0 := time.Now()
			resp, err := s.Client().Do(ccRequest(t, s))
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status = %d; want %d", resp.StatusCode, tt.wantStatus)
				}
				if h := tt.wantHeader; h[0] != "" && resp.Header.Get(h[0]) != h[1] {
					t.Errorf("header %s = %q; want %q", h[0], resp.Header.Get(h[0]), h[1])
				}
			}
			if tt.wantErr {
				if err == nil {
					t.Errorf("POST /api/token = %q, no error; want a transport or body error", body)
				}
			} else {
				if err != nil {
					t.Fatalf("POST /api/token: %v", err)
				}
				if tt.wantBody == "" && len(body) != 0 || !strings.HasPrefix(string(body), tt.wantBody) ||
					tt.wantBody != "" && !strings.HasPrefix(tt.wantBody, "<") && !strings.HasPrefix(tt.wantBody, `{"access_token":"BQ`) && string(body) != tt.wantBody {
					t.Errorf("body = %q; want %q", body, tt.wantBody)
				}
			}
			if d := time.Since(t0); d < tt.fault.Delay {
				t.Errorf("answered after %v; want at least the delay %v", d, tt.fault.Delay)
			}
			// The fault is used up: the next request succeeds.
			if r := do(t, s, ccRequest(t, s)); r.status != 200 {
				t.Errorf("request after the fault = %d %s; want 200", r.status, r.body)
			}
			st := s.Stats()
			if st.Faults[tt.fault.Kind] != 1 || st.TokenRequests != 2 || st.TokenRequests != st.Succeeded+st.Failed+st.Faulted {
				t.Errorf("Stats() = %+v; want one %v fault of 2 requests", st, tt.fault.Kind)
			}
		})
	}
}

func TestFaultQueueAndRule(t *testing.T) {
	s := start(t, nil)
	s.FailToken(2, spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable})
	s.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit})
	var got []int
	for range 4 {
		got = append(got, do(t, s, ccRequest(t, s)).status)
	}
	if want := []int{503, 503, 429, 200}; !equalInts(got, want) {
		t.Errorf("statuses with 2×503 then 1×429 queued = %v; want %v", got, want)
	}

	// A rule failing only refreshes.
	_, rt := s.IssueUserToken(cid, nil, false)
	var seen []spotauthtest.TokenRequest
	s.SetTokenFaultRule(func(r spotauthtest.TokenRequest) *spotauthtest.Fault {
		seen = append(seen, r) // requests here are sequential
		if r.Grant == spotauthtest.GrantRefreshToken {
			return &spotauthtest.Fault{Kind: spotauthtest.FaultError, Code: "invalid_grant", Description: "Refresh token revoked"}
		}
		return nil
	})
	if r := refresh(t, s, rt); r.body != errRevoked {
		t.Errorf("refresh with the rule = %s; want %s", r.body, errRevoked)
	}
	if r := do(t, s, ccRequest(t, s)); r.status != 200 {
		t.Errorf("client_credentials with the rule = %d; want 200", r.status)
	}
	if len(seen) != 2 || seen[0].Grant != "refresh_token" || seen[0].ClientID != cid || seen[0].Auth != spotauthtest.AuthBasic || seen[1].N != seen[0].N+1 {
		t.Errorf("rule saw %+v; want a refresh then a client_credentials request from %s with basic auth", seen, cid)
	}
	s.ClearFaults()
	if r := refresh(t, s, rt); r.status != 200 {
		t.Errorf("refresh after ClearFaults = %d %s; want 200", r.status, r.body)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMeFaults(t *testing.T) {
	s := start(t, nil)
	at, _ := s.IssueUserToken(cid, nil, false)
	s.FailMe(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, RetryAfter: 30 * time.Second})
	r := getMe(t, s, "Bearer "+at)
	if r.status != 429 || r.header.Get("Retry-After") != "30" || r.body != `{"error":{"status":429,"message":"API rate limit exceeded"}}` {
		t.Errorf("GET /v1/me with a 429 fault = %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	s.FailMe(1, spotauthtest.Fault{Kind: spotauthtest.FaultError, Status: 401, Description: "The access token expired"})
	r = getMe(t, s, "Bearer "+at)
	if r.status != 401 || r.body != `{"error":{"status":401,"message":"The access token expired"}}` {
		t.Errorf("GET /v1/me with a 401 fault = %d %s", r.status, r.body)
	}
	for _, k := range []spotauthtest.FaultKind{spotauthtest.FaultServerError, spotauthtest.FaultUnavailable, spotauthtest.FaultMalformedJSON, spotauthtest.FaultWrongShape} {
		s.FailMe(1, spotauthtest.Fault{Kind: k})
		r := getMe(t, s, "Bearer "+at)
		if r.status == 200 && k < spotauthtest.FaultMalformedJSON || r.body == "" {
			t.Errorf("GET /v1/me with %v = %d %q", k, r.status, r.body)
		}
	}
	s.FailMe(1, spotauthtest.Fault{Kind: spotauthtest.FaultDrop})
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/me", nil)
	// A new transport: net/http retries an idempotent GET whose reused
	// connection drops, which would hide the fault.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("GET /v1/me with a dropped connection: status %d; want an error", resp.StatusCode)
	}
	if r := getMe(t, s, "Bearer "+at); r.status != 200 {
		t.Errorf("GET /v1/me after the faults = %d; want 200", r.status)
	}
}

func TestFaultDelayHonoursContext(t *testing.T) {
	s := start(t, nil)
	s.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultNone, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	resp, err := s.Client().Do(ccRequest(t, s).WithContext(ctx))
	if err == nil {
		resp.Body.Close()
	}
	// Only the deadline can end the request before the minute.
	if d := time.Since(t0); !errors.Is(err, context.DeadlineExceeded) || d >= time.Minute {
		t.Errorf("request with a 50 ms deadline against a 1-minute delay = %v after %v; want DeadlineExceeded before the delay ended", err, d)
	}
}

func TestCloseDuringDelay(t *testing.T) {
	s := spotauthtest.NewServer()
	s.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultRateLimit, Delay: time.Minute})
	done := make(chan error, 1)
	go func() {
		resp, err := s.Client().Do(ccRequest(t, s))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for i := 0; s.Stats().TokenRequests == 0; i++ {
		if i > 1000 {
			t.Fatal("the request never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t0 := time.Now()
	s.Close()
	if d := time.Since(t0); d >= time.Minute {
		t.Errorf("Close with a request in a 1-minute delay took %v; want it to end the delay", d)
	}
	if err := <-done; err == nil {
		t.Errorf("request in flight at Close: no error; want the connection dropped")
	}
}

func TestStatsAndLog(t *testing.T) {
	clock := spotauthtest.NewClock(time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC))
	s := start(t, func(s *spotauthtest.Server) { s.Clock = clock })
	_, rt := s.IssueUserToken(cid, nil, false)
	postToken(t, s, basicAuth(cid, secret), url.Values{"grant_type": {"client_credentials"}})                           // ok
	postToken(t, s, "", url.Values{"grant_type": {"client_credentials"}, "client_id": {cid}, "client_secret": {"bad"}}) // invalid_client
	refresh(t, s, rt)                                                                                                   // ok
	refresh(t, s, "AQnope")                                                                                             // invalid_grant
	postToken(t, s, "", url.Values{"grant_type": {"password"}})                                                         // unsupported
	s.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultServerError})
	refresh(t, s, rt) // faulted
	getMe(t, s, "")
	get(t, s, "/authorize", authParams())

	st := s.Stats()
	want := spotauthtest.Stats{
		TokenRequests: 6, Succeeded: 2, Failed: 3, Faulted: 1,
		Grants:             map[string]int{"client_credentials": 2, "refresh_token": 3, "other": 1},
		GrantsSucceeded:    map[string]int{"client_credentials": 1, "refresh_token": 1},
		Refreshes:          3,
		RefreshesSucceeded: 1,
		Errors:             map[string]int{"invalid_client": 1, "invalid_grant": 1, "unsupported_grant_type": 1},
		Faults:             map[spotauthtest.FaultKind]int{spotauthtest.FaultServerError: 1},
		AuthorizeRequests:  1, MeRequests: 1,
	}
	if got, wantS := fmtStats(st), fmtStats(want); got != wantS {
		t.Errorf("Stats() = %s; want %s", got, wantS)
	}
	log := s.TokenLog()
	if len(log) != 6 {
		t.Fatalf("TokenLog() has %d entries; want 6", len(log))
	}
	log = log[3:]
	wantLog := []spotauthtest.LogEntry{
		{Time: clock.Now(), N: 4, Grant: "refresh_token", ClientID: cid, Auth: spotauthtest.AuthBasic, Status: 400, Error: "invalid_grant"},
		{Time: clock.Now(), N: 5, Grant: "password", ClientID: "", Auth: spotauthtest.AuthNone, Status: 400, Error: "unsupported_grant_type"},
		{Time: clock.Now(), N: 6, Grant: "refresh_token", ClientID: cid, Auth: spotauthtest.AuthBasic, Status: 500, Fault: spotauthtest.FaultServerError, Faulted: true},
	}
	for i := range wantLog {
		if log[i] != wantLog[i] {
			t.Errorf("TokenLog()[%d] = %+v; want %+v", i, log[i], wantLog[i])
		}
	}
	for _, e := range log {
		if s := fmtAll(e); strings.Contains(s, secret) || strings.Contains(s, rt) {
			t.Errorf("log entry %s holds a secret", s)
		}
	}
	s.ResetStats()
	if st := s.Stats(); st.TokenRequests != 0 || len(st.Grants) != 0 || len(s.TokenLog()) != 0 {
		t.Errorf("after ResetStats: %+v, %d log entries; want zero", st, len(s.TokenLog()))
	}
}

func TestCloseWaitsForInFlight(t *testing.T) {
	s := spotauthtest.NewServer()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.SetTokenFaultRule(func(spotauthtest.TokenRequest) *spotauthtest.Fault {
		once.Do(func() { close(entered) })
		<-release
		return nil
	})
	result := make(chan int, 1)
	go func() {
		resp, err := s.Client().Do(ccRequest(t, s))
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	<-entered
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-closed
	if got := <-result; got != 200 {
		t.Errorf("request in flight during Close = %d; want 200 (served to the end)", got)
	}
}

func TestFailGrant(t *testing.T) {
	s := start(t, nil)
	_, rt := s.IssueUserToken(cid, nil, false)
	s.FailGrant(spotauthtest.GrantRefreshToken, 2, spotauthtest.Fault{Kind: spotauthtest.FaultError, Description: "Refresh token revoked"})
	s.FailToken(1, spotauthtest.Fault{Kind: spotauthtest.FaultUnavailable})
	var got []string
	for _, req := range []string{"cc", "refresh", "cc", "refresh", "refresh"} {
		var r response
		if req == "cc" {
			r = do(t, s, ccRequest(t, s))
		} else {
			r = refresh(t, s, rt)
		}
		got = append(got, fmt.Sprint(req, " ", r.status))
	}
	want := []string{"cc 503", "refresh 400", "cc 200", "refresh 400", "refresh 200"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("with 2 refresh faults and 1 any-grant fault queued: %v; want %v", got, want)
	}
}
