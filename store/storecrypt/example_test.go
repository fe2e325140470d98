package storecrypt_test

import (
	"errors"
	"fmt"

	"github.com/spotauth/spotauth/store/storecrypt"
)

func Example() {
	// In a program: storecrypt.FromEnv(os.LookupEnv), with the key made by
	// `openssl rand -base64 32` in SPOTAUTH_STORE_KEY.
	env := map[string]string{storecrypt.EnvKey: "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="}
	sealer, err := storecrypt.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		fmt.Println(err)
		return
	}
	sealed, _ := sealer.Seal([]byte(`{"refresh_token":"AQC..."}`))
	fmt.Println(storecrypt.IsSealed(sealed))

	plain, _ := sealer.Open(sealed)
	fmt.Println(string(plain))

	other, _ := storecrypt.New(make([]byte, storecrypt.KeySize))
	_, err = other.Open(sealed)
	fmt.Println(errors.Is(err, storecrypt.ErrWrongKey))
	// Output:
	// true
	// {"refresh_token":"AQC..."}
	// true
}
