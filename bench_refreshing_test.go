package spotauth_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/file"
)

// benchSources returns the token sources compared by the benchmarks, each
// holding a valid token far from its refresh window: the hot path.
func benchSources(b *testing.B) []struct {
	name string
	src  oauth2.TokenSource
} {
	b.Helper()
	expiry := time.Now().Add(24 * time.Hour)
	tok := &spotauth.Token{AccessToken: "BQ-bench", TokenType: "Bearer", RefreshToken: "AQ-bench", Expiry: expiry}
	cfg := &spotauth.Config{ClientID: "bench"}
	plain := cfg.UserSource(tok, nil)
	b.Cleanup(func() { plain.Close() })
	mem := cfg.UserSource(tok, &spotauth.SourceOptions{Store: memoryStore(tok)})
	b.Cleanup(func() { mem.Close() })
	fs, err := file.New(b.TempDir(), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := fs.Save(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	// nil token: loaded from the file store on first use.
	fileSrc := cfg.UserSource(nil, &spotauth.SourceOptions{Store: fs})
	b.Cleanup(func() { fileSrc.Close() })
	if _, err := fileSrc.Token(context.Background()); err != nil {
		b.Fatal(err)
	}
	otok := &oauth2.Token{AccessToken: "BQ-bench", TokenType: "Bearer", RefreshToken: "AQ-bench", Expiry: expiry}
	bare := &bareSource{deadline: expiry.UnixNano()}
	bare.tok.Store(otok)
	return []struct {
		name string
		src  oauth2.TokenSource
	}{
		{"spotauth", plain.OAuth2()},
		{"time.Now+atomic.Load", bare},
		{"oauth2.ReuseTokenSource", oauth2.ReuseTokenSource(otok, oauth2.StaticTokenSource(otok))},
		{"spotauth+MemoryStore", mem.OAuth2()},
		{"spotauth+file.Store", fileSrc.OAuth2()},
	}
}

// BenchmarkToken measures the oauth2.TokenSource form's Token() on one
// goroutine: spotauth's RefreshingSource (through OAuth2()) beside a bare
// time.Now and atomic load, and oauth2.ReuseTokenSource.
func BenchmarkToken(b *testing.B) {
	for _, bs := range benchSources(b) {
		b.Run(bs.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bs.src.Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokenParallel measures Token() from GOMAXPROCS goroutines at
// once (run with -cpu 1,8).
func BenchmarkTokenParallel(b *testing.B) {
	for _, bs := range benchSources(b) {
		b.Run(bs.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bs.src.Token(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkSourceToken measures RefreshingSource.Token(ctx), which
// returns the whole spotauth.Token.
func BenchmarkSourceToken(b *testing.B) {
	src := (&spotauth.Config{ClientID: "bench"}).UserSource(&spotauth.Token{AccessToken: "BQ", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}, nil)
	defer src.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// bareSource is the floor of a hot path that reads the clock on every call:
// one time.Now, one atomic load, one comparison.
type bareSource struct {
	tok      atomic.Pointer[oauth2.Token]
	deadline int64
}

func (s *bareSource) Token() (*oauth2.Token, error) {
	t := s.tok.Load()
	if time.Now().UnixNano() >= s.deadline {
		return nil, errors.New("expired")
	}
	return t, nil
}
