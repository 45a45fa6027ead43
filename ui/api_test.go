package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"notme/cases"
)

// apiErr is the body of every API error.
type apiErr struct {
	Error string `json:"error"`
}

func TestAPIAuth(t *testing.T) {
	d := newDesk(t)
	full := d.addKey(t, cases.Scopes...)
	readOnly := d.addKey(t, cases.ScopeCasesRead)
	wrongSecret := []byte(full)
	wrongSecret[len(wrongSecret)-1] ^= 1 // still base 32, another key
	msg := jsonOf(t, map[string]any{"message_id": "<a@mail.example.com>", "account_ref": "acct-1", "recipient": "x@example.net", "kind": "newsletter"})

	for _, tc := range []struct {
		name, method, path, key string
		body                    []byte
		want                    int
		challenge               bool
	}{
		{"no key", "POST", "/api/v1/messages", "", msg, http.StatusUnauthorized, true},
		{"no key", "GET", "/api/v1/cases", "", nil, http.StatusUnauthorized, true},
		{"no key", "POST", "/api/v1/messages/batch", "", msg, http.StatusUnauthorized, true},
		{"a wrong key", "GET", "/api/v1/cases", "nmk_abcdefgh_" + strings.Repeat("x", 32), nil, http.StatusUnauthorized, true},
		{"a wrong secret for a real prefix", "GET", "/api/v1/cases", string(wrongSecret), nil, http.StatusUnauthorized, true},
		{"garbage", "GET", "/api/v1/cases", "hello", nil, http.StatusUnauthorized, true},
		{"a key without messages:write", "POST", "/api/v1/messages", readOnly, msg, http.StatusForbidden, false},
		{"a key without messages:write", "POST", "/api/v1/messages/batch", readOnly, msg, http.StatusForbidden, false},
		{"a key without mint", "POST", "/api/v1/mint", readOnly, []byte(`{"account_ref":"a","kind":"newsletter"}`), http.StatusForbidden, false},
		{"a key without reports:write", "POST", "/api/v1/reports", readOnly, []byte(`{"token":"x"}`), http.StatusForbidden, false},
		{"a key with cases:read", "GET", "/api/v1/cases", readOnly, nil, http.StatusOK, false},
	} {
		r := d.api(t, tc.method, tc.path, tc.key, tc.body)
		if r.status != tc.want {
			t.Errorf("%s with %s = %d, want %d; body %s", r.call, tc.name, r.status, tc.want, r.body)
			continue
		}
		if tc.want >= 400 {
			var e apiErr
			r.jsonBody(t, &e)
			if e.Error == "" {
				t.Errorf("%s with %s: no error message in %s", r.call, tc.name, r.body)
			}
		}
		if got := r.header.Get("WWW-Authenticate"); tc.challenge != strings.HasPrefix(got, "Bearer ") {
			t.Errorf("%s with %s: WWW-Authenticate %q; want a Bearer challenge: %v", r.call, tc.name, got, tc.challenge)
		}
	}
	// A session cookie is not an API key.
	agent := d.browser(t)
	req, _ := http.NewRequest(http.MethodGet, d.url+"/api/v1/cases", nil)
	if r := agent.do(t, req); r.status != http.StatusUnauthorized {
		t.Errorf("%s from a browser = %d, want 401", r.call, r.status)
	}
}

