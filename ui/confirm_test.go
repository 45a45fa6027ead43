package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
)

// TestIrreversibleActionsNeedConfirmation: resolve, dismiss, de-escalate
// and the lead-only containment requests are refused with 400 and a
// confirmation page unless the form says confirm=yes; the case is left as
// it was; the page's own forms carry the second button; the confirmation
// page sends the same form again and then it works.
func TestIrreversibleActionsNeedConfirmation(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lee@desk.example", cases.RoleLead, true)
	key := d.readKey(t)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "registration").Token, url.Values{"set_password": {"1"}})
	lead := d.login(t, "lee@desk.example")
	tok := lead.csrf(t, "/cases/"+ref)
	lead.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)

	page := lead.get(t, "/cases/"+ref)
	for _, want := range []string{
		`<button type="submit" name="confirm" value="yes" class="danger">Yes, resolve the case</button>`,
		`<button type="submit" name="confirm" value="yes" class="danger">Yes, dismiss the case</button>`,
		`<button type="submit" name="confirm" value="yes" class="danger">Yes, de-escalate</button>`,
		`<button type="submit" name="confirm" value="yes" class="danger">Yes, request lock the account</button>`,
		`<button type="submit" name="confirm" value="yes" class="danger">Yes, request contact the holder another way</button>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("%s lacks the confirmation %s", page.call, want)
		}
	}
	if strings.Contains(page.body, `<option value="lock_account">`) {
		t.Errorf("%s offers lock_account in the one-click request list", page.call)
	}

	refused := []struct {
		path string
		form url.Values
		what string
	}{
		{"/status", url.Values{"status": {"resolved"}}, "resolve case"},
		{"/status", url.Values{"status": {"dismissed"}, "reason": {"test mail"}}, "dismiss case"},
		{"/status", url.Values{"status": {"dismissed"}, "reason": {"test mail"}, "confirm": {"no"}}, "dismiss case"},
		{"/deescalate", url.Values{"reason": {"owner reached"}}, "de-escalate case"},
		{"/containment", url.Values{"action": {"lock_account"}}, "request lock the account"},
		{"/containment", url.Values{"action": {"contact_owner"}}, "request contact the holder another way"},
	}
	for _, rf := range refused {
		rf.form.Set("_csrf", tok)
		r := lead.post(t, "/cases/"+ref+rf.path, rf.form)
		r.wantStatus(t, http.StatusBadRequest)
		r.wantHTML(t)
		if !strings.Contains(r.body, "Please confirm: "+rf.what) || !strings.Contains(r.body, "Nothing has changed yet") ||
			!strings.Contains(r.body, `name="confirm" value="yes"`) || !strings.Contains(r.body, `<a href="/cases/`+ref) {
			t.Errorf("%s %v: the 400 page should say what needs confirming, offer it and a way back:\n%s", r.call, rf.form, clip(r.body))
		}
	}
	c := d.caseByRef(t, key, ref)
	if c.Status != "contained" || !c.Escalated {
		t.Fatalf("after unconfirmed posts the case is %s, escalated %v; want contained and escalated, unchanged", c.Status, c.Escalated)
	}
	if p := lead.get(t, "/cases/"+ref); strings.Contains(strings.Join(containmentRows(p.body), " "), "lock_account") ||
		strings.Contains(strings.Join(containmentRows(p.body), " "), "contact_owner") {
		t.Errorf("%s: an unconfirmed lock_account was requested", p.call)
	}

	// The confirmation page's own form goes through.
	r := lead.post(t, "/cases/"+ref+"/deescalate", url.Values{"_csrf": {tok}, "reason": {"owner reached by phone"}})
	fields := hiddenFields(r.body)
	if fields.Get("reason") != "owner reached by phone" || fields.Get("_csrf") == "" {
		t.Fatalf("%s: the confirmation form carries %v, want the reason and a CSRF token", r.call, fields)
	}
	fields.Set("confirm", "yes")
	lead.post(t, "/cases/"+ref+"/deescalate", fields).wantStatus(t, http.StatusSeeOther)
	lead.post(t, "/cases/"+ref+"/containment", url.Values{"_csrf": {tok}, "action": {"lock_account"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	lead.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"resolved"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	if c := d.caseByRef(t, key, ref); c.Status != "resolved" || c.Escalated {
		t.Errorf("after confirmed posts the case is %s, escalated %v; want resolved and not escalated", c.Status, c.Escalated)
	}
	// Undoable actions need no confirmation.
	ref2, _ := d.browser(t).report(t, d.mint(t, "ACC-2", "newsletter").Token, nil)
	lead.post(t, "/cases/"+ref2+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)
	lead.post(t, "/cases/"+ref2+"/escalate", url.Values{"_csrf": {tok}, "reason": {"odd"}}).wantStatus(t, http.StatusSeeOther)
}

// hiddenFields returns the hidden inputs and the named submit button of
// the first POST form of a page.
func hiddenFields(body string) url.Values {
	out := url.Values{}
	i := strings.Index(body, `<form method="post" action="/cases/`)
	if i < 0 {
		return out
	}
	form := body[i:]
	form = form[:strings.Index(form, "</form>")]
	for _, m := range hiddenRE.FindAllStringSubmatch(form, -1) {
		out.Add(m[1], htmlUnescape(m[2]))
	}
	return out
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }
