package filestore

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
)

// holderRecord is what a lock holder writes into the lock file: its
// process ID and host name, "4242 web-1\n".
func holderRecord() []byte {
	host, _ := os.Hostname()
	return []byte(strconv.Itoa(os.Getpid()) + " " + sanitizeHost(host) + "\n")
}

// sanitizeHost keeps a host name to one printable word.
func sanitizeHost(h string) string {
	h = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, h)
	if len(h) > 255 {
		h = h[:255]
	}
	return h
}

// describeHolder reads the lock file at path and returns the holder as
// [spotauth.LeaseBusyError] names it, and a hint saying what to do. The
// record is the last holder's: if the lock changed hands just now, it may
// name the previous one, which then shows as gone.
func describeHolder(path string) (holder, hint string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 512))
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pidText, host, _ := strings.Cut(string(line), " ")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return "", "another process holds " + path + "; it did not record its name"
	}
	host = sanitizeHost(host)
	p := strconv.Itoa(pid)
	if self, _ := os.Hostname(); host != sanitizeHost(self) {
		return "process " + p + " on host " + host,
			"it runs on host " + host + "; if it hangs, end it there (kill " + p + ")"
	}
	if pid == os.Getpid() {
		return "process " + p + " (this process)", "another lease of this process holds it; release that lease first"
	}
	switch processState(pid) {
	case stateStopped:
		return "process " + p + " (stopped)", "resume it with kill -CONT " + p + ", or end it with kill " + p
	case stateRunning:
		return "process " + p + " (running)", "wait for it to finish, or end it with kill " + p + " if it hangs"
	case stateGone:
		return "process " + p + " (gone)", "it has just exited and the lock changed hands; try again"
	}
	return "process " + p, "if it hangs, end it with kill " + p
}

// States of a process, as far as processState can tell.
const (
	stateUnknown = iota
	stateRunning
	stateStopped
	stateGone
)
