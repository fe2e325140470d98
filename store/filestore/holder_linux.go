package filestore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// processState reads /proc/<pid>/stat: T or t (stopped by a signal or a
// tracer) is stopped, Z or X (exited) and a missing entry are gone, any
// other state is running.
func processState(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return stateGone
	}
	if err != nil {
		return stateUnknown
	}
	// "pid (comm) S ...": comm may hold spaces and parentheses, so the
	// state is the field after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return stateUnknown
	}
	switch b[i+2] {
	case 'T', 't':
		return stateStopped
	case 'Z', 'X', 'x':
		return stateGone
	}
	return stateRunning
}