func TestAPIMessages(t *testing.T) {
	d := newDesk(t)
	key := d.addKey(t, cases.ScopeMessagesWrite)
	body := jsonOf(t, map[string]any{
		"message_id": "<welcome-9@mail.example.com>", "account_ref": "acct-9", "recipient": "Someone@Example.net",
		"kind": "registration", "subject": "Welcome", "sent_at": "2026-01-02T03:04:05Z",
	})

	first := d.api(t, "POST", "/api/v1/messages", key, body)
	first.wantStatus(t, http.StatusCreated)
	var a, b struct {
		MessageID string `json:"message_id"`
		URL       string `json:"url"`
	}
	first.jsonBody(t, &a)
	if a.MessageID != "<welcome-9@mail.example.com>" || !strings.HasPrefix(a.URL, d.url+"/r/") {
		t.Errorf("%s = %+v, want the Message-ID and a link under %s/r/", first.call, a, d.url)
	}
	again := d.api(t, "POST", "/api/v1/messages", key, body)
	again.wantStatus(t, http.StatusOK)
	again.jsonBody(t, &b)
	if b.MessageID != a.MessageID {
		t.Errorf("%s again: message_id %q, want %q", again.call, b.MessageID, a.MessageID)
	}
	if b.URL != a.URL {
		t.Errorf("%s again: url %q, want the same url as the first time %q", again.call, b.URL, a.URL)
	}
	m, err := d.app.Service.LedgerByMessageID(t.Context(), "welcome-9@mail.example.com")
	if err != nil || m.AccountRef != "acct-9" || m.Recipient != "someone@example.net" {
		t.Errorf("LedgerByMessageID() = %+v, %v; want acct-9 to someone@example.net", m, err)
	}

	for _, tc := range []struct {
		name, body, field string
	}{
		{"bad JSON", `{"message_id": "x@y.example",`, "JSON"},
		{"not an object", `[1,2]`, "JSON"},
		{"an empty body", ``, "empty"},
		{"an unknown field", `{"message_id":"u@mail.example.com","account_ref":"a","recipient":"r@example.net","kind":"newsletter","acount":"typo"}`, "acount"},
		{"a missing message_id", `{"account_ref":"a","recipient":"r@example.net","kind":"newsletter"}`, "message_id"},
		{"a missing account_ref", `{"message_id":"m@mail.example.com","recipient":"r@example.net","kind":"newsletter"}`, "account_ref"},
		{"a missing recipient", `{"message_id":"m@mail.example.com","account_ref":"a","kind":"newsletter"}`, "recipient"},
		{"an unknown kind", `{"message_id":"m@mail.example.com","account_ref":"a","recipient":"r@example.net","kind":"spam"}`, "kind"},
		{"a wrong type", `{"message_id":7,"account_ref":"a","recipient":"r@example.net","kind":"newsletter"}`, "message_id"},
		{"a bad time", `{"message_id":"m@mail.example.com","account_ref":"a","recipient":"r@example.net","kind":"newsletter","sent_at":"yesterday"}`, "sent_at"},
		{"two objects", `{"message_id":"m@mail.example.com","account_ref":"a","recipient":"r@example.net","kind":"newsletter"} {}`, "one object"},
	} {
		r := d.api(t, "POST", "/api/v1/messages", key, []byte(tc.body))
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s with %s = %d, want 422; body %s", r.call, tc.name, r.status, r.body)
			continue
		}
		var e apiErr
		r.jsonBody(t, &e)
		if !strings.Contains(e.Error, tc.field) {
			t.Errorf("%s with %s: error %q does not name %q", r.call, tc.name, e.Error, tc.field)
		}
	}
}

