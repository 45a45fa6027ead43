package cases

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func ingest(t *testing.T, d *testDesk, batch ...InboundMail) []Ingested {
	t.Helper()
	out, err := d.IngestMail(context.Background(), batch)
	if err != nil {
		t.Fatalf("IngestMail(%d mails) = %v", len(batch), err)
	}
	if len(out) != len(batch) {
		t.Fatalf("IngestMail(%d mails) returned %d results", len(batch), len(out))
	}
	return out
}

func TestIngestMailDispositions(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "<orig-1@mail.example.com>", "ACC-1", "taro@gmial.com", "registration")
	tok := d.mint(t, "ACC-2", "postal_notice").Token

	reply := InboundMail{Mailbox: "INBOX", UIDValidity: 7, UID: 1, Raw: []byte("reply"), Parsed: ParsedMail{
		Class: ClassReport, MessageID: "<r1@gmial.com>", From: "Taro@Gmial.com", Lang: "ja",
		MessageIDs: []string{"orig-1@mail.example.com"}, ParserVersion: 1}}
	forward := InboundMail{Mailbox: "INBOX", UIDValidity: 7, UID: 2, Raw: []byte("fwd"), Parsed: ParsedMail{
		Class: ClassReport, MessageID: "f1@example.org", From: "x@example.org", Tokens: []string{"AAAAforged", tok},
		DMARCPass: true}} // plausible: acknowledged (TestAckOnlyToPlausibleReporters)
	arf := InboundMail{Mailbox: "INBOX", UIDValidity: 7, UID: 3, Raw: []byte("arf"), Parsed: ParsedMail{
		Class: ClassARF, MessageID: "arf1@fbl.example.net", From: "fbl@example.net", Auto: "arf",
		MessageIDs: []string{"orig-1@mail.example.com"}}}
	auto := InboundMail{Mailbox: "INBOX", UIDValidity: 7, UID: 4, Raw: []byte("ooo"), Parsed: ParsedMail{
		Class: ClassAutoReply, MessageID: "ooo@example.org", From: "y@example.org", Auto: "auto-submitted: auto-replied"}}
	loop := InboundMail{Mailbox: "INBOX", UIDValidity: 7, UID: 5, Raw: []byte("loop"), Parsed: ParsedMail{
		Class: ClassAutoReply, From: "notme@desk.example.com", Auto: "own-address"}}
	unrelated := InboundMail{Mailbox: "INBOX", UIDValidity: 7, UID: 6, Raw: []byte("hi"), Parsed: ParsedMail{
		Class: ClassUnrelated, MessageID: "hi@example.org", From: "z@example.org"}}
	again := reply
	again.UID = 7 // the same mail delivered twice

	got := ingest(t, d, reply, forward, arf, auto, loop, unrelated, again)
	want := []struct{ disp, reason, ackTo string }{
		{DispositionReport, "", "taro@gmial.com"},
		{DispositionReport, "", "x@example.org"},
		{DispositionReport, "", ""}, // an ARF is never answered
		{DispositionIgnored, ReasonAutoReply, ""},
		{DispositionIgnored, ReasonLoop, ""},
		{DispositionIgnored, ReasonUnrelated, ""},
		{DispositionIgnored, ReasonDuplicate, ""},
	}
	for i, w := range want {
		g := got[i]
		if g.Disposition != w.disp || g.Reason != w.reason || g.AckTo != w.ackTo || g.Again {
			t.Errorf("mail %d: got %+v, want disposition %s reason %q ack to %q", i+1, g, w.disp, w.reason, w.ackTo)
		}
		if (g.Disposition == DispositionReport) != (g.CaseRef != "" && g.StatusToken != "") {
			t.Errorf("mail %d: case %q, status token set %v; a report needs both, others neither", i+1, g.CaseRef, g.StatusToken != "")
		}
	}
	if got[0].CaseRef != got[2].CaseRef {
		t.Errorf("reply and ARF about the same ledger message went to cases %s and %s, want one", got[0].CaseRef, got[2].CaseRef)
	}
	if c := d.caseRow(t, got[1].CaseRef); c.AccountRef != "ACC-2" || c.Match != MatchExact {
		t.Errorf("forward with a forged and a real token: case %+v, want ACC-2 exact", c)
	}
	if n := countRows(t, d.store, "mail_messages"); n != 7 {
		t.Errorf("mail_messages has %d rows, want every mail kept (7)", n)
	}

	// A re-fetch of the same IMAP messages after a crash stores nothing new.
	reports := countRows(t, d.store, "reports")
	for i, g := range ingest(t, d, reply, forward) {
		if !g.Again || g.MailID != got[i].MailID {
			t.Errorf("re-fetch of mail %d = %+v, want Again with mail id %d", i+1, g, got[i].MailID)
		}
	}
	if n := countRows(t, d.store, "reports"); n != reports {
		t.Errorf("re-fetch changed reports from %d to %d", reports, n)
	}
	// A new UIDVALIDITY is a new message as far as IMAP goes; the
	// Message-ID still keeps the report single.
	moved := reply
	moved.UIDValidity = 8
	if g := ingest(t, d, moved)[0]; g.Again || g.Reason != ReasonDuplicate {
		t.Errorf("same mail under a new UIDVALIDITY = %+v, want a stored duplicate", g)
	}
}

