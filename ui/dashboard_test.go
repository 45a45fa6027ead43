package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
)

// The leads' dashboard: containment times ("no data" before any), the
// reports chart as inline SVG with a table, patterns with masked
// addresses, and who revealed which address.
func TestLeadsDashboard(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	svc := d.app.Service
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	lead := d.login(t, "lead@desk.example")

	r := lead.get(t, "/leads")
	r.wantStatus(t, http.StatusOK)
	for _, want := range []string{"Time from report to containment", "no data", "No reports in the last 30 days", "Nobody has revealed an address"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("%s on an empty desk lacks %q", r.call, want)
		}
	}
	if strings.Contains(r.body, "<svg") {
		t.Errorf("%s draws a chart without reports", r.call)
	}

	// Three cases from one reporter at gmial.com, one of them contained.
	var refs []string
	for _, acct := range []string{"ACC-1", "ACC-2", "ACC-3"} {
		f, err := svc.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelAPI, Token: d.mint(t, acct, "password_reset").Token,
			Reporter: "taro.yamada@gmial.com"})
		if err != nil {
			t.Fatalf("FileReport(%s) = %v", acct, err)
		}
		refs = append(refs, f.CaseRef)
	}
	agent := d.login(t, "agent@desk.example")
	tok := agent.csrf(t, "/cases/"+refs[0])
	agent.post(t, "/cases/"+refs[0]+"/status", url.Values{"_csrf": {tok}, "status": {"contained"}}).wantStatus(t, http.StatusSeeOther)
	page := agent.get(t, "/cases/"+refs[0])
	field := regexpField(t, page.body, "reporter:")
	agent.post(t, "/cases/"+refs[0]+"/reveal", url.Values{"_csrf": {tok}, "field": {field}, "reason": {"repeat reporter check"}}).
		wantStatus(t, http.StatusSeeOther)

	r = lead.get(t, "/leads")
	r.wantStatus(t, http.StatusOK)
	for _, want := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-wide" role="img"`, "<title id=\"chart-title\">Reports per day by message kind",
		`<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-narrow" role="img"`, "<title id=\"chart-n-title\">Reports per day by message kind",
		"The same numbers as a table", "<th scope=\"col\">Password reset</th>",
		"t***@gmial.com", "<strong>gmial.com</strong>: 3 cases", refs[0], refs[1], refs[2],
		"<td>agent@desk.example</td><td>" + refs[0] + "</td>", "repeat reporter check",
	} {
		if !strings.Contains(cells(r.body), want) {
			t.Errorf("%s lacks %q", r.call, want)
		}
	}
	if strings.Contains(r.body, "taro.yamada") {
		t.Errorf("%s shows the reporter's address unmasked", r.call)
	}
	if strings.Contains(r.body, "SLA breaches: reserved") {
		t.Errorf("%s shows the SLA placeholder, which is a template comment", r.call)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy = %q, want the strict policy unchanged", r.call, csp)
	}
	// Agents do not see the dashboard.
	agent.get(t, "/leads").wantStatus(t, http.StatusForbidden)
}