func TestAPIMint(t *testing.T) {
	d := newDesk(t)
	key := d.addKey(t, cases.ScopeMint)
	read := d.readKey(t)

	r := d.api(t, "POST", "/api/v1/mint", key, []byte(`{"account_ref":"acct-mint","kind":"password_reset","recipient":"Who@Example.net"}`))
	r.wantStatus(t, http.StatusOK)
	var raw map[string]any
	r.jsonBody(t, &raw)
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "message_id,token,url" {
		t.Errorf("%s: fields %v, want message_id, token, url", r.call, keys)
	}
	var m cases.Minted
	r.jsonBody(t, &m)
	mid := regexp.MustCompile(`^<nm1\.([A-Za-z0-9_-]+)@([^<>@\s]+)>$`).FindStringSubmatch(m.MessageID)
	if mid == nil {
		t.Fatalf("%s: message_id %q, want <nm1.TOKEN@domain>", r.call, m.MessageID)
	}
	if mid[1] != m.Token || mid[2] != d.cfg.MessageIDDomain() {
		t.Errorf("%s: message_id %q carries token %q at %q, want %q at %q", r.call, m.MessageID, mid[1], mid[2], m.Token, d.cfg.MessageIDDomain())
	}
	if m.URL != d.url+"/r/"+m.Token {
		t.Errorf("%s: url %q, want %s/r/%s", r.call, m.URL, d.url, m.Token)
	}

	// The link opens to the account it was minted for.
	ref, _ := d.browser(t).report(t, m.Token, nil)
	if c := d.caseByRef(t, read, ref); c.AccountRef != "acct-mint" || c.Match != "exact" || c.Kind != "password_reset" {
		t.Errorf("a report on the minted link: case %+v, want an exact match on acct-mint", c)
	}

	for _, tc := range []struct{ name, body, field string }{
		{"an unknown kind", `{"account_ref":"a","kind":"spam"}`, "kind"},
		{"no account_ref", `{"kind":"newsletter"}`, "account_ref"},
		{"a bad recipient", `{"account_ref":"a","kind":"newsletter","recipient":"not an address"}`, "recipient"},
		{"an unknown field", `{"account_ref":"a","kind":"newsletter","acount_ref":"b"}`, "acount_ref"},
	} {
		r := d.api(t, "POST", "/api/v1/mint", key, []byte(tc.body))
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s with %s = %d, want 422", r.call, tc.name, r.status)
			continue
		}
		var e apiErr
		r.jsonBody(t, &e)
		if !strings.Contains(e.Error, tc.field) {
			t.Errorf("%s with %s: error %q does not name %q", r.call, tc.name, e.Error, tc.field)
		}
	}
}

type batchResult struct {
	Accepted   int `json:"accepted"`
	Inserted   int `json:"inserted"`
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
	Errors     []struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	} `json:"errors"`
	ErrorsTruncated bool   `json:"errors_truncated"`
	Aborted         string `json:"aborted"`
}

