package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notme/app"
	"notme/cases"
)

// setCookie returns the Set-Cookie of name in r, failing if there is none.
func setCookie(t *testing.T, r response, name string) *http.Cookie {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name {
			return c
		}
	}
	t.Fatalf("%s: no Set-Cookie for %s in %q", r.call, name, r.header.Values("Set-Cookie"))
	return nil
}

var loginErrorRE = regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`)

func TestLogin(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@example.com", cases.RoleAgent, true)
	// Its failed sign-in would make agent's next one show a notice first
	// (TestLoginThrottleAttackFromManyAddresses).
	d.addUser(t, "wrong@example.com", cases.RoleAgent, true)

	t.Run("cookies", func(t *testing.T) {
		b := d.browser(t)
		page := b.get(t, "/login")
		page.wantStatus(t, http.StatusOK)
		csrf := setCookie(t, page, "__Host-notme_csrf")
		if !csrf.HttpOnly || !csrf.Secure || csrf.SameSite != http.SameSiteStrictMode {
			t.Errorf("%s: CSRF cookie HttpOnly=%v Secure=%v SameSite=%v, want true, true, Strict", page.call, csrf.HttpOnly, csrf.Secure, csrf.SameSite)
		}
		token := csrfFieldRE.FindStringSubmatch(page.body)[1]
		r := b.post(t, "/login", url.Values{"_csrf": {token}, "email": {"Agent@Example.com "}, "password": {staffPassword}})
		r.wantStatus(t, http.StatusSeeOther)
		if r.location() != "/queue" {
			t.Errorf("%s: Location %q, want /queue", r.call, r.location())
		}
		s := setCookie(t, r, "notme_session")
		if s.Value == "" || !s.HttpOnly || !s.Secure || s.SameSite != http.SameSiteStrictMode || s.Path != "/" {
			t.Errorf("%s: session cookie %q HttpOnly=%v Secure=%v SameSite=%v Path=%q, want a value, true, true, Strict, /",
				r.call, s.Name, s.HttpOnly, s.Secure, s.SameSite, s.Path)
		}
		b.get(t, "/queue").wantStatus(t, http.StatusOK)
	})

	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		var msgs []string
		for _, who := range []struct{ email, password string }{
			{"wrong@example.com", "not the password at all"},
			{"nobody@example.com", staffPassword},
		} {
			b := d.browser(t)
			r := b.submit(t, "/login", url.Values{"email": {who.email}, "password": {who.password}})
			r.wantStatus(t, http.StatusUnauthorized)
			r.wantHTML(t)
			m := loginErrorRE.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s as %s: no error message on the page:\n%s", r.call, who.email, clip(r.body))
			}
			msgs = append(msgs, m[1])
			if strings.Contains(r.body, who.password) {
				t.Errorf("%s: the page echoes the password", r.call)
			}
			if !csrfFieldRE.MatchString(r.body) {
				t.Errorf("%s: the form shown again has no CSRF field", r.call)
			}
			if got := b.get(t, "/queue"); got.status != http.StatusSeeOther {
				t.Errorf("after a failed login, %s = %d, want 303 to the login page", got.call, got.status)
			}
		}
		if msgs[0] != msgs[1] {
			t.Errorf("wrong password says %q, unknown user %q; want the same message", msgs[0], msgs[1])
		}
	})

	t.Run("staff pages need a login", func(t *testing.T) {
		b := d.browser(t)
		for path, want := range map[string]string{
			"/queue":               "/login?next=%2Fqueue",
			"/queue?severity=high": "/login?next=%2Fqueue%3Fseverity%3Dhigh",
			"/cases/NM-0000-0000":  "/login?next=%2Fcases%2FNM-0000-0000",
			"/leads":               "/login?next=%2Fleads",
			"/admin":               "/login?next=%2Fadmin",
		} {
			r := b.get(t, path)
			r.wantStatus(t, http.StatusSeeOther)
			if r.location() != want {
				t.Errorf("%s: Location %q, want %q", r.call, r.location(), want)
			}
		}
		// A forged session cookie is no login either.
		b.c.Jar.SetCookies(mustURL(t, d.url), []*http.Cookie{{Name: "notme_session", Value: randomString(43)}})
		if r := b.get(t, "/queue"); r.status != http.StatusSeeOther {
			t.Errorf("%s with a made-up session = %d, want 303", r.call, r.status)
		}
	})

	t.Run("next returns to the page asked for", func(t *testing.T) {
		b := d.browser(t)
		page := b.get(t, "/login?next="+url.QueryEscape("/queue?severity=high"))
		if !strings.Contains(page.body, `name="next" value="/queue?severity=high"`) {
			t.Fatalf("%s: the form does not carry next:\n%s", page.call, clip(page.body))
		}
		r := b.post(t, "/login", url.Values{"_csrf": {csrfFieldRE.FindStringSubmatch(page.body)[1]},
			"next": {"/queue?severity=high"}, "email": {"agent@example.com"}, "password": {staffPassword}})
		r.wantStatus(t, http.StatusSeeOther)
		if r.location() != "/queue?severity=high" {
			t.Errorf("%s: Location %q, want /queue?severity=high", r.call, r.location())
		}
	})

	t.Run("next never leaves the site", func(t *testing.T) {
		for _, next := range []string{
			"//evil.example",
			"https://evil.example",
			"https://evil.example/queue",
			"/\\evil.example",
			"/\t/evil.example", // browsers drop tabs and newlines from URLs
			"/\n/evil.example",
			"javascript:alert(1)",
			"evil.example",
		} {
			b := d.browser(t)
			page := b.get(t, "/login?next="+url.QueryEscape(next))
			if !strings.Contains(page.body, `name="next" value="/queue"`) {
				t.Errorf("GET /login?next=%q: the form carries another next than /queue", next)
			}
			r := b.submit(t, "/login", url.Values{"next": {next}, "email": {"agent@example.com"}, "password": {staffPassword}})
			r.wantStatus(t, http.StatusSeeOther)
			if loc := r.location(); loc != "/queue" {
				t.Errorf("POST /login with next=%q: Location %q, want /queue", next, loc)
			}
		}
	})

	t.Run("logout ends the session", func(t *testing.T) {
		b := d.login(t, "agent@example.com")
		var session string
		for _, c := range b.c.Jar.Cookies(mustURL(t, d.url)) {
			if c.Name == "notme_session" {
				session = c.Value
			}
		}
		if session == "" {
			t.Fatal("after login the jar holds no notme_session cookie")
		}
		page := b.get(t, "/queue")
		if !strings.Contains(page.body, `action="/logout"`) {
			t.Fatalf("%s: no logout form on the page", page.call)
		}
		r := b.post(t, "/logout", url.Values{"_csrf": {csrfFieldRE.FindStringSubmatch(page.body)[1]}})
		r.wantStatus(t, http.StatusSeeOther)
		if r.location() != "/login" {
			t.Errorf("%s: Location %q, want /login", r.call, r.location())
		}
		if c := setCookie(t, r, "notme_session"); c.MaxAge >= 0 {
			t.Errorf("%s: the session cookie is not removed (Max-Age %d)", r.call, c.MaxAge)
		}
		if got := b.get(t, "/queue"); got.status != http.StatusSeeOther {
			t.Errorf("after logout, %s = %d, want 303 to the login page", got.call, got.status)
		}
		// Someone who kept the old cookie gets nothing either.
		thief := d.browser(t)
		thief.c.Jar.SetCookies(mustURL(t, d.url), []*http.Cookie{{Name: "notme_session", Value: session}})
		if got := thief.get(t, "/queue"); got.status != http.StatusSeeOther || !strings.HasPrefix(got.location(), "/login") {
			t.Errorf("with the session cookie from before logout, %s = %d to %q, want 303 to /login", got.call, got.status, got.location())
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Security cases are for security-trained staff; leads and admins have
// their own pages.
func TestStaffAccess(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "parcel@example.com", cases.RoleAgent, false)
	d.addUser(t, "agent@example.com", cases.RoleAgent, true)
	d.addUser(t, "lead@example.com", cases.RoleLead, true)
	d.addUser(t, "admin@example.com", cases.RoleAdmin, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "acct-staff", "registration").Token,
		url.Values{"set_password": {"1"}, "note": {"I clicked it, sorry."}})

	untrained := d.login(t, "parcel@example.com")
	agent := d.login(t, "agent@example.com")
	lead := d.login(t, "lead@example.com")
	admin := d.login(t, "admin@example.com")

	for _, path := range []string{"/queue", "/cases/" + ref} {
		r := untrained.get(t, path)
		r.wantStatus(t, http.StatusForbidden)
		r.wantHTML(t)
		if !strings.Contains(r.body, "security-trained staff only") {
			t.Errorf("%s as an untrained agent: the 403 page does not say why:\n%s", r.call, clip(r.body))
		}
		if strings.Contains(r.body, "acct-staff") {
			t.Errorf("%s as an untrained agent: the 403 page shows the account", r.call)
		}
	}

	q := agent.get(t, "/queue")
	q.wantStatus(t, http.StatusOK)
	if !strings.Contains(q.body, `href="/cases/`+ref+`"`) {
		t.Errorf("%s as a trained agent: the queue does not list %s:\n%s", q.call, ref, clip(q.body))
	}
	c := agent.get(t, "/cases/"+ref)
	c.wantStatus(t, http.StatusOK)
	for _, want := range []string{
		ref, "acct-staff", "critical",
		"Opened from a link report, exact match by token", // the timeline
		"set a password or entered details",               // the report's ticks
		"I clicked it, sorry.",                            // its note
	} {
		if !strings.Contains(c.body, want) {
			t.Errorf("%s as a trained agent: the case page lacks %q", c.call, want)
		}
	}
	if r := agent.get(t, "/cases/"+strings.ToLower(ref)); r.status != http.StatusOK {
		t.Errorf("%s (a reference typed in lower case) = %d, want 200", r.call, r.status)
	}
	if r := agent.get(t, "/cases/NM-0000-0000"); r.status != http.StatusNotFound {
		t.Errorf("%s = %d, want 404", r.call, r.status)
	} else {
		r.wantHTML(t)
	}

	for _, tc := range []struct {
		who  string
		b    *browser
		path string
		want int
	}{
		{"agent", agent, "/leads", http.StatusForbidden},
		{"lead", lead, "/leads", http.StatusOK},
		{"admin", admin, "/leads", http.StatusOK},
		{"agent", agent, "/admin", http.StatusForbidden},
		{"lead", lead, "/admin", http.StatusForbidden},
		{"admin", admin, "/admin", http.StatusOK},
		{"lead", lead, "/queue", http.StatusOK},
	} {
		r := tc.b.get(t, tc.path)
		if r.status != tc.want {
			t.Errorf("%s as %s = %d, want %d", r.call, tc.who, r.status, tc.want)
			continue
		}
		r.wantHTML(t)
		if tc.want == http.StatusForbidden && !strings.Contains(r.body, "This page is for") {
			t.Errorf("%s as %s: the 403 page does not say who it is for:\n%s", r.call, tc.who, clip(r.body))
		}
	}
	if r := admin.get(t, "/admin"); !strings.Contains(r.body, "parcel@example.com") {
		t.Errorf("%s: the staff list lacks parcel@example.com", r.call)
	}
}

// Password guessing is slowed per client, and the page says so in words
// that fit a login.
func TestLoginRateLimit(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.HTTP.LoginRate = app.RateConfig{PerMinute: 1, Burst: 2} })
	b := d.browser(t)
	for i := range 2 {
		r := b.submit(t, "/login", url.Values{"email": {"guess@example.com"}, "password": {fmt.Sprintf("guess number %d", i)}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("%s #%d = %d, want 401 within the burst", r.call, i+1, r.status)
		}
	}
	r := b.submit(t, "/login", url.Values{"email": {"guess@example.com"}, "password": {"guess number 3"}})
	r.wantStatus(t, http.StatusTooManyRequests)
	r.wantHTML(t)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("%s = 429 without Retry-After", r.call)
	}
	if !strings.Contains(r.body, "login attempts") || strings.Contains(r.body, "reports") {
		t.Errorf("%s: the 429 page does not speak of login attempts:\n%s", r.call, clip(r.body))
	}
}
