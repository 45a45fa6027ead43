package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEscalationRules(t *testing.T) {
	on := DefaultEscalationRules
	off := func(f func(*EscalationRules)) EscalationRules { r := on; f(&r); return r }

	// A filing is one report on the account: a mail from reporter that
	// answers a ledger message to rcpt, or the same pasted into the web form
	// when reporter is "" (no address), or a link click (no address, no
	// ledger message's link) when link is set.
	type filing struct {
		account, rcpt, reporter string
		after                   time.Duration // the clock moves on first
		link                    bool
	}
	type ledgerOnly struct{ account, rcpt string }
	tests := []struct {
		name      string
		rules     EscalationRules
		ledger    []ledgerOnly
		filings   []filing
		batch     bool     // all filings as one mail batch
		escalated []string // accounts whose case the rule escalates; all others stay
		reason    string
	}{
		{name: "multiple_reporters: two addresses", rules: on,
			filings:   []filing{{"A", "a@example.org", "x@example.org", 0, false}, {"A", "a@example.org", "y@example.net", time.Hour, false}},
			escalated: []string{"A"}, reason: "rule multiple_reporters: 2 distinct reporter addresses reported this account"},
		{name: "multiple_reporters: one address twice", rules: on,
			filings: []filing{{"A", "a@example.org", "x@example.org", 0, false}, {"A", "a@example.org", "X@example.org", time.Hour, false}}},
		{name: "multiple_reporters: link clicks carry no address", rules: on,
			filings: []filing{{"A", "a@example.org", "", 0, true}, {"A", "a@example.org", "", 0, false}, {"A", "a@example.org", "x@example.org", 0, false}}},
		{name: "multiple_reporters: off", rules: off(func(r *EscalationRules) { r.MultipleReporters = 0 }),
			filings: []filing{{"A", "a@example.org", "x@example.org", 0, false}, {"A", "a@example.org", "y@example.net", 0, false}}},

		{name: "shared_recipient: the ledger sent two accounts' mail to one address", rules: on,
			ledger:    []ledgerOnly{{"B", "same@example.org"}},
			filings:   []filing{{"A", "same@example.org", "", 0, false}},
			escalated: []string{"A"}, reason: "rule shared_recipient: one address at example.org received mail for 2 accounts"},
		{name: "shared_recipient: one reporter reports two accounts", rules: on,
			filings:   []filing{{"A", "a@example.org", "fwd@example.net", 0, false}, {"B", "b@example.org", "fwd@example.net", time.Hour, false}},
			escalated: []string{"B"}, reason: "rule shared_recipient: one address at example.net received mail for 2 accounts"},
		{name: "shared_recipient: link clicks on two accounts' ledger mail to one address", rules: on,
			filings:   []filing{{"A", "same@example.org", "", 0, true}, {"B", "same@example.org", "", 0, true}},
			escalated: []string{"B"}, reason: "rule shared_recipient: one address at example.org received mail for 2 accounts"},
		{name: "shared_recipient: one account only", rules: on,
			ledger:  []ledgerOnly{{"A", "same@example.org"}},
			filings: []filing{{"A", "same@example.org", "", 0, false}}},
		{name: "shared_recipient: off", rules: off(func(r *EscalationRules) { r.SharedRecipient = 0 }),
			ledger:  []ledgerOnly{{"B", "same@example.org"}},
			filings: []filing{{"A", "same@example.org", "", 0, false}}},

		{name: "domain_cluster: three cases from a typo domain in a day", rules: on,
			filings: []filing{{"A", "a@gmial.com", "", 0, false}, {"B", "b@gmial.com", "", 10 * time.Hour, false},
				{"C", "c@gmial.com", "", 10 * time.Hour, false}},
			escalated: []string{"A", "B", "C"}, reason: "rule domain_cluster: 3 cases from recipient domain gmial.com within 24h"},
		{name: "domain_cluster: one mail batch", rules: on, batch: true,
			filings: []filing{{"A", "a@gmial.com", "a@gmial.com", 0, false}, {"B", "b@gmial.com", "b@gmial.com", 0, false},
				{"C", "c@gmial.com", "c@gmial.com", 0, false}},
			escalated: []string{"A", "B", "C"}, reason: "rule domain_cluster: 3 cases from recipient domain gmial.com within 24h"},
		{name: "domain_cluster: link clicks on ledger mail", rules: on,
			filings: []filing{{"A", "a@gmial.com", "", 0, true}, {"B", "b@gmial.com", "", 0, true},
				{"C", "c@gmial.com", "", 0, true}},
			escalated: []string{"A", "B", "C"}, reason: "rule domain_cluster: 3 cases from recipient domain gmial.com within 24h"},
		{name: "domain_cluster: two link clicks", rules: on,
			filings: []filing{{"A", "a@gmial.com", "", 0, true}, {"B", "b@gmial.com", "", 0, true}}},
		{name: "domain_cluster: two cases", rules: on,
			filings: []filing{{"A", "a@gmial.com", "", 0, false}, {"B", "b@gmial.com", "", 0, false}}},
		{name: "domain_cluster: spread wider than the window", rules: on,
			filings: []filing{{"A", "a@gmial.com", "", 0, false}, {"B", "b@gmial.com", "", 13 * time.Hour, false},
				{"C", "c@gmial.com", "", 13 * time.Hour, false}}},
		{name: "domain_cluster: an ignored mailbox provider", rules: off(func(r *EscalationRules) { r.DomainIgnore = []string{"Gmial.com"} }),
			filings: []filing{{"A", "a@gmial.com", "", 0, false}, {"B", "b@gmial.com", "", 0, false}, {"C", "c@gmial.com", "", 0, false}}},
		{name: "domain_cluster: off", rules: off(func(r *EscalationRules) { r.DomainCluster = 0 }),
			filings: []filing{{"A", "a@gmial.com", "", 0, false}, {"B", "b@gmial.com", "", 0, false}, {"C", "c@gmial.com", "", 0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newRuleDesk(t, func(o *Options) { o.Escalation = tt.rules })
			ctx := context.Background()
			for i, l := range tt.ledger {
				d.register(t, fmt.Sprintf("<ledger-%d@mail.example.com>", i), l.account, l.rcpt, "order_confirmation")
			}
			var batch []InboundMail
			accounts := map[string]bool{}
			for i, f := range tt.filings {
				accounts[f.account] = true
				d.clock.Advance(f.after)
				id := fmt.Sprintf("<f-%d@mail.example.com>", i)
				reg := d.register(t, id, f.account, f.rcpt, "order_confirmation")
				switch {
				case tt.batch:
					batch = append(batch, InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Raw: []byte("r"),
						Parsed: ParsedMail{Class: ClassReport, MessageID: fmt.Sprintf("<r-%d@x>", i), From: f.reporter, MessageIDs: []string{id}}})
				case f.link:
					d.file(t, ReportInput{Channel: ChannelLink, Token: reg.URL[strings.LastIndexByte(reg.URL, '/')+1:]})
				case f.reporter == "":
					d.file(t, ReportInput{Channel: ChannelForm, MessageIDs: []string{id}})
				default:
					d.file(t, ReportInput{Channel: ChannelMail, Reporter: f.reporter, MessageIDs: []string{id}})
				}
			}
			if tt.batch {
				ingest(t, d, batch...)
			}
			for _, acct := range sortedKeys(accounts) {
				list, err := d.Queue(ctx, trainedAgent(), QueueFilter{AccountRef: acct})
				if err != nil || len(list) != 1 {
					t.Fatalf("Queue(account %s) = %d cases, %v; want 1", acct, len(list), err)
				}
				c := list[0].Case
				want := slices.Contains(tt.escalated, acct)
				if c.Escalated != want {
					t.Errorf("case of %s escalated = %v, want %v", acct, c.Escalated, want)
				}
				evs := d.eventDetails(t, c.ID, EventEscalated)
				switch {
				case want && (len(evs) != 1 || !strings.Contains(evs[0], tt.reason)):
					t.Errorf("escalation events of %s = %q, want one with %q", acct, evs, tt.reason)
				case !want && len(evs) != 0:
					t.Errorf("escalation events of %s = %q, want none", acct, evs)
				}
				for _, e := range evs {
					if strings.Contains(e, "@") {
						t.Errorf("escalation event of %s names an address: %q", acct, e)
					}
				}
			}
		})
	}
}

