package cases

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Text from outside that PostgreSQL refuses in a text column (NUL, invalid
// UTF-8) is stored cleaned on both databases instead of failing the call,
// or, for mail, the whole batch.
func TestOutsideTextIsStorable(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	if _, _, err := d.RegisterMessage(ctx, LedgerMessage{MessageID: "orig-1@mail.example.com", AccountRef: "ACC-1",
		Recipient: "taro@gmial.com", Kind: "registration", Subject: "Wel\x00come \xff"}); err != nil {
		t.Fatalf("RegisterMessage(subject with NUL and invalid UTF-8) = %v, want it stored", err)
	}
	m, err := d.LedgerByMessageID(ctx, "orig-1@mail.example.com")
	if err != nil || m.Subject != "Welcome \uFFFD" {
		t.Errorf("LedgerByMessageID().Subject = %q, %v; want %q", m.Subject, err, "Welcome \uFFFD")
	}

	bad := InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Raw: []byte("x\x00y"), Parsed: ParsedMail{
		Class: ClassReport, MessageID: "r1\x00@gmial.com", From: "Taro\x00@gmial.com", Subject: "Re: \x00\xfe",
		Lang: "ja", MessageIDs: []string{"orig-1@mail.example.com", "bad\x00@x"}, Tokens: []string{"\x00"},
		Problems: []string{"header \x00 \xc3"}}}
	good := InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: 2, Raw: []byte("ok"), Parsed: ParsedMail{
		Class: ClassUnrelated, MessageID: "hi@example.org", From: "z@example.org"}}
	got := ingest(t, d, bad, good)
	if got[0].Disposition != DispositionReport || got[0].CaseRef == "" {
		t.Errorf("IngestMail(mail with NUL in its headers) = %+v, want a report on ACC-1's case", got[0])
	}
	if bad.Parsed.Problems[0] != "header \x00 \xc3" {
		t.Errorf("IngestMail changed the caller's Problems to %q", bad.Parsed.Problems[0])
	}
	var row MailMessage
	if err := d.store.w.Where("id = ?", got[0].MailID).Take(&row).Error; err != nil {
		t.Fatalf("read mail %d: %v", got[0].MailID, err)
	}
	if row.Subject != "Re: \uFFFD" || row.FromAddr != "taro@gmial.com" || string(row.Raw) != "x\x00y" {
		t.Errorf("stored mail: subject %q, from %q, raw %q; want the text cleaned and the raw bytes kept",
			row.Subject, row.FromAddr, row.Raw)
	}
}

// A lookup by a key holding NUL or invalid UTF-8 finds nothing, on both
// databases, instead of failing with an internal error.
func TestLookupByUnstorableTextFindsNothing(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	for _, email := range []string{"agent\x00@desk.example.com", "agent\xff@desk.example.com"} {
		_, _, err := d.Login(ctx, email, "whatever password", time.Hour)
		wantCode(t, fmt.Sprintf("Login(%q)", email), err, EUNAUTHORIZED, "")
	}
	_, err := d.CaseByRef(ctx, trainedAgent(), "NM-\x00")
	wantCode(t, `CaseByRef("NM-\x00")`, err, ENOTFOUND, "")
	if _, err := d.LedgerByMessageID(ctx, "a\x00@mail.example.com"); err == nil {
		t.Errorf(`LedgerByMessageID("a\x00@…") = nil error, want not found`)
	} else {
		wantCode(t, `LedgerByMessageID("a\x00@…")`, err, ENOTFOUND, "")
	}
}
