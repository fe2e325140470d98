package spotauth

import "testing"

func TestIsLoopbackRedirect(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{"http://127.0.0.1/callback", true},
		{"http://127.0.0.1:1234/callback", true},
		{"http://127.0.0.1", true},
		{"http://[::1]/cb", true},
		{"http://[::1]:1234/cb", true},
		{"https://127.0.0.1/cb", false},
		{"http://localhost/cb", false},
		{"http://127.0.0.1.example.com/cb", false},
		{"http://[::1]x/cb", false},
		{"http://[0:0:0:0:0:0:0:1]/cb", false},
		{"myapp://cb", false},
		{"%", false},
	}
	for _, tt := range tests {
		if got := isLoopbackRedirect(tt.uri); got != tt.want {
			t.Errorf("isLoopbackRedirect(%q) = %t; want %t", tt.uri, got, tt.want)
		}
	}
}
