package login

import "testing"

func TestSSHForward(t *testing.T) {
	tests := []struct {
		env  map[string]string
		addr string
		want string
	}{
		{map[string]string{"SSH_CONNECTION": "10.0.0.2 52000 10.0.0.1 22", "USER": "ana"}, "127.0.0.1:4000", "ssh -L 4000:127.0.0.1:4000 ana@10.0.0.1"},
		{map[string]string{"SSH_CONNECTION": "::2 52000 fe80::1 22"}, "[::1]:4000", "ssh -L 4000:[::1]:4000 fe80::1"},
		{map[string]string{"SSH_CONNECTION": "10.0.0.2 52000 10.0.0.1 2222", "USER": "ana"}, "127.0.0.1:4000", "ssh -p 2222 -L 4000:127.0.0.1:4000 ana@10.0.0.1"},
		{map[string]string{"SSH_CLIENT": "10.0.0.2 52000 2200"}, "127.0.0.1:4000", "ssh -p 2200 -L 4000:127.0.0.1:4000 user@host"},
		{map[string]string{"SSH_CONNECTION": "garbage"}, "127.0.0.1:4000", "ssh -L 4000:127.0.0.1:4000 user@host"},
		{nil, "127.0.0.1:4000", "ssh -L 4000:127.0.0.1:4000 user@host"},
	}
	for _, tt := range tests {
		if got := sshForward(func(k string) string { return tt.env[k] }, tt.addr); got != tt.want {
			t.Errorf("sshForward(%v, %q) = %q; want %q", tt.env, tt.addr, got, tt.want)
		}
	}
}
