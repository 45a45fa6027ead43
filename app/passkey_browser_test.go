package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"notme/cases"
)

// TestBrowserPasskey: a lead in Chromium, with the browser's virtual
// authenticator (a platform authenticator that keeps discoverable
// credentials and verifies its user), is sent to add a second factor,
// adds a passkey after typing the password again, signs out, signs in
// with the password and then the passkey, signs out, and signs in with
// the passkey alone. Each page they land on names them.
func TestBrowserPasskey(t *testing.T) {
	longTest(t, "Chromium, about 10 s")
	path := chromiumPath(t)
	d := startBrowserDesk(t, func(c *Config) {
		c.Auth.SecondFactorRoles = []string{"lead", "admin"}
		// WebAuthn binds passkeys to a domain name, never an IP address:
		// the desk is at localhost, as the demo is.
		c.HTTP.PublicURL = strings.Replace(c.HTTP.PublicURL, "//127.0.0.1:", "//localhost:", 1)
		c.HTTP.OpsAddr = "127.0.0.1:0" // not the fixed default another desk on this machine may hold
	})
	if !strings.HasPrefix(d.base, "http://localhost:") {
		t.Fatalf("desk at %s, want localhost", d.base)
	}
	bctx := startBrowser(t, path)
	shots := newScreenshots(t)

	lead := person(t, bctx, "en-GB,en;q=0.9")
	if _, err := chromedp.Call(lead, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	authenticator, err := chromedp.Call(lead, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	const email = "lead@example.com"
	who := func(what string) {
		t.Helper()
		got, err := chromedp.Run(lead, chromedp.Evaluate[string](`(document.querySelector('.who') || {}).textContent || ''`))
		if err != nil || strings.TrimSpace(got) != email {
			t.Fatalf("%s: the page names %q (%v), want %s", what, got, err, email)
		}
	}
	signOut := func() {
		t.Helper()
		if p := click(t, lead, `form[action="/logout"] button`); !strings.Contains(p.URL, "/login") {
			t.Fatalf("signing out led to %s", p.URL)
		}
	}

	enrol := login(t, lead, d, email, nil)
	if !strings.HasSuffix(enrol.URL, "/account/2fa") || !strings.Contains(enrol.Main, "Your role needs a second factor") {
		t.Fatalf("a lead's first sign-in led to %s, want /account/2fa saying a second factor is needed:\n%s", enrol.URL, enrol.Main)
	}
	if !exists(t, lead, `#passkey-add:not([hidden])`) {
		t.Fatalf("/account/2fa shows no form to add a passkey:\n%s", enrol.Main)
	}
	// The password is asked again: a wrong one adds nothing.
	if err := chromedp.Do(lead,
		chromedp.SendKeys(chromedp.CSS(`#passkey-name`), "Work laptop"),
		chromedp.SendKeys(chromedp.CSS(`#passkey-password`), "not the password at all"),
		chromedp.Click(chromedp.CSS(`#passkey-add button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#passkey-add [data-passkey-error]`)),
	); err != nil {
		t.Fatalf("add a passkey with a wrong password: %v", err)
	}
	msg, err := chromedp.Run(lead, chromedp.Evaluate[string](`document.querySelector('#passkey-add [data-passkey-error]').textContent`))
	if err != nil || !strings.Contains(msg, "not your password") {
		t.Fatalf("a wrong password says %q (%v), want that it is not the password", msg, err)
	}
	if _, err := chromedp.Run(lead, chromedp.Evaluate[bool](`document.querySelector('#passkey-password').value = '', true`)); err != nil {
		t.Fatalf("clear the password: %v", err)
	}
	added := do(t, lead, "add a passkey",
		chromedp.SendKeys(chromedp.CSS(`#passkey-password`), d.password(email)),
		chromedp.Click(chromedp.CSS(`#passkey-add button[type="submit"]`), chromedp.NodeVisible))
	if !strings.Contains(added.URL, "/account/2fa?passkey=added") || !strings.Contains(added.Main, "Your passkey is added") ||
		!strings.Contains(added.Main, "Work laptop") {
		t.Fatalf("adding a passkey led to %s:\n%s", added.URL, added.Main)
	}
	shots.take(t, lead, "passkey-added")
	who("after adding a passkey")
	if leads := open(t, lead, d.base+"/leads"); leads.Status != http.StatusOK || !strings.HasSuffix(leads.URL, "/leads") {
		t.Fatalf("/leads with a passkey = %d at %s, want the page: a passkey is the role's second factor", leads.Status, leads.URL)
	}
	signOut()

	// The password, then the passkey on the second page.
	second := login(t, lead, d, email, nil)
	if !strings.Contains(second.URL, "/login/2fa") || !strings.Contains(second.Main, "Use your passkey") {
		t.Fatalf("signing in with a password led to %s, want the second page offering the passkey:\n%s", second.URL, second.Main)
	}
	shots.take(t, lead, "passkey-second-factor")
	queue := click(t, lead, `#passkey-use`)
	// The wrong password typed when adding the passkey counted as a
	// failed attempt on the account: its owner is told once.
	if !strings.Contains(queue.URL, "/login/notice") || !strings.Contains(queue.Main, "1 sign-in attempt") {
		t.Fatalf("the passkey led to %s, want the notice of the one wrong password:\n%s", queue.URL, queue.Main)
	}
	queue = click(t, lead, `main a[href="/queue"]`)
	if !strings.HasSuffix(queue.URL, "/queue") {
		t.Fatalf("the passkey led to %s, want the queue:\n%s", queue.URL, queue.Main)
	}
	who("after the password and the passkey")
	if s := open(t, lead, d.base+"/account/sessions"); !strings.Contains(s.Main, "password and passkey") {
		t.Errorf("/account/sessions does not say how this browser signed in:\n%s", s.Main)
	}
	signOut()

	// The passkey alone: the authenticator verified its user.
	open(t, lead, d.base+"/login?next=%2Fleads")
	if !exists(t, lead, `#passkey-signin #passkey-use:not([hidden])`) {
		t.Fatal("/login offers no passkey sign-in")
	}
	shots.take(t, lead, "passkey-login")
	in := click(t, lead, `#passkey-signin #passkey-use`)
	if !strings.HasSuffix(in.URL, "/leads") || in.Status != http.StatusOK {
		t.Fatalf("the passkey sign-in led to %d at %s, want /leads:\n%s", in.Status, in.URL, in.Main)
	}
	who("after signing in with the passkey alone")
	if s := open(t, lead, d.base+"/account/sessions"); !strings.Contains(s.Main, "passkey") {
		t.Errorf("/account/sessions does not say this browser signed in with a passkey:\n%s", s.Main)
	}
	signOut()

	// The device refuses (its user not verified, as when the person
	// cancels): the page says so in the catalog's words, and nobody is
	// signed in.
	if _, err := chromedp.Call(lead, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{
		AuthenticatorID: authenticator.AuthenticatorID, IsUserVerified: false}); err != nil {
		t.Fatalf("WebAuthn.setUserVerified: %v", err)
	}
	open(t, lead, d.base+"/login")
	if err := chromedp.Do(lead,
		chromedp.Click(chromedp.CSS(`#passkey-signin #passkey-use`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#passkey-signin [data-passkey-error]`)),
	); err != nil {
		t.Fatalf("a refused passkey sign-in: %v", err)
	}
	refused, err := chromedp.Run(lead, chromedp.Evaluate[page](readPage))
	if err != nil || !strings.Contains(refused.Main, "No passkey was used") || !strings.HasSuffix(refused.URL, "/login") {
		t.Errorf("a refused passkey sign-in shows %s (%v), want the login page saying no passkey was used:\n%s", refused.URL, err, refused.Main)
	}
	if exists(t, lead, `.who`) {
		t.Error("signed in although the device refused")
	}

	// The audit log has the passkey's story.
	admin := cases.User{ID: -1, Role: cases.RoleAdmin}
	entries, err := d.app.Service.AuditLog(context.Background(), cases.Actor{User: &admin}, 200)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Action]++
	}
	if count[cases.AuditPasskeyAdded] != 1 || count[cases.AuditPasskeyUsed] != 2 {
		t.Errorf("audit has %d passkey_added and %d passkey_used, want 1 and 2", count[cases.AuditPasskeyAdded], count[cases.AuditPasskeyUsed])
	}
}
