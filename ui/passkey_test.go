package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"notme/app"
	"notme/cases"
)

// postJSON sends body as passkey.js does: JSON, with the page's form
// token in the X-CSRF-Token header.
func (b *browser) postJSON(t testing.TB, page, path string, body any) response {
	t.Helper()
	token := b.csrf(t, page)
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, b.d.url+path, strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", token)
	return b.do(t, req)
}

// TestSecondFactorChangesAskForThePassword: a stolen session cookie
// alone cannot add the thief's own factor. Confirming an authenticator
// app and beginning a passkey both need the person's password; the
// refusal says so in the person's language.
func TestSecondFactorChangesAskForThePassword(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	lead := d.login(t, "lead@desk.example")

	p := lead.get(t, "/account/2fa")
	m := totpSecretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s: no authenticator key to add:\n%s", p.call, clip(p.body))
	}
	if !strings.Contains(p.body, `name="password"`) {
		t.Errorf("%s does not ask for the password", p.call)
	}
	r := lead.submit(t, "/account/2fa", url.Values{"code": {codeAt(t, m[1], time.Now())}, "password": {"what the thief guesses"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "That is not your password") {
		t.Fatalf("%s with a session but a wrong password = %d, want 422 saying so:\n%s", r.call, r.status, clip(r.body))
	}
	if again := lead.get(t, "/account/2fa"); !strings.Contains(again.body, "totp-secret") {
		t.Fatalf("%s after the refused confirmation: the app was added anyway", again.call)
	}

	r = lead.postJSON(t, "/account/2fa", "/account/2fa/passkey/begin", map[string]string{"name": "thief's key", "password": ""})
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.status != http.StatusUnprocessableEntity || !strings.Contains(e.Error, "That is not your password") {
		t.Fatalf("%s without the password = %d %s, want 422 with the catalog's words", r.call, r.status, r.body)
	}
	// This desk is at an IP address, where WebAuthn has no passkeys
	// (the browser test runs one at localhost): the right password gets
	// that answer, and the pages offer none.
	r = lead.postJSON(t, "/account/2fa", "/account/2fa/passkey/begin", map[string]string{"name": "Laptop", "password": staffPassword})
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "need a domain name") {
		t.Errorf("%s at an IP address = %d %s, want 404 saying passkeys need a domain name", r.call, r.status, r.body)
	}
	if strings.Contains(p.body, `id="passkey-add"`) {
		t.Errorf("%s offers to add a passkey at an IP address", p.call)
	}
}

// TestPasskeysOff: auth.passkeys false takes the passkey parts away.
func TestPasskeysOff(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.Auth.Passkeys = false })
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	b := d.browser(t)
	if p := b.get(t, "/login"); strings.Contains(p.body, "passkey") {
		t.Errorf("%s offers passkeys while they are off", p.call)
	}
	r := b.postJSON(t, "/login", "/login/passkey/begin", map[string]string{})
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "turned off") {
		t.Errorf("%s = %d %s, want 404 saying passkeys are off", r.call, r.status, r.body)
	}
	lead := d.login(t, "lead@desk.example")
	if p := lead.get(t, "/account/2fa"); strings.Contains(p.body, "passkey") {
		t.Errorf("%s offers passkeys while they are off", p.call)
	}
}

// TestRecoveryCodesRenewed: new recovery codes need the password, are
// shown once, and the old ones stop working.
func TestRecoveryCodesRenewed(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	lead := d.login(t, "lead@desk.example")
	_, codes := enrol(t, lead)
	renew := func(password string) response {
		return lead.post(t, "/account/2fa/recovery", url.Values{"password": {password}, "_csrf": {lead.csrf(t, "/account/2fa")}})
	}
	r := renew("a guess")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "That is not your password") {
		t.Fatalf("%s with a wrong password = %d, want 422 saying so:\n%s", r.call, r.status, clip(r.body))
	}
	r = renew(staffPassword)
	fresh := recoveryCodeRE.FindAllStringSubmatch(r.body, -1)
	if r.status != http.StatusOK || len(fresh) != cases.RecoveryCodeCount || !strings.Contains(r.body, "the old ones no longer work") {
		t.Fatalf("%s = %d with %d codes, want %d new codes shown once:\n%s", r.call, r.status, len(fresh), cases.RecoveryCodeCount, clip(r.body))
	}
	b := d.browser(t)
	b.submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {staffPassword}}).wantStatus(t, http.StatusSeeOther)
	if w := b.submit(t, "/login/2fa", url.Values{"code": {codes[1]}}); w.status != http.StatusUnauthorized {
		t.Fatalf("%s with a replaced code = %d, want 401", w.call, w.status)
	}
	if w := b.submit(t, "/login/2fa", url.Values{"code": {fresh[0][1]}, "next": {"/queue"}}); w.status != http.StatusSeeOther {
		t.Fatalf("%s with a new code = %d, want 303", w.call, w.status)
	}
}
