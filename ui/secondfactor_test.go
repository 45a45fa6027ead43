package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"notme/app"
	"notme/cases"
)

// requireSecondFactor is the shipped default: leads and admins.
func requireSecondFactor(cfg *app.Config) { cfg.Auth.SecondFactorRoles = []string{"lead", "admin"} }

var (
	totpSecretRE   = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7 ]+)</code>`)
	recoveryCodeRE = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
)

// codeAt is what an authenticator app holding secret shows at the time.
func codeAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatalf("GenerateCode() = %v", err)
	}
	return c
}

// enrol adds an authenticator app on /account/2fa as the person in b
// and returns its secret and the recovery codes shown.
func enrol(t *testing.T, b *browser) (string, []string) {
	t.Helper()
	p := b.get(t, "/account/2fa")
	p.wantStatus(t, http.StatusOK)
	m := totpSecretRE.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, `id="totp-qr" src="data:image/png;base64,`) || !strings.Contains(p.body, "otpauth://totp/") {
		t.Fatalf("%s: want a QR code, the secret to type and the otpauth link:\n%s", p.call, clip(p.body))
	}
	secret := m[1]
	bad := b.submit(t, "/account/2fa", url.Values{"code": {"000000"}, "password": {staffPassword}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "That code is not right") {
		t.Fatalf("%s with a wrong code = %d, want 422 saying so:\n%s", bad.call, bad.status, clip(bad.body))
	}
	ok := b.submit(t, "/account/2fa", url.Values{"code": {codeAt(t, secret, time.Now())}, "password": {staffPassword}})
	ok.wantStatus(t, http.StatusOK)
	var codes []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(ok.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != cases.RecoveryCodeCount || !strings.Contains(ok.body, "shown only now") {
		t.Fatalf("%s: want %d recovery codes shown once, got %d:\n%s", ok.call, cases.RecoveryCodeCount, len(codes), clip(ok.body))
	}
	if ck := strings.Join(ok.header.Values("Set-Cookie"), "\n"); !strings.Contains(ck, "notme_session=") {
		t.Errorf("%s: Set-Cookie = %q, want a new session cookie (the id changes with the second factor)", ok.call, ck)
	}
	if again := b.get(t, "/account/2fa"); strings.Contains(again.body, "totp-secret") || strings.Contains(again.body, secret) {
		t.Errorf("%s after enrolment shows the secret again", again.call)
	}
	return strings.ReplaceAll(secret, " ", ""), codes
}

// TestSecondFactorRequiredForLeads: a lead signing in with a password is
// sent to enrol from every staff page; after enrolment the next sign-in
// asks for the code on a second page, a used code is refused, and a
// recovery code works once and says how many are left.
func TestSecondFactorRequiredForLeads(t *testing.T) {
	d := newDesk(t, requireSecondFactor)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)

	agent := d.login(t, "agent@desk.example")
	agent.get(t, "/queue").wantStatus(t, http.StatusOK)

	lead := d.login(t, "lead@desk.example")
	for _, path := range []string{"/queue", "/leads", "/account/sessions"} {
		r := lead.get(t, path)
		if r.status != http.StatusSeeOther || r.location() != "/account/2fa" {
			t.Fatalf("%s for a lead without a second factor = %d to %q, want 303 to /account/2fa", r.call, r.status, r.location())
		}
	}
	if p := lead.get(t, "/account/2fa"); !strings.Contains(p.body, `id="factor-required"`) {
		t.Errorf("%s does not say the role needs a second factor:\n%s", p.call, clip(p.body))
	}
	secret, codes := enrol(t, lead)
	lead.get(t, "/leads").wantStatus(t, http.StatusOK)

	// Sign in again: the password leads to the second page, not in.
	b := d.browser(t)
	r := b.submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {staffPassword}, "next": {"/leads"}})
	if r.status != http.StatusSeeOther || r.location() != "/login/2fa?next=%2Fleads" {
		t.Fatalf("%s with TOTP = %d to %q, want 303 to /login/2fa", r.call, r.status, r.location())
	}
	if q := b.get(t, "/queue"); q.status != http.StatusSeeOther || !strings.HasPrefix(q.location(), "/login?") {
		t.Fatalf("%s between password and code = %d to %q, want the login page: not signed in yet", q.call, q.status, q.location())
	}
	// The code that confirmed enrolment, or the one before it, is used.
	for _, at := range []time.Time{time.Now(), time.Now().Add(-30 * time.Second)} {
		w := b.submit(t, "/login/2fa?next=%2Fleads", url.Values{"code": {codeAt(t, secret, at)}, "next": {"/leads"}})
		if w.status != http.StatusUnauthorized || !strings.Contains(w.body, "That code is not right") {
			t.Fatalf("%s with a used code = %d, want 401 saying it is not right:\n%s", w.call, w.status, clip(w.body))
		}
	}
	in := b.submit(t, "/login/2fa?next=%2Fleads", url.Values{"code": {codeAt(t, secret, time.Now().Add(30*time.Second))}, "next": {"/leads"}})
	// The two wrong codes count like wrong passwords: the owner is told.
	if in.status != http.StatusSeeOther || in.location() != "/login/notice?next=%2Fleads" {
		t.Fatalf("%s with the next code = %d to %q, want 303 to the notice of failed sign-ins", in.call, in.status, in.location())
	}
	if n := b.get(t, in.location()); !strings.Contains(n.body, "2 sign-in attempts to your account failed") {
		t.Errorf("%s does not tell of the 2 wrong codes:\n%s", n.call, clip(n.body))
	}
	b.get(t, "/leads").wantStatus(t, http.StatusOK)
	if s := b.get(t, "/account/sessions"); !strings.Contains(s.body, "password and authenticator app") {
		t.Errorf("%s does not say the session used the authenticator app", s.call)
	}

	// A lost phone: a recovery code, once.
	rc := d.browser(t)
	rc.submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {staffPassword}}).wantStatus(t, http.StatusSeeOther)
	used := rc.submit(t, "/login/2fa", url.Values{"code": {strings.ToUpper(codes[0])}, "next": {"/queue"}})
	if used.status != http.StatusSeeOther || !strings.HasPrefix(used.location(), "/account/2fa?recovery=used") {
		t.Fatalf("%s with a recovery code = %d to %q, want the second-factor page saying how many are left", used.call, used.status, used.location())
	}
	left := rc.get(t, used.location())
	if !strings.Contains(html.UnescapeString(left.body), "You signed in with a recovery code. 9 are left.") {
		t.Errorf("%s does not say 9 recovery codes are left:\n%s", left.call, clip(left.body))
	}
	again := d.browser(t)
	again.submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {staffPassword}}).wantStatus(t, http.StatusSeeOther)
	if w := again.submit(t, "/login/2fa", url.Values{"code": {codes[0]}}); w.status != http.StatusUnauthorized {
		t.Errorf("%s with a spent recovery code = %d, want 401", w.call, w.status)
	}
}

