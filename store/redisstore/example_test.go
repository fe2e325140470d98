package redisstore_test

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spotauth/spotauth/store/redisstore"
)

// A store on a client of your own keeps one token under the key you
// choose. New does not connect: the first Load, Save or Lock does.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	s, err := redisstore.New(client, "myapp:alice", &redisstore.Options{LeaseTTL: 10 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	token, lease, events := s.Keys()
	fmt.Println(token, lease, events)
	// Output:
	// {myapp:alice}:token {myapp:alice}:lease {myapp:alice}:events
}

// The CLI's --store / SPOTAUTH_STORE value opens a store; the password
// never shows when the store is printed. NewFromURL does not connect
// either.
func ExampleNewFromURL() {
	s, err := redisstore.NewFromURL("redis://app:s3cret@10.0.0.5:6379/2?prefix=myapp&lease_ttl=5s", "alice", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	fmt.Println(s)
	token, lease, events := s.Keys()
	fmt.Println(token, lease, events)
	// Output:
	// redisstore.Store{redis://app:xxxxx@10.0.0.5:6379/2?lease_ttl=5s&prefix=myapp {myapp:alice}}
	// {myapp:alice}:token {myapp:alice}:lease {myapp:alice}:events
}

// One URL holds several tokens, one per key, such as a profile's user and
// app tokens.
func ExampleNewFromURL_keys() {
	for _, key := range []string{"work", "work.app"} {
		s, err := redisstore.NewFromURL("redis://127.0.0.1:6379/0", key, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		token, _, _ := s.Keys()
		fmt.Println(token)
		s.Close()
	}
	// Output:
	// {spotauth:work}:token
	// {spotauth:work.app}:token
}

func ExampleNewFromURL_badURL() {
	_, err := redisstore.NewFromURL("redis://app:s3cret@10.0.0.5:6379/2?pasword=typo", "alice", nil)
	fmt.Println(err)
	// Output:
	// spotauth: redis store URL: redis://app:xxxxx@10.0.0.5:6379/2?pasword=xxxxx: redis: unexpected option: pasword
}

// A web server keeps a token per user: one Stores per process, and a store
// per user opened from it, as often as needed. Neither connects: the
// shared subscription starts at the first Lock that may wait.
func ExampleStores() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	users, err := redisstore.NewStores(client, "myapp:user:", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer users.Close()
	for _, id := range []string{"alice", "bob"} {
		s, err := users.Store(id)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _, events := s.Keys()
		fmt.Println(events)
		s.Close()
	}
	// Output:
	// {myapp:user:alice}:events
	// {myapp:user:bob}:events
}
