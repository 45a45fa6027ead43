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

// bounceDSN is an RFC 3464 report From from, failing rcpt with status,
// that returns the headers of the ledger message evidenceLedgerID, with
// top on top (the desk's MTA's Authentication-Results).
func bounceDSN(top, from, rcpt, status string, i int) []byte {
	return []byte(top + "Return-Path: <>\r\nFrom: " + from + "\r\nTo: bounce@shop.example\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n" +
		fmt.Sprintf("Message-ID: <dsn%d@bounces.mailservice.example>\r\n", i) +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; out.mailservice.example\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: " + status + "\r\n\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"Message-ID: <" + evidenceLedgerID + ">\r\nFrom: Shop <no-reply@shop.example>\r\nTo: " + evidenceRcpt + "\r\nSubject: Your order\r\n" +
		"--b--\r\n")
}

// A bounce puts the ledger message's recipient on the suppression list
// for its account only when the desk can believe it: a configured bounce
// sender, its DKIM signature verified by the desk's own MTA, a permanent
// failure, for the ledger recipient. Anyone can write a DSN; a forged one
// must not stop the account's mail to its owner, so every other bounce
// lists nothing (it stays evidence).
func TestVerifiedBounceListsTheLedgerRecipient(t *testing.T) {
	opts := mailparse.Options{
		OwnAddresses:       []string{"notme@desk.example.com"},
		TrustedAuthservIDs: []string{"mx.desk.example.com"},
		BounceSenders:      []string{"bounces.mailservice.example"},
	}
	const (
		daemon = "MAILER-DAEMON@bounces.mailservice.example"
		pass   = "Authentication-Results: mx.desk.example.com; spf=pass smtp.helo=out.mailservice.example; dkim=pass header.d=bounces.mailservice.example\r\n"
	)
	for i, tc := range []struct {
		name   string
		raw    []byte
		listed bool
	}{
		{"the bounce sender, dkim=pass at our MTA, 5.1.1 for the recipient", bounceDSN(pass, daemon, evidenceRcpt, "5.1.1", 1), true},
		{"no DKIM verdict", bounceDSN("", daemon, evidenceRcpt, "5.1.1", 2), false},
		{"dkim=pass from an untrusted authserv-id",
			bounceDSN("Authentication-Results: mx.evil.example; dkim=pass header.d=bounces.mailservice.example\r\n", daemon, evidenceRcpt, "5.1.1", 3), false},
		{"dkim=pass for another domain",
			bounceDSN("Authentication-Results: mx.desk.example.com; dkim=pass header.d=evil.example\r\n", daemon, evidenceRcpt, "5.1.1", 4), false},
		{"a sender not configured, dkim=pass for it",
			bounceDSN("Authentication-Results: mx.desk.example.com; dkim=pass header.d=evil.example\r\n", "MAILER-DAEMON@evil.example", evidenceRcpt, "5.1.1", 5), false},
		{"a temporary failure", bounceDSN(pass, daemon, evidenceRcpt, "4.2.2", 6), false},
		{"another recipient failed", bounceDSN(pass, daemon, "someone.else@example.org", "5.1.1", 7), false},
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
			if err != nil || len(got) != 1 || got[0].Reason != cases.ReasonBounce || got[0].AckTo != "" {
				t.Fatalf("Ingest() = %+v, %v; want one bounce, never answered", got, err)
			}
			xs, err := d.svc.SuppressedFor(ctx, evidenceRcpt, evidenceAccount)
			if err != nil {
				t.Fatalf("SuppressedFor() = %v", err)
			}
			if !tc.listed {
				if len(xs) != 0 {
					t.Errorf("SuppressedFor(%s) = %+v after this bounce, want nothing listed", evidenceAccount, xs)
				}
				return
			}
			if len(xs) != 1 || xs[0].Reason != cases.SuppressBounce || xs[0].Origin != cases.OriginDesk || xs[0].AccountRef != evidenceAccount {
				t.Fatalf("SuppressedFor(%s) = %+v, want one entry for the account, reason bounce, origin desk", evidenceAccount, xs)
			}
			if n := d.count(t, `SELECT count(*) FROM audit_log WHERE action = '`+cases.AuditBounceSuppressed+`'`); n != 1 {
				t.Errorf("audit_log has %d %s rows, want 1", n, cases.AuditBounceSuppressed)
			}
			// The same bounce fetched again, or a second one, lists nothing more.
			again := bounceDSN(pass, daemon, evidenceRcpt, "5.1.1", 99)
			if _, err := pipe.Ingest(ctx, []cases.InboundMail{{Mailbox: "INBOX", UIDValidity: 1, UID: 99, Raw: again}}); err != nil {
				t.Fatalf("Ingest(second bounce) = %v", err)
			}
			if n := d.count(t, `SELECT count(*) FROM suppressions`); n != 1 {
				t.Errorf("suppressions has %d rows after a second bounce, want 1", n)
			}
		})
	}
}
