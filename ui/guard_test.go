package ui_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"notme/app"
	"notme/cases"
	"notme/ui"
)

type guardAnswer struct {
	Verdict string `json:"verdict"`
	Reasons []struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
		Scope  string `json:"scope"`
		Since  string `json:"since"`
		Domain string `json:"domain"`
	} `json:"reasons"`
	Suggestion *string `json:"suggestion"`
}

// The guard through the API: a sign-up system's key asks before it sends;
// an address whose owner clicked "not me" on a postal notice is do_not_send
// for that account, a typo is confirm_first with the address meant.
func TestAddressGuardAPI(t *testing.T) {
	d := newDesk(t)
	signup := d.addKey(t, cases.ScopeAddressesCheck)
	other := d.addKey(t, cases.ScopeCasesRead)
	tok := d.register(t, cases.LedgerMessage{MessageID: "<pn1@mail.example.com>", AccountRef: "ACC-1",
		Recipient: "taro@gmial.com", Kind: "postal_notice"})
	d.browser(t).report(t, tok, nil)

	ask := func(key string, body map[string]any) (response, guardAnswer) {
		t.Helper()
		r := d.api(t, "POST", "/api/v1/addresses/check", key, jsonOf(t, body))
		var a guardAnswer
		if r.status == http.StatusOK {
			r.jsonBody(t, &a)
		}
		return r, a
	}
	r, a := ask(signup, map[string]any{"address": "taro@gmial.com", "account_ref": "ACC-1", "kind": "registration"})
	r.wantStatus(t, http.StatusOK)
	if a.Verdict != "do_not_send" || len(a.Reasons) != 2 || a.Reasons[0].Code != "suppressed" || a.Reasons[0].Reason != "not_my_address" ||
		a.Reasons[0].Scope != "account" || a.Reasons[0].Since == "" || a.Reasons[1].Code != "likely_typo" || a.Suggestion == nil || *a.Suggestion != "taro@gmail.com" {
		t.Errorf("guard(reported address, its account) = %s; want do_not_send (suppressed, not_my_address, account) and the typo", r.body)
	}
	_, a = ask(signup, map[string]any{"address": "jiro@gmial.com"})
	if a.Verdict != "confirm_first" || a.Suggestion == nil || *a.Suggestion != "jiro@gmail.com" {
		t.Errorf("guard(typo) = %+v; want confirm_first, jiro@gmail.com", a)
	}
	r, a = ask(signup, map[string]any{"address": "jiro@gmail.com"})
	if a.Verdict != "send" || a.Suggestion != nil || !strings.Contains(r.body, `"suggestion":null`) || !strings.Contains(r.body, `"reasons":[]`) {
		t.Errorf("guard(clean address) = %s; want send, no reasons, suggestion null", r.body)
	}
	for _, bad := range []struct {
		key  string
		body map[string]any
		want int
	}{
		{"", map[string]any{"address": "a@example.com"}, http.StatusUnauthorized},
		{other, map[string]any{"address": "a@example.com"}, http.StatusForbidden},
		{signup, map[string]any{"address": "nope"}, http.StatusUnprocessableEntity},
		{signup, map[string]any{"address": "a@example.com", "kind": "spam"}, http.StatusUnprocessableEntity},
		{signup, map[string]any{"adress": "a@example.com"}, http.StatusUnprocessableEntity},
	} {
		if r, _ := ask(bad.key, bad.body); r.status != bad.want {
			t.Errorf("%s %v = %d, want %d: %s", r.call, bad.body, r.status, bad.want, r.body)
		}
	}
}

// The guard is rate limited per client, like every public route.
func TestAddressGuardRateLimit(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.Guard.Rate = app.RateConfig{PerMinute: 1, Burst: 2} })
	signup := d.addKey(t, cases.ScopeAddressesCheck)
	body := jsonOf(t, map[string]any{"address": "a@example.com"})
	for i := range 3 {
		r := d.api(t, "POST", "/api/v1/addresses/check", signup, body)
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if r.status != want {
			t.Fatalf("request %d: %d, want %d", i+1, r.status, want)
		}
	}
}