func TestAPIMessagesBatch(t *testing.T) {
	d := newDesk(t)
	key := d.addKey(t, cases.ScopeMessagesWrite)

	const lines = 5000
	var body strings.Builder
	wantErr := map[int]string{} // line → a word the error must name
	good := 0
	for i := 1; i <= lines; i++ {
		switch {
		case i%1000 == 7:
			body.WriteString(`{"message_id": "broken` + "\n")
			wantErr[i] = "JSON"
		case i%1000 == 99:
			fmt.Fprintf(&body, `{"message_id":"b%d@mail.example.com","account_ref":"acct-%d","recipient":"r%d@example.net","kind":"spam"}`+"\n", i, i, i)
			wantErr[i] = "kind"
		case i%1000 == 500:
			fmt.Fprintf(&body, `{"message_id":"b%d@mail.example.com","account_ref":"acct-%d","kind":"newsletter"}`+"\n", i, i)
			wantErr[i] = "recipient"
		case i%1000 == 501:
			fmt.Fprintf(&body, `{"message_id":"b%d@mail.example.com","account_ref":"acct-%d","recipient":"r@example.net","kind":"newsletter","extra":1}`+"\n", i, i)
			wantErr[i] = "extra"
		case i%500 == 250:
			body.WriteString("\n") // blank lines are skipped, but still counted
		case i%777 == 0:
			body.WriteString("   \r\n")
		default:
			fmt.Fprintf(&body, `{"message_id":"<b%d@mail.example.com>","account_ref":"acct-%d","recipient":"r%d@example.net","kind":"order_confirmation","subject":"Order %d"}`+"\r\n", i, i%300, i, i)
			good++
		}
	}

	post := func() batchResult {
		t.Helper()
		r := d.api(t, "POST", "/api/v1/messages/batch", key, []byte(body.String()))
		r.wantStatus(t, http.StatusOK)
		var res batchResult
		r.jsonBody(t, &res)
		return res
	}
	res := post()
	if res.Accepted != good || res.Inserted != good || res.Duplicates != 0 || res.Rejected != len(wantErr) || res.Aborted != "" {
		t.Errorf("POST /api/v1/messages/batch = accepted %d, inserted %d, duplicates %d, rejected %d, aborted %q; want %d, %d, 0, %d, none",
			res.Accepted, res.Inserted, res.Duplicates, res.Rejected, res.Aborted, good, good, len(wantErr))
	}
	got := map[int]string{}
	for _, e := range res.Errors {
		got[e.Line] = e.Error
	}
	for line, word := range wantErr {
		msg, ok := got[line]
		if !ok {
			t.Errorf("POST /api/v1/messages/batch: no error for bad line %d; errors %v", line, got)
		} else if !strings.Contains(msg, word) {
			t.Errorf("POST /api/v1/messages/batch: line %d error %q does not name %q", line, msg, word)
		}
	}
	if len(got) != len(wantErr) {
		t.Errorf("POST /api/v1/messages/batch: errors for lines %v, want exactly %d", got, len(wantErr))
	}
	// Every good line is stored; spot-check the first, a middle and the last.
	for _, i := range []int{1, 2502, lines} {
		m, err := d.app.Service.LedgerByMessageID(t.Context(), fmt.Sprintf("b%d@mail.example.com", i))
		if err != nil || m.Recipient != fmt.Sprintf("r%d@example.net", i) {
			t.Errorf("LedgerByMessageID(b%d@…) = %+v, %v; want it stored", i, m, err)
		}
	}
	if n := countLedger(t, d); n != good {
		t.Errorf("the ledger holds %d messages after the batch, want %d", n, good)
	}

	again := post()
	if again.Accepted != good || again.Inserted != 0 || again.Duplicates != again.Accepted || again.Rejected != len(wantErr) {
		t.Errorf("POST /api/v1/messages/batch again = accepted %d, inserted %d, duplicates %d, rejected %d; want %d, 0, %d, %d",
			again.Accepted, again.Inserted, again.Duplicates, again.Rejected, good, good, len(wantErr))
	}
	if n := countLedger(t, d); n != good {
		t.Errorf("the ledger holds %d messages after the batch was sent twice, want %d", n, good)
	}

	// A line too long to be a message ends the batch with a clear answer;
	// the lines before it are kept.
	tooLong := `{"message_id":"long-1@mail.example.com","account_ref":"a","recipient":"r@example.net","kind":"newsletter"}` + "\n" +
		`{"subject":"` + strings.Repeat("x", 70<<10) + `"}` + "\n"
	r := d.api(t, "POST", "/api/v1/messages/batch", key, []byte(tooLong))
	r.wantStatus(t, http.StatusUnprocessableEntity)
	var long batchResult
	r.jsonBody(t, &long)
	if long.Accepted != 1 || !strings.Contains(long.Aborted, "line 2") {
		t.Errorf("%s with an overlong line 2 = accepted %d, aborted %q; want 1 and a word on line 2", r.call, long.Accepted, long.Aborted)
	}
}

// countLedger counts the ledger's messages by asking for each b-numbered
// Message-ID the batch test writes.
func countLedger(t *testing.T, d *desk) int {
	t.Helper()
	n := 0
	for i := 1; i <= 5000; i++ {
		if _, err := d.app.Service.LedgerByMessageID(t.Context(), fmt.Sprintf("b%d@mail.example.com", i)); err == nil {
			n++
		} else if cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Fatalf("LedgerByMessageID(b%d@…) = %v", i, err)
		}
	}
	return n
}

