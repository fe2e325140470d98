package cli

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// Factory carries what every command needs: streams, environment, browser,
// and the settings resolved lazily from flags, environment and config file.
type Factory struct {
	IO        *IOStreams
	Env       LookupEnv
	Browser   Browser      // nil: the system browser, honouring $BROWSER
	HTTP      *http.Client // nil: a client with a 30 s timeout
	Now       func() time.Time
	flags     globalFlags
	root      *cobra.Command
	once      sync.Once
	settings  *settings
	settingsE error
	closers   []io.Closer
}

// Settings resolves the configuration once.
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

func (f *Factory) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Factory) httpClient() *http.Client {
	if f.HTTP != nil {
		return f.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (f *Factory) browser() Browser {
	if f.Browser != nil {
		return f.Browser
	}
	return &systemBrowser{env: f.Env, stderr: f.IO.ErrOut}
}

// closeLater registers c to be closed when the command ends.
func (f *Factory) closeLater(c io.Closer) { f.closers = append(f.closers, c) }

func (f *Factory) closeAll() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i].Close()
	}
	f.closers = nil
}
