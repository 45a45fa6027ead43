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

// TestLeadAssignsAndAssesses: a lead assigns a case to a trained agent
// (never to an untrained one), the queue shows who has it and its nearest
// deadline, and the lead records the breach assessment; agents can do
// neither.
func TestLeadAssignsAndAssesses(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	d.addUser(t, "carl@desk.example", cases.RoleAgent, false)
	ids := map[string]string{}
	users, err := d.app.Service.Users(context.Background())
	if err != nil {
		t.Fatalf("Users() = %v", err)
	}
	for _, u := range users {
		ids[u.Email] = strconv.FormatInt(u.ID, 10)
	}
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-9", "postal_notice").Token, nil)

	ann := d.login(t, "ann@desk.example")
	q := ann.get(t, "/queue")
	for _, want := range []string{"Next deadline", "contain · ", "min left", "nobody"} {
		if !strings.Contains(q.body, want) {
			t.Errorf("%s lacks %q", q.call, want)
		}
	}
	tok := ann.csrf(t, "/queue")
	ann.post(t, "/cases/"+ref+"/assign", url.Values{"_csrf": {tok}, "user_id": {ids["ann@desk.example"]}}).wantStatus(t, http.StatusForbidden)
	ann.post(t, "/cases/"+ref+"/assessment", url.Values{"_csrf": {tok}, "outcome": {"notifiable"}, "reason": {"x"}}).wantStatus(t, http.StatusForbidden)
	if p := ann.get(t, "/cases/"+ref); strings.Contains(p.body, "/assign") || strings.Contains(p.body, "Record the breach assessment") {
		t.Errorf("%s offers an agent the lead's assign or assessment forms", p.call)
	}

	lead := d.login(t, "lead@desk.example")
	p := lead.get(t, "/cases/"+ref)
	if !strings.Contains(p.body, `action="/cases/`+ref+`/assign"`) || !strings.Contains(p.body, "ann@desk.example</option>") ||
		strings.Contains(p.body, "carl@desk.example") || !strings.Contains(p.body, "Breach assessment") {
		t.Fatalf("%s: want an assign form listing trained staff only and the assessment deadline:\n%s", p.call, p.body)
	}
	tok = lead.csrf(t, "/cases/"+ref)
	lead.post(t, "/cases/"+ref+"/assign", url.Values{"_csrf": {tok}, "user_id": {ids["carl@desk.example"]}}).wantStatus(t, http.StatusForbidden)
	lead.post(t, "/cases/"+ref+"/assign", url.Values{"user_id": {ids["ann@desk.example"]}}).wantStatus(t, http.StatusForbidden) // no CSRF
	lead.post(t, "/cases/"+ref+"/assign", url.Values{"_csrf": {tok}, "user_id": {ids["ann@desk.example"]}}).wantStatus(t, http.StatusSeeOther)
	if p := lead.get(t, "/cases/"+ref); !strings.Contains(p.body, "Assigned to ann@desk.example.") {
		t.Errorf("%s timeline lacks the assignment", p.call)
	}
	if q := lead.get(t, "/queue"); !strings.Contains(q.body, `<td data-label="Assigned to">ann@desk.example</td>`) {
		t.Errorf("%s does not show the case assigned to ann", q.call)
	}

	lead.post(t, "/cases/"+ref+"/assessment", url.Values{"_csrf": {tok}, "outcome": {"perhaps"}, "reason": {"unsure"}}).wantStatus(t, http.StatusUnprocessableEntity)
	lead.post(t, "/cases/"+ref+"/assessment", url.Values{"_csrf": {tok}, "outcome": {"not_notifiable"}, "reason": {"only a first name was shown"}}).wantStatus(t, http.StatusSeeOther)
	p = lead.get(t, "/cases/"+ref)
	if !strings.Contains(p.body, "not notifiable (") || !strings.Contains(p.body, "only a first name was shown") {
		t.Errorf("%s lacks the recorded assessment and its reason", p.call)
	}
}
