package fleet

import (
	"io"
	"path/filepath"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/store/filestore"
	"github.com/spotauth/spotauth/store/storecrypt"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// openFileStore opens the file store of the token file path: the profile
// is the file name without ".json".
func openFileStore(path string, sealer *storecrypt.AESGCM) (spotauth.TokenStore, io.Closer, error) {
	dir, name := filepath.Split(path)
	opts := &filestore.Options{}
	if sealer != nil {
		opts.Sealer = sealer
	}
	s, err := filestore.New(dir, name[:len(name)-len(filepath.Ext(name))], opts)
	if err != nil {
		return nil, nil, err
	}
	return s, nopCloser{}, nil
}
