package spotauth_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spotauth/spotauth"
)

func ExampleParseScopes() {
	scopes, err := spotauth.ParseScopes("user-read-private, playlist-read-private  user-read-email")
	if err != nil {
		panic(err)
	}
	fmt.Println(scopes)
	fmt.Println(scopes.Contains(spotauth.ScopeUserReadEmail))
	// Output:
	// playlist-read-private user-read-email user-read-private
	// true
}

func ExampleParseScopes_unknown() {
	_, err := spotauth.ParseScopes("user-read-email user-read-birthdate user-reed-private")
	fmt.Println(err)
	fmt.Println(errors.Is(err, spotauth.ErrUnknownScope))
	var ue *spotauth.UnknownScopeError
	if errors.As(err, &ue) {
		fmt.Println(ue.Scopes)
	}
	// Output:
	// spotauth: unknown scopes "user-read-birthdate" (removed by Spotify), "user-reed-private" (did you mean "user-read-private"?)
	// true
	// [user-read-birthdate user-reed-private]
}

func ExampleScopes_UnmarshalText() {
	// Keep scopes this version does not know, such as ones Spotify adds later.
	var scopes spotauth.Scopes
	if err := scopes.UnmarshalText([]byte("user-top-read some-future-scope")); err != nil {
		panic(err)
	}
	fmt.Println(scopes)
	known := spotauth.StandardScopes().Union(spotauth.OpenAccessScopes())
	fmt.Println(scopes.Difference(known))
	// Output:
	// some-future-scope user-top-read
	// some-future-scope
}

func ExampleScopes_Difference() {
	granted := spotauth.NewScopes(spotauth.ScopeUserReadPrivate, spotauth.ScopeUserTopRead)
	required := spotauth.NewScopes(spotauth.ScopeUserTopRead, spotauth.ScopePlaylistModifyPrivate)
	if !granted.ContainsAll(required) {
		// Ask the user to authorize again, for everything at once.
		fmt.Println("step-up login for:", required.Difference(granted))
		fmt.Println("request:", granted.Union(required))
	}
	// Output:
	// step-up login for: playlist-modify-private
	// request: playlist-modify-private user-read-private user-top-read
}

func ExampleReadScopes() {
	read, write := spotauth.ReadScopes(), spotauth.WriteScopes()
	every := read.Union(write)
	fmt.Println(read.Len(), write.Len(), every.Len())
	fmt.Println(write)
	fmt.Println(every.Contains(spotauth.ScopeStreaming))
	// Output:
	// 11 6 17
	// playlist-modify-private playlist-modify-public ugc-image-upload user-follow-modify user-library-modify user-modify-playback-state
	// false
}

func ExampleScope_Description() {
	openAccess := spotauth.OpenAccessScopes()
	for sc := range spotauth.NewScopes(spotauth.ScopeUserReadEmail, spotauth.ScopeUserSOALink).All() {
		fmt.Printf("%-16s open access: %-5t %s\n", sc, openAccess.Contains(sc), sc.Description())
	}
	// Output:
	// user-read-email  open access: false Read the user's email address.
	// user-soa-link    open access: true  Open Access: link a partner user account to a Spotify account.
}

// In JSON, a set of scopes is one string, as in Spotify's "scope" field.
func ExampleScopes_MarshalText() {
	b, _ := json.Marshal(map[string]spotauth.Scopes{"scope": spotauth.NewScopes(spotauth.ScopeUserLibraryModify, spotauth.ScopeUGCImageUpload)})
	fmt.Println(string(b))
	var s spotauth.Scopes
	_ = json.Unmarshal([]byte(`"user-top-read,user-read-email"`), &s)
	fmt.Println(s)
	// Output:
	// {"scope":"ugc-image-upload user-library-modify"}
	// user-read-email user-top-read
}