func TestAPIReportsAndCases(t *testing.T) {
	d := newDesk(t)
	key := d.addKey(t, cases.ScopeReportsWrite, cases.ScopeCasesRead)
	d.register(t, cases.LedgerMessage{MessageID: "<card-1@mail.example.com>", AccountRef: "acct-card",
		Recipient: "wrong@example.net", Kind: "postal_notice", Subject: "Your card"})

	r := d.api(t, "POST", "/api/v1/reports", key, jsonOf(t, map[string]any{
		"message_id": "<card-1@mail.example.com>", "note": "Caller read the Message-ID out.",
	}))
	r.wantStatus(t, http.StatusCreated)
	var filed struct {
		Ref       string `json:"ref"`
		StatusURL string `json:"status_url"`
		Match     string `json:"match"`
	}
	r.jsonBody(t, &filed)
	// A caller reading out a Message-ID proves no more than one pasted on
	// /report: probable, for a trained agent to confirm (issue 12).
	if !caseRefRE.MatchString(filed.Ref) || filed.Match != "probable" || !strings.HasPrefix(filed.StatusURL, d.url+"/s/") {
		t.Fatalf("%s = %+v, want a reference, a probable match and a status URL", r.call, filed)
	}
	if page := d.browser(t).get(t, strings.TrimPrefix(filed.StatusURL, d.url)); !strings.Contains(page.body, filed.Ref) {
		t.Errorf("%s: the status URL the API gave does not show %s", page.call, filed.Ref)
	}

	// A second case: a newsletter link, low.
	d.browser(t).report(t, d.mint(t, "acct-news", "newsletter").Token, nil)

	// The documented shape, field by field.
	list := d.api(t, "GET", "/api/v1/cases?account_ref=acct-card", key, nil)
	list.wantStatus(t, http.StatusOK)
	var shape struct {
		Cases []map[string]json.RawMessage `json:"cases"`
	}
	list.jsonBody(t, &shape)
	if len(shape.Cases) != 1 {
		t.Fatalf("%s: %d cases, want 1", list.call, len(shape.Cases))
	}
	for _, f := range []string{"ref", "account_ref", "status", "severity", "tier", "match", "escalated", "reports", "created_at", "contain_by", "resolve_by"} {
		if _, ok := shape.Cases[0][f]; !ok {
			t.Errorf("%s: a case lacks %q: %s", list.call, f, list.body)
		}
	}
	var reports []map[string]json.RawMessage
	if err := json.Unmarshal(shape.Cases[0]["reports"], &reports); err != nil || len(reports) != 1 {
		t.Fatalf("%s: reports %s, want a list of one", list.call, shape.Cases[0]["reports"])
	}
	for _, f := range []string{"channel", "matched_by", "received_at"} {
		if _, ok := reports[0][f]; !ok {
			t.Errorf("%s: a report lacks %q: %s", list.call, f, list.body)
		}
	}

	c := d.caseByRef(t, key, filed.Ref)
	if c.AccountRef != "acct-card" || c.Match != "probable" || c.Status != "new" || c.Severity != "high" || c.Tier != "security" ||
		len(c.Reports) != 1 || c.Reports[0].Channel != "api" || c.Reports[0].MatchedBy != "ledger" {
		t.Errorf("GET /api/v1/cases/%s = %+v, want acct-card, probable, new, high, security, one api report matched by ledger", filed.Ref, c)
	}
	if c.CreatedAt == "" || c.ContainBy <= c.CreatedAt {
		t.Errorf("GET /api/v1/cases/%s: created_at %q, contain_by %q; want a deadline after the opening", filed.Ref, c.CreatedAt, c.ContainBy)
	}
	if lower := d.caseByRef(t, key, strings.ToLower(filed.Ref)); lower.Ref != filed.Ref {
		t.Errorf("GET /api/v1/cases/{ref in lower case} = %q, want %q", lower.Ref, filed.Ref)
	}

	for _, tc := range []struct {
		query string
		want  []string // account refs
	}{
		{"", []string{"acct-card", "acct-news"}},
		{"status=new", []string{"acct-card", "acct-news"}},
		{"status=resolved", nil},
		{"status=resolved,new", []string{"acct-card", "acct-news"}},
		{"severity=high", []string{"acct-card"}},
		{"severity=low", []string{"acct-news"}},
		{"severity=critical", nil},
		{"account_ref=acct-news", []string{"acct-news"}},
		{"account_ref=acct-nobody", nil},
		{"escalated=true", nil},
		{"escalated=false", []string{"acct-card", "acct-news"}},
		{"severity=high&account_ref=acct-news", nil},
		{"match=exact", []string{"acct-news"}},
		{"match=probable", []string{"acct-card"}},
	} {
		var got []string
		for _, c := range d.cases(t, key, tc.query) {
			got = append(got, c.AccountRef)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("GET /api/v1/cases?%s = %v, want %v", tc.query, got, tc.want)
		}
	}

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/api/v1/cases/NM-0000-0000", http.StatusNotFound},
		{"/api/v1/cases/nonsense", http.StatusNotFound},
		{"/api/v1/cases?escalated=perhaps", http.StatusUnprocessableEntity},
		{"/api/v1/cases?limit=0", http.StatusUnprocessableEntity},
	} {
		r := d.api(t, "GET", tc.path, key, nil)
		if r.status != tc.want {
			t.Errorf("%s = %d, want %d", r.call, r.status, tc.want)
			continue
		}
		var e apiErr
		r.jsonBody(t, &e)
		if e.Error == "" {
			t.Errorf("%s: no error message in %s", r.call, r.body)
		}
	}

	for _, tc := range []struct{ name, body, field string }{
		{"neither token nor message_id", `{"note":"hi"}`, "token"},
		{"an unknown field", `{"token":"x","tokn":"y"}`, "tokn"},
		{"a long note", `{"message_id":"card-1@mail.example.com","note":"` + strings.Repeat("n", 2001) + `"}`, "2000"},
	} {
		r := d.api(t, "POST", "/api/v1/reports", key, []byte(tc.body))
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s with %s = %d, want 422", r.call, tc.name, r.status)
			continue
		}
		var e apiErr
		r.jsonBody(t, &e)
		if !strings.Contains(e.Error, tc.field) {
			t.Errorf("%s with %s: error %q does not name %q", r.call, tc.name, e.Error, tc.field)
		}
	}
}

