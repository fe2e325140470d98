package spotauthtest

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// FaultKind is the kind of failure a [Fault] injects.
type FaultKind int

// Fault kinds. The bodies are fixed so that tests can match them; on
// /api/token errors have RFC 6749's shape, on /v1/me the Web API's.
const (
	// FaultNone injects no failure: the request is only delayed by
	// Fault.Delay, then served normally.
	FaultNone FaultKind = iota
	// FaultRateLimit answers 429 with Retry-After (Fault.RetryAfter) and
	// the Web API body {"error":{"status":429,"message":"API rate limit exceeded"}}
	// (on both endpoints: Spotify's token endpoint has no documented 429).
	FaultRateLimit
	// FaultServerError answers 500: on /api/token
	// {"error":"server_error","error_description":"Internal server error"}.
	FaultServerError
	// FaultUnavailable answers 503: on /api/token
	// {"error":"temporarily_unavailable","error_description":"Service unavailable"}.
	FaultUnavailable
	// FaultMalformedJSON answers 200, application/json, with a body that is
	// not valid JSON.
	FaultMalformedJSON
	// FaultWrongShape answers 200 with valid JSON of the wrong shape
	// (access_token a number, expires_in a string).
	FaultWrongShape
	// FaultEmptyBody answers 200, application/json, with an empty body.
	FaultEmptyBody
	// FaultHTML answers 502 with an HTML error page, as a proxy would.
	FaultHTML
	// FaultTruncated answers 200 with a Content-Length larger than the body
	// sent, then closes the connection.
	FaultTruncated
	// FaultDrop closes the connection without answering.
	FaultDrop
	// FaultError answers Fault.Status (default 400) with the error
	// Fault.Code (default "invalid_grant") and Fault.Description: on
	// /api/token {"error":Code,"error_description":Description}, on /v1/me
	// {"error":{"status":Status,"message":Description}}.
	FaultError
	numFaultKinds
)

var faultNames = [numFaultKinds]string{"none", "rate-limit", "server-error", "unavailable", "malformed-json",
	"wrong-shape", "empty-body", "html", "truncated", "drop", "error"}

