package cli

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/wire"
)

// Factory holds what the commands depend on: streams, environment,
// browser, HTTP client and clock, and the settings resolved lazily from
// flags, environment and config file. Each command's constructor copies
// the parts it needs into its options struct (as the GitHub CLI's
// cmdutil.Factory does), so that its run function can be tested with
// those alone, without cobra or a Factory.
type Factory struct {
	IO      *IOStreams
	Env     LookupEnv
	Browser Browser          // nil: the system browser, honouring $BROWSER
	HTTP    *http.Client     // nil: a client with a 30 s timeout
	Now     func() time.Time // nil: time.Now
	// Sleep waits for d or until ctx is done (nil: a timer), for the
	// waits a command makes, such as a 429's Retry-After.
	Sleep func(ctx context.Context, d time.Duration) error

	flags     globalFlags
	root      *cobra.Command
	once      sync.Once
	settings  *settings
	settingsE error
	closers   []io.Closer
}

// Settings resolves the configuration once, after the flags are parsed.
func (f *Factory) Settings() (*settings, error) {
	f.once.Do(func() {
		changed := func(name string) bool {
			fl := f.root.PersistentFlags().Lookup(name)
			return fl != nil && fl.Changed
		}
		f.settings, f.settingsE = resolveSettings(&f.flags, changed, f.Env)
	})
	return f.settings, f.settingsE
}

// clock returns the clock commands read.
func (f *Factory) clock() func() time.Time {
	if f.Now != nil {
		return f.Now
	}
	return time.Now
}

// sleep returns the Sleep commands use.
func (f *Factory) sleep() func(context.Context, time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep
	}
	return wire.Sleep
}

// httpClient returns the client for the Accounts service and the Web API.
func (f *Factory) httpClient() *http.Client {
	if f.HTTP != nil {
		return f.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// browser returns the browser login opens: nil for the system browser,
// which the login package opens ($BROWSER, xdg-open and the like).
func (f *Factory) browser() Browser {
	return f.Browser
}

// openStore is the [storeOpener] of the commands: tokens are sealed with
// the key in the Factory's environment ([storeSealer]), and what it opens
// is closed when the command ends ([Factory.closeAll]).
func (f *Factory) openStore(s *settings, kind tokenKind) (spotauth.TokenStore, error) {
	sealer, err := storeSealer(f.Env)
	if err != nil {
		return nil, err
	}
	st, err := openStore(s, kind, sealer)
	if c, ok := st.(io.Closer); ok && err == nil {
		f.closers = append(f.closers, c)
	}
	return st, err
}

// closeAll closes what the command opened, last opened first.
func (f *Factory) closeAll() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i].Close()
	}
	f.closers = nil
}
