//go:build !unix

package filestore

import (
	"io/fs"
	"os"
)

// openReadFlags open a token file for reading (there are no FIFOs to
// block on in the file system here).
const openReadFlags = os.O_RDONLY

// otherOwner reports whether the file is owned by another user: never
// here, where file owners are not Unix user IDs.
func otherOwner(fs.FileInfo) (uid int, other bool) { return 0, false }