// The suppression list over the API: add (201, then 200 for the same),
// list with filters, export as NDJSON, take off with a reason; the
// scopes are separate, and no full address ever comes back.
func TestSuppressionsAPI(t *testing.T) {
	d := newDesk(t)
	writer := d.addKey(t, cases.ScopeSuppressionsWrite)
	reader := d.addKey(t, cases.ScopeSuppressionsRead)

	add := map[string]any{"address": "Hanako@Example.jp", "reason": "bounce", "expires_in": "30d"}
	r := d.api(t, "POST", "/api/v1/suppressions", writer, jsonOf(t, add))
	r.wantStatus(t, http.StatusCreated)
	var x struct {
		ID         int64   `json:"id"`
		Address    string  `json:"address"`
		AccountRef *string `json:"account_ref"`
		Origin     string  `json:"origin"`
		ExpiresAt  string  `json:"expires_at"`
	}
	r.jsonBody(t, &x)
	if x.Address != "h***@example.jp" || x.AccountRef != nil || x.Origin != "account_system" || x.ExpiresAt == "" || strings.Contains(r.body, "hanako") {
		t.Errorf("POST /api/v1/suppressions = %s; want the masked address, every account, from the account system, expiring", r.body)
	}
	d.api(t, "POST", "/api/v1/suppressions", writer, jsonOf(t, add)).wantStatus(t, http.StatusOK)
	d.api(t, "POST", "/api/v1/suppressions", reader, jsonOf(t, add)).wantStatus(t, http.StatusForbidden)
	d.api(t, "POST", "/api/v1/suppressions", writer, jsonOf(t, map[string]any{"address": "a@example.com", "expires_in": "soon"})).
		wantStatus(t, http.StatusUnprocessableEntity)
	for i := range 3 {
		d.api(t, "POST", "/api/v1/suppressions", writer, jsonOf(t, map[string]any{
			"address": "user" + string(rune('a'+i)) + "@other.example", "account_ref": "ACC-" + string(rune('1'+i))})).wantStatus(t, http.StatusCreated)
	}

	r = d.api(t, "GET", "/api/v1/suppressions?domain=other.example&limit=2", reader, nil)
	r.wantStatus(t, http.StatusOK)
	var page struct {
		Suppressions []struct {
			ID         int64   `json:"id"`
			AccountRef *string `json:"account_ref"`
		} `json:"suppressions"`
		Next *int64 `json:"next_after"`
	}
	r.jsonBody(t, &page)
	if len(page.Suppressions) != 2 || page.Next == nil || page.Suppressions[0].AccountRef == nil || *page.Suppressions[0].AccountRef != "ACC-1" {
		t.Fatalf("GET /api/v1/suppressions?domain=other.example&limit=2 = %s; want two of other.example and a next page", r.body)
	}
	r = d.api(t, "GET", "/api/v1/suppressions?domain=other.example&after="+strconv.FormatInt(*page.Next, 10), reader, nil)
	r.jsonBody(t, &page)
	if len(page.Suppressions) != 1 || page.Next != nil {
		t.Errorf("second page = %s; want the last one, no next page", r.body)
	}
	d.api(t, "GET", "/api/v1/suppressions", writer, nil).wantStatus(t, http.StatusForbidden)
	d.api(t, "GET", "/api/v1/suppressions?reason=spite", reader, nil).wantStatus(t, http.StatusUnprocessableEntity)

	// The export: every entry, one JSON object a line.
	r = d.api(t, "GET", "/api/v1/suppressions?format=ndjson", reader, nil)
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("export Content-Type = %q", ct)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(r.body))
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != 4 {
		t.Errorf("export has %d lines, want 4", lines)
	}

	// The address changed hands: taken off, with the reason.
	path := "/api/v1/suppressions/" + strconv.FormatInt(x.ID, 10)
	d.api(t, "DELETE", path, writer, nil).wantStatus(t, http.StatusUnprocessableEntity) // no reason
	d.api(t, "DELETE", path+"?reason="+url.QueryEscape("recycled address"), reader, nil).wantStatus(t, http.StatusForbidden)
	r = d.api(t, "DELETE", path+"?reason="+url.QueryEscape("recycled address"), writer, nil)
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(r.body, `"removed_reason":"recycled address"`) {
		t.Errorf("DELETE = %s; want the entry with its removal", r.body)
	}
	d.api(t, "DELETE", path+"?reason=again", writer, nil).wantStatus(t, http.StatusConflict)
	d.api(t, "DELETE", "/api/v1/suppressions/999999?reason=x", writer, nil).wantStatus(t, http.StatusNotFound)
}