// TestAdminResetsSecondFactor: a lead who lost their phone is reset by an
// admin: their sessions end, the next sign-in sends them to enrol again,
// and the audit log on /admin says who did it.
func TestAdminResetsSecondFactor(t *testing.T) {
	d := newDesk(t, func(cfg *app.Config) { cfg.Auth.SecondFactorRoles = []string{"lead"} })
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "admin@desk.example", cases.RoleAdmin, true)
	lead := d.login(t, "lead@desk.example")
	enrol(t, lead)
	lead.get(t, "/leads").wantStatus(t, http.StatusOK)

	admin := d.login(t, "admin@desk.example")
	page := admin.get(t, "/admin")
	page.wantStatus(t, http.StatusOK)
	m := regexp.MustCompile(`action="(/admin/users/\d+/2fa/reset)"`).FindAllStringSubmatch(page.body, -1)
	if len(m) != 1 {
		t.Fatalf("%s: want one reset button (for the lead, not for oneself), got %d", page.call, len(m))
	}
	r := admin.post(t, m[0][1], url.Values{"_csrf": {admin.csrf(t, "/admin")}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("%s = %d, want 303", r.call, r.status)
	}
	if q := lead.get(t, "/leads"); q.status != http.StatusSeeOther || !strings.HasPrefix(q.location(), "/login?expired=1") {
		t.Fatalf("%s after the reset = %d to %q, want the session ended", q.call, q.status, q.location())
	}
	back := d.login(t, "lead@desk.example")
	if q := back.get(t, "/leads"); q.location() != "/account/2fa" {
		t.Errorf("%s after the reset = %d to %q, want to enrol again", q.call, q.status, q.location())
	}
	audit := html.UnescapeString(admin.get(t, "/admin").body)
	if !strings.Contains(audit, "second factor reset") || !strings.Contains(audit, "second factor added") {
		t.Errorf("/admin audit log does not show the enrolment and the reset:\n%s", clip(audit))
	}
}

// TestSecondFactorNotAskedOfSingleSignOn: the provider does its own; a
// lead signed in through it is not sent to enrol.
func TestSecondFactorNotAskedOfSingleSignOn(t *testing.T) {
	d, p := ssoDesk(t, requireSecondFactor)
	p.users.Add("lead@corp.example", true, "desk-leads", "security")
	lead := d.browser(t)
	l := lead.signedIn(t, lead.ssoSignIn(t, p, "lead@corp.example", "/leads"), "/leads")
	l.wantStatus(t, http.StatusOK)
}
