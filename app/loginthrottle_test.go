package app

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"notme/cases"
	"notme/ui"
)

// The attack of issue 12 through the real web server: 30 wrong passwords
// for one account from six addresses (five each, within the per-client
// login limit), then the right one from a seventh. The account is locked:
// refused with a page that says when to try again and nothing of the
// password. After the lock, by the desk's clock, the owner signs in and is
// told of the failures; the audit log holds the lock.
func TestLoginThrottleAttackFromManyAddresses(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	svc, clock, cfg := clockedService(t, start)
	const email, password = "admin@example.com", "correct horse battery staple"
	if _, err := svc.AddUser(ctx, email, cases.RoleAdmin, true, password); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	def := Defaults().HTTP.LoginRate
	srv, err := ui.New(ui.Options{Service: svc, Logger: discardLogger(), PublicURL: "http://desk.example.com",
		SessionTTL: cfg.HTTP.SessionTTL.D(), TrustedProxies: []*net.IPNet{loopback},
		ReportRate: ui.Rate{PerMinute: 1e6, Burst: 1e6}, LoginRate: ui.Rate{PerMinute: def.PerMinute, Burst: def.Burst}})
	if err != nil {
		t.Fatalf("ui.New() = %v", err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	csrfRE := regexp.MustCompile(`name="_csrf" value="([^"]*)"`)
	type answer struct {
		status        int
		body, loc, ra string
	}
	// login signs in from client in a browser of its own (an attacker's
	// browsers share nothing); it returns the answer and the browser.
	login := func(client, pw string) (answer, *http.Client) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		do := func(req *http.Request) answer {
			t.Helper()
			req.Header.Set("X-Forwarded-For", client)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return answer{resp.StatusCode, string(b), resp.Header.Get("Location"), resp.Header.Get("Retry-After")}
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/login", nil)
		m := csrfRE.FindStringSubmatch(do(req).body)
		if m == nil {
			t.Fatal("GET /login: no _csrf field")
		}
		form := url.Values{"_csrf": {m[1]}, "email": {email}, "password": {pw}}
		req, _ = http.NewRequest(http.MethodPost, ts.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(req), c
	}

	var lockedPage string
	for i := range 30 {
		client := fmt.Sprintf("192.0.2.%d", i%6+1)
		a, _ := login(client, fmt.Sprintf("guess number %d", i))
		switch {
		case a.status == http.StatusSeeOther:
			t.Fatalf("POST /login with guess %d from %s signed in", i+1, client)
		case i < 4 && a.status != http.StatusUnauthorized:
			t.Fatalf("POST /login with guess %d from %s = %d, want 401", i+1, client, a.status)
		case i >= 4 && a.status != http.StatusTooManyRequests:
			t.Fatalf("POST /login with guess %d from %s = %d, want 429: the account is locked", i+1, client, a.status)
		case i >= 4:
			lockedPage = a.body
		}
	}
	a, _ := login("198.51.100.7", password)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("POST /login with the right password from a seventh address = %d, want 429 while the account is locked; body:\n%s", a.status, a.body)
	}
	// The same page whether the password was right or not, saying when.
	msg := regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`)
	right, wrong := msg.FindStringSubmatch(a.body), msg.FindStringSubmatch(lockedPage)
	if right == nil || wrong == nil || right[1] != wrong[1] {
		t.Fatalf("locked with the right password says %q, with a wrong one %q; want the same message", right, wrong)
	}
	if until := "2026-05-01 09:01 UTC"; !strings.Contains(html.UnescapeString(right[1]), "temporarily locked") || !strings.Contains(right[1], until) {
		t.Errorf("the locked page says %q; want it to say the account is temporarily locked until %s", right[1], until)
	}
	if a.ra != "60" {
		t.Errorf("the locked answer's Retry-After = %q, want 60", a.ra)
	}

	audit, err := svc.AuditLog(ctx, cases.Actor{User: &cases.User{Role: cases.RoleAdmin}}, 10)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	if len(audit) != 1 || audit[0].Action != cases.AuditLoginLocked || audit[0].Subject != "user:"+email ||
		audit[0].Args["failures"] != "5" || audit[0].Args["addresses"] != "5" {
		t.Fatalf("AuditLog() = %+v; want one %s entry for %s: 5 failures from 5 addresses", audit, cases.AuditLoginLocked, email)
	}

	clock.Advance(time.Minute)
	a, browser := login("198.51.100.7", password)
	if a.status != http.StatusSeeOther || a.loc != "/login/notice?next=%2Fqueue" {
		t.Fatalf("POST /login after the lock = %d to %q, want 303 to /login/notice?next=%%2Fqueue", a.status, a.loc)
	}
	resp, err := browser.Get(ts.URL + a.loc)
	if err != nil {
		t.Fatalf("GET %s: %v", a.loc, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "31 sign-in attempts to your account failed or were refused since your last sign-in, from 7 addresses."
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) || !strings.Contains(string(b), `href="/queue"`) {
		t.Fatalf("GET %s = %d; want the notice %q and a link on to /queue:\n%s", a.loc, resp.StatusCode, want, b)
	}
	resp, err = browser.Get(ts.URL + "/admin")
	if err != nil {
		t.Fatalf("GET /admin: %v", err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "5 failed sign-ins in a row from 5 client addresses; locked until 2026-05-01 09:01 UTC"; !strings.Contains(string(b), want) {
		t.Errorf("GET /admin: the audit log does not say %q", want)
	}

	// Told once per sign-in: the next sign-in goes straight on.
	if a, _ := login("198.51.100.7", password); a.status != http.StatusSeeOther || a.loc != "/queue" {
		t.Errorf("POST /login again = %d to %q, want 303 to /queue", a.status, a.loc)
	}
}
