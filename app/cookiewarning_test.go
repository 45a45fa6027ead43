package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestPlainHTTPWarning: a desk whose public_url is plain HTTP on a host
// other than this computer warns at start, because browsers drop its
// Secure cookies there and every form would fail.
func TestPlainHTTPWarning(t *testing.T) {
	for _, c := range []struct {
		url      string
		insecure bool
		warn     bool
	}{
		{"http://192.168.1.20:8080", false, true},
		{"http://desk.lan:8080", false, true},
		{"http://localhost:8080", false, false},
		{"http://127.0.0.1:8080", false, false},
		{"http://[::1]:8080", false, false},
		{"https://desk.example", false, false},
		{"http://192.168.1.20:8080", true, false}, // the operator chose cookies without Secure
	} {
		cfg := Defaults()
		cfg.DataDir = t.TempDir()
		cfg.HTTP.PublicURL = c.url
		cfg.HTTP.InsecureCookies = c.insecure
		var buf bytes.Buffer
		a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatalf("Open(%s) = %v", c.url, err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "public_url is plain HTTP")
		if got != c.warn {
			t.Errorf("Open with public_url %s, insecure_cookies %v: warned %v, want %v; log:\n%s", c.url, c.insecure, got, c.warn, buf.String())
		}
	}
}
