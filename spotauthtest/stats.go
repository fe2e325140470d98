package spotauthtest

import (
	"sync"
	"sync/atomic"
	"time"
)

// Error codes counted by [Stats].Errors.
var errorCodes = [...]string{"unsupported_grant_type", "invalid_client", "invalid_grant", "invalid_request", "other"}

type counters struct {
	token      atomic.Int64
	grants     [numGrants]atomic.Int64
	grantsOK   [numGrants]atomic.Int64
	ok, failed atomic.Int64
	faulted    atomic.Int64
	errs       [len(errorCodes)]atomic.Int64
	faults     [numFaultKinds]atomic.Int64
	authorize  atomic.Int64
	consents   atomic.Int64
	me         atomic.Int64
	meOK       atomic.Int64
}

// Stats counts what a [Server] has served, for assertions.
//
// For /api/token, TokenRequests = Succeeded + Failed + Faulted.
type Stats struct {
	// TokenRequests counts every request to /api/token.
	TokenRequests int
	// Succeeded counts tokens issued (HTTP 200 from the fake's rules).
	Succeeded int
	// Failed counts error answers from the fake's rules (400, 405).
	Failed int
	// Faulted counts requests answered by an injected fault; a FaultNone
	// delay is not counted here, since the request is then served.
	Faulted int
	// Grants counts token requests by grant_type:
	// "authorization_code", "refresh_token", "client_credentials", and
	// "other" for a missing or unsupported one.
	Grants map[string]int
	// GrantsSucceeded counts the tokens issued per grant_type.
	GrantsSucceeded map[string]int
	// Refreshes is Grants["refresh_token"], RefreshesSucceeded its
	// successes.
	Refreshes, RefreshesSucceeded int
	// Errors counts failed token requests by "error" code
	// ("invalid_grant"...).
	Errors map[string]int
	// Faults counts injected faults by kind (on both endpoints), FaultNone
	// delays included.
	Faults map[FaultKind]int
	// AuthorizeRequests counts requests to /authorize; Consents counts
	// decisions made (approve or deny, at once or through the page).
	AuthorizeRequests, Consents int
	// MeRequests counts requests to /v1/me; MeSucceeded the 200 answers.
	MeRequests, MeSucceeded int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.init()
	c := &s.st.stats
	out := Stats{
		TokenRequests:     int(c.token.Load()),
		Succeeded:         int(c.ok.Load()),
		Failed:            int(c.failed.Load()),
		Faulted:           int(c.faulted.Load()),
		Grants:            map[string]int{},
		GrantsSucceeded:   map[string]int{},
		Errors:            map[string]int{},
		Faults:            map[FaultKind]int{},
		AuthorizeRequests: int(c.authorize.Load()),
		Consents:          int(c.consents.Load()),
		MeRequests:        int(c.me.Load()),
		MeSucceeded:       int(c.meOK.Load()),
	}
	for i := range c.grants {
		if v := c.grants[i].Load(); v != 0 {
			out.Grants[grantNames[i]] = int(v)
		}
		if v := c.grantsOK[i].Load(); v != 0 {
			out.GrantsSucceeded[grantNames[i]] = int(v)
		}
	}
	out.Refreshes, out.RefreshesSucceeded = out.Grants[GrantRefreshToken], out.GrantsSucceeded[GrantRefreshToken]
	for i := range c.errs {
		if v := c.errs[i].Load(); v != 0 {
			out.Errors[errorCodes[i]] = int(v)
		}
	}
	for i := range c.faults {
		if v := c.faults[i].Load(); v != 0 {
			out.Faults[FaultKind(i)] = int(v)
		}
	}
	return out
}

// ResetStats zeroes the counters and empties the request log.
func (s *Server) ResetStats() {
	s.init()
	c := &s.st.stats
	for _, a := range []*atomic.Int64{&c.token, &c.ok, &c.failed, &c.faulted, &c.authorize, &c.consents, &c.me, &c.meOK} {
		a.Store(0)
	}
	for i := range c.grants {
		c.grants[i].Store(0)
		c.grantsOK[i].Store(0)
	}
	for i := range c.errs {
		c.errs[i].Store(0)
	}
	for i := range c.faults {
		c.faults[i].Store(0)
	}
	s.st.log.reset()
}

// LogEntry is one token request in [Server.TokenLog]. It holds no secret
// and no token.
type LogEntry struct {
	Time     time.Time // server clock at arrival
	N        int64     // the request's number, as in TokenRequest.N
	Grant    string    // grant_type as sent, cut to 64 bytes
	ClientID string    // from Basic or the body, cut to 64 bytes
	Auth     AuthStyle // how the client authenticated
	Status   int       // HTTP status sent; 0 if none (dropped connection, client gone)
	Error    string    // the "error" code of a failed request
	Fault    FaultKind // the injected fault that answered, if Faulted
	Faulted  bool
}

type requestLog struct {
	mu      sync.Mutex
	limit   int
	buf     []LogEntry
	next    int
	wrapped bool
}

func (l *requestLog) setLimit(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n != l.limit {
		l.limit, l.buf, l.next, l.wrapped = n, nil, 0, false
	}
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.buf, l.next, l.wrapped = nil, 0, false
	l.mu.Unlock()
}

func (l *requestLog) add(e LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit <= 0 {
		return
	}
	if len(l.buf) < l.limit {
		l.buf = append(l.buf, e)
		return
	}
	l.buf[l.next] = e
	l.next = (l.next + 1) % l.limit
	l.wrapped = true
}

// logLimit is how many entries [Server.TokenLog] keeps.
const logLimit = 10000

// TokenLog returns a copy of the newest token requests (at most 10,000),
// oldest first.
func (s *Server) TokenLog() []LogEntry {
	s.init()
	l := &s.st.log
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LogEntry, 0, len(l.buf))
	if l.wrapped {
		out = append(out, l.buf[l.next:]...)
		out = append(out, l.buf[:l.next]...)
	} else {
		out = append(out, l.buf...)
	}
	return out
}

// record counts a token request and logs it.
func (s *Server) record(now time.Time, n int64, rawGrant string, res *tokenResult) {
	c := &s.st.stats
	c.grants[res.grantIdx].Add(1)
	switch {
	case res.faulted:
		c.faulted.Add(1)
		c.faults[res.fault].Add(1)
	case res.status == 200:
		c.ok.Add(1)
		c.grantsOK[res.grantIdx].Add(1)
	default:
		c.failed.Add(1)
		i := len(errorCodes) - 1
		for j, code := range errorCodes {
			if code == res.errCode {
				i = j
				break
			}
		}
		c.errs[i].Add(1)
	}
	s.st.log.add(LogEntry{
		Time: now, N: n, Grant: grantName(res.grantIdx, rawGrant), ClientID: res.clientID,
		Auth: res.auth, Status: res.status, Error: res.errCode, Fault: res.fault, Faulted: res.faulted,
	})
}
