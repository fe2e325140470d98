//go:build !linux

package login

import (
	"errors"
	"os"
)

// pollReader is Linux-only; elsewhere, a Read of an *os.File that the
// runtime does not poll cannot be interrupted.
type pollReader struct{}

func newPollReader(*os.File) (*pollReader, error) { return nil, errors.New("not supported") }

func (p *pollReader) Read([]byte) (int, error) { return 0, errors.New("not supported") }
func (p *pollReader) interrupt()               {}
func (p *pollReader) close()                   {}
