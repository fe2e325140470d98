package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
)

// TestStoreURLForms: --store takes every URL form the Redis store takes
// (Sentinel and Cluster schemes, with or without TLS, lease_ttl=), and
// refuses with a usage error a parameter it would otherwise ignore, such
// as profile=, without printing the password.
func TestStoreURLForms(t *testing.T) {
	t.Parallel()
	s := &settings{Profile: "default", ConfigDir: t.TempDir()}
	for _, spec := range []string{
		"redis://127.0.0.1:1/0?lease_ttl=7s&prefix=p",
		"rediss://127.0.0.1:1/0?skip_verify=true",
		"unix:///run/redis.sock?db=2",
		"redis+sentinel://127.0.0.1:1/0?master_name=m&addr=127.0.0.1:2",
		"rediss+sentinel://127.0.0.1:1/0?master_name=m",
		"redis+cluster://127.0.0.1:1?addr=127.0.0.1:2",
		"rediss+cluster://127.0.0.1:1?addr=127.0.0.1:2",
	} {
		s.Store = spec
		st, err := openStore(s, userToken, nil)
		if err != nil {
			t.Errorf("openStore(--store %s) = %v; want the Redis store", spec, err)
			continue
		}
		if _, ok := st.(*redisstore.Store); !ok {
			t.Errorf("openStore(--store %s) = %T; want a Redis store", spec, st)
		}
		st.(*redisstore.Store).Close()
	}

	e := newTestEnv(t, nil)
	for _, tt := range []struct{ spec, want string }{
		{"redis://:hunter2@127.0.0.1:1/0?profile=work", "--profile"},
		{"redis://:hunter2@127.0.0.1:1/0?lease_ttl=1ms", "lease_ttl"},
		{"redis://:hunter2@127.0.0.1:1/0?no_such_option=1", "no_such_option"},
		{"redis+nosuch://:hunter2@127.0.0.1:1/0", "redis+sentinel://"},
		{"sentinel://:hunter2@127.0.0.1:1/0", "redis+sentinel://"},
	} {
		r := e.run(runOpts{}, "token", "--store", tt.spec)
		if r.code != ExitUsage || !strings.Contains(r.err, tt.want) || strings.Contains(r.err, "hunter2") {
			t.Errorf("token --store %s = exit %d %q; want %d, %q and no password", tt.spec, r.code, r.err, ExitUsage, tt.want)
		}
	}
}

// TestStoreSentinel: a profile lives in Redis through Sentinel, with a
// lease_ttl parameter, as --store redis+sentinel://... says.
func TestStoreSentinel(t *testing.T) {
	t.Parallel()
	master := redistest.StartServer(t, redistest.Options{})
	sentinel := redistest.StartServer(t, redistest.Options{Sentinel: &redistest.Sentinel{MasterName: "mymaster", MasterAddr: master.Addr}})
	e := newTestEnv(t, nil)
	e.vars[envStore] = "redis+sentinel://" + sentinel.Addr + "/0?master_name=mymaster&lease_ttl=7s"
	e.login()
	printed := strings.TrimSpace(e.must("token").out)
	e.must("refresh")
	// The token is on the master that Sentinel named.
	st, err := redisstore.NewFromURL("redis://"+master.Addr+"/0", "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.Load(context.Background())
	if err != nil || tok.AccessToken == printed {
		t.Errorf("token on the master = %v; want the refreshed token", err)
	}
	if out := strings.TrimSpace(e.must("token").out); out != tok.AccessToken {
		t.Errorf("token = %q; want the token on the master", out)
	}
}
