package loopback

import "testing"

func TestLoopback(t *testing.T) {
	for _, tt := range []struct {
		in                     string
		host, hostPort, secure bool
	}{
		{"localhost", true, false, true},
		{"LocalHost", true, false, true},
		{"localhost:143", false, true, true},
		{"127.0.0.1", true, false, true},
		{"127.3.2.1:25", false, true, true},
		{"::1", true, false, true},
		{"[::1]", true, false, true},
		{"[::1]:993", false, true, true},
		{"::ffff:127.0.0.1", true, false, true},
		{"desk.localhost", false, false, true},
		{"desk.localhost:8080", false, false, true},
		{"localhost.example.com", false, false, false},
		{"imap.example.com:143", false, false, false},
		{"10.0.0.1", false, false, false},
		{"[2001:db8::1]:993", false, false, false},
		{"0.0.0.0:25", false, false, false},
		{"", false, false, false},
	} {
		if got := Host(tt.in); got != tt.host {
			t.Errorf("Host(%q) = %v, want %v", tt.in, got, tt.host)
		}
		if got := HostPort(tt.in); got != tt.hostPort {
			t.Errorf("HostPort(%q) = %v, want %v", tt.in, got, tt.hostPort)
		}
		if got := SecureContext(tt.in); got != tt.secure {
			t.Errorf("SecureContext(%q) = %v, want %v", tt.in, got, tt.secure)
		}
	}
}
