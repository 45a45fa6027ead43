package acksend_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"notme/cases"
	"notme/inbox/acksend"
)

// TestNewMailFromLedgerRecipientIsAReport: a stranger writes a new mail to
// the desk (no reply, no forward, no link), in English or in Japanese
// (ISO-2022-JP), from an address the company writes to. Through the real
// parser and pipeline it becomes a report on that account, matched by the
// recipient (probable: a person confirms), with nothing contained, and it
// is acknowledged once in the reporter's language without a word about the
// account. The same mail from an address the company never wrote to stays
// out, kept for staff as unrelated.
func TestNewMailFromLedgerRecipientIsAReport(t *testing.T) {
	for _, tc := range []struct {
		fixture, from, account, lang string
	}{
		{"new_mail_en.eml", "taro.misaki@gmial.example", "ACC-3301-EN", "en"},
		{"new_mail_ja.eml", "hanako.y@docomo.ne.jp", "ACC-3302-JA", "ja"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			d := openAckDesk(t)
			ctx := context.Background()
			raw, err := os.ReadFile(filepath.Join("..", "mailparse", "testdata", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}

			// Before the company ever wrote to the sender: kept, unrelated.
			got, err := d.Pipeline.Ingest(ctx, []cases.InboundMail{{Raw: raw}})
			if err != nil {
				t.Fatalf("Pipeline.Ingest(%s) = %v", tc.fixture, err)
			}
			if g := got[0]; g.Disposition != cases.DispositionIgnored || g.Reason != cases.ReasonUnrelated || g.CaseRef != "" || g.AckTo != "" {
				t.Fatalf("Pipeline.Ingest(%s) from a stranger = %+v, want kept as unrelated, no case, no ack", tc.fixture, g)
			}

			if _, _, err := d.Service.RegisterMessage(ctx, cases.LedgerMessage{MessageID: "welcome-" + tc.lang + "@mail.example.com",
				AccountRef: tc.account, Recipient: tc.from, Kind: "registration"}); err != nil {
				t.Fatalf("RegisterMessage = %v", err)
			}
			// The same words once more (another Message-ID: a new mail).
			again := []byte(strings.Replace(string(raw), "Message-ID: <", "Message-ID: <2.", 1))
			got, err = d.Pipeline.Ingest(ctx, []cases.InboundMail{{Raw: again}})
			if err != nil {
				t.Fatalf("Pipeline.Ingest(%s) = %v", tc.fixture, err)
			}
			g := got[0]
			if g.Disposition != cases.DispositionReport || g.CaseRef == "" || g.AckTo != tc.from || g.Lang != tc.lang {
				t.Fatalf("Pipeline.Ingest(%s) from a ledger recipient = %+v, want a report acknowledged to %s in %s", tc.fixture, g, tc.from, tc.lang)
			}
			c, err := d.Service.CaseByRef(ctx, d.reader, g.CaseRef)
			if err != nil {
				t.Fatalf("CaseByRef(%s) = %v", g.CaseRef, err)
			}
			if c.Case.AccountRef != tc.account || c.Case.Match != cases.MatchProbable || len(c.Reports) != 1 {
				t.Fatalf("case %s = account %q, match %s, %d reports; want %s, probable, one report",
					c.Case.Ref, c.Case.AccountRef, c.Case.Match, len(c.Reports), tc.account)
			}
			if r := c.Reports[0]; r.MatchedBy != "recipient" || r.Channel != cases.ChannelMail || r.Match != cases.MatchProbable {
				t.Errorf("report = channel %s, matched by %q (%s); want mail, by recipient, probable", r.Channel, r.MatchedBy, r.Match)
			}
			if acts, err := d.Service.ContainmentOf(ctx, d.reader, c.Case.ID); err != nil || len(acts) != 0 {
				t.Errorf("ContainmentOf(%s) = %+v, %v; want nothing requested on a From anyone can write", c.Case.Ref, acts, err)
			}

			a := d.ackTo(t, g.CaseRef, tc.from)
			if a.State != cases.AckPending || a.Lang != tc.lang {
				t.Fatalf("ack = state %s, lang %s; want pending in %s", a.State, a.Lang, tc.lang)
			}
			sk := startAckSink(t, ackSinkOptions{})
			if n, err := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr}).SendDue(ctx); n != 1 || err != nil {
				t.Fatalf("SendDue() = %d, %v; want the one ack sent", n, err)
			}
			checkAck(t, d, sk.next(t), tc.from, a.InReplyTo, g.CaseRef, tc.lang, []string{tc.account, "registration", "Registration"})
			if !strings.HasPrefix(a.InReplyTo, "2.") {
				t.Errorf("ack answers %q, want the second mail", a.InReplyTo)
			}
		})
	}
}
