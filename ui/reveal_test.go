package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// Staff see reporters' and recipients' addresses masked; a trained agent
// reveals one with a reason, sees it on the next page in that session
// only, and the look is in the audit log.
func TestMaskAndRevealAddresses(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	svc := d.app.Service
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	const (
		reporter  = "stranger.reporter@example.net"
		recipient = "holder.owner@example.org"
		ignored   = "someone.else@example.com"
	)
	d.register(t, cases.LedgerMessage{MessageID: "<card-1@mail.example.com>", AccountRef: "ACC-5",
		Recipient: recipient, Kind: "postal_notice", Subject: "Your card"})
	f, err := svc.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelAPI, MessageIDs: []string{"card-1@mail.example.com"},
		Reporter: reporter, Actor: "api:callcentre"})
	if err != nil {
		t.Fatalf("FileReport() = %v", err)
	}
	ref := f.CaseRef
	if _, err := svc.IngestMail(ctx, []cases.InboundMail{{Raw: []byte("hello"), Parsed: cases.ParsedMail{
		Class: cases.ClassUnrelated, MessageID: "x1@example.com", From: ignored}}}); err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}

	agent := d.login(t, "agent@desk.example")
	page := agent.get(t, "/cases/"+ref)
	page.wantStatus(t, http.StatusOK)
	mail := agent.get(t, "/mail")
	mail.wantStatus(t, http.StatusOK)
	for _, p := range []response{page, mail} {
		for _, addr := range []string{reporter, recipient, ignored, "stranger.", "holder.", "someone."} {
			if strings.Contains(p.body, addr) {
				t.Errorf("%s shows %q unmasked", p.call, addr)
			}
		}
	}
	for _, want := range []string{"s***@example.net", "h***@example.org", "Reveal"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("%s lacks %q", page.call, want)
		}
	}
	if !strings.Contains(mail.body, "s***@example.com") {
		t.Errorf("%s lacks the masked sender s***@example.com", mail.call)
	}
	field := regexpField(t, page.body, "reporter:")

	// Refusals: no CSRF token, no reason, an untrained agent.
	agent.post(t, "/cases/"+ref+"/reveal", url.Values{"field": {field}, "reason": {"x"}}).wantStatus(t, http.StatusForbidden)
	tok := agent.csrf(t, "/cases/"+ref)
	agent.post(t, "/cases/"+ref+"/reveal", url.Values{"_csrf": {tok}, "field": {field}, "reason": {" "}}).wantStatus(t, http.StatusUnprocessableEntity)
	parcel := d.login(t, "parcel@desk.example")
	ptok := parcel.csrf(t, "/login")
	parcel.post(t, "/cases/"+ref+"/reveal", url.Values{"_csrf": {ptok}, "field": {field}, "reason": {"curious"}}).wantStatus(t, http.StatusForbidden)

	r := agent.post(t, "/cases/"+ref+"/reveal", url.Values{"_csrf": {tok}, "field": {field}, "reason": {"Reporter called; confirming the address"}})
	r.wantStatus(t, http.StatusSeeOther)
	if loc := r.location(); loc != "/cases/"+ref+"#addresses" || strings.Contains(loc, "@") {
		t.Fatalf("%s: Location = %q, want /cases/%s#addresses with no address in it", r.call, loc, ref)
	}
	page = agent.get(t, "/cases/"+ref)
	if !strings.Contains(page.body, reporter) {
		t.Errorf("%s after the reveal does not show %s", page.call, reporter)
	}
	if strings.Contains(page.body, recipient) {
		t.Errorf("%s after revealing the reporter shows the recipient %s too", page.call, recipient)
	}
	// The same agent in another browser (another session) sees it masked.
	if other := d.login(t, "agent@desk.example").get(t, "/cases/"+ref); strings.Contains(other.body, reporter) {
		t.Errorf("%s in another session shows the revealed address", other.call)
	}

	log, err := svc.AuditLog(ctx, cases.Actor{User: &cases.User{Role: cases.RoleAdmin}}, 10)
	log = slices.DeleteFunc(log, func(e cases.AuditEntry) bool { return e.Action == cases.AuditSignIn })
	if err != nil || len(log) != 1 || log[0].Action != cases.AuditRevealAddress || log[0].Actor != "user:agent@desk.example" ||
		log[0].Subject != "case:"+ref || !strings.Contains(log[0].Detail, "Reporter called") {
		t.Errorf("AuditLog() = %+v, %v; want the one reveal with actor, case, field and reason", log, err)
	}
}

// regexpField returns the value of the first hidden "field" input that
// starts with prefix.
func regexpField(t *testing.T, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, `name="field" value="`+prefix)
	if i < 0 {
		t.Fatalf("no reveal form for a %s field in the page:\n%s", prefix, clip(body))
	}
	rest := body[i+len(`name="field" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// After retention, the case page says when the raw mail was purged.
func TestCaseShowsPurgedEvidence(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	svc := d.app.Service
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	got, err := svc.IngestMail(ctx, []cases.InboundMail{{Raw: []byte("hello"), Parsed: cases.ParsedMail{
		Class: cases.ClassUnrelated, MessageID: "x1@example.com", From: "someone@example.com", Subject: "Hello there"}}})
	if err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}
	agent := d.login(t, "agent@desk.example")
	r := agent.post(t, "/mail/"+itoa(got[0].MailID)+"/case", url.Values{"_csrf": {agent.csrf(t, "/mail")}})
	r.wantStatus(t, http.StatusSeeOther)
	casePath := r.location()
	if page := agent.get(t, casePath); !strings.Contains(page.body, "raw mail kept") {
		t.Errorf("%s before the purge does not say the raw mail is kept", page.call)
	}
	// A retention of one nanosecond purges everything received before now.
	if n, err := svc.PurgeEvidence(ctx, time.Nanosecond, 0); err != nil || n != 1 {
		t.Fatalf("PurgeEvidence() = %d, %v; want 1", n, err)
	}
	page := agent.get(t, casePath)
	if !strings.Contains(page.body, "raw mail purged on ") || strings.Contains(page.body, "raw mail kept") {
		t.Errorf("%s after the purge does not say when the raw mail was purged", page.call)
	}
	if !strings.Contains(page.body, "Raw evidence mail purged after") || !strings.Contains(page.body, "Hello there") {
		t.Errorf("%s after the purge lacks the timeline event or the mail's metadata", page.call)
	}
}
