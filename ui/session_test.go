package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// expireSessions moves every session's end into the past, as time would.
func expireSessions(t *testing.T, d *desk) {
	t.Helper()
	if d.exec(t, "UPDATE sessions SET expires_at = ?", time.Now().Add(-time.Minute).UTC()) == 0 {
		t.Fatal("expire sessions: no session to expire")
	}
}

// TestSessionExpiry: a staff member whose session ran out is sent to the
// login page, which says why, and after logging in again lands on the page
// they were on; a form posted with an expired session changes nothing and
// returns to its case.
func TestSessionExpiry(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "newsletter").Token, nil)
	ann := d.login(t, "ann@desk.example")
	ann.get(t, "/queue").wantStatus(t, http.StatusOK)
	expireSessions(t, d)

	path := "/queue?severity=low&kind=newsletter"
	r := ann.get(t, path)
	r.wantStatus(t, http.StatusSeeOther)
	want := "/login?expired=1&next=" + url.QueryEscape(path)
	if r.location() != want {
		t.Fatalf("%s with an expired session: Location = %q, want %q", r.call, r.location(), want)
	}
	if ck := strings.Join(r.header.Values("Set-Cookie"), "\n"); !strings.Contains(ck, "notme_session=;") {
		t.Errorf("%s: Set-Cookie = %q, want the dead session cookie removed", r.call, ck)
	}
	login := ann.get(t, r.location())
	login.wantStatus(t, http.StatusOK)
	if !strings.Contains(login.body, "Your session expired. Please log in again") ||
		!strings.Contains(login.body, `name="next" value="`+strings.ReplaceAll(path, "&", "&amp;")+`"`) {
		t.Fatalf("%s does not say the session expired and keep the return path:\n%s", login.call, clip(login.body))
	}
	back := ann.submit(t, r.location(), url.Values{"email": {"ann@desk.example"}, "password": {staffPassword}, "next": {path}})
	back.wantStatus(t, http.StatusSeeOther)
	if back.location() != path {
		t.Errorf("%s: Location = %q, want back to %s", back.call, back.location(), path)
	}

	// A form sent after expiry: nothing happens, and the way back is the case.
	// The form was shown in this session (its CSRF token is bound to it).
	tok := ann.csrf(t, "/cases/"+ref)
	expireSessions(t, d)
	r = ann.post(t, "/cases/"+ref+"/take", url.Values{"_csrf": {tok}})
	r.wantStatus(t, http.StatusSeeOther)
	if want := "/login?expired=1&next=" + url.QueryEscape("/cases/"+ref); r.location() != want {
		t.Errorf("%s with an expired session: Location = %q, want %q", r.call, r.location(), want)
	}
	reader := cases.Actor{User: &cases.User{ID: -1, Email: "test@desk.example", SecurityTrained: true}}
	if got, err := d.app.Service.CaseByRef(context.Background(), reader, ref); err != nil || got.Case.AssigneeID != nil {
		t.Errorf("CaseByRef(%s) = assignee %v, %v; a take posted with an expired session must assign nobody", ref, got.Case.AssigneeID, err)
	}

	// Never logged in: the login page without the expiry message.
	fresh := d.browser(t)
	r = fresh.get(t, "/cases/"+ref)
	if want := "/login?next=" + url.QueryEscape("/cases/"+ref); r.location() != want {
		t.Errorf("%s without a session: Location = %q, want %q", r.call, r.location(), want)
	}
	if p := fresh.get(t, r.location()); strings.Contains(p.body, "session expired") {
		t.Errorf("%s says the session expired to someone who never logged in", p.call)
	}
}

// TestLoginRefusesOpenRedirects: the return path only ever leads to a
// page of this desk.
func TestLoginRefusesOpenRedirects(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	for _, next := range []string{
		"https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
		"javascript:alert(1)", "http:/evil.example", "evil.example", "/\n/evil.example", " //evil.example", "",
	} {
		b := d.browser(t)
		page := b.get(t, "/login?next="+url.QueryEscape(next))
		if strings.Contains(page.body, "evil.example") {
			t.Errorf("%s carries the foreign target into the form", page.call)
		}
		r := b.submit(t, "/login?next="+url.QueryEscape(next), url.Values{"email": {"ann@desk.example"}, "password": {staffPassword}, "next": {next}})
		r.wantStatus(t, http.StatusSeeOther)
		loc := r.location()
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t\n") {
			t.Errorf("%s with next=%q: Location = %q, want a local path", r.call, next, loc)
		}
		if next != "" && loc != "/queue" {
			t.Errorf("%s with next=%q: Location = %q, want /queue", r.call, next, loc)
		}
	}
}
