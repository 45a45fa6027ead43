package ui_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// exposureCase seeds the ledger of acct-x: a registration, a postal notice
// and an order to the wrong address, the owner's own mail, and another
// account's mail to the same wrong address; a stranger reports the
// registration mail by its link and says they set a password.
func exposureCase(t *testing.T, d *desk) string {
	t.Helper()
	base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { x := base.AddDate(0, 0, days); return &x }
	tok := d.register(t, cases.LedgerMessage{MessageID: "reg@shop.example", AccountRef: "acct-x", Recipient: "taro@gmial.com",
		Kind: "registration", Subject: "Set your password", SentAt: at(0)})
	d.register(t, cases.LedgerMessage{MessageID: "post@shop.example", AccountRef: "acct-x", Recipient: "taro@gmial.com",
		Kind: "postal_notice", Subject: "=HYPERLINK(\"x\") your card was posted", SentAt: at(2)})
	d.register(t, cases.LedgerMessage{MessageID: "order@shop.example", AccountRef: "acct-x", Recipient: "taro@gmial.com",
		Kind: "order_confirmation", Subject: "Order 1234 for taro@gmial.com", SentAt: at(4)})
	d.register(t, cases.LedgerMessage{MessageID: "own@shop.example", AccountRef: "acct-x", Recipient: "taro@gmail.com",
		Kind: "postal_notice", Subject: "Owner's own", SentAt: at(5)})
	d.register(t, cases.LedgerMessage{MessageID: "else@shop.example", AccountRef: "acct-y", Recipient: "taro@gmial.com",
		Kind: "order_confirmation", Subject: "Someone else's", SentAt: at(6)})
	ref, _ := d.browser(t).report(t, tok, url.Values{"set_password": {"1"}})
	return ref
}

// noFullAddress fails if body holds any of the seeded addresses unmasked.
func noFullAddress(t *testing.T, call, body string) {
	t.Helper()
	for _, a := range []string{"taro@gmial.com", "taro@gmail.com"} {
		if strings.Contains(body, a) {
			t.Errorf("%s shows %s in full; want masked addresses only", call, a)
		}
	}
}

func TestExposureCasePage(t *testing.T) {
	d := newDesk(t)
	ref := exposureCase(t, d)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)

	page := d.login(t, "lead@desk.example").get(t, "/cases/"+ref)
	page.wantStatus(t, http.StatusOK)
	body := cells(page.body)
	for _, want := range []string{
		"What the wrong person received", "3 mails to t***@gmial.com",
		"First mail 2026-04-01 08:00 UTC, last mail 2026-04-05 08:00 UTC.",
		"A credential link was used", "Postal notice", "Order confirmation",
		"/cases/" + ref + "/exposure.csv",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /cases/%s as a lead: no %q in the exposure section", ref, want)
		}
	}
	if strings.Contains(body, "Owner&#39;s own") || strings.Contains(body, "Someone else") {
		t.Errorf("GET /cases/%s as a lead lists the owner's or another account's mail", ref)
	}
	// The section sits beside the breach assessment choice.
	if i, j := strings.Index(body, `id="exposure"`), strings.Index(body, `value="not_notifiable"`); i < 0 || j < 0 || i > j {
		t.Errorf("GET /cases/%s: exposure at %d, assessment choice at %d; want both, exposure first", ref, i, j)
	}
	noFullAddress(t, "GET /cases/"+ref, page.body)

	ja := d.login(t, "lead@desk.example").get(t, "/cases/"+ref+"?lang=ja")
	if !strings.Contains(cells(ja.body), "t***@gmial.com 宛に 3 通") {
		t.Errorf("GET /cases/%s?lang=ja: no Japanese exposure summary", ref)
	}

	agent := d.login(t, "agent@desk.example")
	ap := agent.get(t, "/cases/"+ref)
	ap.wantStatus(t, http.StatusOK)
	if strings.Contains(ap.body, `id="exposure"`) || strings.Contains(ap.body, "What the wrong person received") {
		t.Errorf("GET /cases/%s as an agent shows the exposure section; want it for leads only", ref)
	}
	agent.get(t, "/cases/"+ref+"/exposure.csv").wantStatus(t, http.StatusForbidden)
}

