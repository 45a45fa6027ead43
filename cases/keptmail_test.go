package cases

import (
	"context"
	"strconv"
	"testing"
)

// TestKeptMail: any kept mail can be read by its id, by security-trained
// staff only, its sender masked; a mail on a case comes with the case and
// the addresses this session revealed there. Downloads are audited on the
// mail, or on its case when it has one.
func TestKeptMail(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	agent, session := login(t, d, "agent@desk.example.com", RoleAgent, true)
	parcel, _ := login(t, d, "parcel@desk.example.com", RoleAgent, false)
	kept := ingest(t, d, InboundMail{Raw: []byte("hello"), Parsed: ParsedMail{Class: ClassUnrelated, From: "someone@example.org", Subject: "Hi"}})[0]
	ref := mailCase(t, d, "hanako@example.net", "hanako@example.net")
	var onCase MailMessage
	if err := d.store.w.Where("case_id IS NOT NULL").Take(&onCase).Error; err != nil {
		t.Fatal(err)
	}

	e, err := d.KeptMail(ctx, agent, session, kept.MailID)
	if err != nil {
		t.Fatalf("KeptMail() = %v", err)
	}
	if raw, err := d.RawMail(ctx, e); string(raw) != "hello" || err != nil || e.Mail.FromAddr != "s***@example.org" || e.Case.ID != 0 || e.Mail.Reason != ReasonUnrelated {
		t.Errorf("KeptMail() = raw %q, from %q, case %d, reason %q; want the raw mail, masked, on no case", raw, e.Mail.FromAddr, e.Case.ID, e.Mail.Reason)
	}
	if got := e.Mask("someone@example.org"); got != "s***@example.org" {
		t.Errorf("Evidence.Mask() = %q, want it masked", got)
	}
	_, err = d.KeptMail(ctx, parcel, "", kept.MailID)
	wantCode(t, "KeptMail(untrained)", err, EFORBIDDEN, "security-trained")
	_, err = d.KeptMail(ctx, Actor{APIKey: &APIKey{Name: "cc", Scopes: string(ScopeCasesRead)}}, "", kept.MailID)
	wantCode(t, "KeptMail(API key)", err, EFORBIDDEN, "")
	_, err = d.KeptMail(ctx, agent, session, onCase.ID+100)
	wantCode(t, "KeptMail(no such mail)", err, ENOTFOUND, "")

	if err := d.RevealAddress(ctx, agent, session, ref, "mail:"+strconv.FormatInt(onCase.ID, 10), "compare with the ledger"); err != nil {
		t.Fatalf("RevealAddress() = %v", err)
	}
	e, err = d.KeptMail(ctx, agent, session, onCase.ID)
	if err != nil || e.Case.Ref != ref {
		t.Fatalf("KeptMail(mail on a case) = case %q, %v; want %s", e.Case.Ref, err, ref)
	}
	if got := e.Mask("hanako@example.net"); got != "hanako@example.net" {
		t.Errorf("Evidence.Mask() after a reveal on the case = %q, want it readable", got)
	}

	err = d.RecordKeptMailDownload(ctx, parcel, kept.MailID, "a.exe", "application/x-msdownload", 10)
	wantCode(t, "RecordKeptMailDownload(untrained)", err, EFORBIDDEN, "")
	err = d.RecordKeptMailDownload(ctx, agent, onCase.ID+100, "a.exe", "application/x-msdownload", 10)
	wantCode(t, "RecordKeptMailDownload(no such mail)", err, ENOTFOUND, "")
	for _, id := range []int64{kept.MailID, onCase.ID} {
		if err := d.RecordKeptMailDownload(ctx, agent, id, "a.exe", "application/x-msdownload", 10); err != nil {
			t.Fatalf("RecordKeptMailDownload(%d) = %v", id, err)
		}
	}
	log, err := d.AuditLog(ctx, Actor{User: &User{Role: RoleAdmin}}, 10)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	var subjects []string
	for _, a := range log {
		if a.Action == AuditDownloadAttachment {
			subjects = append(subjects, a.Subject)
		}
	}
	want := []string{"case:" + ref, "mail:" + strconv.FormatInt(kept.MailID, 10)} // newest first
	if len(subjects) != 2 || subjects[0] != want[0] || subjects[1] != want[1] {
		t.Errorf("audit log downloads = %q, want %q", subjects, want)
	}
}
