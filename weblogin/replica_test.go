package weblogin_test

// The replica test: 4 processes (this test binary, re-run with
// envReplica set) serve the same app behind a round-robin reverse proxy,
// sharing one real redis-server, against a fake Spotify that rotates
// refresh tokens and issues 2-second access tokens; many users make
// requests. What each replica saw is checked by counts.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
	"github.com/spotauth/spotauth/weblogin"
)

// envReplica, when set, holds the JSON replicaConfig that makes this
// process a replica.
const envReplica = "SPOTAUTH_WEBLOGIN_REPLICA"

type replicaConfig struct {
	ID          int
	RedisAddr   string
	Prefix      string // of the Redis keys
	AccountsURL string // and Web API
	ClientID    string
	RedirectURL string
	Key         string // cookie key, base64
	SealKey     string // token encryption key, base64 (storecrypt)
}

// redisUserStores returns an Options.Store that keeps each user's token
// under its own key in Redis, sealed by sealer if not nil, the users of a
// process sharing one subscription, and a function that closes them.
func redisUserStores(client redis.UniversalClient, prefix string, sealer storecrypt.Sealer) (func(string) (spotauth.TokenStore, error), func()) {
	users, err := redisstore.NewStores(client, prefix+":user:", &redisstore.Options{Sealer: sealer})
	if err != nil {
		panic(err)
	}
	return func(id string) (spotauth.TokenStore, error) { return users.TokenStore(weblogin.StoreKey(id)) }, func() { users.Close() }
}

// apiAnswer is what a replica's /api/me reports of one request.
type apiAnswer struct {
	Replica  int
	User     string
	Token    string    // fingerprint of the access token used
	Expiry   time.Time // of that token
	Expired  bool      // Token returned it expired (by the clock read before the call)
	MeStatus int       // the fake's answer to /v1/me with it
	Late     bool      // a 401 for a token that had expired by the answer
}

// refreshEvent is one refresh a replica made.
type refreshEvent struct {
	User   string
	Token  string
	Expiry time.Time
}

// replicaStats is what a replica reports at /_stats.
type replicaStats struct {
	Replica    int
	Refreshes  []refreshEvent
	Errors     []string
	RoundTrips int64
	Commands   int64
	ByName     map[string]int64
}

func fingerprint(access string) string {
	h := sha256.Sum256([]byte(access))
	return hex.EncodeToString(h[:6])
}