// A call centre's client that retries after a timeout sends the same
// Idempotency-Key: the report is filed once and the answer repeated.
func TestAPIReportIdempotencyKey(t *testing.T) {
	d := newDesk(t)
	key := d.addKey(t, cases.ScopeReportsWrite, cases.ScopeCasesRead)
	tok := d.mint(t, "acct-retry", "registration").Token
	body := `{"token":"` + tok + `"}`
	post := func(idem string) (response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, d.url+"/api/v1/reports", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		r := (&browser{d: d, c: d.srv.Client()}).do(t, req)
		var out struct {
			StatusURL string `json:"status_url"`
		}
		if r.status == http.StatusCreated {
			r.jsonBody(t, &out)
		}
		return r, out.StatusURL
	}
	first, url1 := post("call-4711")
	again, url2 := post("call-4711")
	first.wantStatus(t, http.StatusCreated)
	again.wantStatus(t, http.StatusCreated)
	if url2 != url1 || again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the same call twice: status URLs %q and %q, Idempotent-Replayed %q then %q; want one report answered twice",
			url1, url2, first.header.Get("Idempotent-Replayed"), again.header.Get("Idempotent-Replayed"))
	}
	// The same call written with other spacing and field order is the same
	// request; another request under the key is refused and files nothing.
	body = `{ "note": "", "token": "` + tok + `" }`
	if r, u := post("call-4711"); r.status != http.StatusCreated || u != url1 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the same call respaced: %d, status URL %q, want the first report's %q, replayed", r.status, u, url1)
	}
	body = `{"token":"` + tok + `","set_password":true}`
	if r, _ := post("call-4711"); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "another request") {
		t.Fatalf("another request under a used Idempotency-Key = %d %s, want 422 saying so", r.status, clip(r.body))
	}
	if c := d.cases(t, key, "account_ref=acct-retry"); len(c) != 1 || len(c[0].Reports) != 1 {
		t.Fatalf("after one call sent three times and another under its key: %+v, want one case with one report", c)
	}
	body = `{"token":"` + tok + `"}`
	post("call-4712")
	post("")
	if c := d.cases(t, key, "account_ref=acct-retry"); len(c) != 1 || len(c[0].Reports) != 3 {
		t.Fatalf("after two more calls: %+v, want three reports", c)
	}
	if r, _ := post(strings.Repeat("k", 256)); r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
		t.Fatalf("an Idempotency-Key of 256 characters = %d, want it refused", r.status)
	}
}
