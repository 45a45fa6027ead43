package ui_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
)

// TestFavicon: the icon every browser asks for is there, at /favicon.ico
// (an ICO, cached) and at the address every page's <link rel="icon"> names
// (an SVG), for the public and for staff.
func TestFavicon(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	anon := d.browser(t)

	ico := anon.get(t, "/favicon.ico")
	ico.wantStatus(t, http.StatusOK)
	if ct := ico.header.Get("Content-Type"); ct != "image/x-icon" {
		t.Errorf("GET /favicon.ico: Content-Type = %q, want image/x-icon", ct)
	}
	if cc := ico.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "no-store") {
		t.Errorf("GET /favicon.ico: Cache-Control = %q, want it cached", cc)
	}
	if !bytes.HasPrefix([]byte(ico.body), []byte{0, 0, 1, 0}) {
		t.Errorf("GET /favicon.ico: body starts %q, want an ICO header", ico.body[:min(8, len(ico.body))])
	}

	iconLink := regexp.MustCompile(`<link rel="icon" href="(/static/favicon\.svg\?v=[0-9a-f]+)" type="image/svg\+xml">`)
	for _, tc := range []struct {
		who  string
		b    *browser
		page string
	}{
		{"a reporter", anon, "/"},
		{"a reporter", anon, "/report"},
		{"a reporter", anon, "/login"},
		{"an agent", d.login(t, "agent@desk.example"), "/queue"},
	} {
		r := tc.b.get(t, tc.page)
		r.wantStatus(t, http.StatusOK)
		m := iconLink.FindStringSubmatch(r.body)
		if m == nil {
			t.Errorf("GET %s as %s: no <link rel=\"icon\"> to the SVG icon", tc.page, tc.who)
			continue
		}
		svg := tc.b.get(t, m[1])
		svg.wantStatus(t, http.StatusOK)
		if ct := svg.header.Get("Content-Type"); ct != "image/svg+xml" || !strings.HasPrefix(svg.body, "<svg") {
			t.Errorf("GET %s: Content-Type %q, body %.20q; want an SVG", m[1], ct, svg.body)
		}
		if cc := svg.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control = %q, want it cached for good", m[1], cc)
		}
	}
}
