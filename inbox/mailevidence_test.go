package inbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"notme/cases"
	"notme/inbox"
	"notme/inbox/mailparse"
)

// The company's guessable Message-ID, sent to mika@example.org.
const (
	evidenceLedgerID = "order-1002@shop.example"
	evidenceAccount  = "ACC-1002"
	evidenceRcpt     = "mika@example.org"
)

// evidenceARF is an abuse report (RFC 5965) From from about the ledger
// message, with top (Authentication-Results) on top.
func evidenceARF(top, from string, i int) []byte {
	return []byte(top + "From: " + from + "\r\n" +
		"To: notme@desk.example.com\r\n" +
		"Subject: FW: Your order\r\n" +
		fmt.Sprintf("Message-ID: <arf%d@report.example>\r\n", i) +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: Shop <no-reply@shop.example>\r\nTo: " + evidenceRcpt + "\r\nSubject: Your order\r\n" +
		"Message-ID: <" + evidenceLedgerID + ">\r\n\r\nThank you for your order.\r\n" +
		"--b--\r\n")
}

// evidenceReply is a reply From from with the ledger Message-ID in
// In-Reply-To, and top on top.
func evidenceReply(top, from string, i int) []byte {
	return []byte(top + "From: " + from + "\r\n" +
		"To: notme@desk.example.com\r\n" +
		"Subject: Re: Your order\r\n" +
		fmt.Sprintf("Message-ID: <reply%d@example.net>\r\n", i) +
		"In-Reply-To: <" + evidenceLedgerID + ">\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"This is not my order.\r\n")
}

// Containment asks the account system to act on a real person's account,
// so only evidence of holding the mail may request it (issue 12,
// "Containment on a stranger's word"). A ledger Message-ID in a spoofed ARF
// report or in mail from another address joins the account's case as a
// probable match and queues no webhook; the ledger recipient's own reply
// and a feedback loop's report that the desk's MTA verified are exact.
func TestContainmentNeedsEvidenceOfHoldingTheMail(t *testing.T) {
	opts := mailparse.Options{
		OwnAddresses:        []string{"notme@desk.example.com"},
		TrustedAuthservIDs:  []string{"mx.desk.example.com"},
		FeedbackLoopSenders: []string{"fbl.mailbox.example"},
	}
	const dkimPass = "Authentication-Results: mx.desk.example.com; spf=pass smtp.mailfrom=fbl.mailbox.example; dkim=pass header.d=fbl.mailbox.example\r\n"
	for i, tc := range []struct {
		name      string
		raw       []byte
		wantMatch cases.Match
	}{
		{"spoofed ARF from any sender", evidenceARF("", "Abuse Desk <abuse@evil.example>", 1), cases.MatchProbable},
		{"ARF in a feedback loop's name, no DKIM verdict", evidenceARF("", "fbl@fbl.mailbox.example", 2), cases.MatchProbable},
		{"ARF in a feedback loop's name, dkim=pass from an untrusted authserv-id",
			evidenceARF("Authentication-Results: mx.evil.example; dkim=pass header.d=fbl.mailbox.example\r\n", "fbl@fbl.mailbox.example", 3),
			cases.MatchProbable},
		{"ARF from the feedback loop, dkim=pass at our MTA", evidenceARF(dkimPass, "fbl@fbl.mailbox.example", 4), cases.MatchExact},
		{"reply from another address", evidenceReply("", "Stranger <stranger@example.net>", 5), cases.MatchProbable},
		{"reply from the ledger recipient", evidenceReply("", "Mika <Mika@Example.ORG>", 6), cases.MatchExact},
		{"reply in the ledger recipient's name that failed DMARC at our MTA",
			evidenceReply("Authentication-Results: mx.desk.example.com; dmarc=fail header.from=example.org\r\n", evidenceRcpt, 7),
			cases.MatchProbable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d := newDesk(t)
			if _, _, err := d.svc.RegisterMessage(ctx, cases.LedgerMessage{MessageID: "<" + evidenceLedgerID + ">",
				AccountRef: evidenceAccount, Recipient: evidenceRcpt, Kind: "registration"}); err != nil {
				t.Fatalf("RegisterMessage() = %v", err)
			}
			pipe := inbox.NewPipeline(d.svc, inbox.Parser{Options: opts}.ParseMail, slog.New(slog.DiscardHandler))
			got, err := pipe.Ingest(ctx, []cases.InboundMail{{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Raw: tc.raw}})
			if err != nil || len(got) != 1 || got[0].Disposition != cases.DispositionReport {
				t.Fatalf("Ingest() = %+v, %v; want one report", got, err)
			}
			var ref, account, match string
			err = d.db.QueryRow(`SELECT c.ref, c.account_ref, c.confidence FROM cases c
				JOIN reports r ON r.case_id = c.id JOIN mail_messages m ON m.report_id = r.id`).Scan(&ref, &account, &match)
			if err != nil {
				t.Fatalf("read the mail's case: %v", err)
			}
			if ref != got[0].CaseRef || account != evidenceAccount || cases.Match(match) != tc.wantMatch {
				t.Errorf("mail's case = %s on %q, %s; want %s on %s, %s", ref, account, match, got[0].CaseRef, evidenceAccount, tc.wantMatch)
			}
			actions := d.count(t, `SELECT count(*) FROM containment_actions`)
			deliveries := d.count(t, `SELECT count(*) FROM webhook_deliveries`)
			if tc.wantMatch != cases.MatchExact && (actions != 0 || deliveries != 0) {
				t.Errorf("a %s match requested %d actions and queued %d webhooks, want none", match, actions, deliveries)
			}
			if tc.wantMatch == cases.MatchExact && (actions == 0 || deliveries != actions) {
				t.Errorf("an exact match requested %d actions and queued %d webhooks, want the kind's actions, each delivered", actions, deliveries)
			}
		})
	}
}
