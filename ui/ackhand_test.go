package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"notme/cases"
)

// The backscatter mail of issue 12 (a forged From, a ledger Message-ID,
// an attacker's subject) files a report whose acknowledgement is held:
// the case says why in the reader's language and offers staff a button
// to send it. A trained agent or lead sends it (POST with CSRF, audited,
// confirmed with ?done=); untrained staff cannot; a sender_check hold is
// never offered and a forged POST for one is refused.
func TestSendHeldAckFromTheCasePage(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	d.register(t, cases.LedgerMessage{MessageID: "<reg-1@mail.example.com>", AccountRef: "ACC-9",
		Recipient: "taro@gmial.com", Kind: "registration", Subject: "Set your password"})
	mail := func(from, id, top string) cases.InboundMail {
		return cases.InboundMail{Raw: []byte(top + "From: " + from + "\r\n" +
			"To: notme@desk.example.com\r\n" +
			"Subject: URGENT: your account is suspended - verify at https://evil.example/login\r\n" +
			"Message-ID: <" + id + ">\r\n" +
			"In-Reply-To: <reg-1@mail.example.com>\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
			"Verify now.\r\n")}
	}
	got, err := d.app.Pipeline.Ingest(context.Background(), []cases.InboundMail{
		mail("victim@innocent.example", "lure1@innocent.example", ""),
		mail("other@innocent.example", "lure2@innocent.example", "Return-Path: <>\r\n"),
	})
	if err != nil {
		t.Fatalf("Pipeline.Ingest() = %v", err)
	}
	ref := got[0].CaseRef
	if got[0].Disposition != cases.DispositionReport || ref == "" || got[0].AckTo != "" {
		t.Fatalf("Pipeline.Ingest() = %+v, want the report filed and no acknowledgement", got[0])
	}
	acks := d.acksOf(t, ref)
	if len(acks) != 2 {
		t.Fatalf("acks of %s = %+v, want the two reports' acks", ref, acks)
	}
	heldID, neverID := acks[0].ID, acks[1].ID

	lead := d.login(t, "lead@desk.example")
	for lang, want := range map[string]string{"en": "nothing shows the reporter is who the mail went to", "ja": "報告者がメールの宛先本人だと示すものがありません"} {
		page := lead.get(t, "/cases/"+ref+"?lang="+lang)
		page.wantStatus(t, http.StatusOK)
		if !strings.Contains(page.body, want) {
			t.Errorf("%s does not say why the acknowledgement was held: want %q", page.call, want)
		}
	}
	page := lead.get(t, "/cases/"+ref+"?lang=en")
	if !strings.Contains(page.body, `action="/cases/`+ref+`/acks/`+strconv.FormatInt(heldID, 10)+`/send"`) {
		t.Errorf("%s offers no button to send the held acknowledgement", page.call)
	}
	if strings.Contains(page.body, `/acks/`+strconv.FormatInt(neverID, 10)+`/send"`) || !strings.Contains(page.body, "never sent, not even by hand") {
		t.Errorf("%s offers to send a sender_check hold, or does not say it never goes", page.call)
	}

	parcel := d.login(t, "parcel@desk.example")
	parcel.post(t, "/cases/"+ref+"/acks/"+strconv.FormatInt(heldID, 10)+"/send",
		url.Values{"_csrf": {parcel.csrf(t, "/login")}}).wantStatus(t, http.StatusForbidden)
	lead.post(t, "/cases/"+ref+"/acks/"+strconv.FormatInt(heldID, 10)+"/send", url.Values{}).wantStatus(t, http.StatusForbidden)
	tok := lead.csrf(t, "/cases/"+ref)
	lead.post(t, "/cases/"+ref+"/acks/"+strconv.FormatInt(neverID, 10)+"/send", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusConflict)
	if a := d.acksOf(t, ref); a[0].State != cases.AckSuppressed || a[1].State != cases.AckSuppressed {
		t.Fatalf("acks after refused sends = %+v, want both still held", a)
	}

	r := lead.post(t, "/cases/"+ref+"/acks/"+strconv.FormatInt(heldID, 10)+"/send", url.Values{"_csrf": {tok}})
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() != "/cases/"+ref+"?done=ack_sent#acks" {
		t.Errorf("%s: Location = %q, want the case page confirming ack_sent", r.call, r.location())
	}
	for lang, want := range map[string]string{"en": "The acknowledgement is on its way.", "ja": "受付通知を送信します。"} {
		if p := lead.get(t, "/cases/"+ref+"?done=ack_sent&lang="+lang); !strings.Contains(p.body, want) {
			t.Errorf("%s does not confirm: want %q", p.call, want)
		}
	}
	if a := d.acksOf(t, ref)[0]; a.State != cases.AckPending || a.LastError != "" {
		t.Errorf("ack after sending by hand = %s %q; want pending", a.State, a.LastError)
	}
	page = lead.get(t, "/cases/"+ref+"?lang=ja")
	if !strings.Contains(page.body, "保留していた受付通知（報告者がメールの宛先本人だと示すものがない）を手動で送信した。") {
		t.Errorf("%s: the timeline does not say the acknowledgement was sent by hand", page.call)
	}
	entries, err := d.app.Service.AuditLog(context.Background(), leadActor(), 50)
	if err != nil || !slices.ContainsFunc(entries, func(e cases.AuditEntry) bool {
		return e.Action == cases.AuditSendHeldAck && e.Actor == "user:lead@desk.example" && e.Args["held"] == cases.AckHeldNotPlausible
	}) {
		t.Errorf("AuditLog() = %+v, %v; want the lead's %s", entries, err, cases.AuditSendHeldAck)
	}
}

// Every held reason a person may overrule reads in both languages on the
// timeline.
func TestHeldReasonsNamedInBothLanguages(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "registration").Token, nil)
	for _, h := range cases.AckHandSendable {
		d.exec(t, `INSERT INTO case_events (case_id, at, actor, type, detail, code, args) SELECT id, ?, ?, ?, ?, ?, ? FROM cases WHERE ref = ?`,
			sampleDay, "user:lead@desk.example", cases.EventAckSentByHand, "English", cases.CodeAckSentByHand, `{"held":"`+h+`"}`, ref)
	}
	lead := d.login(t, "lead@desk.example")
	for _, lang := range []string{"en", "ja"} {
		tl := timeline(t, lead.get(t, "/cases/"+ref+"?lang="+lang))
		for _, h := range cases.AckHandSendable {
			if strings.Contains(tl, h) {
				t.Errorf("timeline in %s shows the raw reason %q:\n%s", lang, h, tl)
			}
		}
	}
}

// leadActor is a security-trained lead, for reading what the desk stored.
func leadActor() cases.Actor {
	return cases.Actor{User: &cases.User{ID: 1, Email: "lead@desk.example", Role: cases.RoleLead, SecurityTrained: true}}
}

// acksOf returns a case's acknowledgements, oldest first (addresses
// masked).
func (d *desk) acksOf(t *testing.T, ref string) []cases.Ack {
	t.Helper()
	c, err := d.app.Service.CaseByRef(context.Background(), leadActor(), ref)
	if err != nil {
		t.Fatalf("CaseByRef(%s) = %v", ref, err)
	}
	return c.Acks
}
