package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminInvites: an admin adds a lead on /admin in a real
// browser, and the lead, in Japanese on a phone-sized page, sets their own
// password with the link and logs in. Both pages fit a 360-px phone.
func TestBrowserAdminInvites(t *testing.T) {
	longTest(t, "Chromium, about 10 s")
	path := chromiumPath(t)
	d := startBrowserDesk(t)
	bctx := startBrowser(t, path)
	shots := newScreenshots(t)

	admin := person(t, bctx, "en-GB,en;q=0.9")
	login(t, admin, d, "admin@example.com", nil)
	open(t, admin, d.base+"/admin")
	partsFitPhone(t, admin, "/admin", "#add-staff")
	shots.take(t, admin, "admin-add-staff")
	if err := chromedp.Do(admin,
		chromedp.SendKeys(chromedp.CSS(`form#add-staff input[name="email"]`), "mei.suzuki@example.com"),
		chromedp.SetValue(chromedp.CSS(`form#add-staff select[name="role"]`), "lead"),
		chromedp.Click(chromedp.CSS(`form#add-staff input[name="trained"]`)),
	); err != nil {
		t.Fatalf("fill the add-staff form: %v", err)
	}
	added := click(t, admin, `form#add-staff button[type="submit"]`)
	if added.Status != http.StatusOK || !strings.Contains(added.Main, "Invitation for mei.suzuki@example.com (lead) created") {
		t.Fatalf("adding staff answered %d:\n%s", added.Status, added.Main)
	}
	partsFitPhone(t, admin, "/admin with a new invitation link", "#invited", "#add-staff", "#invitations")
	shots.take(t, admin, "admin-invited")
	link, err := chromedp.Run(admin, chromedp.Evaluate[string](`document.querySelector('#invited input').value`))
	if err != nil || !strings.HasPrefix(link, d.base+"/invite/") {
		t.Fatalf("the invitation link on the page = %q, %v", link, err)
	}

	lead := person(t, bctx, "ja-JP,ja;q=0.9")
	invite := open(t, lead, link)
	if invite.Status != http.StatusOK || invite.Lang != "ja" || !strings.Contains(invite.Main, "リーダー") {
		t.Fatalf("the invitation page = %d in %q:\n%s", invite.Status, invite.Lang, invite.Main)
	}
	fitsPhone(t, lead, "the invitation page")
	shots.take(t, lead, "invite-ja")
	if err := chromedp.Do(lead,
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "suzuki's own passphrase"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password2"]`), "suzuki's own passphrase"),
	); err != nil {
		t.Fatalf("fill the password form: %v", err)
	}
	done := click(t, lead, `button[type="submit"]`)
	if !strings.Contains(done.Main, "パスワードを設定しました") {
		t.Fatalf("after setting the password the page says:\n%s", done.Main)
	}
	if err := chromedp.Do(lead,
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name="email"]`), "mei.suzuki@example.com"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name="password"]`), "suzuki's own passphrase"),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	queue := click(t, lead, `form[action="/login"] button[type="submit"]`)
	if !strings.HasSuffix(queue.URL, "/queue") {
		t.Errorf("the invited lead's login led to %s, want the queue:\n%s", queue.URL, queue.Main)
	}
}

// partsFitPhone checks that the elements sel of the page end within a
// 360-px-wide phone's screen. (It measures parts where another part of the
// page, such as /admin's staff and audit tables, is not yet made to fit.)
func partsFitPhone(t *testing.T, ctx context.Context, what string, sel ...string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	for _, s := range sel {
		var right float64
		if err == nil {
			right, err = chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(() => {
				const el = document.querySelector(%q);
				return el ? Math.max(el.getBoundingClientRect().left + el.scrollWidth, el.getBoundingClientRect().right) : 1e6;
			})()`, s)))
		}
		if err == nil && right > 360 {
			t.Errorf("%s: %s ends at %.0f px on a 360-px phone: the reader must scroll sideways", what, s, right)
		}
	}
	if err != nil {
		t.Fatalf("measure %s at 360 px: %v", what, err)
	}
	resetViewport(t, ctx, what)
}
