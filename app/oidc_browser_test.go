package app

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"notme/internal/testop"
)

// TestBrowserSignInWithProvider: a security-trained agent signs in with
// Chromium through the provider's own login page (the in-process
// zitadel/oidc OpenID Provider) and lands on the queue; the session cookie,
// SameSite=Strict, arrives although the sign-in came back from another
// site.
func TestBrowserSignInWithProvider(t *testing.T) {
	longTest(t, "Chromium, about 20 s")
	path := chromiumPath(t)
	p := testop.Start(t)
	d := startBrowserDesk(t, func(c *Config) {
		o := &c.Auth.OIDC
		o.Issuer, o.Name, o.ClientID, o.ClientSecret = p.Issuer, "Example SSO", p.ClientID, Secret(p.Secret)
		o.Groups.Agent, o.Groups.SecurityTrained = []string{"desk-agents"}, []string{"security"}
	})
	p.Register(d.base)
	p.Users.Add("kenji.sato@corp.example", true, "desk-agents", "security")
	bctx := startBrowser(t, path)

	agent := person(t, bctx, "en-GB,en;q=0.9")
	login := open(t, agent, d.base+"/login")
	if !strings.Contains(login.Main, "Sign in with Example SSO") {
		t.Fatalf("the login page does not offer the provider:\n%s", login.Main)
	}
	form := click(t, agent, `a#sso`)
	if !strings.HasPrefix(form.URL, p.Issuer+testop.LoginPath) {
		t.Fatalf("Sign in with Example SSO led to %s, want the provider's login page", form.URL)
	}
	if err := chromedp.Do(agent,
		chromedp.SendKeys(chromedp.CSS(`input#username`), "kenji.sato@corp.example"),
		chromedp.SendKeys(chromedp.CSS(`input#password`), testop.Password),
	); err != nil {
		t.Fatalf("fill the provider's login form: %v", err)
	}
	// Back at the desk, the "signed in" page moves on by itself to the
	// queue: the page is read once the queue is there, not in between.
	if err := chromedp.Do(agent,
		chromedp.Click(chromedp.CSS(`button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/queue"][aria-current="page"]`)),
	); err != nil {
		at, _ := chromedp.Run(agent, chromedp.Evaluate[page](readPage))
		t.Fatalf("the queue did not open after signing in with the provider (at %s): %v\n%s", at.URL, err, at.Main)
	}
	q, err := chromedp.Run(agent, chromedp.Evaluate[page](readPage))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(q.URL, "/queue") || strings.Contains(q.Main, "security-trained") {
		t.Errorf("after signing in: %s, want the trained agent's queue:\n%s", q.URL, q.Main)
	}
}
