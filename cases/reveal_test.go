package cases

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// login adds a staff member and returns the actor and a live session token.
func login(t *testing.T, d *testDesk, email string, role Role, trained bool) (Actor, string) {
	t.Helper()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	if _, err := d.AddUser(ctx, email, role, trained, pw); err != nil {
		t.Fatalf("AddUser(%s) = %v", email, err)
	}
	tok, u, err := d.Login(ctx, email, pw, 365*24*time.Hour)
	if err != nil {
		t.Fatalf("Login(%s) = %v", email, err)
	}
	return Actor{User: &u}, tok
}

// mailCase files a mail report from reporter about the ledger mail sent
// to recipient, and returns the case reference.
func mailCase(t *testing.T, d *testDesk, reporter, recipient string) string {
	t.Helper()
	d.register(t, "<orig-9@mail.example.com>", "ACC-9", recipient, "postal_notice")
	got := ingest(t, d, InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Raw: []byte("reply"), Parsed: ParsedMail{
		Class: ClassReport, MessageID: "<r9@example.net>", From: reporter, Lang: "en",
		MessageIDs: []string{"orig-9@mail.example.com"}, ParserVersion: 1}})
	if got[0].CaseRef == "" {
		t.Fatalf("IngestMail() = %+v, want a case", got[0])
	}
	return got[0].CaseRef
}

func TestCaseByRefMasksAddresses(t *testing.T) {
	d := newTestDesk(t)
	ref := mailCase(t, d, "hanako@example.net", "hanako@example.net")
	got, err := d.CaseByRef(context.Background(), trainedAgent(), ref)
	if err != nil {
		t.Fatalf("CaseByRef() = %v", err)
	}
	if len(got.Reports) != 1 || got.Reports[0].Reporter != "h***@example.net" {
		t.Errorf("CaseByRef().Reports = %+v, want the reporter masked as h***@example.net", got.Reports)
	}
	if len(got.Mail) != 1 || got.Mail[0].FromAddr != "h***@example.net" {
		t.Errorf("CaseByRef().Mail = %+v, want the sender masked", got.Mail)
	}
	if len(got.Acks) != 1 || got.Acks[0].ToAddr != "h***@example.net" {
		t.Errorf("CaseByRef().Acks = %+v, want the recipient masked", got.Acks)
	}
	list, err := d.MailList(context.Background(), trainedAgent(), MailFilter{Disposition: DispositionReport})
	if err != nil || len(list) != 1 || list[0].FromAddr != "h***@example.net" {
		t.Errorf("MailList() = %+v, %v; want the sender masked", list, err)
	}
}

