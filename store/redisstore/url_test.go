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

func TestNewFromURLConnects(t *testing.T) {
	addr := redistest.Start(t)
	s, err := redisstore.NewFromURL("redis://"+addr+"/2?prefix=app&lease_ttl=400ms", "bob", nil)
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
	s, err := redisstore.NewFromURL("redis://alice:"+pw+"@127.0.0.1:1/0?max_retries=-1", "p", nil)
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

func TestPasswordAuth(t *testing.T) {
	srv := redistest.StartServer(t, redistest.Options{Args: []string{"--requirepass", pw}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	good, err := redisstore.NewFromURL("redis://:"+url.QueryEscape(pw)+"@"+srv.Addr+"/0", "default", nil)
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
		bad, err := redisstore.NewFromURL(raw, "default", nil)
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
	s, err := redisstore.NewFromURL("redis+sentinel://"+sentinel.Addr+"/0?master_name=mymaster", "sentinel", nil)
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
	direct := newStoreOn(t, newClient(t, master.Addr), "spotauth:sentinel", nil)
	if got, err := direct.Load(ctx); err != nil || !sameToken(got, testToken(2)) {
		t.Errorf("Load from the master = %+v, %v; want token 2", got, err)
	}
}