// The public helper answers typo suggestions to anyone, and for an
// address on the suppression list exactly what it answers for any other:
// it cannot tell who reported what. Browsers of the configured origins
// get CORS headers; others do not.
func TestPublicSuggestRevealsNoSuppression(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.Guard.SuggestOrigins = []string{"https://shop.example.com"} })
	writer := d.addKey(t, cases.ScopeSuppressionsWrite)
	for _, a := range []string{"listed@gmial.com", "listed@example.jp"} {
		d.api(t, "POST", "/api/v1/suppressions", writer, jsonOf(t, map[string]any{"address": a})).wantStatus(t, http.StatusCreated)
	}
	b := d.browser(t)
	get := func(addr string, header ...string) response {
		return b.get(t, "/api/v1/suggest?address="+url.QueryEscape(addr), header...)
	}
	for _, pair := range [][2]string{
		{"listed@gmial.com", "unlisted@gmial.com"},
		{"listed@example.jp", "unlisted@example.jp"},
	} {
		listed, unlisted := get(pair[0]), get(pair[1])
		listed.wantStatus(t, http.StatusOK)
		want := strings.ReplaceAll(unlisted.body, "unlisted", "listed")
		if listed.body != want || !bytes.Equal([]byte(listed.header.Get("Cache-Control")), []byte(unlisted.header.Get("Cache-Control"))) {
			t.Errorf("suggest(%s) = %s, suggest(%s) = %s; a listed address must read as any other", pair[0], listed.body, pair[1], unlisted.body)
		}
	}
	if r := get("taro@gmial.com"); !strings.Contains(r.body, `"suggestion":"taro@gmail.com"`) {
		t.Errorf("suggest(taro@gmial.com) = %s", r.body)
	}
	if r := get("taro@gmail.com"); !strings.Contains(r.body, `"suggestion":null`) {
		t.Errorf("suggest(taro@gmail.com) = %s; want null", r.body)
	}
	if r := get("taro@gmial.com", "Origin", "https://shop.example.com"); r.header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
		t.Errorf("suggest from the configured origin: Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	if r := get("taro@gmial.com", "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("suggest from another origin: Access-Control-Allow-Origin %q, want none", r.header.Get("Access-Control-Allow-Origin"))
	}
}

