package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
)

// TestSecurityHeadersOnEveryRoute walks the route table: every GET route,
// logged in and not, and the error answers (404, 405, a refused form, an
// API refusal) carry a CSP without unsafe-inline that forbids framing,
// nosniff and a referrer policy.
func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "root@desk.example", cases.RoleAdmin, true)
	ref, statusPath := d.browser(t).report(t, d.mint(t, "ACC-1", "registration").Token, nil)
	token := d.mint(t, "ACC-2", "newsletter").Token
	params := strings.NewReplacer(":token", token, ":ref", ref, ":id", "1", "*", "app.css")

	var paths []string
	for _, r := range d.app.Server.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		p := params.Replace(r.Path)
		if r.Path == "/s/:token" {
			p = statusPath
		}
		paths = append(paths, p)
	}
	if len(paths) < 15 {
		t.Fatalf("Server.Routes() has %d GET routes, want the whole table: %v", len(paths), paths)
	}
	paths = append(paths, "/no-such-page", "/cases/NM-0000-0000", "/queue?q=%01", "/static/nothing.css")

	check := func(r response) {
		t.Helper()
		csp := r.header.Get("Content-Security-Policy")
		switch {
		case csp == "":
			t.Errorf("%s (%d): no Content-Security-Policy", r.call, r.status)
		case strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval"):
			t.Errorf("%s (%d): CSP %q allows unsafe code", r.call, r.status, csp)
		case !strings.Contains(csp, "frame-ancestors 'none'"):
			t.Errorf("%s (%d): CSP %q lacks frame-ancestors 'none'", r.call, r.status, csp)
		case !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'"):
			t.Errorf("%s (%d): CSP %q should default to nothing and allow only own scripts", r.call, r.status, csp)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options = %q, want nosniff", r.call, r.status, got)
		}
		if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s (%d): Referrer-Policy = %q, want no-referrer", r.call, r.status, got)
		}
	}

	anon, root := d.browser(t), d.login(t, "root@desk.example")
	statuses := map[int]bool{}
	for _, p := range paths {
		for _, b := range []*browser{anon, root} {
			r := b.get(t, p)
			statuses[r.status] = true
			check(r)
		}
	}
	for _, s := range []int{http.StatusOK, http.StatusSeeOther, http.StatusNotFound, http.StatusUnauthorized, http.StatusUnprocessableEntity} {
		if !statuses[s] {
			t.Errorf("walking the routes met statuses %v, want %d among them", statuses, s)
		}
	}

	// Errors that no GET route gives.
	req, err := http.NewRequest(http.MethodDelete, d.url+"/queue", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := root.do(t, req)
	r.wantStatus(t, http.StatusMethodNotAllowed)
	check(r)
	r = root.post(t, "/cases/"+ref+"/note", url.Values{"note": {"no token"}})
	r.wantStatus(t, http.StatusForbidden)
	check(r)
	r = d.api(t, http.MethodPost, "/api/v1/mint", "nmk_wrong", []byte(`{}`))
	r.wantStatus(t, http.StatusUnauthorized)
	check(r)
}
