package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
)

// queueRowRE finds the case references listed in the queue's table.
var queueRowRE = regexp.MustCompile(`<th scope="row"><a href="/cases/(NM-[^"]+)">`)

func queueRows(body string) []string {
	var out []string
	for _, m := range queueRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// optionCount returns the label and count of the option value of select
// name as the page shows it, "" when it is missing.
func optionText(t *testing.T, body, name, value string) string {
	t.Helper()
	i := strings.Index(body, `<select name="`+name+`">`)
	if i < 0 {
		t.Fatalf("no <select name=%q> in the queue", name)
	}
	sel := body[i:]
	sel = sel[:strings.Index(sel, "</select>")]
	re := regexp.MustCompile(`<option value="` + regexp.QuoteMeta(value) + `"( selected)?>([^<]*)</option>`)
	m := re.FindStringSubmatch(sel)
	if m == nil {
		return ""
	}
	return m[2] + m[1]
}

// queueDesk has one trained agent (ann) and a lead, and four open cases
// and one dismissed case of different kinds, severities and assignees.
type queueDesk struct {
	*desk
	crit, post, news, unmatched, dismissed string
}

func newQueueDesk(t *testing.T) queueDesk {
	t.Helper()
	d := newDesk(t)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lee@desk.example", cases.RoleLead, true)
	ctx := context.Background()
	q := queueDesk{desk: d}
	reporter := d.browser(t)
	q.crit, _ = reporter.report(t, d.mint(t, "ACC-CRIT", "registration").Token, url.Values{"set_password": {"1"}})
	q.post, _ = reporter.report(t, d.mint(t, "ACC-POST", "postal_notice").Token, nil)
	q.news, _ = reporter.report(t, d.mint(t, "ACC-NEWS", "newsletter").Token, nil)
	d.register(t, cases.LedgerMessage{MessageID: "order-1@shop.example", AccountRef: "ACC-ORDER", Recipient: "holder@example.com", Kind: "order_confirmation"})
	f, err := d.app.Service.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelMail, Reporter: "Stranger@Example.ORG",
		MessageIDs: []string{"<nothing-we-sent@elsewhere.example>"}})
	if err != nil {
		t.Fatalf("FileReport(unmatched mail) = %v", err)
	}
	q.unmatched = f.CaseRef
	f, err = d.app.Service.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelMail, Reporter: "other@example.net",
		MessageIDs: []string{"<order-1@shop.example>"}})
	if err != nil {
		t.Fatalf("FileReport(order mail) = %v", err)
	}
	q.dismissed = f.CaseRef
	lead := d.login(t, "lee@desk.example")
	tok := lead.csrf(t, "/queue")
	lead.post(t, "/cases/"+q.dismissed+"/status", url.Values{"_csrf": {tok}, "status": {"dismissed"}, "reason": {"test mail"},
		"confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	ann := d.login(t, "ann@desk.example")
	tok = ann.csrf(t, "/queue")
	ann.post(t, "/cases/"+q.post+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	return q
}

// TestQueueFilters: each filter narrows the list, the form keeps it, and
// each option shows how many cases choosing it would list.
func TestQueueFilters(t *testing.T) {
	d := newQueueDesk(t)
	ann := d.login(t, "ann@desk.example")

	all := ann.get(t, "/queue")
	all.wantStatus(t, http.StatusOK)
	if got := queueRows(all.body); len(got) != 4 || !strings.Contains(strings.Join(got, " "), d.crit) || strings.Contains(strings.Join(got, " "), d.dismissed) {
		t.Fatalf("%s lists %v, want the 4 open cases and not the dismissed %s", all.call, got, d.dismissed)
	}
	for _, c := range []struct{ name, value, want string }{
		{"severity", "", "any (4) selected"},
		{"severity", "critical", "critical (1)"},
		{"severity", "low", "low (1)"},
		{"status", "", "open (4) selected"},
		{"status", "dismissed", "dismissed (1)"},
		{"status", "all", "all (5)"},
		{"match", "unmatched", "unmatched (1)"},
		{"match", "exact", "exact (3)"},
		{"escalated", "yes", "escalated (1)"},
		{"assignee", "me", "me (1)"},
		{"assignee", "none", "nobody (3)"},
		{"kind", "newsletter", "Newsletter (1)"},
	} {
		if got := optionText(t, all.body, c.name, c.value); !strings.HasPrefix(got, c.want) && got != c.want {
			t.Errorf("%s: %s option %q = %q, want %q", all.call, c.name, c.value, got, c.want)
		}
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"severity=critical", []string{d.crit}},
		{"assignee=me", []string{d.post}},
		{"assignee=none&severity=high", nil},
		{"match=unmatched", []string{d.unmatched}},
		{"kind=newsletter", []string{d.news}},
		{"escalated=yes", []string{d.crit}},
		{"status=dismissed", []string{d.dismissed}},
		{"status=all&kind=order_confirmation", []string{d.dismissed}},
		{"severity=bogus", nil}, // an unknown value means any: 4 rows, checked below
	}
	for _, tt := range tests {
		r := ann.get(t, "/queue?"+tt.query)
		r.wantStatus(t, http.StatusOK)
		got := queueRows(r.body)
		if tt.query == "severity=bogus" {
			if len(got) != 4 {
				t.Errorf("%s lists %v, want every open case for an unknown value", r.call, got)
			}
			continue
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s lists %v, want %v", r.call, got, tt.want)
		}
		if len(tt.want) == 0 && !strings.Contains(r.body, `No case matches these filters — <a href="/queue">clear filters</a>`) {
			t.Errorf("%s: an empty filtered list should offer to clear the filters", r.call)
		}
	}

	// The form keeps the view: the chosen values are selected, and the
	// counts of the other filters follow it.
	r := ann.get(t, "/queue?kind=registration&assignee=none")
	for _, c := range []struct{ name, value, want string }{
		{"kind", "registration", "Registration / set your password (1) selected"},
		{"kind", "newsletter", "Newsletter (1)"},
		{"assignee", "none", "nobody (1) selected"},
		{"severity", "critical", "critical (1)"},
		{"severity", "low", "low (0)"},
	} {
		if got := optionText(t, r.body, c.name, c.value); got != c.want {
			t.Errorf("%s: %s option %q = %q, want %q", r.call, c.name, c.value, got, c.want)
		}
	}
	if !strings.Contains(r.body, `<a href="/queue" class="clear">Clear filters</a>`) {
		t.Errorf("%s: a filtered view has no link to clear the filters", r.call)
	}
	if r := ann.get(t, "/queue?assignee=none"); !strings.Contains(r.body, "min left") {
		t.Errorf("%s does not show the time left to the deadline", r.call)
	}
}

// TestQueueSearch: each kind of exact search, the reference going
// straight to the case, and what a search that finds nothing says.
func TestQueueSearch(t *testing.T) {
	d := newQueueDesk(t)
	ann := d.login(t, "ann@desk.example")

	r := ann.get(t, "/queue?q="+url.QueryEscape(strings.ToLower(d.news)))
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() != "/cases/"+d.news {
		t.Errorf("%s: Location = %q, want the case /cases/%s", r.call, r.location(), d.news)
	}
	tests := []struct {
		name, q, by string
		want        []string
	}{
		{"report Message-ID", "<order-1@shop.example>", "Message-ID", []string{d.dismissed}},
		{"ledger Message-ID", "order-1@shop.example", "Message-ID", []string{d.dismissed}},
		{"account ref", "ACC-POST", "account", []string{d.post}},
		{"reporter address, any case", "stranger@example.org", "reporter", []string{d.unmatched}},
	}
	for _, tt := range tests {
		r := ann.get(t, "/queue?q="+url.QueryEscape(tt.q))
		r.wantStatus(t, http.StatusOK)
		if got := queueRows(r.body); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s (%s) lists %v, want %v", r.call, tt.name, got, tt.want)
		}
		if !strings.Contains(r.body, "found by "+tt.by) {
			t.Errorf("%s (%s) does not say it found the case by %s", r.call, tt.name, tt.by)
		}
	}
	for _, q := range []string{"stranger", "ACC", "holder@example.com"} {
		r := ann.get(t, "/queue?q="+url.QueryEscape(q))
		r.wantStatus(t, http.StatusOK)
		if got := queueRows(r.body); len(got) != 0 || !strings.Contains(r.body, "No case has the reference, Message-ID, account ref or reporter address") {
			t.Errorf("%s lists %v, want nothing and a message: the search is exact", r.call, got)
		}
	}
	r = ann.get(t, "/queue?q="+url.QueryEscape("a\x01b"))
	r.wantStatus(t, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, `role="alert"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
		t.Errorf("%s: an unusable query should be flagged on the field", r.call)
	}
}

// TestQueueShortcutsScript: the shortcuts come from a static file loaded
// with defer, under the page's CSP, and the page carries the hooks it
// uses; no inline script anywhere.
func TestQueueShortcutsScript(t *testing.T) {
	d := newQueueDesk(t)
	ann := d.login(t, "ann@desk.example")
	r := ann.get(t, "/queue")
	m := regexp.MustCompile(`<script src="(/static/console\.js\?v=[0-9a-f]+)" defer></script>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s does not load /static/console.js with defer", r.call)
	}
	if n := strings.Count(r.body, "<script"); n != 1 {
		t.Errorf("%s has %d script elements, want only the static one", r.call, n)
	}
	for _, hook := range []string{`id="take-next"`, `id="q"`, `id="queue-list"`, `id="shortcuts"`, `aria-keyshortcuts="n"`} {
		if !strings.Contains(r.body, hook) {
			t.Errorf("%s lacks %s, which console.js needs", r.call, hook)
		}
	}
	js := ann.get(t, m[1])
	js.wantStatus(t, http.StatusOK)
	if ct := js.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("GET %s: Content-Type = %q, want JavaScript", m[1], ct)
	}
	for _, want := range []string{`case "j"`, `case "k"`, `case "n"`, `case "/"`, `case "?"`, "typing(e.target)"} {
		if !strings.Contains(js.body, want) {
			t.Errorf("GET %s lacks %s", m[1], want)
		}
	}
}