func TestIngestBounceNotesTheCase(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "orig-9@mail.example.com", "ACC-9", "hanako@example.jp", "registration")
	first := ingest(t, d, InboundMail{Raw: []byte("r"), Parsed: ParsedMail{Class: ClassReport,
		From: "hanako@example.jp", MessageIDs: []string{"orig-9@mail.example.com"}}})[0]
	b := ingest(t, d, InboundMail{Raw: []byte("dsn"), Parsed: ParsedMail{Class: ClassBounce, Auto: "dsn",
		MessageIDs: []string{"orig-9@mail.example.com"}, BounceRecipients: []string{"hanako@example.jp"}}})[0]
	if b.Disposition != DispositionIgnored || b.Reason != ReasonBounce || b.AckTo != "" {
		t.Fatalf("bounce = %+v, want ignored as bounce, never answered", b)
	}
	c := d.caseRow(t, first.CaseRef)
	evs := d.events(t, c.ID)
	if evs[len(evs)-1] != EventUndeliverable {
		t.Fatalf("timeline of %s = %v, want it to end with %s", c.Ref, evs, EventUndeliverable)
	}
}

func TestIngestUnmatchedMailStillOpensACase(t *testing.T) {
	d := newTestDesk(t)
	g := ingest(t, d, InboundMail{Raw: []byte("x"), Parsed: ParsedMail{Class: ClassReport,
		From: "someone@example.org", MessageIDs: []string{"unknown@elsewhere.example"}}})[0]
	if g.Disposition != DispositionReport || g.CaseRef == "" {
		t.Fatalf("unmatched report mail = %+v, want a report on a case", g)
	}
	if c := d.caseRow(t, g.CaseRef); c.Match != MatchUnmatched {
		t.Fatalf("case %s match %s, want unmatched (triage)", c.Ref, c.Match)
	}
}

