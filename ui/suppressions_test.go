package ui_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
)

// TestSuppressionsConsole: a lead lists an address on /leads/suppressions
// for one account and for every account, the guard answers do_not_send
// for it, the list shows it masked and filters and pages, taking one off
// needs the confirmation and a reason, and the export is an audited NDJSON
// download. An agent gets none of it.
func TestSuppressionsConsole(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "root@desk.example", cases.RoleAdmin, true)
	check := d.addKey(t, cases.ScopeAddressesCheck)
	lead := d.login(t, "lead@desk.example")

	if page := lead.get(t, "/leads"); !strings.Contains(page.body, `href="/leads/suppressions"`) {
		t.Errorf("/leads has no link to the suppression list:\n%s", clip(page.body))
	}
	add := func(form url.Values) response {
		t.Helper()
		form.Set("_csrf", lead.csrf(t, "/leads/suppressions"))
		return lead.post(t, "/leads/suppressions", form)
	}
	r := add(url.Values{"address": {"Hanako.Sato@Example.jp"}, "scope": {"account"}, "account_ref": {"ACC-77"}, "reason": {"not_my_address"}, "expires_in": {"90d"}})
	if r.status != http.StatusSeeOther || r.location() != "/leads/suppressions?done=suppression_added" {
		t.Fatalf("POST /leads/suppressions = %d to %q, want 303 to done=suppression_added", r.status, r.location())
	}
	if r := add(url.Values{"address": {"hanako.sato@example.jp"}, "scope": {"account"}, "account_ref": {"ACC-77"}}); r.location() != "/leads/suppressions?done=suppression_kept" {
		t.Errorf("listing the same address again = %d to %q, want done=suppression_kept", r.status, r.location())
	}
	if r := add(url.Values{"address": {"x@example.jp"}, "scope": {"account"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("one account without an account = %d, want 422", r.status)
	}
	add(url.Values{"address": {"taro@gmial.com"}, "scope": {"all"}, "account_ref": {"ignored"}, "reason": {"manual"}}).wantStatus(t, http.StatusSeeOther)

	guard := func(addr, account string) string {
		t.Helper()
		return d.api(t, "POST", "/api/v1/addresses/check", check, jsonOf(t, map[string]any{"address": addr, "account_ref": account})).body
	}
	if ans := guard("hanako.sato@example.jp", "ACC-77"); !strings.Contains(ans, `"verdict":"do_not_send"`) {
		t.Errorf("the guard for the listed address = %s, want do_not_send", ans)
	}
	if ans := guard("hanako.sato@example.jp", "ACC-78"); strings.Contains(ans, `"do_not_send"`) {
		t.Errorf("the guard for another account = %s, want no suppression", ans)
	}
	if ans := guard("taro@gmial.com", "ACC-1"); !strings.Contains(ans, `"scope":"all"`) {
		t.Errorf("the guard for an every-account entry = %s, want scope all", ans)
	}

	page := lead.get(t, "/leads/suppressions")
	page.wantStatus(t, http.StatusOK)
	for _, want := range []string{"h***@example.jp", "ACC-77", "t***@gmial.com", "every account", "not my address", "/leads/suppressions/export"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("/leads/suppressions lacks %q:\n%s", want, clip(page.body))
		}
	}
	if strings.Contains(strings.ToLower(page.body), "hanako.sato") {
		t.Errorf("/leads/suppressions shows a full address")
	}
	if f := lead.get(t, "/leads/suppressions?domain=gmial.com"); strings.Contains(f.body, "ACC-77") || !strings.Contains(f.body, "t***@gmial.com") {
		t.Errorf("the domain filter does not select gmial.com alone:\n%s", clip(f.body))
	}
	if f := lead.get(t, "/leads/suppressions?reason=spite"); f.status != http.StatusUnprocessableEntity {
		t.Errorf("an unknown reason filter = %d, want 422", f.status)
	}

	// Taking one off: refused without confirm=yes, then done with a reason.
	id := regexp.MustCompile(`action="/leads/suppressions/(\d+)/remove"`).FindStringSubmatch(page.body)
	if id == nil {
		t.Fatalf("/leads/suppressions offers no way to take an entry off:\n%s", clip(page.body))
	}
	remove := "/leads/suppressions/" + id[1] + "/remove"
	r = lead.post(t, remove, url.Values{"_csrf": {lead.csrf(t, "/leads/suppressions")}, "reason": {"the address changed hands"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `name="confirm" value="yes"`) {
		t.Fatalf("POST %s without confirm = %d, want the confirmation page", remove, r.status)
	}
	if n := strings.Count(lead.get(t, "/leads/suppressions").body, "/remove\""); n != 2 {
		t.Errorf("after an unconfirmed removal %d entries can be taken off, want 2 (nothing changed)", n)
	}
	if r := lead.post(t, remove, url.Values{"_csrf": {lead.csrf(t, "/leads/suppressions")}, "confirm": {"yes"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("POST %s without a reason = %d, want 422", remove, r.status)
	}
	r = lead.post(t, remove, url.Values{"_csrf": {lead.csrf(t, "/leads/suppressions")}, "confirm": {"yes"}, "reason": {"the address changed hands"}})
	if r.status != http.StatusSeeOther || r.location() != "/leads/suppressions?done=suppression_removed" {
		t.Fatalf("confirmed POST %s = %d to %q", remove, r.status, r.location())
	}
	if ans := guard("hanako.sato@example.jp", "ACC-77"); strings.Contains(ans, "do_not_send") {
		t.Errorf("the guard after removal = %s, want no suppression", ans)
	}
	if all := lead.get(t, "/leads/suppressions?removed=true"); !strings.Contains(all.body, "the address changed hands") {
		t.Errorf("the list with removed entries does not show the removal's reason:\n%s", clip(all.body))
	}

	// The export: every entry a line, audited.
	exp := lead.get(t, "/leads/suppressions/export?removed=true")
	exp.wantStatus(t, http.StatusOK)
	if ct := exp.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("export Content-Type = %q", ct)
	}
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(exp.body)); sc.Scan(); lines++ {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
	}
	if lines != 2 {
		t.Errorf("export has %d lines, want 2", lines)
	}
	if strings.Contains(strings.ToLower(exp.body), "hanako.sato") {
		t.Errorf("the export holds a full address")
	}
	audit := d.login(t, "root@desk.example").get(t, "/admin").body
	for _, want := range []string{"exported the suppression list", "listed an address", "(not my address)", "took an address off the list"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	if strings.Contains(audit, "not_my_address") {
		t.Errorf("the audit log shows the raw reason not_my_address, not its words")
	}

	agent := d.login(t, "agent@desk.example")
	for _, p := range []string{"/leads/suppressions", "/leads/suppressions/export"} {
		if r := agent.get(t, p); r.status != http.StatusForbidden {
			t.Errorf("an agent's GET %s = %d, want 403", p, r.status)
		}
	}
	if r := agent.post(t, "/leads/suppressions", url.Values{"_csrf": {agent.csrf(t, "/queue")}, "address": {"a@b.example"}, "scope": {"all"}}); r.status != http.StatusForbidden {
		t.Errorf("an agent's POST /leads/suppressions = %d, want 403", r.status)
	}
}

// TestSuppressionsConsolePages: the console pages through a long list
// fifty at a time, keeping the filter.
func TestSuppressionsConsolePages(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	writer := d.addKey(t, cases.ScopeSuppressionsWrite)
	for i := range 55 {
		d.api(t, "POST", "/api/v1/suppressions", writer, jsonOf(t, map[string]any{
			"address": fmt.Sprintf("user%02d@many.example", i), "account_ref": "ACC-9"})).wantStatus(t, http.StatusCreated)
	}
	lead := d.login(t, "lead@desk.example")
	first := lead.get(t, "/leads/suppressions?domain=many.example")
	if n := strings.Count(first.body, "/remove\""); n != 50 {
		t.Errorf("the first page has %d entries, want 50", n)
	}
	next := regexp.MustCompile(`href="(/leads/suppressions\?[^"]*after=\d+[^"]*)">Next page`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatalf("the first page of 55 entries links no next page:\n%s", clip(first.body))
	}
	second := lead.get(t, strings.ReplaceAll(next[1], "&amp;", "&"))
	if n := strings.Count(second.body, "/remove\""); n != 5 || !strings.Contains(second.body, "u***@many.example") {
		t.Errorf("the second page has %d entries, want the last 5", n)
	}
	if strings.Contains(second.body, "Next page") || !strings.Contains(second.body, `href="/leads/suppressions?domain=many.example">First page`) {
		t.Errorf("the last page links a next page, or not the first one:\n%s", clip(second.body))
	}
}