func TestExposureAPI(t *testing.T) {
	d := newDesk(t)
	ref := exposureCase(t, d)
	r := d.api(t, http.MethodGet, "/api/v1/cases/"+ref, d.readKey(t), nil)
	r.wantStatus(t, http.StatusOK)
	noFullAddress(t, r.call, r.body)
	var c struct {
		Exposure *struct {
			Recipients         []string `json:"recipients"`
			Total              int      `json:"total"`
			CredentialLinkUsed bool     `json:"credential_link_used"`
			PersonalData       bool     `json:"personal_data"`
			First              struct {
				MessageID string `json:"message_id"`
			} `json:"first"`
			Kinds []struct {
				Kind       string `json:"kind"`
				Mails      int    `json:"mails"`
				Credential bool   `json:"credential"`
			} `json:"kinds"`
			Mails []struct {
				MessageID string `json:"message_id"`
				Recipient string `json:"recipient"`
			} `json:"mails"`
		} `json:"exposure"`
	}
	r.jsonBody(t, &c)
	e := c.Exposure
	if e == nil {
		t.Fatalf("%s: no exposure in %s", r.call, clip(r.body))
	}
	if e.Total != 3 || len(e.Mails) != 3 || e.Mails[0].MessageID != "order@shop.example" || e.First.MessageID != "reg@shop.example" ||
		!e.CredentialLinkUsed || !e.PersonalData || len(e.Kinds) != 3 || strings.Join(e.Recipients, ",") != "t***@gmial.com" {
		t.Errorf("%s: exposure = %+v, want 3 mails newest first to t***@gmial.com, a used credential link", r.call, *e)
	}
}

func TestExposureExport(t *testing.T) {
	d := newDesk(t)
	ref := exposureCase(t, d)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	lead := d.login(t, "lead@desk.example")

	rj := lead.get(t, "/cases/"+ref+"/exposure.json")
	rj.wantStatus(t, http.StatusOK)
	noFullAddress(t, rj.call, rj.body)
	var j struct {
		CaseRef string `json:"case_ref"`
		Total   int    `json:"total"`
		Mails   []struct {
			At        time.Time `json:"at"`
			MessageID string    `json:"message_id"`
			Kind      string    `json:"kind"`
			Recipient string    `json:"recipient"`
			Subject   string    `json:"subject"`
		} `json:"mails"`
		GeneratedAt *time.Time `json:"generated_at"`
	}
	if err := json.Unmarshal([]byte(rj.body), &j); err != nil {
		t.Fatalf("%s: %v", rj.call, err)
	}
	if j.CaseRef != ref || j.Total != 3 || len(j.Mails) != 3 || j.GeneratedAt == nil {
		t.Fatalf("%s = %s, want case %s with 3 mails", rj.call, clip(rj.body), ref)
	}
	if !strings.Contains(rj.header.Get("Content-Disposition"), "exposure-"+ref+".json") {
		t.Errorf("%s: Content-Disposition = %q", rj.call, rj.header.Get("Content-Disposition"))
	}

	rc := lead.get(t, "/cases/"+ref+"/exposure.csv")
	rc.wantStatus(t, http.StatusOK)
	noFullAddress(t, rc.call, rc.body)
	rows, err := csv.NewReader(strings.NewReader(rc.body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: the CSV does not parse: %v", rc.call, err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "sent_at,message_id,kind,credential,personal_data,recipient,subject,reported" {
		t.Fatalf("%s = %q, want a header and 3 rows", rc.call, rows)
	}
	// The CSV says what the JSON says, row for row.
	for i, m := range j.Mails {
		row := rows[i+1]
		if row[0] != m.At.UTC().Format(time.RFC3339) || row[1] != m.MessageID || row[2] != m.Kind || row[5] != m.Recipient ||
			strings.TrimPrefix(row[6], "'") != m.Subject {
			t.Errorf("CSV row %d = %q, want the JSON's mail %+v", i+1, row, m)
		}
	}
	if rows[2][6] != `'=HYPERLINK("x") your card was posted` {
		t.Errorf("CSV subject = %q, want a leading quote that keeps a spreadsheet from running it", rows[2][6])
	}
	if rows[1][5] != "t***@gmial.com" || rows[1][6] != "Order 1234 for t***@gmial.com" || rows[3][4] != "false" || rows[3][3] != "true" {
		t.Errorf("CSV rows = %q, want masked recipient and subject, registration a credential", rows[1:])
	}

	entries, err := d.app.Service.AuditLog(context.Background(), leadActor(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var formats []string
	for _, a := range entries {
		if a.Action == cases.AuditExposureExport && a.Subject == "case:"+ref && a.Actor == "user:lead@desk.example" {
			formats = append(formats, a.Args["format"])
		}
	}
	if strings.Join(formats, ",") != "csv,json" {
		t.Errorf("audit entries of exports = %v, want csv then json (newest first)", formats)
	}
}