func TestAcksQueuedOncePerAddress(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "o1@mail.example.com", "ACC-1", "a@example.org", "registration")
	d.register(t, "o2@mail.example.com", "ACC-2", "a@example.org", "newsletter")
	mail := func(id, orig string) InboundMail {
		return InboundMail{Raw: []byte(id), Parsed: ParsedMail{Class: ClassReport, MessageID: id, From: "a@example.org",
			Subject: "Re: Welcome", Lang: "ja", MessageIDs: []string{orig}}}
	}
	got := ingest(t, d, mail("r1@example.org", "o1@mail.example.com"), mail("r2@example.org", "o2@mail.example.com"))

	due, err := d.DueAcks(ctx, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueAcks = %d acks, %v; want one (the second mail from the address is within the window)", len(due), err)
	}
	a := due[0]
	if a.ToAddr != "a@example.org" || a.Lang != "ja" || a.InReplyTo != "r1@example.org" || a.CaseRef != got[0].CaseRef ||
		a.StatusURL != "https://desk.example.com/s/"+got[0].StatusToken {
		t.Fatalf("ack = %+v; want it addressed to the reporter, in Japanese, replying to r1, with case %s and its status URL", a, got[0].CaseRef)
	}
	var suppressed int64
	d.store.r.Model(&Ack{}).Where("state = ?", AckSuppressed).Count(&suppressed)
	if suppressed != 1 {
		t.Errorf("%d suppressed acks, want 1", suppressed)
	}

	// A failure is retried later, with back-off; success forgets the URL.
	if err := d.AckAttemptFailed(ctx, a, errors.New("421 try later")); err != nil {
		t.Fatal(err)
	}
	if due, _ := d.DueAcks(ctx, 10); len(due) != 0 {
		t.Fatalf("DueAcks right after a failure = %d, want 0 (backed off)", len(due))
	}
	next, ok, err := d.NextAckAt(ctx)
	if err != nil || !ok || !next.After(d.clock.Now()) {
		t.Fatalf("NextAckAt = %v, %v, %v; want a time in the future", next, ok, err)
	}
	d.clock.Advance(2 * time.Hour)
	if due, _ := d.DueAcks(ctx, 10); len(due) != 1 {
		t.Fatalf("DueAcks after the back-off = %d, want 1", len(due))
	}
	if err := d.AckSentNow(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	var sent Ack
	d.store.r.Where("id = ?", a.ID).Take(&sent)
	if sent.State != AckSent || sent.StatusURL != "" || sent.SentAt == nil {
		t.Fatalf("sent ack = %+v; want state sent, status URL forgotten, sent_at set", sent)
	}

	// A permanent failure gives up at once.
	d.clock.Advance(25 * time.Hour)
	ingest(t, d, mail("r3@example.org", "o1@mail.example.com"))
	due, _ = d.DueAcks(ctx, 10)
	if len(due) != 1 {
		t.Fatalf("DueAcks after the window = %d, want 1", len(due))
	}
	if err := d.AckAttemptFailed(ctx, due[0], fmt.Errorf("550 no such user: %w", ErrPermanent)); err != nil {
		t.Fatal(err)
	}
	var failed Ack
	d.store.r.Where("id = ?", due[0].ID).Take(&failed)
	if failed.State != AckFailed || failed.StatusURL != "" {
		t.Fatalf("ack after a permanent failure = %+v, want failed and the URL forgotten", failed)
	}
}

func TestOpenCaseFromIgnoredMail(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "o1@mail.example.com", "ACC-1", "a@example.org", "registration")
	// An auto-reply from a ledger recipient is kept out; a person may decide
	// it is a report after all.
	g := ingest(t, d, InboundMail{Raw: []byte("hi"), Parsed: ParsedMail{Class: ClassAutoReply, From: "a@example.org", Subject: "?", Auto: "vacation"}})[0]

	if _, err := d.MailList(ctx, Actor{User: &User{Email: "p@x", Role: RoleAgent}}, MailFilter{}); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("MailList by an untrained agent = %v, want forbidden", err)
	}
	list, err := d.MailList(ctx, trainedAgent(), MailFilter{Reason: ReasonAutoReply})
	if err != nil || len(list) != 1 || list[0].ID != g.MailID || list[0].Raw != nil {
		t.Fatalf("MailList = %+v, %v; want the one auto-reply, without its raw bytes", list, err)
	}
	f, err := d.OpenCaseFromMail(ctx, trainedAgent(), g.MailID)
	if err != nil {
		t.Fatalf("OpenCaseFromMail = %v", err)
	}
	if f.Case.AccountRef != "ACC-1" || f.Case.Match != MatchProbable || f.Report.Channel != ChannelMail {
		t.Errorf("case from mail = %+v; want a probable match to ACC-1 through the sender's address", f.Case)
	}
	if _, err := d.OpenCaseFromMail(ctx, trainedAgent(), g.MailID); ErrorCode(err) != ECONFLICT {
		t.Errorf("OpenCaseFromMail twice = %v, want conflict", err)
	}
	if list, _ := d.MailList(ctx, trainedAgent(), MailFilter{}); len(list) != 0 {
		t.Errorf("ignored mail after opening a case = %d, want 0", len(list))
	}
}

