package cases

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestMailEvidence: only security-trained staff read a mail, only through
// its own case; addresses in it are masked unless this session revealed
// them; a download is audited.
func TestMailEvidence(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	ref := mailCase(t, d, "hanako@example.net", "hanako@example.net")
	agent, session := login(t, d, "agent@desk.example.com", RoleAgent, true)
	parcel, _ := login(t, d, "parcel@desk.example.com", RoleAgent, false)
	var mail MailMessage
	if err := d.store.w.Where("case_id IS NOT NULL").Take(&mail).Error; err != nil {
		t.Fatal(err)
	}

	e, err := d.MailEvidence(ctx, agent, session, ref, mail.ID)
	if err != nil {
		t.Fatalf("MailEvidence() = %v", err)
	}
	raw, err := d.RawMail(ctx, e)
	if string(raw) != "reply" || err != nil || e.Mail.Raw != nil || e.Mail.FromAddr != "h***@example.net" || e.Purged() {
		t.Errorf("MailEvidence() = raw %q (RawMail() = %q, %v), from %q, purged %v; want no raw bytes until RawMail reads them, its sender masked",
			e.Mail.Raw, raw, err, e.Mail.FromAddr, e.Purged())
	}
	if _, err := d.RawMail(ctx, Evidence{Mail: MailMessage{ID: mail.ID}}); ErrorCode(err) != ENOTFOUND {
		t.Errorf("RawMail(an Evidence not from MailEvidence) = %v, want ENOTFOUND", err)
	}
	if got := e.Mask("From: Hanako <hanako@example.net>, cc kenji@example.org"); got != "From: Hanako <h***@example.net>, cc k***@example.org" {
		t.Errorf("Evidence.Mask() = %q, want every address masked", got)
	}

	_, err = d.MailEvidence(ctx, parcel, "", ref, mail.ID)
	wantCode(t, "MailEvidence(untrained)", err, EFORBIDDEN, "security-trained")
	_, err = d.MailEvidence(ctx, Actor{APIKey: &APIKey{Name: "cc", Scopes: string(ScopeCasesRead)}}, "", ref, mail.ID)
	wantCode(t, "MailEvidence(API key)", err, EFORBIDDEN, "")
	_, err = d.MailEvidence(ctx, agent, session, ref, mail.ID+1)
	wantCode(t, "MailEvidence(no such mail)", err, ENOTFOUND, "")
	other := d.file(t, ReportInput{Reporter: "x@example.org"})
	_, err = d.MailEvidence(ctx, agent, session, other.Case.Ref, mail.ID)
	wantCode(t, "MailEvidence(mail of another case)", err, ENOTFOUND, "no such mail")

	if err := d.RevealAddress(ctx, agent, session, ref, "mail:"+strconv.FormatInt(mail.ID, 10), "compare with the ledger"); err != nil {
		t.Fatalf("RevealAddress() = %v", err)
	}
	e, err = d.MailEvidence(ctx, agent, session, ref, mail.ID)
	if err != nil {
		t.Fatalf("MailEvidence() after a reveal = %v", err)
	}
	if got := e.Mask("Hanako <Hanako@example.net>, kenji@example.org"); got != "Hanako <Hanako@example.net>, k***@example.org" {
		t.Errorf("Evidence.Mask() after a reveal = %q, want the revealed address only unmasked", got)
	}

	err = d.RecordAttachmentDownload(ctx, parcel, ref, mail.ID, "a.exe", "application/x-msdownload", 10)
	wantCode(t, "RecordAttachmentDownload(untrained)", err, EFORBIDDEN, "")
	err = d.RecordAttachmentDownload(ctx, agent, other.Case.Ref, mail.ID, "a.exe", "application/x-msdownload", 10)
	wantCode(t, "RecordAttachmentDownload(mail of another case)", err, ENOTFOUND, "")
	if err := d.RecordAttachmentDownload(ctx, agent, ref, mail.ID, "請求書.exe", "application/x-msdownload", 10); err != nil {
		t.Fatalf("RecordAttachmentDownload() = %v", err)
	}
	log, err := d.AuditLog(ctx, Actor{User: &User{Role: RoleAdmin}}, 10)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	var got []AuditEntry
	for _, a := range log {
		if a.Action == AuditDownloadAttachment {
			got = append(got, a)
		}
	}
	if len(got) != 1 || got[0].Actor != "user:agent@desk.example.com" || got[0].Subject != "case:"+ref ||
		!strings.Contains(got[0].Detail, "mail "+strconv.FormatInt(mail.ID, 10)) || !strings.Contains(got[0].Detail, `"請求書.exe"`) {
		t.Errorf("audit log downloads = %+v, want one entry naming who, the case, the mail and the file", got)
	}
}
