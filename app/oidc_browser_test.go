package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"notme/cases"
	"notme/internal/testop"
)

// TestBrowserSignInWithProvider: three people sign in with Chromium
// through the provider's own login page (the in-process zitadel/oidc
// OpenID Provider), each with the role and training their groups give: a
// security-trained agent opens a security case, a lead reaches the leads'
// dashboard, and an agent without the security group is refused the case
// with a page that says why. The session cookie, SameSite=Strict, arrives
// although each sign-in came back from another site.
func TestBrowserSignInWithProvider(t *testing.T) {
	longTest(t, "Chromium, about 30 s")
	path := chromiumPath(t)
	p := testop.Start(t)
	d := startBrowserDesk(t, func(c *Config) {
		o := &c.Auth.OIDC
		o.Issuer, o.Name, o.ClientID, o.ClientSecret = p.Issuer, "Example SSO", p.ClientID, Secret(p.Secret)
		o.Groups.Agent, o.Groups.Lead, o.Groups.SecurityTrained = []string{"desk-agents"}, []string{"desk-leads"}, []string{"security"}
	})
	p.Register(d.base)
	p.Users.Add("kenji.sato@corp.example", true, "desk-agents", "security")
	p.Users.Add("yuki.mori@corp.example", true, "desk-leads", "security")
	p.Users.Add("parcel.desk@corp.example", true, "desk-agents")
	bctx := startBrowser(t, path)

	// A security case: someone set a password through a registration mail
	// that was not theirs.
	link := d.link("ACC-1001")
	filed, err := d.app.Service.FileReport(context.Background(), cases.ReportInput{
		Channel: cases.ChannelLink, Token: link[strings.LastIndex(link, "/")+1:], SetPassword: true,
	})
	if err != nil {
		t.Fatalf("FileReport(set a password) = %v", err)
	}
	casePage := d.base + "/cases/" + filed.CaseRef

	t.Run("trained agent", func(t *testing.T) {
		ctx := signInWithProvider(t, bctx, d, p, "kenji.sato@corp.example")
		if c := open(t, ctx, casePage); c.Status != http.StatusOK || !strings.Contains(c.Main, filed.CaseRef) {
			t.Errorf("the trained agent's %s = %d showing\n%s\nwant the security case", casePage, c.Status, c.Main)
		}
	})
	t.Run("lead", func(t *testing.T) {
		ctx := signInWithProvider(t, bctx, d, p, "yuki.mori@corp.example")
		leads := click(t, ctx, `nav a[href="/leads"]`)
		if leads.Status != http.StatusOK || !exists(t, ctx, fmt.Sprintf(`main a[href="/cases/%s"]`, filed.CaseRef)) {
			t.Errorf("the lead's /leads = %d showing\n%s\nwant the escalated case %s", leads.Status, leads.Main, filed.CaseRef)
		}
	})
	t.Run("agent without the security group", func(t *testing.T) {
		ctx := signInWithProvider(t, bctx, d, p, "parcel.desk@corp.example")
		if exists(t, ctx, `nav a[href="/leads"]`) {
			t.Errorf("an agent's navigation offers the leads' dashboard")
		}
		c := open(t, ctx, casePage)
		if c.Status != http.StatusForbidden || !strings.Contains(c.Main, "security-trained") || strings.Contains(c.Main, "ACC-1001") {
			t.Errorf("the untrained agent's %s = %d showing\n%s\nwant 403 saying security cases need training, and nothing of the case", casePage, c.Status, c.Main)
		}
	})
}

// signInWithProvider signs email in, in a browser context of its own,
// through the provider's login page, and returns once the desk's queue is
// there.
func signInWithProvider(t *testing.T, bctx context.Context, d browserDesk, p *testop.Provider, email string) context.Context {
	t.Helper()
	ctx := person(t, bctx, "en-GB,en;q=0.9")
	login := open(t, ctx, d.base+"/login")
	if !strings.Contains(login.Main, "Sign in with Example SSO") {
		t.Fatalf("the login page does not offer the provider:\n%s", login.Main)
	}
	form := click(t, ctx, `a#sso`)
	if !strings.HasPrefix(form.URL, p.Issuer+testop.LoginPath) {
		t.Fatalf("Sign in with Example SSO led to %s, want the provider's login page", form.URL)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input#username`), email),
		chromedp.SendKeys(chromedp.CSS(`input#password`), testop.Password),
	); err != nil {
		t.Fatalf("fill the provider's login form: %v", err)
	}
	// Back at the desk, the "signed in" page moves on by itself to the
	// queue: the page is read once the queue is there, not in between. The
	// wait has a bound of its own, so that the page it stopped at can
	// still be read and shown.
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(wait,
		chromedp.Click(chromedp.CSS(`button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/queue"][aria-current="page"]`)),
	); err != nil {
		at, _ := chromedp.Run(ctx, chromedp.Evaluate[page](readPage))
		t.Fatalf("the queue did not open after %s signed in with the provider (at %s): %v\n%s", email, at.URL, err, at.Main)
	}
	q, err := chromedp.Run(ctx, chromedp.Evaluate[page](readPage))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(q.URL, "/queue") {
		t.Fatalf("after %s signed in: %s, want the queue", email, q.URL)
	}
	return ctx
}
