package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

var errNil = errors.New("nil reply")

// command sends an inline command and expects a simple-string reply.
func command(addr, cmd string) error {
	line, c, err := roundTrip(addr, cmd)
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("%s answered %q", cmd, line)
	}
	return nil
}

// get returns the value of a key.
func get(addr, key string) (string, error) {
	line, c, err := roundTrip(addr, "GET "+key)
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		return "", err
	}
	if line == "$-1" {
		return "", errNil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(line, "$"))
	if err != nil {
		return "", fmt.Errorf("GET answered %q", line)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(c.rd, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

type conn struct {
	net.Conn
	rd *bufio.Reader
}

// roundTrip sends an inline command and reads the first reply line; the
// caller closes the connection when it is not nil.
func roundTrip(addr, cmd string) (string, *conn, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", nil, err
	}
	c := &conn{Conn: nc, rd: bufio.NewReader(nc)}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", c, err
	}
	line, err := c.rd.ReadString('\n')
	return strings.TrimSpace(line), c, err
}
