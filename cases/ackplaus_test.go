package cases

import (
	"context"
	"strings"
	"testing"
)

// The backscatter attack of issue 12: a mail to the report mailbox with
// From: victim@innocent.example, a ledger Message-ID in In-Reply-To and an
// attacker's subject. The report is filed, but no acknowledgement goes to
// the victim: it is held as not_plausible, visibly and counted. Only a
// reporter plausibly the mail's recipient is answered: the ledger
// recipient of the matched mail, the address a sealed token was sealed
// for, or a From whose domain passed DMARC at the desk's own server.
func TestAckOnlyToPlausibleReporters(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "orig-1@mail.example.com", "ACC-1", "taro@gmial.com", "registration")
	d.register(t, "orig-2@mail.example.com", "ACC-2", "hanako@example.jp", "registration")
	sealedForKen := d.mintFor(t, "ACC-3", "ken@example.net").Token
	sealedForNobody := d.mint(t, "ACC-4", "registration").Token
	const lure = "URGENT: your account is suspended - verify at https://evil.example/login"
	for _, tc := range []struct {
		name string
		p    ParsedMail
		want string // "" = acknowledged; else the held reason
	}{
		{"forged From, ledger Message-ID of another recipient",
			ParsedMail{From: "victim@innocent.example", Subject: lure, MessageIDs: []string{"orig-1@mail.example.com"}}, AckHeldNotPlausible},
		{"the ledger recipient replies",
			ParsedMail{From: "Taro@Gmial.com", MessageIDs: []string{"orig-1@mail.example.com"}}, ""},
		{"a ledger recipient writes without the Message-ID",
			ParsedMail{From: "hanako@example.jp", MessageIDs: []string{"unknown@elsewhere.example"}}, ""},
		{"unmatched, from an address not in the ledger",
			ParsedMail{From: "someone@innocent.example", MessageIDs: []string{"unknown@elsewhere.example"}}, AckHeldNotPlausible},
		{"a token sealed for the From",
			ParsedMail{From: "ken@example.net", Tokens: []string{sealedForKen}}, ""},
		{"a token sealed for someone else",
			ParsedMail{From: "victim@innocent.example", Tokens: []string{sealedForKen}}, AckHeldNotPlausible},
		{"a token sealed for no address",
			ParsedMail{From: "victim@innocent.example", Tokens: []string{sealedForNobody}}, AckHeldNotPlausible},
		{"the desk's server saw DMARC pass for the From",
			ParsedMail{From: "victim@innocent.example", Subject: lure, MessageIDs: []string{"orig-1@mail.example.com"}, DMARCPass: true}, ""},
		{"the sender check comes first",
			ParsedMail{From: "taro@gmial.com", MessageIDs: []string{"orig-1@mail.example.com"}, Auto: "null return-path"}, AckHeldSender},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			p.Class, p.Lang = ClassReport, "en"
			p.MessageID = strings.ReplaceAll(tc.name, " ", "-") + "@reporter.example"
			got := ingest(t, d, InboundMail{Raw: []byte(tc.name), Parsed: p})[0]
			if got.Disposition != DispositionReport || got.CaseRef == "" {
				t.Fatalf("IngestMail() = %+v, want the report filed", got)
			}
			var a Ack
			if err := d.store.r.Where("mail_id = ?", got.MailID).Take(&a).Error; err != nil {
				t.Fatalf("read ack of mail %d: %v", got.MailID, err)
			}
			if a.HeldReason() != tc.want || (tc.want == "") != (got.AckTo != "") {
				t.Errorf("ack = %s %q, AckTo %q; want held reason %q", a.State, a.LastError, got.AckTo, tc.want)
			}
			if tc.want != "" && a.StatusURL != "" {
				t.Errorf("held ack keeps a status URL %q, want none", a.StatusURL)
			}
		})
	}
	counts, err := d.HeldAckCounts(ctx)
	if err != nil {
		t.Fatalf("HeldAckCounts() = %v", err)
	}
	if counts[3] != (HeldAckCount{AckHeldNotPlausible, 4}) {
		t.Errorf("HeldAckCounts() = %v, want 4 held for %s", counts, AckHeldNotPlausible)
	}
}