// A rule escalates a case once: after a lead de-escalates, further reports
// that meet the same rule do not bring it back.
func TestEscalationRuleFiresOnce(t *testing.T) {
	d := newRuleDesk(t, func(o *Options) { o.Escalation = DefaultEscalationRules })
	ctx := context.Background()
	for i, rep := range []string{"x@example.org", "y@example.org"} {
		id := fmt.Sprintf("<once-%d@mail.example.com>", i)
		d.register(t, id, "ONCE", "a@example.org", "order_confirmation")
		d.file(t, ReportInput{Channel: ChannelMail, Reporter: rep, MessageIDs: []string{id}})
	}
	f := d.file(t, ReportInput{Channel: ChannelMail, Reporter: "z@example.org", MessageIDs: []string{"<once-0@mail.example.com>"}})
	if !f.Case.Escalated {
		t.Fatalf("case %s not escalated by three reporters", f.CaseRef)
	}
	lead := Actor{User: &User{ID: 7, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}
	if _, err := d.Deescalate(ctx, lead, f.CaseRef, "the holder shares the mailbox with family"); err != nil {
		t.Fatalf("Deescalate() = %v", err)
	}
	f = d.file(t, ReportInput{Channel: ChannelMail, Reporter: "w@example.org", MessageIDs: []string{"<once-0@mail.example.com>"}})
	if f.Case.Escalated || d.caseRow(t, f.CaseRef).Escalated {
		t.Errorf("case %s escalated again by the same rule after a lead de-escalated it", f.CaseRef)
	}
}
