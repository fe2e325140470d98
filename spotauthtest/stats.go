package spotauthtest

import (
	"maps"
	"net/http"
	"time"
)

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
	// WebAPIRequests counts requests to the other Web API endpoints by
	// method and path ("GET /v1/me/playlists"); WebAPISucceeded their 2xx
	// answers.
	WebAPIRequests  map[string]int
	WebAPISucceeded int
}

func newStats() Stats {
	return Stats{Grants: map[string]int{}, GrantsSucceeded: map[string]int{}, Errors: map[string]int{}, Faults: map[FaultKind]int{},
		WebAPIRequests: map[string]int{}}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Grants, st.GrantsSucceeded = maps.Clone(st.Grants), maps.Clone(st.GrantsSucceeded)
	st.Errors, st.Faults = maps.Clone(st.Errors), maps.Clone(st.Faults)
	st.WebAPIRequests = maps.Clone(st.WebAPIRequests)
	st.Refreshes, st.RefreshesSucceeded = st.Grants[GrantRefreshToken], st.GrantsSucceeded[GrantRefreshToken]
	return st
}

// ResetStats zeroes the counters and empties the request log.
func (s *Server) ResetStats() {
	s.lock()
	defer s.mu.Unlock()
	s.stats, s.log = newStats(), nil
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

// logLimit is how many entries [Server.TokenLog] keeps.
const logLimit = 10000

// TokenLog returns a copy of the newest token requests (at most 10,000),
// oldest first.
func (s *Server) TokenLog() []LogEntry {
	s.lock()
	defer s.mu.Unlock()
	return append([]LogEntry{}, s.log...)
}

// recordLocked counts a token request that was answered, or abandoned,
// and logs it; s.mu held. TokenRequests was counted on arrival.
func (s *Server) recordLocked(e LogEntry) {
	st := &s.stats
	grant := e.Grant
	switch grant {
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
	default:
		grant = "other"
	}
	st.Grants[grant]++
	switch {
	case e.Faulted:
		st.Faulted++
		st.Faults[e.Fault]++
	case e.Status == http.StatusOK:
		st.Succeeded++
		st.GrantsSucceeded[grant]++
	default:
		st.Failed++
		st.Errors[e.Error]++
	}
	s.log = append(s.log, e)
	if len(s.log) > logLimit {
		s.log = s.log[1:] // append copies the live entries when it grows
	}
}
