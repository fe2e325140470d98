package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// IOStreams are the standard streams of one command run: data goes to Out,
// messages and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTerminal reports that Out is a terminal: data may then be laid
	// out for people (spotauth api indents JSON). Tests set it to play a
	// terminal.
	OutTerminal bool
}

// OSStreams returns the process's standard streams.
func OSStreams() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, OutTerminal: isTerminal(os.Stdout)}
}

// isTerminal reports whether f is a character device, as a terminal is
// (so is /dev/null, where the layout does not matter).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// TestStreams returns streams reading stdin from in and writing to buffers,
// for tests (like gh's iostreams.Test).
func TestStreams(in string) (s *IOStreams, out, errOut *bytes.Buffer) {
	out, errOut = new(bytes.Buffer), new(bytes.Buffer)
	return &IOStreams{In: strings.NewReader(in), Out: out, ErrOut: errOut}, out, errOut
}

// Printf writes a message to ErrOut.
func (s *IOStreams) Printf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, format, args...)
}

// LookupEnv reads an environment variable; the real process passes
// os.LookupEnv, tests a map.
type LookupEnv func(key string) (string, bool)

// MapEnv returns a LookupEnv reading from m, for tests.
func MapEnv(m map[string]string) LookupEnv {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func (e LookupEnv) get(key string) string {
	if e == nil {
		return ""
	}
	v, _ := e(key)
	return v
}
