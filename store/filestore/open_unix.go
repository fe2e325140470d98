//go:build unix

package filestore

import (
	"io/fs"
	"os"
	"syscall"
)

// openReadFlags open a token file for reading without blocking: opening a
// FIFO for reading waits for a writer, but not with O_NONBLOCK. Reads from
// a regular file are the same either way.
const openReadFlags = os.O_RDONLY | syscall.O_NONBLOCK

// otherOwner reports whether the file is owned by another user than the
// process's, and that user's ID.
func otherOwner(fi fs.FileInfo) (uid int, other bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), int(st.Uid) != os.Getuid()
}