// The demo's sign-up form asks the guard as a company's form would: it
// refuses a credential mail to the address that said "not me" for that
// account, with the reason, and suggests the domain meant for a typo; the
// helper's script is on the page. A desk that is not the demo has no such
// page.
func TestDemoSignupAsksTheGuard(t *testing.T) {
	plain := newDesk(t)
	plain.browser(t).get(t, "/demo/signup").wantStatus(t, http.StatusNotFound)

	demo := app.Option(func(o *ui.Options) { o.Outbox = func() []ui.OutboxMail { return nil } })
	d := newDeskWith(t, []app.Option{demo})
	tok := d.register(t, cases.LedgerMessage{MessageID: "<pn2@mail.example.com>", AccountRef: "ACC-1001",
		Recipient: "taro.yamada@gmial.com", Kind: "postal_notice"})
	d.browser(t).report(t, tok, nil)

	b := d.browser(t)
	page := b.get(t, "/demo/signup")
	page.wantStatus(t, http.StatusOK)
	if !strings.Contains(page.body, "suggest.js") || !strings.Contains(page.body, "data-notme-suggest") ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Errorf("the sign-up page lacks the helper's script, its field, or connect-src for it")
	}
	r := b.submit(t, "/demo/signup", url.Values{"email": {"taro.yamada@gmial.com"}, "account": {"ACC-1001"}, "kind": {"password_reset"}})
	r.wantStatus(t, http.StatusOK)
	for _, want := range []string{"Do not send", "said this account&#39;s mail was not theirs (not my address)", "did you mean taro.yamada@gmail.com?"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("sign-up check of the reported address lacks %q:\n%s", want, clip(r.body))
		}
	}
	r = b.submit(t, "/demo/signup?lang=ja", url.Values{"email": {"jiro@gmial.com"}, "account": {""}, "kind": {"registration"}, "lang": {"ja"}})
	if !strings.Contains(r.body, "先にアドレスを確認してください") || !strings.Contains(r.body, "jiro@gmail.com ではありませんか") {
		t.Errorf("sign-up check of a typo, in Japanese:\n%s", clip(r.body))
	}
	if got := b.get(t, "/static/suggest.js").header.Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("suggest.js Cross-Origin-Resource-Policy = %q; companies' pages load it", got)
	}
}

// Three cases from one recipient domain make a cluster on /leads; the lead
// says which domain was meant, and the guard suggests it from then on.
func TestLeadConfirmsTypoDomain(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	signup := d.addKey(t, cases.ScopeAddressesCheck)
	for i, acct := range []string{"ACC-1", "ACC-2", "ACC-3"} {
		tok := d.register(t, cases.LedgerMessage{MessageID: "<cl" + strconv.Itoa(i) + "@mail.example.com>", AccountRef: acct,
			Recipient: "user" + strconv.Itoa(i) + "@mailshop-typo.example", Kind: "newsletter"})
		d.browser(t).report(t, tok, nil)
	}
	lead := d.login(t, "lead@desk.example")
	page := lead.get(t, "/leads")
	if !strings.Contains(page.body, `action="/leads/typo-domains"`) || !strings.Contains(page.body, `value="mailshop-typo.example"`) {
		t.Fatalf("/leads shows no typo-domain form for the cluster:\n%s", clip(page.body))
	}
	agent := d.login(t, "agent@desk.example")
	if r := agent.post(t, "/leads/typo-domains", url.Values{"_csrf": {agent.csrf(t, "/queue")}, "domain": {"mailshop-typo.example"}, "intended": {"mailshop.example"}}); r.status != http.StatusForbidden {
		t.Errorf("an agent's POST /leads/typo-domains = %d, want 403", r.status)
	}
	r := lead.post(t, "/leads/typo-domains", url.Values{"_csrf": {lead.csrf(t, "/leads")}, "domain": {"mailshop-typo.example"}, "intended": {"mailshop.example"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/leads?done=typo_domain") {
		t.Fatalf("POST /leads/typo-domains = %d to %q", r.status, r.location())
	}
	if page := lead.get(t, "/leads"); !strings.Contains(page.body, "A typo of mailshop.example") {
		t.Errorf("/leads after the confirmation does not say so:\n%s", clip(page.body))
	}
	ans := d.api(t, "POST", "/api/v1/addresses/check", signup, jsonOf(t, map[string]any{"address": "hanako@mailshop-typo.example"}))
	if !strings.Contains(ans.body, `"suggestion":"hanako@mailshop.example"`) || !strings.Contains(ans.body, `"source":"learned"`) {
		t.Errorf("the guard after the confirmation = %s; want the learned suggestion", ans.body)
	}
}