// A held acknowledgement goes by hand: only security-trained staff may
// send it, only for the reasons a person may overrule, once; it becomes
// due with a working status link, on the timeline and in the audit log.
func TestSendHeldAck(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "orig-1@mail.example.com", "ACC-1", "taro@gmial.com", "registration")
	got := ingest(t, d,
		InboundMail{Raw: []byte("a"), Parsed: ParsedMail{Class: ClassReport, MessageID: "a@innocent.example", From: "victim@innocent.example",
			MessageIDs: []string{"orig-1@mail.example.com"}}},
		InboundMail{Raw: []byte("b"), Parsed: ParsedMail{Class: ClassReport, MessageID: "b@innocent.example", From: "list@innocent.example",
			MessageIDs: []string{"orig-1@mail.example.com"}, Auto: "precedence: list"}})
	ref := got[0].CaseRef
	var held, never Ack
	d.store.r.Where("mail_id = ?", got[0].MailID).Take(&held)
	d.store.r.Where("mail_id = ?", got[1].MailID).Take(&never)

	untrained := Actor{User: &User{ID: 2, Email: "parcel@desk.example.com", Role: RoleLead}}
	_, err := d.SendHeldAck(ctx, untrained, ref, held.ID)
	wantCode(t, "SendHeldAck(untrained)", err, EFORBIDDEN, "")
	_, err = d.SendHeldAck(ctx, trainedAgent(), ref, never.ID)
	wantCode(t, "SendHeldAck(sender_check hold)", err, ECONFLICT, "never sent")
	_, err = d.SendHeldAck(ctx, trainedAgent(), ref, 9999)
	wantCode(t, "SendHeldAck(no such ack)", err, ENOTFOUND, "")

	if _, err := d.SendHeldAck(ctx, trainedAgent(), ref, held.ID); err != nil {
		t.Fatalf("SendHeldAck(not_plausible) = %v", err)
	}
	select {
	case <-d.AckWake():
	default:
		t.Errorf("SendHeldAck() did not wake the acknowledgement sender")
	}
	due, err := d.DueAcks(ctx, 10)
	if err != nil || len(due) != 1 || due[0].ID != held.ID || due[0].ToAddr != "victim@innocent.example" {
		t.Fatalf("DueAcks() = %+v, %v; want the released ack", due, err)
	}
	tok, ok := strings.CutPrefix(due[0].StatusURL, "https://desk.example.com/s/")
	if !ok {
		t.Fatalf("released ack's status URL = %q, want a status link", due[0].StatusURL)
	}
	if st, err := d.StatusByToken(ctx, tok); err != nil || st.CaseRef != ref {
		t.Errorf("StatusByToken(the released ack's link) = %+v, %v; want case %s", st, err, ref)
	}
	_, err = d.SendHeldAck(ctx, trainedAgent(), ref, held.ID)
	wantCode(t, "SendHeldAck(again)", err, ECONFLICT, "not held")

	var evs []Event
	d.store.r.Where("case_id = ? AND code = ?", due[0].CaseID, CodeAckSentByHand).Find(&evs)
	if len(evs) != 1 || evs[0].Args["held"] != AckHeldNotPlausible || evs[0].Actor != trainedAgent().String() {
		t.Errorf("timeline events %s = %+v, want one by the agent with held=%s", CodeAckSentByHand, evs, AckHeldNotPlausible)
	}
	var audit []AuditEntry
	d.store.r.Where("action = ?", AuditSendHeldAck).Find(&audit)
	if len(audit) != 1 || audit[0].Args["held"] != AckHeldNotPlausible || audit[0].Actor != trainedAgent().String() {
		t.Errorf("audit entries %s = %+v, want one by the agent", AuditSendHeldAck, audit)
	}
}

// mintFor returns a token sealed for the recipient address.
func (d *testDesk) mintFor(t testing.TB, account, rcpt string) Minted {
	t.Helper()
	m, err := d.Mint(account, "registration", rcpt)
	if err != nil {
		t.Fatalf("Mint(%q, %q) = %v", account, rcpt, err)
	}
	return m
}