// TestReplyToAckJoinsTheCase: a reporter who answers the desk's
// acknowledgement adds to the same case, whatever else the reply carries.
func TestReplyToAckJoinsTheCase(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "o1@mail.example.com", "ACC-1", "a@example.org", "registration")
	first := ingest(t, d, InboundMail{Raw: []byte("1"), Parsed: ParsedMail{Class: ClassReport, MessageID: "r1@example.org",
		From: "a@example.org", MessageIDs: []string{"o1@mail.example.com"}}})[0]
	reply := ingest(t, d, InboundMail{Raw: []byte("2"), Parsed: ParsedMail{Class: ClassReport, MessageID: "r2@example.net",
		From: "someone-else@example.net", MessageIDs: []string{"ack." + first.CaseRef + ".ABCDEF@mail.example.com", "r1@example.org"}}})[0]
	if reply.CaseRef != first.CaseRef {
		t.Fatalf("reply to the ack went to case %s, want %s", reply.CaseRef, first.CaseRef)
	}
	if c := d.caseRow(t, first.CaseRef); c.Match != MatchExact {
		t.Errorf("case match after the reply = %s, want exact kept", c.Match)
	}
	// A made-up reference opens nothing it should not.
	other := ingest(t, d, InboundMail{Raw: []byte("3"), Parsed: ParsedMail{Class: ClassReport, MessageID: "r3@example.net",
		From: "x@example.net", MessageIDs: []string{"ack.NM-0000-0000.X@mail.example.com"}}})[0]
	if other.CaseRef == first.CaseRef {
		t.Errorf("an unknown case reference joined case %s", first.CaseRef)
	}
}

// TestSameBatchReplyToNewCase: a reply quoting the reference of a case
// opened earlier in the same batch joins that case.
func TestSameBatchReplyToNewCase(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "o1@mail.example.com", "ACC-1", "a@example.org", "registration")
	first := ingest(t, d, InboundMail{Raw: []byte("0"), Parsed: ParsedMail{Class: ClassReport, MessageID: "seed@example.org",
		From: "b@example.net", MessageIDs: []string{"o1@mail.example.com"}}})[0]
	// Dismiss it by hand, so the next report opens a new case in the batch.
	key := (*string)(nil)
	if err := d.store.w.Model(&Case{}).Where("ref = ?", first.CaseRef).Updates(map[string]any{"status": StatusDismissed, "open_key": key}).Error; err != nil {
		t.Fatal(err)
	}
	got := ingest(t, d,
		InboundMail{Raw: []byte("1"), Parsed: ParsedMail{Class: ClassReport, MessageID: "n1@example.org", From: "c@example.net",
			MessageIDs: []string{"o1@mail.example.com"}}},
		InboundMail{Raw: []byte("2"), Parsed: ParsedMail{Class: ClassReport, MessageID: "n2@example.org", From: "c@example.net",
			MessageIDs: []string{"o1@mail.example.com"}}},
	)
	if got[0].CaseRef == first.CaseRef || got[1].CaseRef != got[0].CaseRef {
		t.Fatalf("after dismissing %s, two reports in one batch went to %s and %s; want one new case", first.CaseRef, got[0].CaseRef, got[1].CaseRef)
	}
	if n := countRows(t, d.store, "cases"); n != 2 {
		t.Errorf("%d cases, want 2 (the dismissed one and one new)", n)
	}
}

// TestMailboxStale: a mailbox that never had a successful fetch goes stale
// counted from its first round, however often its rounds fail since.
func TestMailboxStale(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	fail := MailboxRound{Err: errors.New("LOGIN failed")}
	read := func(name string) Mailbox {
		ms, err := d.Mailboxes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Name == name {
				return m
			}
		}
		t.Fatalf("no mailbox %s", name)
		return Mailbox{}
	}
	for range 4 {
		if err := d.RecordMailboxRound(ctx, "broken", fail); err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(5 * time.Minute)
	}
	if m := read("broken"); !m.Stale(d.clock.Now(), 15*time.Minute) {
		t.Errorf("mailbox failing for 20 min since its first round: Stale = false, want true")
	}
	d.RecordMailboxRound(ctx, "ok", MailboxRound{UIDValidity: 1})
	d.clock.Advance(10 * time.Minute)
	d.RecordMailboxRound(ctx, "ok", fail)
	if m := read("ok"); m.Stale(d.clock.Now(), 15*time.Minute) {
		t.Errorf("mailbox with a success 10 min ago: Stale = true, want false")
	}
	d.clock.Advance(10 * time.Minute)
	if m := read("ok"); !m.Stale(d.clock.Now(), 15*time.Minute) {
		t.Errorf("mailbox with its last success 20 min ago: Stale = false, want true")
	}
}
