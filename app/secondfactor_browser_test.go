package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// TestBrowserSecondFactor: a lead signing in with a password in Chromium
// is sent to add an authenticator app, scans nothing but reads the key off
// the page (the test is the app: it computes the codes in Go), confirms
// it, keeps the recovery codes, and signs in again with a code on the
// second page.
func TestBrowserSecondFactor(t *testing.T) {
	longTest(t, "Chromium, about 10 s")
	path := chromiumPath(t)
	d := startBrowserDesk(t, func(c *Config) { c.Auth.SecondFactorRoles = []string{"lead", "admin"} })
	bctx := startBrowser(t, path)
	shots := newScreenshots(t)

	lead := person(t, bctx, "en-GB,en;q=0.9")
	enrol := login(t, lead, d, "lead@example.com", nil)
	if !strings.HasSuffix(enrol.URL, "/account/2fa") || !strings.Contains(enrol.Main, "Your role needs a second factor") {
		t.Fatalf("a lead's first sign-in led to %s, want /account/2fa saying a second factor is needed:\n%s", enrol.URL, enrol.Main)
	}
	if other := open(t, lead, d.base+"/leads"); !strings.HasSuffix(other.URL, "/account/2fa") {
		t.Fatalf("/leads before enrolling led to %s, want /account/2fa", other.URL)
	}
	shots.take(t, lead, "second-factor-enrol")
	qrShown, err := chromedp.Run(lead, chromedp.Evaluate[bool](`(() => { const i = document.querySelector('#totp-qr'); return i.complete && i.naturalWidth > 100; })()`))
	if err != nil || !qrShown {
		t.Fatalf("the QR code did not load as an image: %v", err)
	}
	secret, err := chromedp.Run(lead, chromedp.Evaluate[string](`document.querySelector('#totp-secret').textContent.replaceAll(' ', '')`))
	if err != nil || len(secret) != 32 {
		t.Fatalf("the key on the page = %q, %v; want 32 base32 characters", secret, err)
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatalf("GenerateCode() = %v", err)
		}
		return c
	}
	if err := chromedp.Do(lead,
		chromedp.SendKeys(chromedp.CSS(`form[action="/account/2fa"] input[name="code"]`), code(time.Now())),
		chromedp.SendKeys(chromedp.CSS(`form[action="/account/2fa"] input[name="password"]`), d.password("lead@example.com")),
	); err != nil {
		t.Fatalf("type the code and the password: %v", err)
	}
	codes := click(t, lead, `form[action="/account/2fa"] button[type="submit"]`)
	if codes.Status != http.StatusOK || strings.Count(codes.Main, "-") < 30 || !strings.Contains(codes.Main, "shown only now") {
		t.Fatalf("confirming the app answered %d:\n%s", codes.Status, codes.Main)
	}
	shots.take(t, lead, "second-factor-codes")
	if leads := click(t, lead, `a.button.primary`); !strings.HasSuffix(leads.URL, "/queue") {
		t.Fatalf("after keeping the codes: %s, want the queue", leads.URL)
	}
	if leads := open(t, lead, d.base+"/leads"); leads.Status != http.StatusOK || !strings.HasSuffix(leads.URL, "/leads") {
		t.Fatalf("/leads after enrolling = %d at %s", leads.Status, leads.URL)
	}

	// Another browser: the password, then the code on the second page.
	again := person(t, bctx, "en-GB,en;q=0.9")
	second := login(t, again, d, "lead@example.com", nil)
	if !strings.Contains(second.URL, "/login/2fa") {
		t.Fatalf("signing in with a password led to %s, want the second page:\n%s", second.URL, second.Main)
	}
	shots.take(t, again, "second-factor-login")
	// The next step's code: the one just used to confirm is spent.
	if err := chromedp.Do(again, chromedp.SendKeys(chromedp.CSS(`form[action="/login/2fa"] input[name="code"]`), code(time.Now().Add(30*time.Second)))); err != nil {
		t.Fatalf("type the code: %v", err)
	}
	queue := click(t, again, `form[action="/login/2fa"] button[type="submit"]`)
	if !strings.HasSuffix(queue.URL, "/queue") {
		t.Fatalf("the code led to %s, want the queue:\n%s", queue.URL, queue.Main)
	}
	sessions := open(t, again, d.base+"/account/sessions")
	if !strings.Contains(sessions.Main, "password and authenticator app") {
		t.Errorf("/account/sessions does not say how this browser signed in:\n%s", sessions.Main)
	}
}
