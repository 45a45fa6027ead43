package acksend_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"notme/cases"
	"notme/inbox"
	"notme/inbox/acksend"
	"notme/inbox/mailparse"
)

// Report mails whose answer could land on an innocent third party still
// become reports, but their acknowledgement is held back, visibly on the
// case, and never reaches the SMTP server; the others are answered.
func TestBackscatterAcksAreHeldBack(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{})
	parse := inbox.Parser{Options: mailparse.Options{
		OwnAddresses: []string{ackDeskFrom}, TrustedAuthservIDs: []string{"mx.desk.example.com"},
	}}.ParseMail
	for i, tc := range []struct {
		name, top string
		wantHeld  string // "" = acknowledged
	}{
		{"clean", "Authentication-Results: mx.desk.example.com; spf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org\r\n", ""},
		{"null reverse path", "Return-Path: <>\r\n", "null return-path"},
		{"dmarc fail", "Authentication-Results: mx.desk.example.com; dmarc=fail header.from=example.org\r\n", "dmarc=fail"},
		{"spf fail without dkim pass", "Authentication-Results: mx.desk.example.com; spf=fail smtp.mailfrom=example.org; dkim=neutral\r\n", "spf=fail"},
		{"spf fail with dkim pass", "Authentication-Results: mx.desk.example.com; spf=fail smtp.mailfrom=example.org; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n", ""},
		{"failure claimed by an untrusted server", "Authentication-Results: relay.example.net; dmarc=fail header.from=example.org\r\n" +
			"Authentication-Results: mx.desk.example.com; dmarc=pass header.from=example.org\r\n", ""},
		// Nothing shows the From is the sender's, nor the ledger's
		// recipient: held until a person sends it (issue 12).
		{"no trusted result", "", cases.AckHeldNotPlausible},
		{"pass claimed by an untrusted server", "Authentication-Results: relay.example.net; dmarc=pass header.from=example.org\r\n", cases.AckHeldNotPlausible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := fmt.Sprintf("reporter%d@example.org", i)
			raw := tc.top + "From: " + from + "\r\n" +
				"To: " + ackDeskFrom + "\r\n" +
				"Subject: Re: Welcome\r\n" +
				fmt.Sprintf("Message-ID: <bs%d@example.org>\r\n", i) +
				"In-Reply-To: <" + ackLedgerID1 + ">\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
				"This is not my account.\r\n"
			m := cases.InboundMail{Raw: []byte(raw)}
			m.Parsed = parse(m.Raw)
			got := d.ingest(t, m)[0]
			if got.Disposition != cases.DispositionReport {
				t.Fatalf("IngestMail() disposition = %q (%s), want a report", got.Disposition, got.Reason)
			}
			a := d.ackTo(t, got.CaseRef, from)
			s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
			n, err := s.SendDue(context.Background())
			if err != nil {
				t.Fatalf("SendDue() = %v", err)
			}
			if tc.wantHeld == "" {
				if got.AckTo != from || a.State != cases.AckPending || n != 1 {
					t.Fatalf("clean report: AckTo %q, ack state %q, SendDue sent %d; want an ack to %s sent", got.AckTo, a.State, n, from)
				}
				if dl := sk.next(t); len(dl.to) != 1 || dl.to[0] != from {
					t.Errorf("ack went to %v, want %s", dl.to, from)
				}
				return
			}
			if got.AckTo != "" || a.State != cases.AckSuppressed || !strings.Contains(a.LastError, tc.wantHeld) || a.StatusURL != "" {
				t.Errorf("ack = AckTo %q, state %q, reason %q, status URL %q; want held back (suppressed) saying %q, no URL",
					got.AckTo, a.State, a.LastError, a.StatusURL, tc.wantHeld)
			}
			if n != 0 {
				t.Errorf("SendDue() sent %d, want 0", n)
			}
			sk.none(t)
		})
	}
}

