package cases

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestPurgeEvidence(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	const keep = 90 * 24 * time.Hour
	d.register(t, "<orig-1@mail.example.com>", "ACC-1", "taro@gmial.com", "registration")
	reply := func(uid uint32, msgID string) InboundMail {
		return InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Raw: []byte("raw mail " + msgID), Parsed: ParsedMail{
			Class: ClassReport, MessageID: msgID, From: "taro@gmial.com", Subject: "Re: Welcome",
			MessageIDs: []string{"orig-1@mail.example.com"}, ParserVersion: 1}}
	}
	first := ingest(t, d, reply(1, "<r1@gmial.com>"), InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: 2, Raw: []byte("hello"),
		Parsed: ParsedMail{Class: ClassUnrelated, MessageID: "<u1@example.org>", From: "z@example.org"}})
	ref := first[0].CaseRef
	d.clock.Advance(50 * 24 * time.Hour)
	later := ingest(t, d, reply(3, "<r2@gmial.com>"))
	if later[0].CaseRef != ref {
		t.Fatalf("second reply went to case %s, want %s", later[0].CaseRef, ref)
	}
	c := d.caseRow(t, ref)
	purgeEvents := func() int {
		n := 0
		for _, typ := range d.events(t, c.ID) {
			if typ == EventEvidencePurged {
				n++
			}
		}
		return n
	}
	mail := func(id int64) MailMessage {
		var m MailMessage
		if err := d.store.w.Where("id = ?", id).Take(&m).Error; err != nil {
			t.Fatalf("read mail %d: %v", id, err)
		}
		return m
	}

	// Day 89 after the first mails: nothing is due.
	d.clock.Advance(39 * 24 * time.Hour)
	if n, err := d.PurgeEvidence(ctx, keep, 0); n != 0 || err != nil {
		t.Fatalf("PurgeEvidence(day 89) = %d, %v; want 0", n, err)
	}

	// Day 91: the first two mails go, in batches of one; the later one stays.
	d.clock.Advance(2 * 24 * time.Hour)
	if n, err := d.PurgeEvidence(ctx, keep, 1); n != 2 || err != nil {
		t.Fatalf("PurgeEvidence(day 91, batch 1) = %d, %v; want 2", n, err)
	}
	m := mail(first[0].MailID)
	if m.Raw != nil || m.PurgedAt == nil || !m.PurgedAt.Equal(d.clock.Now()) {
		t.Errorf("mail 1 after the purge: raw %d bytes, purged_at %v; want no raw, purged now", len(m.Raw), m.PurgedAt)
	}
	if m.FromAddr != "taro@gmial.com" || m.Subject != "Re: Welcome" || m.Size == 0 || len(m.Sha256) != 32 || m.CaseID == nil || m.Disposition != DispositionReport {
		t.Errorf("mail 1 after the purge = %+v, want its metadata intact", m)
	}
	if mail(first[1].MailID).Raw != nil {
		t.Errorf("the ignored mail (no case) kept its raw bytes past retention")
	}
	if m := mail(later[0].MailID); !bytes.Equal(m.Raw, []byte("raw mail <r2@gmial.com>")) || m.PurgedAt != nil {
		t.Errorf("the later mail = raw %q, purged_at %v; want it kept", m.Raw, m.PurgedAt)
	}
	if got := purgeEvents(); got != 1 {
		t.Errorf("timeline has %d evidence_purged events, want 1", got)
	}
	if n := countRows(t, d.store, "reports"); n != 2 {
		t.Errorf("%d reports after the purge, want 2", n)
	}
	if d.caseRow(t, ref).Ref != ref {
		t.Errorf("case %s changed by the purge", ref)
	}

	// Again the same day: nothing new, no second event.
	if n, err := d.PurgeEvidence(ctx, keep, 0); n != 0 || err != nil {
		t.Fatalf("PurgeEvidence(again) = %d, %v; want 0", n, err)
	}
	if got := purgeEvents(); got != 1 {
		t.Errorf("after purging again: %d evidence_purged events, want 1", got)
	}

	// The later mail's turn; a cancelled context purges nothing.
	d.clock.Advance(50 * 24 * time.Hour)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n, err := d.PurgeEvidence(cancelled, keep, 0); n != 0 || err != nil {
		t.Fatalf("PurgeEvidence(cancelled) = %d, %v; want 0, nil", n, err)
	}
	if n, err := d.PurgeEvidence(ctx, keep, 0); n != 1 || err != nil {
		t.Fatalf("PurgeEvidence(day 141) = %d, %v; want 1", n, err)
	}
	if got := purgeEvents(); got != 2 {
		t.Errorf("after the later mail's purge: %d evidence_purged events, want 2", got)
	}
	if _, err := d.PurgeEvidence(ctx, 0, 0); err == nil {
		t.Errorf("PurgeEvidence(retention 0) = nil error, want a refusal")
	}

	// Staff see when it was purged.
	got, err := d.CaseByRef(ctx, trainedAgent(), ref)
	if err != nil || len(got.Mail) != 2 || got.Mail[0].PurgedAt == nil {
		t.Errorf("CaseByRef().Mail = %+v, %v; want both mails with purged_at", got.Mail, err)
	}
}
