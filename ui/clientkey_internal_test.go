package ui

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestClientKey(t *testing.T) {
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	for _, tt := range []struct{ remote, want string }{
		{"192.0.2.1:4711", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:4711", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:4711", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::]:4711", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:4711", "fe80::/64"},
		// No address at all: every such client shares one bucket.
		{"not an address", ""},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tt.remote
		if got := clientKey(e.NewContext(req, httptest.NewRecorder())); got != tt.want {
			t.Errorf("clientKey(RemoteAddr %q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}
