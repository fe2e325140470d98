package cli

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/redisstore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// Two store keys, as openssl rand -base64 32 prints them.
var (
	testKeyOld = storecrypt.GenerateKey()
	testKeyNew = storecrypt.GenerateKey()
)

// sealedFileToken loads the user token of the default profile in dir with
// key, failing the test if it cannot.
func sealedFileToken(t *testing.T, dir, key string) *spotauth.Token {
	t.Helper()
	sealer, err := storecrypt.FromEnv(MapEnv(map[string]string{storecrypt.EnvKey: key}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := filestore.New(dir, "default", &filestore.Options{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := st.Load(context.Background())
	if err != nil {
		t.Fatalf("load the token with the key: %v", err)
	}
	return tok
}

// assertNoTokenIn fails the test if data holds tok's access or refresh
// token.
func assertNoTokenIn(t *testing.T, what, data string, tok *spotauth.Token) {
	t.Helper()
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token without access or refresh token: nothing to look for")
	}
	if strings.Contains(data, tok.AccessToken) || strings.Contains(data, tok.RefreshToken) {
		t.Errorf("%s holds the token in clear: %q", what, data)
	}
}

// TestStoreKeyFile: with SPOTAUTH_STORE_KEY, the token file holds no token
// in clear, status and doctor say the token is encrypted, and without the
// key the token is refused with exit 6 and a hint naming the variable.
func TestStoreKeyFile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[storecrypt.EnvKey] = testKeyNew
	e.login()
	printed := strings.TrimSpace(e.must("token").out)
	tok := sealedFileToken(t, e.dir, testKeyNew)
	if tok.AccessToken != printed {
		t.Fatalf("token printed %q; the file holds another", printed)
	}
	data, err := os.ReadFile(tokenFile(e.dir, "default", userToken))
	if err != nil {
		t.Fatal(err)
	}
	assertNoTokenIn(t, "the token file", string(data), tok)

	if st := e.must("status"); !strings.Contains(st.out, "Encrypted:      yes") {
		t.Errorf("status = %q; want Encrypted: yes", st.out)
	}
	if st := e.must("status", "--json"); !strings.Contains(st.out, `"encrypted": true`) {
		t.Errorf("status --json = %q; want \"encrypted\": true", st.out)
	}
	if d := e.must("doctor", "--offline"); !strings.Contains(d.out, "[ok  ] the token of profile default is encrypted at rest") {
		t.Errorf("doctor = %q; want the token encrypted at rest", d.out)
	}

	delete(e.vars, storecrypt.EnvKey)
	for _, cmd := range []string{"token", "status"} {
		r := e.run(runOpts{}, cmd)
		if r.code != ExitConfig || !strings.Contains(r.err, storecrypt.EnvKey) {
			t.Errorf("%s without the key = exit %d %q; want %d and a hint naming %s", cmd, r.code, r.err, ExitConfig, storecrypt.EnvKey)
		}
	}
}

// TestStoreKeyClear: without a key, status says the token is not
// encrypted; a token stored in clear is read once a key is set, and sealed
// at its next save.
func TestStoreKeyClear(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	if st := e.must("status"); !strings.Contains(st.out, "Encrypted:      no") {
		t.Errorf("status = %q; want Encrypted: no", st.out)
	}
	if d := e.must("doctor", "--offline"); !strings.Contains(d.out, "[ok  ] tokens are stored in clear, in files only you can read") {
		t.Errorf("doctor = %q; want tokens in clear in files", d.out)
	}
	e.vars[storecrypt.EnvKey] = testKeyNew
	e.must("token")
	if d := e.must("doctor", "--offline"); !strings.Contains(d.out, "[warn] the token of profile default is still stored in clear") {
		t.Errorf("doctor with a key and a token in clear = %q; want a warning", d.out)
	}
	e.must("refresh")
	data, _ := os.ReadFile(tokenFile(e.dir, "default", userToken))
	assertNoTokenIn(t, "the token file after refresh with a key", string(data), sealedFileToken(t, e.dir, testKeyNew))
}

// TestStoreKeyRotation: a token sealed with the old key is read with
// KEY=new and KEY_OLD=old, sealed with the new key at the next save, and
// then no longer opens with the old key alone.
func TestStoreKeyRotation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.vars[storecrypt.EnvKey] = testKeyOld
	e.login()
	before := e.must("token").out

	e.vars[storecrypt.EnvKey] = testKeyNew
	if r := e.run(runOpts{}, "token"); r.code != ExitConfig || !strings.Contains(r.err, storecrypt.EnvKey+"_OLD") {
		t.Errorf("token with only a new key = exit %d %q; want %d and a hint naming %s_OLD", r.code, r.err, ExitConfig, storecrypt.EnvKey)
	}
	e.vars[storecrypt.EnvKey+"_OLD"] = "  " + testKeyOld + " , " + storecrypt.GenerateKey()
	if got := e.must("token").out; got != before {
		t.Errorf("token with KEY=new KEY_OLD=old = %q; want the stored %q", got, before)
	}
	e.must("refresh") // the next save seals with the new key

	delete(e.vars, storecrypt.EnvKey+"_OLD")
	after := e.must("token").out
	if after == before {
		t.Errorf("token after refresh = the old token")
	}
	sealedFileToken(t, e.dir, testKeyNew)
	e.vars[storecrypt.EnvKey] = testKeyOld
	if r := e.run(runOpts{}, "token"); r.code != ExitConfig || strings.Contains(r.err, testKeyOld) {
		t.Errorf("token with only the old key after rotation = exit %d %q; want %d, without the key", r.code, r.err, ExitConfig)
	}
}

// TestStoreKeyInvalid: a value that is not a key is a configuration error
// that never prints the value.
func TestStoreKeyInvalid(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.login()
	short := "c2hvcnQtYnV0LXNlY3JldC1rZXk=" // base64, 20 bytes
	for _, vars := range []map[string]string{
		{storecrypt.EnvKey: "not a key but a secret"},
		{storecrypt.EnvKey: short},
		{storecrypt.EnvKey: testKeyNew, storecrypt.EnvKey + "_OLD": short},
	} {
		for k, v := range vars {
			e.vars[k] = v
		}
		for _, cmd := range []string{"token", "status", "logout"} {
			r := e.run(runOpts{}, cmd)
			if r.code != ExitConfig || !strings.Contains(r.err, "openssl rand -base64 32") {
				t.Errorf("%s with %v = exit %d %q; want %d and how to make a key", cmd, vars, r.code, r.err, ExitConfig)
			}
			for _, v := range vars {
				if strings.Contains(r.out+r.err, v) {
					t.Errorf("%s printed the key %q: %q", cmd, v, r.out+r.err)
				}
			}
		}
		d := e.run(runOpts{}, "doctor", "--offline")
		if d.code != ExitConfig || !strings.Contains(d.out, "[FAIL] store key") {
			t.Errorf("doctor with %v = exit %d %q; want a failed store key", vars, d.code, d.out)
		}
		delete(e.vars, storecrypt.EnvKey)
		delete(e.vars, storecrypt.EnvKey+"_OLD")
	}
}

// TestStoreKeyRedis: with SPOTAUTH_STORE_KEY, the Redis hash holds no
// token in clear (HGETALL on a real redis-server); without it, doctor
// warns that tokens are in clear in Redis.
func TestStoreKeyRedis(t *testing.T) {
	t.Parallel()
	addr := redistest.Start(t)
	e := newTestEnv(t, nil)
	e.vars[envStore] = "redis://" + addr + "/0"
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()

	e.login("--profile", "clear")
	if d := e.must("doctor", "--offline", "--profile", "clear"); !strings.Contains(d.out, "[warn] tokens are stored in clear in Redis") {
		t.Errorf("doctor without a key = %q; want a warning for tokens in clear in Redis", d.out)
	}
	if st := e.must("status", "--profile", "clear"); !strings.Contains(st.out, "Encrypted:      no") {
		t.Errorf("status = %q; want Encrypted: no", st.out)
	}

	e.vars[storecrypt.EnvKey] = testKeyNew
	e.login()
	e.must("refresh")
	sealer, err := storecrypt.FromEnv(MapEnv(e.vars))
	if err != nil {
		t.Fatal(err)
	}
	st, err := redisstore.NewFromURL(e.vars[envStore], "default", &redisstore.Options{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dataKey, _, _ := st.Keys()
	hash, err := c.HGetAll(ctx, dataKey).Result()
	if err != nil || len(hash) == 0 {
		t.Fatalf("HGETALL %s = %v, %v; want the token's hash", dataKey, hash, err)
	}
	assertNoTokenIn(t, "HGETALL "+dataKey, strings.Join(mapValues(hash), " "), tok)
	if !storecrypt.IsSealed([]byte(hash["token"])) {
		t.Errorf("the token field is not sealed")
	}
	if s := e.must("status"); !strings.Contains(s.out, "Encrypted:      yes") {
		t.Errorf("status = %q; want Encrypted: yes", s.out)
	}
	if d := e.must("doctor", "--offline"); !strings.Contains(d.out, "[ok  ] the token of profile default is encrypted at rest") {
		t.Errorf("doctor = %q; want the token encrypted at rest", d.out)
	}
	delete(e.vars, storecrypt.EnvKey)
	if r := e.run(runOpts{}, "token"); r.code != ExitConfig || !strings.Contains(r.err, storecrypt.EnvKey) {
		t.Errorf("token without the key = exit %d %q; want %d and a hint naming %s", r.code, r.err, ExitConfig, storecrypt.EnvKey)
	}
}

func mapValues(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}
