package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
)

var inviteLinkRE = regexp.MustCompile(`value="(https://[^"]+/invite/[A-Za-z0-9_-]+)"`)

// TestAdminInvitesStaff follows an admin adding a lead on /admin and the
// lead setting their own password with the link, then the refusals a
// person at either form can meet.
func TestAdminInvitesStaff(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "root@desk.example", cases.RoleAdmin, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	admin := d.login(t, "root@desk.example")

	form := url.Values{"email": {"New.Lead@Desk.example"}, "role": {"lead"}, "trained": {"1"}}
	r := admin.post(t, "/admin/users", withCSRF(t, admin, form))
	r.wantStatus(t, http.StatusOK)
	m := inviteLinkRE.FindStringSubmatch(r.body)
	if m == nil || !strings.HasPrefix(m[1], d.url+"/invite/") {
		t.Fatalf("POST /admin/users: no invitation link on the desk's address in the answer:\n%s", clip(r.body))
	}
	link := html.UnescapeString(m[1])
	if !strings.Contains(r.body, "Invitation for new.lead@desk.example (lead) created") {
		t.Errorf("POST /admin/users: the answer does not say whom the link is for:\n%s", clip(r.body))
	}
	again := admin.get(t, "/admin")
	if strings.Contains(again.body, link) {
		t.Errorf("GET /admin shows the invitation link again; it must be shown once")
	}
	if !strings.Contains(again.body, "Invitations not yet used") || !strings.Contains(again.body, "new.lead@desk.example") {
		t.Errorf("GET /admin does not list the pending invitation:\n%s", clip(again.body))
	}

	// The invited person, in a browser of their own, in Japanese.
	lead := d.browser(t)
	path := strings.TrimPrefix(link, d.url)
	page := lead.get(t, path+"?lang=ja")
	page.wantStatus(t, http.StatusOK)
	if !strings.Contains(page.body, "new.lead@desk.example（リーダー）として招待されています") {
		t.Errorf("GET %s?lang=ja does not greet the invited lead in Japanese:\n%s", path, clip(page.body))
	}
	for _, tc := range []struct {
		name, password, again string
		want                  string
	}{
		{"passwords differ", "a long enough password", "a long enough passw0rd", "2つのパスワードが一致しません"},
		{"too short", "short", "short", "パスワードは12文字以上にしてください"},
	} {
		r := lead.post(t, path, url.Values{"_csrf": {csrfOf(t, page.body)}, "lang": {"ja"}, "password": {tc.password}, "password2": {tc.again}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: POST %s = %d, want 422 saying %q:\n%s", tc.name, path, r.status, tc.want, clip(r.body))
		}
	}
	r = lead.post(t, path, url.Values{"_csrf": {csrfOf(t, page.body)}, "lang": {"ja"}, "password": {"my own long password"}, "password2": {"my own long password"}})
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() != "/login?invited=1" {
		t.Errorf("POST %s: Location = %q, want /login?invited=1", path, r.location())
	}
	login := lead.get(t, "/login?invited=1")
	if !strings.Contains(login.body, "Your password is set") {
		t.Errorf("GET /login?invited=1 does not confirm the password was set:\n%s", clip(login.body))
	}
	r = lead.post(t, "/login", url.Values{"_csrf": {csrfOf(t, login.body)}, "email": {"new.lead@desk.example"}, "password": {"my own long password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("the invited lead cannot log in with the password they set: POST /login = %d", r.status)
	}
	if got := lead.get(t, "/leads"); got.status != http.StatusOK {
		t.Errorf("GET /leads as the invited lead = %d, want 200 (the role of the invitation)", got.status)
	}

	// The link works once.
	used := d.browser(t).get(t, path)
	if used.status != http.StatusNotFound || !strings.Contains(used.body, "This invitation link does not work") {
		t.Errorf("GET %s after use = %d, want 404 saying the link does not work:\n%s", path, used.status, clip(used.body))
	}

	// The audit log, in words: who invited whom with which role, and the
	// acceptance; no raw action codes.
	audit := admin.get(t, "/admin")
	for _, want := range []string{"invited as staff", "role: lead", "security-trained: yes", "accepted the invitation"} {
		if !strings.Contains(audit.body, want) {
			t.Errorf("GET /admin audit log lacks %q:\n%s", want, clip(audit.body))
		}
	}
	for _, raw := range []string{"invite_user", "accept_invitation", "role=lead"} {
		if strings.Contains(audit.body, raw) {
			t.Errorf("GET /admin shows the raw %q", raw)
		}
	}

	// Refusals at the admin's form keep what was typed.
	for _, tc := range []struct {
		name  string
		form  url.Values
		want  string
		wantJ string
	}{
		{"not an address", url.Values{"email": {"nobody"}, "role": {"agent"}}, "That is not an email address.", "メールアドレスの形式になっていません。"},
		{"staff already", url.Values{"email": {"agent@desk.example"}, "role": {"agent"}}, "agent@desk.example is staff already.", "agent@desk.example はすでにスタッフとして登録されています。"},
		{"no such role", url.Values{"email": {"x@desk.example"}, "role": {"owner"}}, "Choose a role", "役割（担当者・リーダー・管理者）を選んでください。"},
	} {
		r := admin.post(t, "/admin/users", withCSRF(t, admin, tc.form))
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) ||
			!strings.Contains(r.body, `value="`+tc.form.Get("email")+`"`) {
			t.Errorf("%s: POST /admin/users = %d, want 422 saying %q with the address kept:\n%s", tc.name, r.status, tc.want, clip(r.body))
		}
		tc.form.Set("lang", "ja")
		if r := admin.post(t, "/admin/users", withCSRF(t, admin, tc.form)); !strings.Contains(r.body, tc.wantJ) {
			t.Errorf("%s in Japanese: POST /admin/users lacks %q:\n%s", tc.name, tc.wantJ, clip(r.body))
		}
	}

	// Only admins, and only with the form's token.
	agent := d.login(t, "agent@desk.example")
	if r := agent.post(t, "/admin/users", withCSRF(t, agent, url.Values{"email": {"y@desk.example"}, "role": {"admin"}})); r.status != http.StatusForbidden {
		t.Errorf("POST /admin/users as an agent = %d, want 403", r.status)
	}
	if r := admin.post(t, "/admin/users", url.Values{"email": {"z@desk.example"}, "role": {"agent"}}); r.status != http.StatusForbidden {
		t.Errorf("POST /admin/users without a CSRF token = %d, want 403", r.status)
	}
	if strings.Contains(admin.get(t, "/admin").body, "y@desk.example") {
		t.Errorf("a refused invitation appears on /admin")
	}
}

// withCSRF adds the CSRF token of b's session (from /queue, a page every
// staff member may open) to form.
func withCSRF(t *testing.T, b *browser, form url.Values) url.Values {
	t.Helper()
	form.Set("_csrf", b.csrf(t, "/queue"))
	return form
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfFieldRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no _csrf field in:\n%s", clip(body))
	}
	return m[1]
}