// maybeReplica runs the replica role and exits, if envReplica is set.
func maybeReplica() {
	raw := os.Getenv(envReplica)
	if raw == "" {
		return
	}
	var cfg replicaConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "replica: %v\n", err)
		os.Exit(2)
	}
	if err := runReplica(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "replica %d: %v\n", cfg.ID, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runReplica serves the app until its standard input closes.
func runReplica(c replicaConfig) error {
	signal.Ignore(syscall.SIGPIPE)
	key, err := base64.StdEncoding.DecodeString(c.Key)
	if err != nil {
		return err
	}
	client := redis.NewClient(&redis.Options{Addr: c.RedisAddr})
	defer client.Close()
	var counter redistest.Counter
	client.AddHook(&counter)

	var mu sync.Mutex
	var stats replicaStats
	stats.Replica = c.ID
	cfg := &spotauth.Config{ClientID: c.ClientID, RedirectURL: c.RedirectURL, AccountsURL: c.AccountsURL}
	sk, err := storecrypt.ParseKey(c.SealKey)
	if err != nil {
		return err
	}
	sealer, err := storecrypt.New(sk)
	if err != nil {
		return err
	}
	stores, closeStores := redisUserStores(client, c.Prefix, sealer)
	defer closeStores()
	auth, err := weblogin.New(cfg, weblogin.Options{
		Keys:   [][]byte{key},
		Store:  stores,
		APIURL: c.AccountsURL,
		OnRefresh: func(id string, t *spotauth.Token) {
			mu.Lock()
			stats.Refreshes = append(stats.Refreshes, refreshEvent{User: id, Token: fingerprint(t.AccessToken), Expiry: t.Expiry})
			mu.Unlock()
		},
		OnError: func(id string, err error) {
			mu.Lock()
			if len(stats.Errors) < 20 {
				stats.Errors = append(stats.Errors, id+": "+err.Error())
			}
			mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	defer auth.Close()
	api := &http.Client{Timeout: 10 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", auth.Login)
	mux.HandleFunc("/callback", auth.Callback)
	mux.HandleFunc("/logout", auth.Logout)
	mux.Handle("/api/me", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before := time.Now()
		tok, err := weblogin.TokenSource(r).Token(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		a := apiAnswer{Replica: c.ID, User: weblogin.UserID(r), Token: fingerprint(tok.AccessToken), Expiry: tok.Expiry,
			Expired: !tok.Expiry.After(before)}
		req, _ := http.NewRequestWithContext(r.Context(), "GET", c.AccountsURL+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := api.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		a.MeStatus = resp.StatusCode
		a.Late = resp.StatusCode == http.StatusUnauthorized && !tok.Expiry.After(time.Now())
		json.NewEncoder(w).Encode(a)
	})))
	mux.HandleFunc("/_stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		stats.RoundTrips, stats.Commands, stats.ByName = counter.RoundTrips(), counter.Commands(), counter.ByName()
		json.NewEncoder(w).Encode(stats)
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Replica", fmt.Sprint(c.ID))
		mux.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	fmt.Printf("LISTEN %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// replica is a running replica process.
type replica struct {
	url   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
}

func startReplica(t *testing.T, c replicaConfig) *replica {
	t.Helper()
	raw, _ := json.Marshal(c)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envReplica+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start replica: %v", err)
	}
	r := &replica{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
			r.url = "http://" + addr
			break
		}
	}
	go func() {
		io.Copy(io.Discard, stdout)
		r.done <- cmd.Wait()
	}()
	t.Cleanup(func() { r.stop(t) })
	if r.url == "" {
		t.Fatalf("replica %d did not start", c.ID)
	}
	return r
}

// stop closes the replica's standard input and waits for it to exit,
// killing it after 20 s.
func (r *replica) stop(t *testing.T) {
	if r.stdin == nil {
		return
	}
	r.stdin.Close()
	r.stdin = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("replica exited: %v", err)
		}
	case <-time.After(20 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		t.Errorf("replica did not stop within 20 s; killed")
	}
}

func (r *replica) stats(t *testing.T) replicaStats {
	t.Helper()
	resp, err := http.Get(r.url + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s replicaStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	replicas        = 4
	replicaUsers    = 24
	replicaLifetime = 2 * time.Second
	replicaRun      = 8 * time.Second
	replicaEvery    = 100 * time.Millisecond
)

func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4 replica processes and redis-server for 10 s; skipped with -short")
	}
	redisAddr := redistest.Start(t)
	srv := spotauthtest.NewUnstartedServer()
	srv.AutoApprove = true
	srv.Refresh = spotauthtest.RefreshRotate
	srv.AccessTokenLifetime = replicaLifetime
	srv.ClientSecret = "" // a public client: PKCE only
	srv.Start()
	defer srv.Close()

	// The proxy's address first: it is the app's public URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	c := replicaConfig{RedisAddr: redisAddr, Prefix: fmt.Sprintf("weblogin-test-%d", time.Now().UnixNano()),
		AccountsURL: srv.URL, ClientID: srv.ClientID, RedirectURL: public + "/callback",
		Key: base64.StdEncoding.EncodeToString(testKey), SealKey: storecrypt.GenerateKey()}
	var reps []*replica
	var targets []*url.URL
	for i := range replicas {
		c.ID = i
		r := startReplica(t, c)
		reps = append(reps, r)
		u, _ := url.Parse(r.url)
		targets = append(targets, u)
	}
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(targets[next.Add(1)%replicas])
		pr.Out.Host = pr.In.Host // the public host, as a load balancer keeps it
	}}
	front := &http.Server{Handler: proxy}
	go front.Serve(ln)
	defer front.Close()

	// Log the users in, one after another (the fake's consenting user is
	// a setting): /login and /callback go to consecutive replicas.
	type user struct {
		id string
		b  *browser
	}
	users := make([]user, replicaUsers)
	crossed := 0
	for i := range users {
		id := fmt.Sprintf("user%02d", i)
		srv.Update(func(s *spotauthtest.Server) { s.User = spotauthtest.User{ID: id, DisplayName: id} })
		b := newBrowser(t)
		r := b.get(public + "/login?next=/api/me")
		loginReplica := r.header.Get("X-Replica")
		r = b.get(r.location) // the fake approves
		r = b.get(r.location) // the callback, through the proxy
		if r.status != http.StatusSeeOther {
			t.Fatalf("callback of %s = %d %q", id, r.status, r.body)
		}
		if r.header.Get("X-Replica") != loginReplica {
			crossed++
		}
		users[i] = user{id, b}
	}
	// The tokens are encrypted at rest.
	admin := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer admin.Close()
	raw, err := admin.HGet(context.Background(), "{"+c.Prefix+":user:"+weblogin.StoreKey(users[0].id)+"}:token", "token").Bytes()
	if err != nil || !storecrypt.IsSealed(raw) {
		t.Errorf("stored token of %s: sealed %v, %v; want sealed", users[0].id, storecrypt.IsSealed(raw), err)
	}
	if crossed == 0 {
		t.Errorf("no login completed on another replica than the one it started on")
	}
	t.Logf("%d of %d logins completed on another replica than the one they started on", crossed, replicaUsers)
	before := make([]replicaStats, replicas)
	for i, r := range reps {
		before[i] = r.stats(t)
	}
	srv.ResetStats()

	// Every user makes a request every 100 ms for 8 s, through the proxy.
	var mu sync.Mutex
	var answers []apiAnswer
	var failures []string
	start := time.Now()
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			for i := 0; i < int(replicaRun/replicaEvery) && time.Since(start) < replicaRun; i++ {
				r := u.b.get(public + "/api/me")
				var a apiAnswer
				mu.Lock()
				if r.status != 200 || json.Unmarshal([]byte(r.body), &a) != nil || a.User != u.id {
					failures = append(failures, fmt.Sprintf("%s: %d %q", u.id, r.status, r.body))
				} else {
					answers = append(answers, a)
				}
				mu.Unlock()
				time.Sleep(replicaEvery)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// What the replicas did.
	refreshes := map[string][]refreshEvent{}
	var roundTrips int64
	for i, r := range reps {
		s := r.stats(t)
		for _, e := range s.Refreshes[len(before[i].Refreshes):] {
			refreshes[e.User] = append(refreshes[e.User], e)
		}
		roundTrips += s.RoundTrips - before[i].RoundTrips
		for _, e := range s.Errors {
			t.Logf("replica %d OnError: %s", i, e)
		}
	}
	st := srv.Stats()

	// Assertions: counts only.
	for _, f := range failures[:min(len(failures), 10)] {
		t.Errorf("request failed: %s", f)
	}
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed", len(failures), len(failures)+len(answers))
	}
	var expired, invalid, late int
	perReplica := make([]int, replicas)
	served := map[string]map[string]bool{} // user -> tokens served
	for _, a := range answers {
		perReplica[a.Replica]++
		if served[a.User] == nil {
			served[a.User] = map[string]bool{}
		}
		served[a.User][a.Token] = true
		switch {
		case a.Expired:
			expired++
		case a.MeStatus == http.StatusUnauthorized && a.Late:
			late++
		case a.MeStatus != http.StatusOK:
			invalid++
		}
	}
	if expired != 0 {
		t.Errorf("expired tokens returned by Token: %d; want 0", expired)
	}
	if invalid != 0 {
		t.Errorf("tokens refused by the Web API before their expiry: %d; want 0", invalid)
	}
	if n := st.Errors["invalid_grant"]; n != 0 {
		t.Errorf("invalid_grant answers: %d; want 0", n)
	}
	total := 0
	for _, u := range users {
		evs := refreshes[u.id]
		total += len(evs)
		sort.Slice(evs, func(i, j int) bool { return evs[i].Expiry.Before(evs[j].Expiry) })
		for i := 1; i < len(evs); i++ {
			// A token is refreshed once due, a quarter of its 2 s life
			// before its expiry at the earliest: two refreshes of one
			// expiry would give tokens expiring together.
			if gap := evs[i].Expiry.Sub(evs[i-1].Expiry); gap < replicaLifetime/2 {
				t.Errorf("%s: refreshes %d and %d gave tokens expiring %v apart; want one refresh per expiry", u.id, i-1, i, gap)
			}
		}
		// Every token refreshed was served, but perhaps the last ones,
		// refreshed as the requests stopped.
		unserved := 0
		for _, e := range evs {
			if !served[u.id][e.Token] {
				unserved++
			}
		}
		if unserved > 1 {
			t.Errorf("%s: %d refreshed tokens never served; want at most the last", u.id, unserved)
		}
	}
	if total != st.RefreshesSucceeded || total < replicaUsers*int(elapsed/replicaLifetime)/2 {
		t.Errorf("refreshes reported by the replicas %d, by the fake %d; want equal, and about one per user per %v",
			total, st.RefreshesSucceeded, replicaLifetime)
	}
	for i, n := range perReplica {
		if n == 0 {
			t.Errorf("replica %d served no request", i)
		}
	}
	t.Logf("%d replicas, %d users, %v: %d requests %v per replica; %d refreshes (%.2f per user per token lifetime); "+
		"invalid_grant %d; expired tokens returned %d; refused before expiry %d, expired in transit %d; "+
		"redis round trips per refresh per replica %.2f",
		replicas, replicaUsers, elapsed.Round(time.Millisecond), len(answers), perReplica, total,
		float64(total)/float64(replicaUsers)/(float64(elapsed)/float64(replicaLifetime)),
		st.Errors["invalid_grant"], expired, invalid, late, float64(roundTrips)/float64(max(total, 1))/replicas)
}
