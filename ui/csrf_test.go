package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
)

// plantCSRF puts an attacker's CSRF cookie into b's jar, under both names
// the desk has used, as a sibling host sharing the parent domain can.
func plantCSRF(t *testing.T, b *browser, value string) {
	t.Helper()
	u, err := url.Parse(b.d.url)
	if err != nil {
		t.Fatal(err)
	}
	b.c.Jar.SetCookies(u, []*http.Cookie{
		{Name: "notme_csrf", Value: value, Path: "/"},
		{Name: "__Host-notme_csrf", Value: value, Path: "/"},
	})
}

// attackerToken looks like a token the desk issues: 43 base64url characters.
const attackerToken = "AttackerChoseThisTokenAttackerChoseThisToke"

func TestCSRFTokenBoundToSession(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "victim@desk.example", cases.RoleAgent, true)

	t.Run("the victim's session with the attacker's cookie and field is refused", func(t *testing.T) {
		b := d.login(t, "victim@desk.example")
		plantCSRF(t, b, attackerToken)
		r := b.post(t, "/logout", url.Values{"_csrf": {attackerToken}})
		r.wantStatus(t, http.StatusForbidden)
		// The sibling host's own page, which the browser marks same-site.
		r = b.post(t, "/logout", url.Values{"_csrf": {attackerToken}}, "Sec-Fetch-Site", "same-site")
		r.wantStatus(t, http.StatusForbidden)
		b.get(t, "/queue").wantStatus(t, http.StatusOK) // still logged in
	})

	t.Run("another session's token is refused", func(t *testing.T) {
		attacker := d.login(t, "victim@desk.example")
		stolen := attacker.csrf(t, "/queue")
		victim := d.login(t, "victim@desk.example")
		victim.post(t, "/logout", url.Values{"_csrf": {stolen}}).wantStatus(t, http.StatusForbidden)
		victim.get(t, "/queue").wantStatus(t, http.StatusOK)
	})

	t.Run("a token in the query string is refused", func(t *testing.T) {
		b := d.login(t, "victim@desk.example")
		token := b.csrf(t, "/queue")
		b.post(t, "/logout?_csrf="+url.QueryEscape(token), nil).wantStatus(t, http.StatusForbidden)
		b.get(t, "/queue").wantStatus(t, http.StatusOK)

		// A visitor without a session: the login form's token, in the URL.
		v := d.browser(t)
		token = v.csrf(t, "/login")
		form := url.Values{"email": {"victim@desk.example"}, "password": {staffPassword}}
		v.post(t, "/login?_csrf="+url.QueryEscape(token), form).wantStatus(t, http.StatusForbidden)
	})

	t.Run("the token in the body or the header is accepted", func(t *testing.T) {
		b := d.login(t, "victim@desk.example")
		token := b.csrf(t, "/queue")
		b.post(t, "/logout", nil, "X-CSRF-Token", token).wantStatus(t, http.StatusSeeOther)
		b = d.login(t, "victim@desk.example")
		b.post(t, "/logout", url.Values{"_csrf": {b.csrf(t, "/queue")}}).wantStatus(t, http.StatusSeeOther)
	})

	t.Run("login rotates the token", func(t *testing.T) {
		b := d.browser(t)
		before := b.csrf(t, "/login")
		r := b.post(t, "/login", url.Values{"_csrf": {before}, "email": {"victim@desk.example"}, "password": {staffPassword}})
		r.wantStatus(t, http.StatusSeeOther)
		if c := setCookie(t, r, "__Host-notme_csrf"); c.Value == "" || c.Value == before {
			t.Errorf("%s: CSRF cookie %q after login, want a new one", r.call, c.Value)
		}
		after := b.csrf(t, "/queue")
		if after == before {
			t.Fatalf("the form token is %q before and after login, want a new one", after)
		}
		b.post(t, "/logout", url.Values{"_csrf": {before}}).wantStatus(t, http.StatusForbidden)
		b.post(t, "/logout", url.Values{"_csrf": {after}}).wantStatus(t, http.StatusSeeOther)
	})

	t.Run("a public form keeps the cookie double-submit", func(t *testing.T) {
		b := d.browser(t)
		page := b.get(t, "/login")
		c := setCookie(t, page, "__Host-notme_csrf")
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Errorf("%s: cookie %s Secure=%v HttpOnly=%v Path=%q Domain=%q, want a __Host- cookie", page.call, c.Name, c.Secure, c.HttpOnly, c.Path, c.Domain)
		}
		// A planted cookie with its own field, on a visitor without a session,
		// is the plain double-submit: it proves nothing, but nothing here
		// acts for anyone but the visitor.
		r := b.submit(t, "/login", url.Values{"email": {"victim@desk.example"}, "password": {staffPassword}})
		r.wantStatus(t, http.StatusSeeOther)
	})
}

// TestCSRFPlainHTTP: a desk opened at http://<LAN address> with Secure
// cookies never gets its CSRF cookie back; the page says why.
func TestCSRFPlainHTTP(t *testing.T) {
	d := newDesk(t)
	srv := httptest.NewServer(d.app.Server) // the same desk over plain HTTP
	t.Cleanup(srv.Close)
	post := func(t *testing.T, host, lang string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/login?lang="+lang,
			strings.NewReader(url.Values{"_csrf": {"x"}, "email": {"a@b.example"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	for _, c := range []struct{ lang, want string }{
		{"en", "must be opened over HTTPS"},
		{"ja", "HTTPS で開く必要があります"},
	} {
		code, body := post(t, "192.168.1.20:8080", c.lang)
		if code != http.StatusForbidden || !strings.Contains(body, c.want) || strings.Contains(body, "expired") {
			t.Errorf("POST /login?lang=%s over plain HTTP to a LAN address = %d, want 403 saying %q:\n%s", c.lang, code, c.want, clip(body))
		}
	}
	// On this computer the browser keeps Secure cookies: the form's age is to blame.
	if code, body := post(t, "localhost:8080", "en"); code != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
		t.Errorf("POST /login over http://localhost without the cookie = %d, want 403 saying the form expired:\n%s", code, clip(body))
	}
}
