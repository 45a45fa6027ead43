package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// seedAudit writes n entries of an hour ago, a millisecond apart, in id
// order: older than cases.AuditSettle, so every reader sees them.
func seedAudit(t *testing.T, d *desk, n int) []cases.AuditEntry {
	t.Helper()
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	es := make([]cases.AuditEntry, n)
	for i := range es {
		es[i] = cases.AuditEntry{At: start.Add(time.Duration(i) * time.Millisecond), Actor: "user:old@example.com",
			Action: cases.AuditRevealAddress, Subject: fmt.Sprintf("case:NM-%04d", i), Args: cases.Args{"where": "recipient", "reason": "call"}}
	}
	if err := d.app.DB.Store.Writer().CreateInBatches(&es, 500).Error; err != nil {
		t.Fatalf("insert %d audit entries: %v", n, err)
	}
	return es
}

// ndjson decodes an export, failing on a line that is not an entry.
func ndjson(t *testing.T, r response) []cases.AuditJSON {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("%s: Content-Type = %q, want application/x-ndjson; body %s", r.call, ct, clip(r.body))
	}
	var out []cases.AuditJSON
	for _, l := range strings.Split(strings.TrimSuffix(r.body, "\n"), "\n") {
		var e cases.AuditJSON
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.ID == 0 {
			t.Fatalf("%s: line %q is not an audit entry: %v", r.call, l, err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditAPI(t *testing.T) {
	d := newDesk(t)
	es := seedAudit(t, d, cases.AuditPageMax+5)
	// Written now, so not yet settled: no page shows it.
	d.addUser(t, "lead@example.com", cases.RoleLead, true)
	d.login(t, "lead@example.com")

	d.api(t, "GET", "/api/v1/audit", "", nil).wantStatus(t, http.StatusUnauthorized)
	d.api(t, "GET", "/api/v1/audit", d.addKey(t, cases.ScopeCasesRead, cases.ScopeCasesWrite), nil).wantStatus(t, http.StatusForbidden)
	key := d.addKey(t, cases.ScopeAuditRead)

	var ids []int64
	after := ""
	for pages := 1; ; pages++ {
		r := d.api(t, "GET", "/api/v1/audit?limit=400&since=2026-01-01"+after, key, nil)
		r.wantStatus(t, http.StatusOK)
		var page struct {
			Entries []cases.AuditJSON `json:"entries"`
			Next    *int64            `json:"next_after"`
		}
		r.jsonBody(t, &page)
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if page.Next == nil {
			if pages != 3 {
				t.Errorf("paging by 400 took %d pages, want 3", pages)
			}
			break
		}
		if pages > 3 {
			t.Fatalf("GET /api/v1/audit still has a next page after %d", pages)
		}
		after = fmt.Sprintf("&after=%d", *page.Next)
	}
	if len(ids) != len(es) || ids[0] != es[0].ID || ids[len(ids)-1] != es[len(es)-1].ID {
		t.Fatalf("the pages hold %d entries from %d to %d; want the %d seeded, %d to %d", len(ids), ids[0], ids[len(ids)-1], len(es), es[0].ID, es[len(es)-1].ID)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("page entry %d has id %d after %d, want id order", i, ids[i], ids[i-1])
		}
	}

	// The stream holds more than a page, the same entries, and a key's
	// reading is not recorded.
	r := d.api(t, "GET", "/api/v1/audit?format=ndjson", key, nil)
	r.wantStatus(t, http.StatusOK)
	lines := ndjson(t, r)
	if len(lines) != len(es) || lines[len(lines)-1].ID != es[len(es)-1].ID || lines[0].Args["reason"] != "call" || !strings.HasSuffix(lines[0].At, "Z") {
		t.Fatalf("ndjson export: %d lines, last %+v; want the %d seeded entries", len(lines), lines[len(lines)-1], len(es))
	}
	since := url.QueryEscape(es[len(es)-2].At.Format(time.RFC3339Nano))
	r = d.api(t, "GET", "/api/v1/audit?format=ndjson&since="+since, key, nil)
	if lines := ndjson(t, r); len(lines) != 2 {
		t.Errorf("ndjson since the last but one = %d lines, want 2", len(lines))
	}

	for _, q := range []string{"since=yesterday", "limit=5000", "after=x", "format=csv", "action=drop_table"} {
		d.api(t, "GET", "/api/v1/audit?"+q, key, nil).wantStatus(t, http.StatusUnprocessableEntity)
	}
}

func TestAuditConsoleForLeads(t *testing.T) {
	d := newDesk(t)
	seedAudit(t, d, 60)
	d.addUser(t, "lead@example.com", cases.RoleLead, true)
	d.addUser(t, "agent@example.com", cases.RoleAgent, true)
	lead := d.login(t, "lead@example.com")

	r := lead.get(t, "/admin/audit?lang=ja")
	r.wantStatus(t, http.StatusOK)
	r.wantHTML(t)
	// The lead's own sign-in, newest first, in Japanese.
	if !strings.Contains(r.body, "サインイン") || !strings.Contains(r.body, "アドレスを表示") || !strings.Contains(r.body, `rel="next"`) {
		t.Fatalf("GET /admin/audit?lang=ja: want the sign-in, the reveals in Japanese and a link to older entries:\n%s", clip(r.body))
	}
	older := strings.ReplaceAll(regexpFind(t, r.body, `href="(/admin/audit\?before=[^"]+)" rel="next"`), "&amp;", "&")
	r = lead.get(t, older)
	r.wantStatus(t, http.StatusOK)
	if n := strings.Count(r.body, "NM-00"); n != 11 {
		t.Errorf("GET %s shows %d entries, want the 11 older than the first 50", older, n)
	}
	r = lead.get(t, "/admin/audit?lang=en&action=sign_in&actor="+url.QueryEscape("user:lead@example.com"))
	if !strings.Contains(cells(r.body), "<td>lead@example.com</td>") || strings.Contains(r.body, "NM-00") {
		t.Errorf("GET /admin/audit filtered to the lead's sign-ins: want those alone:\n%s", clip(r.body))
	}

	// The download is a form with its CSRF token; it is on the record.
	csrf := lead.csrf(t, "/admin/audit")
	lead.post(t, "/admin/audit/export", url.Values{"since": {"2026-01-01"}}).wantStatus(t, http.StatusForbidden)
	r = lead.post(t, "/admin/audit/export", url.Values{"_csrf": {csrf}, "since": {"2026-01-01"}, "until": {"2100-01-01"}})
	r.wantStatus(t, http.StatusOK)
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("export Content-Disposition = %q, want an attachment", cd)
	}
	lines := ndjson(t, r)
	last := lines[len(lines)-1]
	if len(lines) != 62 || last.Action != cases.AuditExported || last.Actor != "user:lead@example.com" || last.Args["since"] != "2026-01-01T00:00:00Z" {
		t.Fatalf("export: %d lines ending %+v; want the 60 seeded, the sign-in and the lead's export", len(lines), last)
	}
	r = lead.get(t, "/admin/audit?lang=en&action=audit_exported")
	if !strings.Contains(r.body, "exported the audit log") || !strings.Contains(r.body, "from 2026-01-01 00:00 UTC before 2100-01-01 00:00 UTC") {
		t.Errorf("GET /admin/audit after the export: want it listed with its range:\n%s", clip(r.body))
	}

	agent := d.login(t, "agent@example.com")
	agent.get(t, "/admin/audit").wantStatus(t, http.StatusForbidden)
	agentCSRF := agent.csrf(t, "/account/sessions")
	agent.post(t, "/admin/audit/export", url.Values{"_csrf": {agentCSRF}, "since": {"2026-01-01"}}).wantStatus(t, http.StatusForbidden)
	if es, err := d.app.Service.AuditNewest(context.Background(), cases.Actor{User: &cases.User{Role: cases.RoleAdmin}},
		cases.AuditFilter{Action: cases.AuditExported}); err != nil || len(es) != 1 {
		t.Errorf("exports on record = %d, %v; want only the lead's", len(es), err)
	}
}

// regexpFind returns the first group of pattern in s, failing if none.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, clip(s))
	}
	return m[1]
}
