package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"notme/cases"
)

// TestWorkingACase: an agent takes the next case from the queue, contains
// and resolves it, with a note on the way; the reporter's status page
// follows. Untrained staff and forms without CSRF change nothing.
func TestWorkingACase(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	reporter := d.browser(t)
	ref, statusPath := reporter.report(t, d.mint(t, "ACC-77", "registration").Token, url.Values{"set_password": {"1"}})

	parcel := d.login(t, "parcel@desk.example")
	tok := parcel.csrf(t, "/login")
	parcel.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusForbidden)

	agent := d.login(t, "agent@desk.example")
	agent.post(t, "/cases/"+ref+"/status", url.Values{"status": {"contained"}}).wantStatus(t, http.StatusForbidden) // no CSRF token

	tok = agent.csrf(t, "/queue")
	r := agent.post(t, "/queue/take", url.Values{"_csrf": {tok}})
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() != "/cases/"+ref+"?done=taken" {
		t.Fatalf("%s: Location = %q, want the critical case %s", r.call, r.location(), ref)
	}
	page := agent.get(t, "/cases/"+ref)
	if !strings.Contains(page.body, "agent@desk.example") || !strings.Contains(page.body, "Mark contained") {
		t.Fatalf("%s does not show the agent as assignee and the contain action", page.call)
	}
	if r := agent.post(t, "/queue/take", url.Values{"_csrf": {tok}}); r.location() != "/queue?empty=1" {
		t.Errorf("%s with an empty queue: Location = %q, want /queue?empty=1", r.call, r.location())
	}
	if q := agent.get(t, "/queue?empty=1"); !strings.Contains(q.body, "No unassigned open case is waiting") {
		t.Errorf("%s does not say the queue is empty", q.call)
	}

	agent.post(t, "/cases/"+ref+"/note", url.Values{"_csrf": {tok}, "note": {"Links revoked in the account system."}}).wantStatus(t, http.StatusSeeOther)
	agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"resolved"}, "confirm": {"yes"}}).wantStatus(t, http.StatusConflict)
	agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)
	if s := reporter.get(t, statusPath); !strings.Contains(s.body, "Being handled by our security team") {
		t.Errorf("%s after containment does not say the security team is handling it", s.call)
	}
	agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"resolved"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	s := reporter.get(t, statusPath)
	// Nothing was confirmed by the account system: the page claims no removal.
	if !strings.Contains(s.body, "the removal of your address from the account has not been confirmed") || strings.Contains(s.body, "Links revoked") {
		t.Errorf("%s after resolution: want the closed message (no removal confirmed) and never the internal note", s.call)
	}
	page = agent.get(t, "/cases/"+ref)
	for _, want := range []string{"Links revoked in the account system.", "new → contained", "contained → resolved"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("%s timeline lacks %q", page.call, want)
		}
	}
	if strings.Contains(page.body, "Mark contained") || strings.Contains(page.body, ">Resolve<") {
		t.Errorf("%s still offers actions on a resolved case", page.call)
	}
	r = agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"dismissed"}, "reason": {""}, "confirm": {"yes"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
}

