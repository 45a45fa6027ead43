package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
)

// Every answer, page or API, error or not, carries the strict headers.
func TestSecurityHeaders(t *testing.T) {
	d := newDesk(t)
	key := d.addKey(t, cases.Scopes...)
	d.addUser(t, "agent@example.com", cases.RoleAgent, true)
	staff := d.login(t, "agent@example.com")
	tok := d.mint(t, "acct-hdr", "registration").Token
	_, status := d.browser(t).report(t, tok, nil)
	b := d.browser(t)
	csrf := b.csrf(t, "/r/"+tok)

	type call struct {
		name string
		do   func() response
	}
	get := func(b *browser, path string) call {
		return call{"GET " + path, func() response { return b.get(t, path) }}
	}
	api := func(method, path, key, body string) call {
		return call{method + " " + path, func() response { return d.api(t, method, path, key, []byte(body)) }}
	}
	calls := []call{
		get(b, "/"),
		get(b, "/r/"+tok),
		get(b, "/r/not-a-token"),
		get(b, status),
		get(b, "/s/unknown"),
		get(b, "/report"),
		get(b, "/login"),
		get(b, "/queue"),
		get(b, "/no/such/page"),
		get(b, "/static/app.css"),
		get(staff, "/queue"),
		get(staff, "/leads"),
		get(b, "/healthz"),
		get(b, "/readyz"),
		get(b, "/metrics"),
		{"POST /r/{token}", func() response { return b.post(t, "/r/"+tok, url.Values{"_csrf": {csrf}}) }},
		{"POST /r/{token} without CSRF", func() response { return d.browser(t).post(t, "/r/"+tok, url.Values{}) }},
		api("GET", "/api/v1/cases", key, ""),
		api("GET", "/api/v1/cases", "", ""),
		api("GET", "/api/v1/cases/NM-0000-0000", key, ""),
		api("POST", "/api/v1/mint", key, `{"account_ref":"a","kind":"newsletter"}`),
		api("POST", "/api/v1/messages", key, `{`),
		api("POST", "/api/v1/messages/batch", key, "{}\n"),
		api("GET", "/api/v1/nope", key, ""),
	}
	for _, c := range calls {
		r := c.do()
		h := r.header
		csp := h.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s (%d): Content-Security-Policy %q, want one with frame-ancestors 'none' and nothing unsafe", c.name, r.status, csp)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options %q, want nosniff", c.name, r.status, got)
		}
		if got := h.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s (%d): Referrer-Policy %q, want no-referrer", c.name, r.status, got)
		}
		if got := h.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
			t.Errorf("%s (%d): Strict-Transport-Security %q on an https desk", c.name, r.status, got)
		}
		if strings.Contains(c.name, "/r/") || strings.Contains(c.name, "/s/") {
			if cc := h.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("%s (%d): Cache-Control %q, want no-store", c.name, r.status, cc)
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	b := d.browser(t)
	for _, path := range []string{"/nope", "/r/", "/cases", "/static/nope.css", "/static/../ui.go", "/api/v1/nope", "/api/v1/cases/NM-0000-0000"} {
		r := b.get(t, path)
		if strings.HasPrefix(path, "/api/") {
			r = d.api(t, "GET", path, key, nil)
		}
		r.wantStatus(t, http.StatusNotFound)
		if strings.HasPrefix(path, "/api/") {
			var e apiErr
			r.jsonBody(t, &e)
			continue
		}
		r.wantHTML(t)
		if !strings.Contains(r.body, "find this page") {
			t.Errorf("%s: not the 404 page:\n%s", r.call, clip(r.body))
		}
	}
}

func TestOps(t *testing.T) {
	d := newDesk(t)
	b := d.browser(t)
	b.get(t, "/healthz").wantStatus(t, http.StatusOK)
	b.get(t, "/readyz").wantStatus(t, http.StatusOK)

	tok := d.mint(t, "acct-metrics", "registration").Token
	b.report(t, tok, nil)
	r := b.get(t, "/metrics")
	r.wantStatus(t, http.StatusOK)
	for _, want := range []string{
		`notme_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`notme_http_requests_total{method="POST",route="/r/:token",status="303"} 1`,
		`notme_reports_total{channel="link",match="exact"} 1`,
		`notme_http_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("%s lacks %s", r.call, want)
		}
	}
	// Metrics name routes, never the tokens in paths.
	if strings.Contains(r.body, tok) {
		t.Errorf("%s shows a link token", r.call)
	}
}

// TestMethodsAndProbes: a wrong method is 405 (not a login redirect or a
// 404), HEAD answers on the probes uptime monitors use, and the report
// counter exists before the first report.
func TestMethodsAndProbes(t *testing.T) {
	d := newDesk(t)
	b := d.browser(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPut, "/queue", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/r/sometoken", http.StatusMethodNotAllowed},
		{http.MethodHead, "/healthz", http.StatusOK},
		{http.MethodHead, "/readyz", http.StatusOK},
	} {
		req, err := http.NewRequest(tc.method, d.url+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		b.do(t, req).wantStatus(t, tc.want)
	}
	if r := b.get(t, "/metrics"); !strings.Contains(r.body, `notme_reports_total{channel="mail",match="unmatched"} 0`) {
		t.Errorf("%s lacks the zero report series before any report", r.call)
	}
}
