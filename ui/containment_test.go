package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"notme/app"
	"notme/app/webhook"
	"notme/cases"
)

// containmentRows returns "action=state" for each row of the case page's
// containment table.
var containmentRowRE = regexp.MustCompile(`<td[^>]*><span data-action="([a-z_]+)">[^<]*</span></td>\s*<td[^>]*><strong>([a-z]+)</strong>`)

func containmentRows(body string) []string {
	var out []string
	for _, m := range containmentRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+"="+m[2])
	}
	return out
}

// TestContainmentOnTheCasePage: an exact link report requests the kind's
// actions at once; an agent may add suppress_recipient but not
// lock_account, which a lead may.
func TestContainmentOnTheCasePage(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "order_confirmation").Token, nil)

	agent := d.login(t, "agent@desk.example")
	page := agent.get(t, "/cases/"+ref)
	page.wantStatus(t, http.StatusOK)
	want := "suppress_recipient=requested require_reverification=requested"
	if got := strings.Join(containmentRows(page.body), " "); got != want {
		t.Errorf("%s containment = %q, want %q", page.call, got, want)
	}
	if !strings.Contains(page.body, `<option value="revoke_pending_links">`) || strings.Contains(page.body, `<option value="lock_account">`) {
		t.Errorf("%s: an agent should be offered revoke_pending_links and not lock_account", page.call)
	}

	tok := agent.csrf(t, "/cases/"+ref)
	agent.post(t, "/cases/"+ref+"/containment", url.Values{"_csrf": {tok}, "action": {"lock_account"}, "confirm": {"yes"}}).wantStatus(t, http.StatusForbidden)
	agent.post(t, "/cases/"+ref+"/containment", url.Values{"action": {"revoke_pending_links"}}).wantStatus(t, http.StatusForbidden) // no CSRF
	r := agent.post(t, "/cases/"+ref+"/containment", url.Values{"_csrf": {tok}, "action": {"revoke_pending_links"}})
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() != "/cases/"+ref+"?done=containment#containment" {
		t.Errorf("%s: Location = %q, want the case's containment", r.call, r.location())
	}
	agent.post(t, "/cases/"+ref+"/containment", url.Values{"_csrf": {tok}, "action": {"revoke_pending_links"}}).wantStatus(t, http.StatusConflict)

	lead := d.login(t, "lead@desk.example")
	tok = lead.csrf(t, "/cases/"+ref)
	lead.post(t, "/cases/"+ref+"/containment", url.Values{"_csrf": {tok}, "action": {"lock_account"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	page = lead.get(t, "/cases/"+ref)
	want = "suppress_recipient=requested require_reverification=requested revoke_pending_links=requested lock_account=requested"
	if got := strings.Join(containmentRows(page.body), " "); got != want {
		t.Errorf("%s containment = %q, want %q", page.call, got, want)
	}
	for _, ev := range []string{"Containment requested from the account system: lock the account.", "lead@desk.example"} {
		if !strings.Contains(page.body, ev) {
			t.Errorf("%s timeline lacks %q", page.call, ev)
		}
	}
}

// TestConfirmMatchOnTheCasePage: a probable match asks for a person; once
// an agent confirms it, the kind's actions are requested.
func TestConfirmMatchOnTheCasePage(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	d.register(t, cases.LedgerMessage{MessageID: "<reg-1@mail.example.com>", AccountRef: "ACC-9",
		Recipient: "taro@gmial.com", Kind: "registration", Subject: "Set your password"})
	r := d.api(t, http.MethodPost, "/api/v1/reports", d.addKey(t, cases.ScopeReportsWrite),
		jsonOf(t, map[string]any{"message_id": "<unknown@elsewhere.example>", "reporter": "taro@gmial.com"}))
	r.wantStatus(t, http.StatusCreated)
	var filed struct{ Ref, Match string }
	r.jsonBody(t, &filed)
	if filed.Match != "probable" {
		t.Fatalf("%s: match %q, want probable", r.call, filed.Match)
	}

	agent := d.login(t, "agent@desk.example")
	page := agent.get(t, "/cases/"+filed.Ref)
	if !strings.Contains(page.body, "Confirm the match to ACC-9") || len(containmentRows(page.body)) != 0 {
		t.Fatalf("%s: want the confirm button and nothing requested", page.call)
	}
	parcel := d.login(t, "parcel@desk.example")
	parcel.post(t, "/cases/"+filed.Ref+"/confirm-match", url.Values{"_csrf": {parcel.csrf(t, "/login")}}).wantStatus(t, http.StatusForbidden)

	tok := agent.csrf(t, "/cases/"+filed.Ref)
	agent.post(t, "/cases/"+filed.Ref+"/confirm-match", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	page = agent.get(t, "/cases/"+filed.Ref)
	want := "revoke_pending_links=requested suppress_recipient=requested require_reverification=requested"
	if got := strings.Join(containmentRows(page.body), " "); got != want {
		t.Errorf("%s after confirming containment = %q, want %q", page.call, got, want)
	}
	if strings.Contains(page.body, "Confirm the match") {
		t.Errorf("%s still offers to confirm the match", page.call)
	}
	agent.post(t, "/cases/"+filed.Ref+"/confirm-match", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusConflict)
}

// TestDeadLetterRetryOnTheCasePage: a webhook that never got through is
// shown with its attempts and error, and staff send it again.
func TestDeadLetterRetryOnTheCasePage(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rcv.Close()
	// Every failure is past the maximum age: the first one is dead at once.
	d := newDesk(t, func(c *app.Config) { c.Webhooks.MaxAge = app.Duration(time.Nanosecond) })
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-2", "newsletter").Token, nil)
	sender, err := webhook.New(webhook.Config{URL: rcv.URL, Secret: []byte("a test secret of thirty-two bytes")})
	if err != nil {
		t.Fatal(err)
	}
	deliverer := d.app.Service.NewDeliverer(sender, cases.DelivererOptions{})
	if _, err := deliverer.DeliverDue(context.Background()); err != nil {
		t.Fatalf("DeliverDue() = %v", err)
	}

	agent := d.login(t, "agent@desk.example")
	page := agent.get(t, "/cases/"+ref)
	for _, want := range []string{"dead, 1 attempt", "HTTP 503: maintenance", "Send again", "not delivered after 1 attempt since"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("%s does not show %q", page.call, want)
		}
	}
	if mt := d.opsGet(t, "/metrics"); !strings.Contains(mt.body, `notme_webhooks{state="dead"} 1`) ||
		!strings.Contains(mt.body, `notme_webhooks{state="pending"} 0`) {
		t.Errorf("%s does not count the dead letter", mt.call)
	}
	m := regexp.MustCompile(`/cases/` + ref + `/deliveries/(\d+)/retry`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("%s has no retry form", page.call)
	}
	failing.Store(false)
	tok := agent.csrf(t, "/cases/"+ref)
	agent.post(t, m[0], url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	agent.post(t, m[0], url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusConflict) // pending, not dead
	if n, err := deliverer.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("DeliverDue() after the retry = %d, %v; want 1 delivered", n, err)
	}
	page = agent.get(t, "/cases/"+ref)
	if got := containmentRows(page.body); len(got) != 1 || got[0] != "suppress_recipient=delivered" || !strings.Contains(page.body, "delivered, 2 attempts") {
		t.Errorf("%s after the retry: containment %v, want suppress_recipient delivered after 2 attempts", page.call, got)
	}
	if !strings.Contains(page.body, "sent again (same idempotency key)") {
		t.Errorf("%s timeline does not show the retry", page.call)
	}
}

// TestContainmentAPI: the account system reports results; refusals are
// clear 400s; once every action is done the case is contained.
func TestContainmentAPI(t *testing.T) {
	d := newDesk(t)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-3", "order_confirmation").Token, nil)
	system := d.addKey(t, cases.ScopeCasesWrite, cases.ScopeCasesRead)
	path := "/api/v1/cases/" + ref + "/containment"

	for _, tt := range []struct {
		name, key, body string
		status          int
		mention         string
	}{
		{"no key", "", `{"results":[]}`, http.StatusUnauthorized, ""},
		{"read-only key", d.readKey(t), `{"results":[{"action":"suppress_recipient","status":"done"}]}`, http.StatusForbidden, ""},
		{"bad JSON", system, `{"results":`, http.StatusBadRequest, "bad JSON"},
		{"unknown field", system, `{"results":[{"action":"suppress_recipient","state":"done"}]}`, http.StatusBadRequest, "unknown field"},
		{"unknown action", system, `{"results":[{"action":"delete_account","status":"done"}]}`, http.StatusBadRequest, "unknown action"},
		{"never requested", system, `{"results":[{"action":"lock_account","status":"done"}]}`, http.StatusBadRequest, "never requested"},
		{"bad status", system, `{"results":[{"action":"suppress_recipient","status":"ok"}]}`, http.StatusBadRequest, "status"},
		{"empty", system, `{"results":[]}`, http.StatusBadRequest, "results"},
	} {
		r := d.api(t, http.MethodPost, path, tt.key, []byte(tt.body))
		if r.status != tt.status || !strings.Contains(r.body, tt.mention) {
			t.Errorf("%s (%s) = %d %s, want %d mentioning %q", r.call, tt.name, r.status, r.body, tt.status, tt.mention)
		}
	}
	r := d.api(t, http.MethodPost, "/api/v1/cases/NM-0000-0000/containment", system, []byte(`{"results":[{"action":"suppress_recipient","status":"done"}]}`))
	r.wantStatus(t, http.StatusNotFound)

	r = d.api(t, http.MethodPost, path, system, []byte(`{"results":[
		{"action":"suppress_recipient","status":"done","detail":"address suppressed"},
		{"action":"require_reverification","status":"done"}]}`))
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Ref         string `json:"ref"`
		Status      string `json:"status"`
		Containment []struct {
			Action       string     `json:"action"`
			State        string     `json:"state"`
			ConfirmedAt  *time.Time `json:"confirmed_at"`
			ResultDetail string     `json:"result_detail"`
			Webhook      struct {
				DeliveryID string `json:"delivery_id"`
				State      string `json:"state"`
			} `json:"webhook"`
		} `json:"containment"`
	}
	r.jsonBody(t, &out)
	if out.Ref != ref || out.Status != "contained" || len(out.Containment) != 2 {
		t.Fatalf("%s = %s, want the case contained with two actions", r.call, r.body)
	}
	for _, c := range out.Containment {
		if c.State != "confirmed" || c.ConfirmedAt == nil || c.Webhook.State != "pending" || c.Webhook.DeliveryID == "" {
			t.Errorf("%s: %+v, want confirmed with its (pending) webhook", r.call, c)
		}
	}
	got := d.caseByRef(t, system, ref)
	if got.Status != "contained" {
		t.Errorf("GET /api/v1/cases/%s status = %s, want contained", ref, got.Status)
	}
	g := d.api(t, http.MethodGet, "/api/v1/cases/"+ref, system, nil)
	if !strings.Contains(g.body, `"containment":[{"action":"suppress_recipient","state":"confirmed"`) ||
		!strings.Contains(g.body, `"result_detail":"address suppressed"`) {
		t.Errorf("%s = %s, want per-action states", g.call, g.body)
	}
}
