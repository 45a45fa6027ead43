package cases

import (
	"context"
	"slices"
	"testing"
)

// A ledger Message-ID in mail requests containment only with evidence of
// holding the mail (issue 12, "Containment on a stranger's word"): From the
// ledger's recipient, or an abuse report that inbox found verified from a
// feedback loop. Anything else joins the account's case as probable, for a
// trained agent to confirm, and queues no webhook.
func TestMailLedgerMessageIDNeedsEvidence(t *testing.T) {
	const ledgerID = "order-1002@shop.example"
	arf := func(from string, verified bool) ParsedMail {
		return ParsedMail{Class: ClassARF, MessageID: "arf@" + from, From: from, Auto: "arf",
			MessageIDs: []string{ledgerID}, VerifiedFeedbackLoop: verified}
	}
	reply := func(from, auto string) ParsedMail {
		return ParsedMail{Class: ClassReport, MessageID: "re@" + from, From: from, Auto: auto, MessageIDs: []string{ledgerID}}
	}
	for _, tc := range []struct {
		name string
		mail ParsedMail
		want Match
	}{
		{"spoofed ARF from any sender", arf("abuse@evil.example", false), MatchProbable},
		{"ARF from a verified feedback loop", arf("fbl@fbl.mailbox.example", true), MatchExact},
		{"reply from another address", reply("stranger@example.net", ""), MatchProbable},
		{"reply from the ledger recipient", reply("Mika@Example.ORG", ""), MatchExact},
		{"reply from the ledger recipient, Outlook's no-auto-answer", reply("mika@example.org", "x-auto-response-suppress"), MatchExact},
		{"reply in the recipient's name failing DMARC", reply("mika@example.org", "dmarc=fail at mx.desk.example.com"), MatchProbable},
		{"a person's mail is no feedback loop", func() ParsedMail {
			p := reply("stranger@example.net", "")
			p.VerifiedFeedbackLoop = true
			return p
		}(), MatchProbable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDesk(t)
			ctx := context.Background()
			d.register(t, "<"+ledgerID+">", "ACC-1002", "mika@example.org", "registration")
			got := ingest(t, d, InboundMail{Raw: []byte("mail"), Parsed: tc.mail})[0]
			c := d.caseRow(t, got.CaseRef)
			if c.AccountRef != "ACC-1002" || c.Match != tc.want {
				t.Fatalf("IngestMail(%s): case on %q, %s; want on ACC-1002, %s", tc.name, c.AccountRef, c.Match, tc.want)
			}
			want := []string{ActionRevokePendingLinks, ActionRequireReverification}
			if tc.want == MatchProbable {
				if got := d.requested(t, c.ID); len(got) != 0 {
					t.Errorf("IngestMail(%s) requested %v, want nothing", tc.name, got)
				}
				if n := countRows(t, d.store, "webhook_deliveries"); n != 0 {
					t.Errorf("IngestMail(%s) queued %d webhooks, want 0", tc.name, n)
				}
				// A trained agent who confirms the match requests them.
				if _, err := d.ConfirmMatch(ctx, trainedAgent(), c.Ref); err != nil {
					t.Fatalf("ConfirmMatch() = %v", err)
				}
			}
			if got := d.requested(t, c.ID); !slices.Equal(got, want) {
				t.Errorf("requested %v, want %v", got, want)
			}
			if n := countRows(t, d.store, "webhook_deliveries"); n != int64(len(want)) {
				t.Errorf("%d webhooks queued, want %d", n, len(want))
			}
		})
	}
}