// A stranger writes to the desk in a victim's name with a phishing lure
// for a subject and a ledger Message-ID to make it a report (issue 12,
// backscatter). The report is filed, but nothing shows the victim is who
// the mail went to: no acknowledgement reaches the SMTP server, and the
// case says why. A lead who judges otherwise sends it by hand; then it
// goes, and carries none of the stranger's words: a fixed subject and
// text in the reporter's language with the case reference, threaded
// under the report. The ledger's own recipient is answered at once.
func TestBackscatterAckRepeatsNoSenderText(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{})
	ctx := context.Background()
	const (
		victim = "victim@innocent.example"
		lure   = "URGENT: your account is suspended - verify at https://evil.example/login"
	)
	mailFrom := func(from, subject, id string) cases.InboundMail {
		raw := "From: " + from + "\r\n" +
			"To: " + ackDeskFrom + "\r\n" +
			"Subject: " + subject + "\r\n" +
			"Message-ID: <" + id + ">\r\n" +
			"In-Reply-To: <" + ackLedgerID1 + ">\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
			"Verify now at https://evil.example/login or lose your account.\r\n"
		m := cases.InboundMail{Raw: []byte(raw)}
		m.Parsed = inbox.Parser{Options: mailparse.Options{OwnAddresses: []string{ackDeskFrom}}}.ParseMail(m.Raw)
		return m
	}
	got := d.ingest(t, mailFrom(victim, lure, "lure1@innocent.example"))[0]
	if got.Disposition != cases.DispositionReport || got.AckTo != "" {
		t.Fatalf("IngestMail() = %s (%s), AckTo %q; want a report and no acknowledgement", got.Disposition, got.Reason, got.AckTo)
	}
	held := d.ackTo(t, got.CaseRef, victim)
	if held.State != cases.AckSuppressed || held.HeldReason() != cases.AckHeldNotPlausible || held.StatusURL != "" {
		t.Errorf("ack to the victim = %s %q, status URL %q; want held as %s, no URL", held.State, held.LastError, held.StatusURL, cases.AckHeldNotPlausible)
	}
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	if n, err := s.SendDue(ctx); n != 0 || err != nil {
		t.Fatalf("SendDue() = %d, %v; want nothing sent to the victim", n, err)
	}
	sk.none(t)

	lead := cases.Actor{User: &cases.User{ID: 1, Email: "lead@desk.example.com", Role: cases.RoleLead, SecurityTrained: true}}
	if _, err := d.Service.SendHeldAck(ctx, lead, got.CaseRef, held.ID); err != nil {
		t.Fatalf("SendHeldAck() = %v", err)
	}
	if n, err := s.SendDue(ctx); n != 1 || err != nil {
		t.Fatalf("SendDue() after SendHeldAck = %d, %v; want the ack sent", n, err)
	}
	dl := sk.next(t)
	if len(dl.to) != 1 || dl.to[0] != victim {
		t.Errorf("ack went to %v, want %s", dl.to, victim)
	}
	h, body := readAck(t, dl.data)
	subject := ackSubjectOf(t, h)
	if want := "We received your report [" + got.CaseRef + "]"; subject != want {
		t.Errorf("ack Subject = %q, want %q", subject, want)
	}
	for _, word := range []string{"URGENT", "suspended", "verify", "evil.example", "login", "Verify now"} {
		if strings.Contains(strings.ToLower(subject), strings.ToLower(word)) || strings.Contains(strings.ToLower(body), strings.ToLower(word)) ||
			strings.Contains(string(dl.data), word) {
			t.Errorf("the ack repeats the sender's %q:\n%s", word, dl.data)
		}
	}
	if h.Get("In-Reply-To") != "<lure1@innocent.example>" || h.Get("References") != "<lure1@innocent.example>" {
		t.Errorf("In-Reply-To %q, References %q; want the ack threaded under the report", h.Get("In-Reply-To"), h.Get("References"))
	}
	if !strings.Contains(body, "/s/") {
		t.Errorf("the ack sent by hand has no status link:\n%s", body)
	}

	// The ledger's recipient replying is acknowledged as before.
	got = d.ingest(t, mailFrom(ackLedgerRecipient1, "Re: Welcome", "r1@example.jp"))[0]
	if got.AckTo != ackLedgerRecipient1 {
		t.Fatalf("IngestMail(reply from the ledger recipient) AckTo = %q, want %s", got.AckTo, ackLedgerRecipient1)
	}
	if n, err := s.SendDue(ctx); n != 1 || err != nil {
		t.Fatalf("SendDue() = %d, %v; want the ledger recipient's ack sent", n, err)
	}
	if dl := sk.next(t); len(dl.to) != 1 || dl.to[0] != ackLedgerRecipient1 {
		t.Errorf("ack went to %v, want %s", dl.to, ackLedgerRecipient1)
	}
}
