package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"notme/app"
)

// Public rate limits count an IPv6 client by its /64 and an IPv4 client by
// its address: a host that holds a /64 cannot step around a limit by
// taking a new address for each request. The clients' addresses come
// through X-Forwarded-For from a trusted proxy (the test's loopback).
func TestRateLimitBucketsIPv6By64(t *testing.T) {
	d := newDesk(t, func(c *app.Config) {
		c.HTTP.TrustedProxies = []string{"127.0.0.0/8", "::1/128"}
		c.HTTP.LoginRate = app.RateConfig{PerMinute: 1, Burst: 1}
		c.HTTP.ReportRate = app.RateConfig{PerMinute: 1, Burst: 1}
	})
	for _, tt := range []struct {
		name          string
		first, second string
		shared        bool
	}{
		{"IPv6 in one /64", "2001:db8:1:2::a", "2001:db8:1:2:ffff:1:2:3", true},
		{"IPv6 in another /64", "2001:db8:1:3::a", "2001:db8:1:4::a", false},
		{"IPv4-mapped IPv6 is its IPv4", "192.0.2.7", "::ffff:192.0.2.7", true},
		{"IPv4 by address", "192.0.2.1", "192.0.2.2", false},
	} {
		for _, route := range []struct {
			path   string
			within int // the status of a request within the limit
		}{
			// A login with a wrong password; a report without a CSRF
			// token (the limit comes before the form is read).
			{"/login", http.StatusUnauthorized},
			{"/r/not-a-token", http.StatusForbidden},
		} {
			t.Run(tt.name+" "+route.path, func(t *testing.T) {
				b := d.browser(t)
				post := func(client string) response {
					form := url.Values{"email": {fmt.Sprintf("nobody-%s@example.com", randomString(8))}, "password": {"a wrong password"}}
					if route.path == "/login" {
						form.Set("_csrf", b.csrf(t, "/login"))
					}
					return b.post(t, route.path, form, "X-Forwarded-For", client)
				}
				r := post(tt.first)
				if r.status != route.within {
					t.Fatalf("%s from %s = %d, want %d within the limit", r.call, tt.first, r.status, route.within)
				}
				r = post(tt.second)
				want := route.within
				if tt.shared {
					want = http.StatusTooManyRequests
				}
				if r.status != want {
					t.Errorf("%s from %s after one from %s = %d, want %d (shared bucket: %v)", r.call, tt.second, tt.first, r.status, want, tt.shared)
				}
			})
		}
	}
}
