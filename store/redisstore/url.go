package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewFromURL returns the store of the token named key (as for [New]) on
// the Redis server that rawURL names, such as the CLI's --store flag or
// SPOTAUTH_STORE:
//
//	redis://[user:password@]host:port[/db][?param=value&...]
//	rediss://...                 the same over TLS
//	unix://[user:password@]/path/to/redis.sock[?db=N&...]
//	redis+sentinel://[user:password@]sentinel:port[/db]?master_name=NAME[&addr=sentinel2:port...]
//	redis+cluster://[user:password@]node:port?addr=node2:port[&addr=...]
//	(rediss+sentinel and rediss+cluster use TLS)
//
// Parameters read by this package (both optional):
//
//	prefix     goes before key, as in {prefix:key}:token (default "spotauth"; prefix= for none)
//	lease_ttl  Options.LeaseTTL as a Go duration, such as 5s (default 5s)
//
// Every other parameter goes to go-redis (see [redis.ParseURL],
// [redis.ParseFailoverURL] and [redis.ParseClusterURL]), such as
// dial_timeout=3s, read_timeout=2s, max_retries=3 or skip_verify=true.
// Unknown parameters are an error. The password is never shown in errors
// or in [Store.String]. A non-zero opts.LeaseTTL overrides lease_ttl.
//
// The store owns the client it creates: Close closes it. NewFromURL does
// not contact Redis.
func NewFromURL(rawURL, key string, opts *Options) (*Store, error) {
	client, cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := checkName("key", key, false); err != nil {
		client.Close()
		return nil, err
	}
	o := Options{LeaseTTL: cfg.leaseTTL}
	if opts != nil {
		o.Sealer, o.PollInterval = opts.Sealer, opts.PollInterval
		if opts.LeaseTTL != 0 {
			o.LeaseTTL = opts.LeaseTTL
		}
	}
	if cfg.prefix != "" {
		key = cfg.prefix + ":" + key
	}
	s, err := New(client, key, &o)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.ownClient = true
	s.desc = cfg.redacted
	return s, nil
}

// urlConfig is what parseURL read from a store URL besides the client.
type urlConfig struct {
	prefix   string        // the prefix parameter, or "spotauth"
	leaseTTL time.Duration // the lease_ttl parameter, or 0
	redacted string        // the URL with its password replaced by "xxxxx"
}

// parseURL parses a store URL as [NewFromURL] does and returns a new client
// (not yet connected; the caller closes it) and the store parameters.
func parseURL(rawURL string) (redis.UniversalClient, urlConfig, error) {
	fail := func(format string, args ...any) (redis.UniversalClient, urlConfig, error) {
		return nil, urlConfig{}, fmt.Errorf("spotauth: redis store URL: "+format, args...)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// the reason, and not even that when it may quote the userinfo.
		var ue *url.Error
		var ee url.EscapeError
		switch {
		case errors.As(err, &ee):
			return fail("invalid percent-encoding")
		case errors.As(err, &ue) && !strings.Contains(ue.Err.Error(), "@"):
			return fail("malformed: %v", ue.Err)
		}
		return fail("malformed")
	}
	cfg := urlConfig{prefix: "spotauth", redacted: redact(u)}
	if u.Opaque != "" {
		return fail("%s: want scheme://host:port", cfg.redacted)
	}
	q := u.Query()
	for name := range q {
		if !isParamName(name) {
			return fail("%s: a query parameter name is not an option name (lowercase letters, digits, _)", cfg.redacted)
		}
	}
	if v, ok := q["prefix"]; ok {
		cfg.prefix = v[len(v)-1]
		if err := checkName("prefix", cfg.prefix, true); err != nil {
			return fail("%s: %v", cfg.redacted, err)
		}
		q.Del("prefix")
	}
	if v, ok := q["lease_ttl"]; ok {
		d, err := time.ParseDuration(v[len(v)-1])
		if err != nil || d < minLeaseTTL {
			return fail("%s: lease_ttl=%q: want a duration of at least %v, such as 5s", cfg.redacted, v[len(v)-1], minLeaseTTL)
		}
		cfg.leaseTTL = d
		q.Del("lease_ttl")
	}
	rest := *u
	rest.RawQuery = q.Encode()

	scheme, kind, _ := strings.Cut(u.Scheme, "+")
	switch scheme {
	case "redis", "rediss":
	case "unix":
		if kind != "" {
			return fail("%s: scheme %q: unix sockets are standalone only", cfg.redacted, u.Scheme)
		}
	default:
		return fail("scheme %q: want redis, rediss, unix, redis+sentinel or redis+cluster", u.Scheme)
	}
	rest.Scheme = scheme
	if scheme != "unix" && u.Host == "" {
		return fail("%s: no host", cfg.redacted)
	}
	var client redis.UniversalClient
	switch kind {
	case "":
		o, err := redis.ParseURL(rest.String())
		if err != nil {
			return fail("%s: %v", cfg.redacted, scrub(err, u))
		}
		client = redis.NewClient(o)
	case "sentinel":
		if !q.Has("master_name") {
			return fail("%s: a sentinel URL needs master_name=", cfg.redacted)
		}
		o, err := redis.ParseFailoverURL(rest.String())
		if err != nil {
			return fail("%s: %v", cfg.redacted, scrub(err, u))
		}
		client = redis.NewFailoverClient(o)
	case "cluster":
		o, err := redis.ParseClusterURL(rest.String())
		if err != nil {
			return fail("%s: %v", cfg.redacted, scrub(err, u))
		}
		client = redis.NewClusterClient(o)
	default:
		return fail("%s: scheme %q: want redis, rediss, unix, redis+sentinel or redis+cluster", cfg.redacted, u.Scheme)
	}
	return client, cfg, nil
}

// redact returns u as a string with the password, and the value of every
// query parameter not known to be harmless, replaced by "xxxxx".
func redact(u *url.URL) string {
	if u.Opaque != "" {
		return u.Scheme + ":xxxxx"
	}
	c := *u
	if strings.ContainsAny(u.Path, "@:") {
		c.Path, c.RawPath = "/xxxxx", "" // userinfo typed into the path?
	}
	if _, has := u.User.Password(); has {
		c.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	shown := url.Values{}
	for name, vs := range q {
		if !isParamName(name) {
			name = "xxxxx"
		}
		for _, v := range vs {
			if !shownParams[name] && !strings.HasSuffix(name, "_timeout") {
				v = "xxxxx"
			}
			shown.Add(name, v)
		}
	}
	c.RawQuery = shown.Encode()
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// isParamName reports whether name looks like an option name
// (snake_case), which errors may quote.
func isParamName(name string) bool {
	if name == "" || len(name) > 40 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// shownParams are the query parameters whose values String and errors show.
var shownParams = map[string]bool{
	"prefix": true, "lease_ttl": true, "db": true, "addr": true,
	"master_name": true, "protocol": true, "client_name": true, "max_retries": true,
	"pool_size": true, "skip_verify": true,
}

// scrub returns err's message with the password removed, should a go-redis
// error ever quote it.
func scrub(err error, u *url.URL) error {
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(pw), "xxxxx")
		msg = strings.ReplaceAll(msg, url.PathEscape(pw), "xxxxx")
	}
	return errors.New(msg)
}