// TestEscalationReachesTheLeads: an agent escalates with a reason, the
// lead sees the case on /leads and de-escalates it; an agent cannot.
func TestEscalationReachesTheLeads(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-5", "postal_notice").Token, nil)

	agent := d.login(t, "agent@desk.example")
	tok := agent.csrf(t, "/queue")
	agent.post(t, "/cases/"+ref+"/escalate", url.Values{"_csrf": {tok}, "reason": {"card posted to a stranger"}}).wantStatus(t, http.StatusSeeOther)
	agent.post(t, "/cases/"+ref+"/deescalate", url.Values{"_csrf": {tok}, "reason": {"fine"}, "confirm": {"yes"}}).wantStatus(t, http.StatusForbidden)

	lead := d.login(t, "lead@desk.example")
	if r := lead.get(t, "/leads"); !strings.Contains(r.body, ref) || !strings.Contains(r.body, "card posted to a stranger") {
		t.Fatalf("%s does not list the escalated case %s with its reason", r.call, ref)
	}
	if r := lead.get(t, "/cases/"+ref); !strings.Contains(r.body, "card posted to a stranger") || !strings.Contains(r.body, "De-escalate") {
		t.Fatalf("%s lacks the escalation reason or the de-escalate action", r.call)
	}
	tok = lead.csrf(t, "/queue")
	lead.post(t, "/cases/"+ref+"/deescalate", url.Values{"_csrf": {tok}, "reason": {"owner reached by phone"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	if r := lead.get(t, "/leads"); strings.Contains(r.body, ref) {
		t.Errorf("%s still lists %s after de-escalation", r.call, ref)
	}
}

// TestAdminGrantsTheFlag: an admin marks a user security-trained from the
// admin page; from the next request the user can open security cases; the
// change is in the audit log. A lead cannot.
func TestAdminGrantsTheFlag(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "admin@desk.example", cases.RoleAdmin, false)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "new@desk.example", cases.RoleAgent, false)
	var id int64
	users, _ := d.app.Service.Users(context.Background())
	for _, u := range users {
		if u.Email == "new@desk.example" {
			id = u.ID
		}
	}
	path := "/admin/users/" + strconv.FormatInt(id, 10) + "/trained"

	newbie := d.login(t, "new@desk.example")
	newbie.get(t, "/queue").wantStatus(t, http.StatusForbidden)

	lead := d.login(t, "lead@desk.example")
	lead.post(t, path, url.Values{"_csrf": {lead.csrf(t, "/queue")}, "trained": {"true"}}).wantStatus(t, http.StatusForbidden)

	admin := d.login(t, "admin@desk.example")
	admin.post(t, path, url.Values{"_csrf": {admin.csrf(t, "/admin")}, "trained": {"true"}}).wantStatus(t, http.StatusSeeOther)
	newbie.get(t, "/queue").wantStatus(t, http.StatusOK)
	if r := admin.get(t, "/admin"); !strings.Contains(cells(r.body), "<td>admin@desk.example</td><td>granted security-trained</td><td>new@desk.example</td>") {
		t.Errorf("%s does not show the grant in the audit log", r.call)
	}
}

// TestDomainErrorsInTheReadersLanguage: a refusal from cases reads in the
// staff member's language, its stored values named, its numbers kept.
func TestDomainErrorsInTheReadersLanguage(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	reporter := d.browser(t)
	ref, _ := reporter.report(t, d.mint(t, "ACC-78", "registration").Token, nil)
	agent := d.login(t, "agent@desk.example")
	tok := agent.csrf(t, "/queue")
	for _, tc := range []struct {
		lang, want string
	}{
		{"en", "The note is empty."},
		{"ja", "メモが空です。"},
	} {
		r := agent.post(t, "/cases/"+ref+"/note?lang="+tc.lang, url.Values{"_csrf": {tok}, "note": {" "}})
		r.wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, tc.want) {
			t.Errorf("%s (%s) does not say %q", r.call, tc.lang, tc.want)
		}
	}
	long := strings.Repeat("長", cases.MaxNoteChars+1)
	r := agent.post(t, "/cases/"+ref+"/note?lang=ja", url.Values{"_csrf": {tok}, "note": {long}})
	if !strings.Contains(r.body, "メモが4001文字あります。入力できるのは4000文字までです。") {
		t.Errorf("%s (ja) does not count the note's characters in Japanese:\n%s", r.call, r.body)
	}
	agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)
	agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"resolved"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	r = agent.post(t, "/cases/"+ref+"/status?lang=ja", url.Values{"_csrf": {tok}, "status": {"contained"}})
	if want := "状態が「解決済み」の案件を「封じ込め済み」にすることはできません。"; !strings.Contains(r.body, want) {
		t.Errorf("%s (ja) does not say %q:\n%s", r.call, want, r.body)
	}
}
