package cli

// This file connects the CLI to library packages whose APIs were still
// landing when it was written; it is the one place to adapt.

import (
	"context"
	"errors"
	"net"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/spotauthtest"
)

var errNotAvailable = errors.New("spotauth: not available in this build")

// openFileStore opens the file store holding one token in file name.
func openFileStore(name string) (spotauth.TokenStore, error) {
	return newFileStore(name), nil
}

// openRedisStore opens the Redis store of one token of profile.
func openRedisStore(ctx context.Context, url, profile string, kind tokenKind) (spotauth.TokenStore, error) {
	return nil, errNotAvailable
}

// configureFake sets up the accounts-server's fake before Start.
func configureFake(srv *spotauthtest.Server, ln net.Listener, opts *accountsServerOptions) error {
	srv.ClientID = opts.ClientID
	srv.ClientSecret = opts.ClientSecret
	srv.RedirectURI = opts.RedirectURIs[0]
	srv.AutoApprove = opts.AutoApprove
	srv.AccessTokenLifetime = opts.TokenLifetime
	_ = ln
	return nil
}
