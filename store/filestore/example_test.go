package filestore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

// A store of the profile "default", encrypted with a key that a program
// would read with storecrypt.FromEnv(os.LookupEnv).
func ExampleNew() {
	dir, err := os.MkdirTemp("", "spotauth-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	key, _ := storecrypt.ParseKey(storecrypt.GenerateKey())
	sealer, _ := storecrypt.New(key)
	store, err := filestore.New(filepath.Join(dir, "tokens"), "default", &filestore.Options{Sealer: sealer})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	tok := &spotauth.Token{AccessToken: "BQ-access", TokenType: "Bearer", RefreshToken: "AQ-refresh", Expiry: time.Now().Add(time.Hour)}
	if err := store.Save(ctx, tok); err != nil {
		fmt.Println(err)
		return
	}
	got, err := store.Load(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(store.Path()), got.RefreshToken)
	file, _ := os.ReadFile(store.Path())
	fmt.Println("in clear in the file:", bytes.Contains(file, []byte("AQ-refresh")))
	// Output:
	// default.json AQ-refresh
	// in clear in the file: false
}
