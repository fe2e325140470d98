package redisstore

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
		ttl      time.Duration
	}{
		{"plain", "redis://127.0.0.1:6379", "client", "127.0.0.1:6379", 0, "", "spotauth", 0},
		{"default port", "redis://redis.internal", "client", "redis.internal:6379", 0, "", "spotauth", 0},
		{"db and auth", "redis://alice:" + pw + "@10.0.0.1:6380/3", "client", "10.0.0.1:6380", 3, "alice", "spotauth", 0},
		{"password only", "redis://:" + pw + "@h:1", "client", "h:1", 0, "", "spotauth", 0},
		{"params", "redis://h:1/2?prefix=app&lease_ttl=2s&dial_timeout=3s", "client", "h:1", 2, "", "app", 2 * time.Second},
		{"empty prefix", "redis://h:1?prefix=", "client", "h:1", 0, "", "", 0},
		{"tls", "rediss://h:6380", "client", "h:6380", 0, "", "spotauth", 0},
		{"ipv6", "redis://[::1]:6379", "client", "[::1]:6379", 0, "", "spotauth", 0},
		{"unix", "unix:///run/redis.sock?db=4", "client", "/run/redis.sock", 4, "", "spotauth", 0},
		{"sentinel", "redis+sentinel://s1:26379/1?master_name=mymaster&addr=s2:26379", "failover", "", 1, "", "spotauth", 0},
		{"cluster", "redis+cluster://n1:7000?addr=n2:7000", "cluster", "", 0, "", "spotauth", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cfg, err := parseURL(tt.url)
			if err != nil {
				t.Fatalf("parseURL(%q) = %v; want no error", tt.url, err)
			}
			defer c.Close()
			if cfg.prefix != tt.prefix || cfg.leaseTTL != tt.ttl {
				t.Errorf("parseURL(%q) config = %+v; want prefix %q, lease TTL %v", tt.url, cfg, tt.prefix, tt.ttl)
			}
			if strings.Contains(cfg.redacted, pw) {
				t.Errorf("redacted = %q; contains the password", cfg.redacted)
			}
			switch tt.wantType {
			case "client":
				rc, ok := c.(*redis.Client)
				if !ok {
					t.Fatalf("parseURL(%q) client is %T; want *redis.Client", tt.url, c)
				}
				o := rc.Options()
				if o.Addr != tt.wantAddr || o.DB != tt.wantDB || o.Username != tt.wantUser {
					t.Errorf("parseURL(%q) = addr %q db %d user %q; want %q, %d, %q", tt.url, o.Addr, o.DB, o.Username, tt.wantAddr, tt.wantDB, tt.wantUser)
				}
				if strings.Contains(tt.url, pw) && o.Password != pw {
					t.Errorf("parseURL(%q) password not passed to the client", tt.url)
				}
			case "failover":
				if _, ok := c.(*redis.Client); !ok {
					t.Errorf("parseURL(%q) client is %T; want a failover *redis.Client", tt.url, c)
				}
			case "cluster":
				if _, ok := c.(*redis.ClusterClient); !ok {
					t.Errorf("parseURL(%q) client is %T; want *redis.ClusterClient", tt.url, c)
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
		{"brace prefix", "redis://:" + pw + "@h:1?prefix=a{b}", "prefix"},
		{"profile param", "redis://:" + pw + "@h:1?profile=p", "profile"},
		{"sentinel without master", "redis+sentinel://:" + pw + "@h:1", "master_name"},
		{"unix sentinel", "unix+sentinel:///s", "standalone"},
		{"unknown kind", "redis+ring://h:1", "scheme"},
		{"bad port", "redis://:" + pw + "@h:port", "malformed"},
		{"bad escape", "redis://u:" + pw + "%zz@h:1", "percent-encoding"},
		{"control char", "redis://u:" + pw + "\x00@h:1", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := parseURL(tt.url)
			if err == nil {
				c.Close()
				t.Fatalf("parseURL(%q) = nil error; want one mentioning %q", tt.url, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("parseURL(%q) = %q; want it to mention %q", tt.url, msg, tt.want)
			}
			if strings.Contains(msg, pw) || strings.Contains(msg, "s3cr3t") {
				t.Errorf("parseURL(%q) error %q contains the password", tt.url, msg)
			}
			if !strings.HasPrefix(msg, "spotauth: ") {
				t.Errorf("error %q does not start with \"spotauth: \"", msg)
			}
		})
	}
}

// FuzzParseURL: any input gives a client or an error, never a panic, and
// neither the error nor the redacted form contains the password.
func FuzzParseURL(f *testing.F) {
	f.Add("redis://h:1/0?prefix=p", pw)
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
		c, cfg, err := parseURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), escaped) {
				t.Errorf("parseURL(%q) error %q contains the password", raw, err)
			}
			return
		}
		defer c.Close()
		if strings.Contains(cfg.redacted, password) || strings.Contains(cfg.redacted, escaped) {
			t.Errorf("parseURL(%q) redacted %q contains the password", raw, cfg.redacted)
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