// String returns a short name such as "rate-limit".
func (k FaultKind) String() string {
	if k >= 0 && k < numFaultKinds {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault describes a failure to inject into a response.
type Fault struct {
	Kind FaultKind
	// Delay holds the response back first. It ends early when the client
	// gives up (request context) or the server closes; on Close the
	// connection is dropped.
	Delay time.Duration
	// RetryAfter is FaultRateLimit's Retry-After, in whole seconds rounded
	// up. Zero means 1 s; negative leaves the header out.
	RetryAfter time.Duration
	// Status, when nonzero, replaces the kind's HTTP status (for the kinds
	// that answer).
	Status int
	// Code and Description are FaultError's "error" and
	// "error_description" (the message on /v1/me).
	Code, Description string
}

// TokenRequest describes a token request to a fault rule
// ([Server.SetTokenFaultRule]). It holds no secret.
type TokenRequest struct {
	N        int64     // 1 for the server's first token request, and so on
	Grant    string    // grant_type as sent, cut to 64 bytes
	ClientID string    // from Basic or the body, cut to 64 bytes
	Auth     AuthStyle // how the client authenticated
}

type queuedFault struct {
	f     Fault
	n     int
	grant string // "" matches any request
}

// faults holds what [Server.FailToken], [Server.FailGrant], [Server.FailMe],
// [Server.FailWebAPI] and [Server.SetTokenFaultRule] set up; guarded by
// Server.mu.
type faults struct {
	token, me, webAPI []queuedFault
	rule              func(TokenRequest) *Fault
}

// serveQueuedFault counts a Web API request with count (under s.mu) and
// answers it with the next fault of q, if one is queued, reporting
// whether it did.
func (s *Server) serveQueuedFault(w http.ResponseWriter, r *http.Request, q *[]queuedFault, count func()) bool {
	s.lockApps()
	count()
	fault := popFault(q, "")
	s.mu.Unlock()
	return fault != nil && s.serveFault(w, r, fault, true, func(int) {
		s.mu.Lock()
		s.stats.Faults[fault.Kind]++
		s.mu.Unlock()
	})
}

// popFault takes the first fault of q that applies to grant.
func popFault(q *[]queuedFault, grant string) *Fault {
	for i := range *q {
		e := &(*q)[i]
		if e.grant != "" && e.grant != grant {
			continue
		}
		f := e.f
		if e.n--; e.n == 0 {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
		}
		return &f
	}
	return nil
}

// nextToken returns the queued fault for a token request, or the rule to
// ask when there is none.
func (fs *faults) nextToken(grant string) (*Fault, func(TokenRequest) *Fault) {
	if f := popFault(&fs.token, grant); f != nil {
		return f, nil
	}
	return nil, fs.rule
}

// FailToken injects f into the next n requests to /api/token, after any
// faults already queued. Queued faults come before the rule.
func (s *Server) FailToken(n int, f Fault) { s.queue(&s.faults.token, "", n, f) }

// FailGrant injects f into the next n token requests whose grant_type is
// grant, such as [GrantRefreshToken]: for example, to fail the next
// refresh with invalid_grant while code exchanges go through.
func (s *Server) FailGrant(grant string, n int, f Fault) {
	if grant == "" {
		panic("spotauthtest: FailGrant with an empty grant type")
	}
	s.queue(&s.faults.token, grant, n, f)
}

// FailMe injects f into the next n requests to /v1/me.
func (s *Server) FailMe(n int, f Fault) { s.queue(&s.faults.me, "", n, f) }

// FailWebAPI injects f into the next n requests to the Web API's other
// endpoints (GET /v1/me/playlists, POST /v1/users/{user_id}/playlists,
// PUT /v1/me/player/pause, any other /v1 path), with /v1/me's bodies.
func (s *Server) FailWebAPI(n int, f Fault) { s.queue(&s.faults.webAPI, "", n, f) }

func (s *Server) queue(q *[]queuedFault, grant string, n int, f Fault) {
	if n > 0 {
		s.lock()
		defer s.mu.Unlock()
		*q = append(*q, queuedFault{f, n, grant})
	}
}

// SetTokenFaultRule sets a rule called for each token request that no
// queued fault answers; a nil result serves the request normally. nil
// removes the rule. The rule runs concurrently for concurrent requests.
func (s *Server) SetTokenFaultRule(rule func(TokenRequest) *Fault) {
	s.lock()
	defer s.mu.Unlock()
	s.faults.rule = rule
}

// ClearFaults removes queued faults and the rule.
func (s *Server) ClearFaults() {
	s.lock()
	defer s.mu.Unlock()
	s.faults = faults{}
}

// Fixed fault bodies.
const (
	htmlFaultBody = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>" +
		"<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>\n"
	malformedTokenBody = `{"access_token":"BQmalformed""token_type":"Bearer","expires_in":3600`
	malformedMeBody    = `{"display_name":"Test User""id":`
	wrongShapeToken    = `{"access_token":42,"token_type":["Bearer"],"expires_in":"soon"}`
	wrongShapeMe       = `["not","a","user"]`
	truncatedToken     = `{"access_token":"BQtruncatedtruncatedtruncatedtruncatedtruncated","token_type":"Bearer","expires_in":3600}`
	truncatedMe        = `{"display_name":"Test User","id":"spotauthtest-user","type":"user","uri":"spotify:user:spotauthtest-user"}`
)

// faultStatus is the status f answers with; 0 for none.
func faultStatus(f *Fault) int {
	switch f.Kind {
	case FaultNone, FaultDrop:
		return 0
	case FaultTruncated:
		return http.StatusOK
	}
	statuses := [numFaultKinds]int{FaultRateLimit: 429, FaultServerError: 500, FaultUnavailable: 503,
		FaultMalformedJSON: 200, FaultWrongShape: 200, FaultEmptyBody: 200, FaultHTML: 502, FaultError: 400}
	if f.Kind < 0 || f.Kind >= numFaultKinds {
		return cmp.Or(f.Status, 500)
	}
	return cmp.Or(f.Status, statuses[f.Kind])
}

// serveFault answers with f after its delay and reports true, unless f is
// FaultNone: then it reports false once the delay has passed, and the
// request is served normally. record is called before anything is sent,
// with the status that will be sent (0 for none), so that counters are up
// to date when the client sees the answer. api selects /v1/me's bodies.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, api bool, record func(status int)) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client gave up
			record(0)
			return true
		case <-s.closing:
			record(0)
			s.dropConn(w, nil)
			return true
		}
	}
	if f.Kind == FaultNone {
		s.lock()
		s.stats.Faults[FaultNone]++
		s.mu.Unlock()
		return false
	}
	status := faultStatus(f)
	record(status)
	pick := func(token, me string) []byte {
		if api {
			return []byte(me)
		}
		return []byte(token)
	}
	errorBody := func(code, desc, msg string) any {
		if api {
			return newAPIError(status, msg)
		}
		return oauthError{code, desc}
	}
	switch f.Kind {
	case FaultRateLimit:
		if f.RetryAfter >= 0 {
			secs := max(1, (f.RetryAfter+time.Second-1)/time.Second)
			w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
		writeJSON(w, status, newAPIError(status, "API rate limit exceeded"))
	case FaultServerError:
		writeJSON(w, status, errorBody("server_error", "Internal server error", "Server error."))
	case FaultUnavailable:
		writeJSON(w, status, errorBody("temporarily_unavailable", "Service unavailable", "Service unavailable"))
	case FaultMalformedJSON:
		writeBody(w, status, "application/json", pick(malformedTokenBody, malformedMeBody))
	case FaultWrongShape:
		writeBody(w, status, "application/json", pick(wrongShapeToken, wrongShapeMe))
	case FaultEmptyBody:
		writeBody(w, status, "application/json", nil)
	case FaultHTML:
		writeBody(w, status, "text/html; charset=utf-8", []byte(htmlFaultBody))
	case FaultError:
		code := cmp.Or(f.Code, "invalid_grant")
		writeJSON(w, status, errorBody(code, f.Description, cmp.Or(f.Description, code)))
	case FaultTruncated:
		full := pick(truncatedToken, truncatedMe)
		head := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(full)) + "\r\n\r\n"
		s.dropConn(w, append([]byte(head), full[:len(full)/2]...))
	case FaultDrop:
		s.dropConn(w, nil)
	default:
		writeAPIError(w, status, "unknown fault kind")
	}
	return true
}

// dropConn takes the connection over, writes partial and closes it, so
// that the client gets no complete answer. Close waits for it.
func (s *Server) dropConn(w http.ResponseWriter, partial []byte) {
	s.hijacks.Add(1)
	defer s.hijacks.Done()
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	_, _ = c.Write(partial)
	_ = c.Close()
}