func TestRevealAddress(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	ref := mailCase(t, d, "taro.reporter@example.net", "owner.holder@example.org")
	agent, sess := login(t, d, "agent@desk.example", RoleAgent, true)
	_, otherSess := login(t, d, "agent2@desk.example", RoleAgent, true)
	untrained, untrainedSess := login(t, d, "parcel@desk.example", RoleAgent, false)
	lead, leadSess := login(t, d, "lead@desk.example", RoleLead, false)

	addrs, err := d.CaseAddresses(ctx, agent, sess, ref)
	if err != nil {
		t.Fatalf("CaseAddresses() = %v", err)
	}
	var fields []string
	for _, a := range addrs {
		fields = append(fields, a.Field)
		if a.Revealed != "" || strings.Contains(a.Masked, "reporter") || strings.Contains(a.Masked, "holder") {
			t.Errorf("CaseAddresses() before a reveal = %+v, shows an address", a)
		}
	}
	// The reporter's address is also the mail's sender and the ack's
	// recipient: one entry; the ledger recipient is another.
	if len(addrs) != 2 || !strings.HasPrefix(addrs[0].Field, "reporter:") || !strings.HasPrefix(addrs[1].Field, "recipient:") ||
		len(addrs[0].Where) != 3 || addrs[1].Masked != "o***@example.org" {
		t.Fatalf("CaseAddresses() = %+v, want the reporter (report, mail, ack) and the ledger recipient", addrs)
	}
	reporterField, recipientField := fields[0], fields[1]

	for _, tc := range []struct {
		name                string
		a                   Actor
		session, field, why string
		code                Code
	}{
		{"untrained agent", untrained, untrainedSess, reporterField, "checking", EFORBIDDEN},
		{"untrained lead", lead, leadSess, reporterField, "checking", EFORBIDDEN},
		{"API key", Actor{APIKey: &APIKey{Name: "crm", Scopes: string(ScopeCasesRead + " " + ScopeCasesWrite)}}, "", reporterField, "checking", EFORBIDDEN},
		{"no reason", agent, sess, reporterField, "  \n", EINVALID},
		{"too long a reason", agent, sess, reporterField, strings.Repeat("x", MaxRevealReason+1), EINVALID},
		{"another user's session", agent, otherSess, reporterField, "checking", EUNAUTHORIZED},
		{"no session", agent, "", reporterField, "checking", EUNAUTHORIZED},
		{"a field of no case", agent, sess, "reporter:999", "checking", ENOTFOUND},
		{"a made-up field", agent, sess, "users:1", "checking", ENOTFOUND},
	} {
		err := d.RevealAddress(ctx, tc.a, tc.session, ref, tc.field, tc.why)
		wantCode(t, "RevealAddress("+tc.name+")", err, tc.code, "")
	}
	var n int64
	if err := d.store.r.Table("audit_log").Where("action <> ?", AuditSignIn).Count(&n).Error; err != nil || n != 0 {
		t.Fatalf("after refused reveals: %d audit entries besides sign-ins (%v), want 0", n, err)
	}

	if err := d.RevealAddress(ctx, agent, sess, strings.ToLower(ref), reporterField, "Reporter asks by phone to confirm; checking the address"); err != nil {
		t.Fatalf("RevealAddress() = %v", err)
	}
	addrs, err = d.CaseAddresses(ctx, agent, sess, ref)
	if err != nil || addrs[0].Revealed != "taro.reporter@example.net" || addrs[1].Revealed != "" {
		t.Fatalf("CaseAddresses() after revealing the reporter = %+v, %v; want only the reporter unmasked", addrs, err)
	}
	// Another session of someone else sees it masked.
	other, _ := d.CaseAddresses(ctx, Actor{User: &User{ID: 2, SecurityTrained: true}}, otherSess, ref)
	if len(other) == 0 || other[0].Revealed != "" {
		t.Errorf("CaseAddresses(another session) = %+v, want masked", other)
	}
	log, err := d.AuditLog(ctx, Actor{User: &User{Role: RoleAdmin}}, 10)
	log = slices.DeleteFunc(log, func(e AuditEntry) bool { return e.Action == AuditSignIn })
	if err != nil || len(log) != 1 {
		t.Fatalf("AuditLog() = %+v, %v; want one entry", log, err)
	}
	e := log[0]
	if e.Action != AuditRevealAddress || e.Actor != "user:agent@desk.example" || e.Subject != "case:"+ref ||
		!strings.Contains(e.Detail, reporterField) || !strings.Contains(e.Detail, "Reporter asks by phone") {
		t.Errorf("AuditLog()[0] = %+v, want who, which case, which field and why", e)
	}
	if strings.Contains(e.Detail, "taro") || strings.Contains(e.Detail, "@") {
		t.Errorf("AuditLog()[0].Detail = %q, holds the address itself", e.Detail)
	}

	// The reveal ends after RevealTTL.
	d.clock.Advance(RevealTTL + time.Second)
	addrs, _ = d.CaseAddresses(ctx, agent, sess, ref)
	if addrs[0].Revealed != "" {
		t.Errorf("CaseAddresses() after RevealTTL = %+v, want masked again", addrs[0])
	}
	if err := d.RevealAddress(ctx, agent, sess, ref, recipientField, "Owner's address, to contact them another way"); err != nil {
		t.Fatalf("RevealAddress(recipient) = %v", err)
	}
	addrs, _ = d.CaseAddresses(ctx, agent, sess, ref)
	if addrs[1].Revealed != "owner.holder@example.org" || addrs[0].Revealed != "" {
		t.Errorf("CaseAddresses() after revealing the recipient = %+v", addrs)
	}
}
