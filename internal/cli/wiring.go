package cli

// This file connects the CLI to the store and fake-server packages.

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
	"github.com/spotauth/spotauth/store/redisstore"
)

// openRedisStore opens the Redis store of one token of profile: the key is
// the profile for the user token and profile+".app" for the app token, in
// the URL's prefix (default "spotauth"). It does not contact Redis.
func (f *Factory) openRedisStore(ctx context.Context, rawURL, profile string, kind tokenKind) (spotauth.TokenStore, error) {
	st, err := redisstore.NewFromURL(rawURL, storeName(profile, kind), nil)
	if err != nil {
		return nil, err
	}
	f.closeLater(st) // stops lease renewals, then closes the client
	return st, nil
}

// quietRedis stops go-redis from logging its retries to stderr; the
// store's error already says what failed. Process-wide, so Main calls it,
// not Run.
func quietRedis() { redis.SetLogger(discardLogger{}) }

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// closeLater registers c to be closed when the command ends.
func (f *Factory) closeLater(c io.Closer) { f.closers = append(f.closers, c) }

func (f *Factory) closeAll() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i].Close()
	}
	f.closers = nil
}

// configureFake sets up the accounts-server's fake before Start: it
// listens on ln and registers one app with every redirect URI.
func configureFake(srv *spotauthtest.Server, ln net.Listener, opts *accountsServerOptions) error {
	srv.Listener = ln
	srv.ClientID = "" // no default app: register ours with all its URIs
	srv.AutoApprove = opts.AutoApprove
	srv.AccessTokenLifetime = opts.TokenLifetime
	err := srv.AddApp(spotauthtest.App{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RedirectURIs: opts.RedirectURIs})
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("spotauth: accounts-server: %w", err),
			"Use --client-id without braces or spaces, and redirect URIs by Spotify's rules (https, or http://127.0.0.1[:port]/path; never localhost).")
	}
	return nil
}
