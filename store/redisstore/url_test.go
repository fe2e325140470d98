package redisstore_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth/internal/redistest"
	"github.com/spotauth/spotauth/store/redisstore"
)

const pw = "s3cr3t-Pa55word"

func TestParseURL(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		wantType string // "client", "failover", "cluster"
		wantAddr string
		wantDB   int
		wantUser string
		prefix   string
		profile  string
		ttl      time.Duration
	}{
		{"plain", "redis://127.0.0.1:6379", "client", "127.0.0.1:6379", 0, "", "spotauth", "default", 0},
		{"default port", "redis://redis.internal", "client", "redis.internal:6379", 0, "", "spotauth", "default", 0},
		{"db and auth", "redis://alice:" + pw + "@10.0.0.1:6380/3", "client", "10.0.0.1:6380", 3, "alice", "spotauth", "default", 0},
		{"password only", "redis://:" + pw + "@h:1", "client", "h:1", 0, "", "spotauth", "default", 0},
		{"params", "redis://h:1/2?prefix=app&profile=user:31abc&lease_ttl=2s&dial_timeout=3s", "client", "h:1", 2, "", "app", "user:31abc", 2 * time.Second},
		{"empty prefix", "redis://h:1?prefix=", "client", "h:1", 0, "", "", "default", 0},
		{"tls", "rediss://h:6380", "client", "h:6380", 0, "", "spotauth", "default", 0},
		{"ipv6", "redis://[::1]:6379", "client", "[::1]:6379", 0, "", "spotauth", "default", 0},
		{"unix", "unix:///run/redis.sock?db=4", "client", "/run/redis.sock", 4, "", "spotauth", "default", 0},
		{"sentinel", "redis+sentinel://s1:26379/1?master_name=mymaster&addr=s2:26379", "failover", "", 1, "", "spotauth", "default", 0},
		{"cluster", "redis+cluster://n1:7000?addr=n2:7000&profile=p", "cluster", "", 0, "", "spotauth", "p", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cfg, err := redisstore.ParseURL(tt.url)
			if err != nil {
				t.Fatalf("ParseURL(%q) = %v; want no error", tt.url, err)
			}
			defer c.Close()
			if cfg.Prefix != tt.prefix || cfg.Profile != tt.profile || cfg.LeaseTTL != tt.ttl {
				t.Errorf("ParseURL(%q) config = %+v; want prefix %q, profile %q, lease TTL %v", tt.url, cfg, tt.prefix, tt.profile, tt.ttl)
			}
			if strings.Contains(cfg.Redacted, pw) {
				t.Errorf("Redacted = %q; contains the password", cfg.Redacted)
			}
			switch tt.wantType {
			case "client":
				rc, ok := c.(*redis.Client)
				if !ok {
					t.Fatalf("ParseURL(%q) client is %T; want *redis.Client", tt.url, c)
				}
				o := rc.Options()
				if o.Addr != tt.wantAddr || o.DB != tt.wantDB || o.Username != tt.wantUser {
					t.Errorf("ParseURL(%q) = addr %q db %d user %q; want %q, %d, %q", tt.url, o.Addr, o.DB, o.Username, tt.wantAddr, tt.wantDB, tt.wantUser)
				}
				if strings.Contains(tt.url, pw) && o.Password != pw {
					t.Errorf("ParseURL(%q) password not passed to the client", tt.url)
				}
			case "failover":
				if _, ok := c.(*redis.Client); !ok {
					t.Errorf("ParseURL(%q) client is %T; want a failover *redis.Client", tt.url, c)
				}
			case "cluster":
				if _, ok := c.(*redis.ClusterClient); !ok {
					t.Errorf("ParseURL(%q) client is %T; want *redis.ClusterClient", tt.url, c)
				}
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"empty", "", "scheme"},
		{"http", "http://h:1", "scheme"},
		{"no host", "redis://", "no host"},
		{"opaque", "redis:h:1", "scheme://"},
		{"bad db", "redis://:" + pw + "@h:1/x", "database"},
		{"two path parts", "redis://:" + pw + "@h:1/1/2", "path"},
		{"unknown param", "redis://:" + pw + "@h:1?bogus=1", "bogus"},
		{"password param", "redis://h:1?password=" + pw, "unexpected option"},
		{"bad ttl", "redis://:" + pw + "@h:1?lease_ttl=soon", "lease_ttl"},
		{"tiny ttl", "redis://:" + pw + "@h:1?lease_ttl=1ms", "lease_ttl"},
		{"brace profile", "redis://:" + pw + "@h:1?profile=a{b}", "profile"},
		{"empty profile", "redis://:" + pw + "@h:1?profile=", "profile"},
		{"sentinel without master", "redis+sentinel://:" + pw + "@h:1", "master_name"},
		{"unix sentinel", "unix+sentinel:///s", "standalone"},
		{"unknown kind", "redis+ring://h:1", "scheme"},
		{"bad port", "redis://:" + pw + "@h:port", "malformed"},
		{"bad escape", "redis://u:" + pw + "%zz@h:1", "percent-encoding"},
		{"control char", "redis://u:" + pw + "\x00@h:1", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := redisstore.ParseURL(tt.url)
			if err == nil {
				c.Close()
				t.Fatalf("ParseURL(%q) = nil error; want one mentioning %q", tt.url, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("ParseURL(%q) = %q; want it to mention %q", tt.url, msg, tt.want)
			}
			if strings.Contains(msg, pw) || strings.Contains(msg, "s3cr3t") {
				t.Errorf("ParseURL(%q) error %q contains the password", tt.url, msg)
			}
			if !strings.HasPrefix(msg, "spotauth: ") {
				t.Errorf("error %q does not start with \"spotauth: \"", msg)
			}
		})
	}
}

