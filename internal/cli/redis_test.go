package cli

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/spotauthtest"
	redisstore "github.com/spotauth/spotauth/store/redis"
)

func TestRedisStore(t *testing.T) {
	t.Parallel()
	addr := redistest.Start(t)
	e := newTestEnv(t, nil)
	e.vars[envStore] = "redis://" + addr + "/3?prefix=t1"
	e.vars[spotauth.EnvClientSecret] = e.srv.ClientSecret
	e.login("--scope", "user-read-private")
	a := e.must("token")
	e.must("token", "--client-credentials")
	e.must("token", "--profile", "other", "--client-credentials")
	if matches := e.run(runOpts{}, "token", "--profile", "other"); matches.code != ExitAuth {
		t.Errorf("token --profile other = exit %d; want %d (profiles are separate keys)", matches.code, ExitAuth)
	}
	st := e.must("status")
	if !strings.Contains(st.out, "redis://"+addr+"/3") {
		t.Errorf("status = %q; want the Redis store", st.out)
	}
	e.must("refresh")
	if b := e.must("token"); b.out == a.out {
		t.Errorf("token after refresh = old token")
	}
	e.must("logout")
	if r := e.run(runOpts{}, "token"); r.code != ExitAuth {
		t.Errorf("token after logout = exit %d; want %d", r.code, ExitAuth)
	}
	r := e.run(runOpts{}, "--store", "redis://:wrongpass@"+addr+"/3?dial_timeout=1s&max_retries=0", "token")
	if r.code == 0 || strings.Contains(r.err, "wrongpass") {
		t.Errorf("token with a wrong Redis password = exit %d %q; want an error without the password", r.code, r.err)
	}
}

// TestE2ERedisConcurrentToken is the 8-process test with the Redis store's
// lease instead of the file lock.
func TestE2ERedisConcurrentToken(t *testing.T) {
	t.Parallel()
	addr := redistest.Start(t)
	srv := spotauthtest.NewServer()
	defer srv.Close()
	p := newProc(t, srv)
	p.vars[envStore] = "redis://" + addr + "/0"
	p.must("login")
	st, err := redisstore.NewFromURL("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok.Expiry = time.Now().Add(-time.Second)
	if err := st.Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	var wg sync.WaitGroup
	outs := make([]result, 8)
	for i := range outs {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i] = p.run("token") }()
	}
	wg.Wait()
	if n := srv.Stats().Refreshes; n != 1 {
		t.Errorf("refreshes from 8 processes sharing Redis = %d; want 1", n)
	}
	for i, r := range outs {
		if r.code != 0 || r.out != outs[0].out {
			t.Errorf("process %d: exit %d %q; want the same token as the others\n%s", i, r.code, r.out, r.err)
		}
	}
}
