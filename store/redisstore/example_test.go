package redisstore_test

import (
	"fmt"

	"github.com/spotauth/spotauth/store/redisstore"
)

// The CLI's --store / SPOTAUTH_STORE value opens a store; the password
// never shows when the store is printed. NewFromURL does not connect:
// the first Load, Save or Lock does.
func ExampleNewFromURL() {
	s, err := redisstore.NewFromURL("redis://app:s3cret@10.0.0.5:6379/2?prefix=myapp&profile=alice&lease_ttl=5s")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	fmt.Println(s)
	token, lease, events := s.Keys()
	fmt.Println(token, lease, events)
	// Output:
	// redisstore.Store{redis://app:xxxxx@10.0.0.5:6379/2?lease_ttl=5s&prefix=myapp&profile=alice {myapp:alice}}
	// {myapp:alice}:token {myapp:alice}:lease {myapp:alice}:events
}

// WithKey keeps several tokens under one URL, such as a profile's user
// and app tokens.
func ExampleWithKey() {
	s, err := redisstore.NewFromURL("redis://127.0.0.1:6379/0", redisstore.WithKey("work:app"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	token, _, _ := s.Keys()
	fmt.Println(token)
	// Output:
	// {spotauth:work:app}:token
}

func ExampleNewFromURL_badURL() {
	_, err := redisstore.NewFromURL("redis://app:s3cret@10.0.0.5:6379/2?pasword=typo")
	fmt.Println(err)
	// Output:
	// spotauth: redis store URL: redis://app:xxxxx@10.0.0.5:6379/2?pasword=xxxxx: redis: unexpected option: pasword
}
