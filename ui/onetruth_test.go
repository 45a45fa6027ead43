package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notme/app"
	"notme/cases"
)

// nextStepRE is the case page's "Next step" section.
var nextStepRE = regexp.MustCompile(`(?s)<section class="next-step".*?</section>`)

// TestCaseNextStep: the case page shows the one next sensible action
// first, as the only primary button; "Mark contained" never leads on a
// case where nothing was asked of the account system.
func TestCaseNextStep(t *testing.T) {
	d := newDesk(t, func(c *app.Config) {
		// A kind that requests nothing by itself.
		c.Kinds["survey"] = app.KindConfig{Label: "Survey", LabelJA: "アンケート", Severity: "low"}
	})
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	reporter := d.browser(t)
	agent := d.login(t, "agent@desk.example")
	tok := agent.csrf(t, "/queue")
	next := func(ref string) string {
		t.Helper()
		p := agent.get(t, "/cases/"+ref)
		p.wantStatus(t, http.StatusOK)
		return nextStepRE.FindString(p.body)
	}
	primaries := func(section string) int { return strings.Count(section, `class="take"`) }

	reg, _ := reporter.report(t, d.mint(t, "ACC-1", "registration").Token, nil)
	if s := next(reg); !strings.Contains(s, `action="/cases/`+reg+`/take"`) || primaries(s) != 1 {
		t.Errorf("untaken new case: next step = %q, want the one Take button", s)
	}
	agent.post(t, "/cases/"+reg+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	// Its kind's containment was requested when the report came in.
	if s := next(reg); !strings.Contains(s, `name="status" value="contained"`) || primaries(s) != 1 {
		t.Errorf("taken case with containment requested: next step = %q, want Mark contained", s)
	}
	agent.post(t, "/cases/"+reg+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)
	if s := next(reg); !strings.Contains(s, `name="status" value="resolved"`) {
		t.Errorf("contained case: next step = %q, want Resolve", s)
	}

	survey, _ := reporter.report(t, d.mint(t, "ACC-2", "survey").Token, nil)
	agent.post(t, "/cases/"+survey+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	s := next(survey)
	if !strings.Contains(s, `action="/cases/`+survey+`/containment"`) || strings.Contains(s, "Mark contained") || primaries(s) != 1 {
		t.Errorf("exact match with nothing requested: next step = %q, want Request containment and not Mark contained", s)
	}

	d.register(t, cases.LedgerMessage{MessageID: "<reg-9@mail.example.com>", AccountRef: "ACC-9",
		Recipient: "taro@gmial.com", Kind: "registration", Subject: "Set your password"})
	r := d.api(t, http.MethodPost, "/api/v1/reports", d.addKey(t, cases.ScopeReportsWrite),
		jsonOf(t, map[string]any{"message_id": "<unknown@elsewhere.example>", "reporter": "taro@gmial.com"}))
	r.wantStatus(t, http.StatusCreated)
	var probable struct{ Ref string }
	r.jsonBody(t, &probable)
	agent.post(t, "/cases/"+probable.Ref+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	if s := next(probable.Ref); !strings.Contains(s, `/confirm-match"`) || primaries(s) != 1 {
		t.Errorf("probable match: next step = %q, want Confirm the match", s)
	}
	page := agent.get(t, "/cases/"+probable.Ref)
	for _, want := range []string{"probable (a person must confirm)", "probable match: the reporter&#39;s address received this account&#39;s mail"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("%s does not say the match plainly: lacks %q", page.call, want)
		}
	}

	r = d.api(t, http.MethodPost, "/api/v1/reports", d.addKey(t, cases.ScopeReportsWrite),
		jsonOf(t, map[string]any{"message_id": "<nobody@elsewhere.example>"}))
	var unmatched struct{ Ref string }
	r.jsonBody(t, &unmatched)
	agent.post(t, "/cases/"+unmatched.Ref+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	s = next(unmatched.Ref)
	if strings.Contains(s, "Mark contained") || primaries(s) != 0 || !strings.Contains(s, "Not matched to an account") {
		t.Errorf("unmatched case: next step = %q, want advice and no primary button", s)
	}
	// (The timeline's texts are the event writers' and are not read here.)
	page = agent.get(t, "/cases/"+unmatched.Ref)
	reports := regexp.MustCompile(`(?s)<ol class="reports">.*?</ol>`).FindString(page.body)
	if strings.Contains(reports, "match by none") || !strings.Contains(reports, `<li id="report-1">`) || !strings.Contains(reports, "not matched to an account") {
		t.Errorf("%s words the unmatched report as ids rather than plainly:\n%s", page.call, reports)
	}
	if strings.Count(page.body, `class="take"`) != 0 {
		t.Errorf("%s offers a primary button on an unmatched case with nothing to request", page.call)
	}
}

// TestActionsConfirm: every action answers with a short message, in the
// reader's language, on the page it redirects to; a code the desk does not
// know shows nothing.
func TestActionsConfirm(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	reporter := d.browser(t)
	ref, _ := reporter.report(t, d.mint(t, "ACC-5", "postal_notice").Token, nil)
	lead := d.login(t, "lead@desk.example")
	tok := lead.csrf(t, "/queue")
	var agentID string
	if m := regexp.MustCompile(`<option value="(\d+)">agent@desk.example</option>`).FindStringSubmatch(lead.get(t, "/cases/"+ref).body); m != nil {
		agentID = m[1]
	}

	for _, st := range []struct {
		path string
		form url.Values
		en   string
		ja   string
	}{
		{"/queue/take", nil, "You now work this case.", "この案件の担当になりました。"},
		{"/cases/" + ref + "/note", url.Values{"note": {"Called the post office."}}, "Note added.", "メモを追加しました。"},
		{"/cases/" + ref + "/assign", url.Values{"user_id": {agentID}}, "Case assigned.", "担当者を割り当てました。"},
		{"/cases/" + ref + "/escalate", url.Values{"reason": {"Card posted"}}, "Escalated: the leads see this case now.", "エスカレーションしました。"},
		{"/cases/" + ref + "/deescalate", url.Values{"reason": {"Handled"}, "confirm": {"yes"}}, "De-escalated", "エスカレーションを解除しました。"},
		{"/cases/" + ref + "/containment", url.Values{"action": {"revoke_pending_links"}}, "Containment requested from the account system.", "封じ込めを依頼しました。"},
		{"/cases/" + ref + "/assessment", url.Values{"outcome": {"not_notifiable"}, "reason": {"Only a first name"}}, "Breach assessment recorded.", "漏えい評価を記録しました。"},
		{"/cases/" + ref + "/status", url.Values{"status": {"contained"}}, "Marked contained.", "封じ込め済みにしました。"},
		{"/cases/" + ref + "/status", url.Values{"status": {"resolved"}, "confirm": {"yes"}}, "Case resolved", "案件を解決しました。"},
	} {
		form := url.Values{"_csrf": {tok}}
		for k, v := range st.form {
			form[k] = v
		}
		r := lead.post(t, st.path, form)
		r.wantStatus(t, http.StatusSeeOther)
		loc, err := url.Parse(r.location())
		if err != nil || loc.Query().Get("done") == "" {
			t.Errorf("%s: Location = %q, want a ?done= confirmation", r.call, r.location())
			continue
		}
		if p := lead.get(t, loc.RequestURI()); !strings.Contains(p.body, `<p class="notice done" role="status">`+htmlEscape(st.en)) {
			t.Errorf("%s after %s does not confirm %q", p.call, st.path, st.en)
		}
		q := loc.Query()
		q.Set("lang", "ja")
		loc.RawQuery = q.Encode()
		if p := lead.get(t, loc.RequestURI()); !strings.Contains(p.body, st.ja) {
			t.Errorf("%s after %s does not confirm %q in Japanese", p.call, st.path, st.ja)
		}
		lead.get(t, "/queue?lang=en")
	}
	if p := lead.get(t, "/cases/"+ref+"?done=%3Cscript%3Ealert(1)%3C/script%3E"); strings.Contains(p.body, `class="notice done"`) {
		t.Errorf("%s shows a confirmation for a code the desk does not know", p.call)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestNewEvidenceOnTheCasePage: "I set a password" on a case contained
// for an earlier click puts it back in front of people: the case page
// says so, is new again with a fresh contain-by, and the queue marks it.
func TestNewEvidenceOnTheCasePage(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	token := d.mint(t, "ACC-7", "registration").Token
	first := d.browser(t)
	ref, _ := first.report(t, token, nil)
	agent := d.login(t, "agent@desk.example")
	tok := agent.csrf(t, "/queue")
	agent.post(t, "/cases/"+ref+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	agent.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)

	second := d.browser(t)
	if again, _ := second.report(t, token, url.Values{"set_password": {"1"}}); again != ref {
		t.Fatalf("the second report opened %s, want it on %s", again, ref)
	}
	page := agent.get(t, "/cases/"+ref)
	for _, want := range []string{
		"New evidence since containment",
		"<dt>Status</dt><dd>new</dd>",
		`<dt>Contain by</dt><dd class="deadline dl-pending">`,
		`class="sev sev-critical">critical</span>`,
		"Escalated: the leads see this case.",
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("%s lacks %q", page.call, want)
		}
	}
	if strings.Contains(page.body, "(met)") {
		t.Errorf("%s still calls the contain-by deadline met", page.call)
	}
	if s := nextStepRE.FindString(page.body); !strings.Contains(s, "New evidence since containment: request what it calls for") || strings.Contains(s, "Mark contained") {
		t.Errorf("%s next step = %q, want to request more containment, not to mark it contained", page.call, s)
	}
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	lead := d.login(t, "lead@desk.example")
	if s := nextStepRE.FindString(lead.get(t, "/cases/"+ref).body); !strings.Contains(s, `name="action" value="lock_account"`) {
		t.Errorf("a lead's next step on %s = %q, want to request lock_account", ref, s)
	}
	if q := agent.get(t, "/queue"); !strings.Contains(q.body, `<span class="badge new-evidence">new evidence</span>`) {
		t.Errorf("%s does not mark the case's new evidence", q.call)
	}
	if p := agent.get(t, "/cases/"+ref+"?lang=ja"); !strings.Contains(p.body, "封じ込め後に新たな証拠があります") {
		t.Errorf("%s does not say so in Japanese", p.call)
	}
}