func TestNewFromURLConnects(t *testing.T) {
	addr := redistest.Start(t)
	s, err := redisstore.NewFromURL("redis://" + addr + "/2?prefix=app&profile=bob&lease_ttl=400ms")
	if err != nil {
		t.Fatalf("NewFromURL = %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Fatalf("Save = %v", err)
	}
	other := redis.NewClient(&redis.Options{Addr: addr, DB: 2})
	defer other.Close()
	if n, err := other.Exists(ctx, "{app:bob}:token").Result(); err != nil || n != 1 {
		t.Errorf("EXISTS {app:bob}:token in db 2 = %d, %v; want 1", n, err)
	}
}

func TestStringHidesPassword(t *testing.T) {
	s, err := redisstore.NewFromURL("redis://alice:" + pw + "@127.0.0.1:1/0?profile=p&max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(f, s)
		if strings.Contains(got, pw) {
			t.Errorf("Sprintf(%q, store) = %q; contains the password", f, got)
		}
		if !strings.Contains(got, "{spotauth:p}") {
			t.Errorf("Sprintf(%q, store) = %q; want the key", f, got)
		}
	}
	// An error from the unreachable server names no password either.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.Load(ctx); err == nil || strings.Contains(err.Error(), pw) {
		t.Errorf("Load(unreachable) = %v; want an error without the password", err)
	}
}

// FuzzParseURL: any input gives a client or an error, never a panic, and
// neither the error nor the redacted form contains the password.
func FuzzParseURL(f *testing.F) {
	f.Add("redis://h:1/0?prefix=p&profile=x", pw)
	f.Add("rediss://h:6380", "pw")
	f.Add("redis+sentinel://h:1?master_name=m", "pässwörd")
	f.Add("redis+cluster://h:1?addr=h2:1", "a@b:c/d?e#f")
	f.Add("unix:///tmp/r.sock", "%zz")
	f.Add("redis://h:1?lease_ttl=1s", "x\x00y")
	f.Fuzz(func(t *testing.T, base, password string) {
		if len(password) < 6 {
			return // short strings occur in any message by chance
		}
		scheme, rest, ok := strings.Cut(base, "://")
		if !ok {
			return
		}
		userinfo := url.UserPassword("user", password).String() // percent-encoded as a user would
		escaped := strings.TrimPrefix(userinfo, "user:")
		if sharesText(base, password) || sharesText(base, escaped) {
			return // the same text elsewhere in the URL may be shown
		}
		raw := scheme + "://" + userinfo + "@" + rest
		c, cfg, err := redisstore.ParseURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), escaped) {
				t.Errorf("ParseURL(%q) error %q contains the password", raw, err)
			}
			return
		}
		defer c.Close()
		if strings.Contains(cfg.Redacted, password) || strings.Contains(cfg.Redacted, escaped) {
			t.Errorf("ParseURL(%q) Redacted %q contains the password", raw, cfg.Redacted)
		}
	})
}

// sharesText reports whether a and b have a 4-byte substring in common,
// ignoring case.
func sharesText(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	a += " spotauth: redis store url: scheme://host:port xxxxx"
	for i := 0; i+4 <= len(b); i++ {
		if strings.Contains(a, b[i:i+4]) {
			return true
		}
	}
	return false
}

func TestPasswordAuth(t *testing.T) {
	srv := redistest.StartServer(t, redistest.Options{Args: []string{"--requirepass", pw}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	good, err := redisstore.NewFromURL("redis://:" + url.QueryEscape(pw) + "@" + srv.Addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if err := good.Save(ctx, testToken(1)); err != nil {
		t.Errorf("Save with the right password = %v", err)
	}
	for _, raw := range []string{
		"redis://:wrong-" + pw + "@" + srv.Addr + "/0?max_retries=-1",
		"redis://" + srv.Addr + "/0?max_retries=-1",
	} {
		bad, err := redisstore.NewFromURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Load(ctx)
		bad.Close()
		if err == nil {
			t.Errorf("Load via %s = nil error; want an authentication error", bad)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Load error %q contains the password", err)
		}
		if !strings.HasPrefix(err.Error(), "spotauth: redis store") {
			t.Errorf("Load error %q; want it to start with \"spotauth: redis store\"", err)
		}
	}
}

func TestSentinel(t *testing.T) {
	master := redistest.StartServer(t, redistest.Options{})
	sentinel := redistest.StartServer(t, redistest.Options{Sentinel: &redistest.Sentinel{MasterName: "mymaster", MasterAddr: master.Addr}})
	s, err := redisstore.NewFromURL("redis+sentinel://" + sentinel.Addr + "/0?master_name=mymaster&profile=sentinel")
	if err != nil {
		t.Fatalf("NewFromURL(sentinel) = %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Save(ctx, testToken(1)); err != nil {
		t.Fatalf("Save through Sentinel = %v", err)
	}
	l, err := s.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock through Sentinel = %v", err)
	}
	if err := l.Save(ctx, testToken(2)); err != nil {
		t.Errorf("lease.Save through Sentinel = %v", err)
	}
	l.Release(ctx)
	// The token is on the master that Sentinel named.
	direct := newStoreOn(t, newClient(t, master.Addr), "sentinel")
	if got, err := direct.Load(ctx); err != nil || !sameToken(got, testToken(2)) {
		t.Errorf("Load from the master = %+v, %v; want token 2", got, err)
	}
}
