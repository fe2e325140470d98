package login

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// overSSH reports whether the program runs in an SSH session, and names
// the variable that says so.
func overSSH(getenv func(string) string) (string, bool) {
	for _, name := range []string{"SSH_CONNECTION", "SSH_CLIENT"} {
		if getenv(name) != "" {
			return name, true
		}
	}
	return "", false
}

// sshForward returns the command that forwards port on the user's own
// machine to the listener at addr (such as 127.0.0.1:43117) on this one,
// so that a browser there can reach it: ssh -L PORT:ADDR USER@SERVER, with
// the server's address and port from SSH_CONNECTION ("client port server
// port"), or only its port from SSH_CLIENT ("client port server-port"),
// and the user from USER. What is unknown is written user@host.
func sshForward(getenv func(string) string, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	server, sshPort := "", ""
	if f := strings.Fields(getenv("SSH_CONNECTION")); len(f) == 4 {
		server, sshPort = f[2], f[3]
	} else if f := strings.Fields(getenv("SSH_CLIENT")); len(f) == 3 {
		sshPort = f[2]
	}
	target := "user@host"
	if server != "" {
		target = server
		if u := getenv("USER"); u != "" {
			target = u + "@" + server
		}
	}
	opt := ""
	if n, err := strconv.Atoi(sshPort); err == nil && n != 22 && n > 0 {
		opt = fmt.Sprintf("-p %d ", n)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("ssh %s-L %s:%s:%s %s", opt, port, host, port, target)
}
