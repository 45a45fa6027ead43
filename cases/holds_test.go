package cases

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestDismissedLinkCycle is issue 12's dismissed-link cycle: a lead
// dismisses a case as the holder's own address, the same link is clicked
// again, and again. Each click must be recorded on the dismissed case for
// the lead to see, open no case and queue no webhook; with the account
// held, another link of the same account does the same. Without a hold a
// new case opens as before.
func TestDismissedLinkCycle(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		scope      string
		otherHeld  bool // another link of the same account is held too
		rcptHeld   bool // another account's link to the same recipient is held
		newOnClick bool // the same link opens a new case (no hold)
	}{
		{name: "no hold", scope: HoldNone, newOnClick: true},
		{name: "link", scope: HoldLink},
		{name: "account", scope: HoldAccount, otherHeld: true},
		{name: "recipient", scope: HoldRecipient, rcptHeld: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDesk(t)
			link, err := d.Mint("ACC-7", "registration", "holder@example.net")
			if err != nil {
				t.Fatalf("Mint() = %v", err)
			}
			first := d.file(t, ReportInput{Token: link.Token, OpenedLink: true})
			if first.Requested == 0 {
				t.Fatalf("first click requested %d actions, want the kind's", first.Requested)
			}
			if _, err := d.Dismiss(ctx, leadActor(), first.CaseRef, "the address was the holder's own", tt.scope); err != nil {
				t.Fatalf("Dismiss(%q) = %v", tt.scope, err)
			}
			webhooks := countRows(t, d.store, "webhook_deliveries")
			cases := countRows(t, d.store, "cases")
			d.clock.Advance(time.Minute) // the clicks come after the dismissal

			for i := 0; i < 3; i++ {
				again := d.file(t, ReportInput{Token: link.Token, OpenedLink: true})
				if tt.newOnClick {
					if !again.NewCase && i == 0 {
						t.Fatalf("click %d without a hold: NewCase = false, want a new case as before", i)
					}
					return
				}
				if again.CaseRef != first.CaseRef || again.NewCase || again.Requested != 0 {
					t.Fatalf("click %d: FileReport() = case %s (new %v, requested %d), want the dismissed %s, nothing requested",
						i, again.CaseRef, again.NewCase, again.Requested, first.CaseRef)
				}
				if st, err := d.StatusByToken(ctx, again.StatusToken); err != nil || st.Outcome.Code != OutcomeReceived {
					t.Errorf("StatusByToken(held click) = %+v, %v; want received, as for any new report", st.Outcome, err)
				}
			}
			other, err := d.Mint("ACC-7", "registration", "other@example.net")
			if err != nil {
				t.Fatalf("Mint() = %v", err)
			}
			toRcpt, err := d.Mint("ACC-8", "registration", "holder@example.net")
			if err != nil {
				t.Fatalf("Mint() = %v", err)
			}
			for _, o := range []struct {
				tok  string
				held bool
			}{{other.Token, tt.otherHeld}, {toRcpt.Token, tt.rcptHeld}} {
				f := d.file(t, ReportInput{Token: o.tok})
				if (f.CaseRef == first.CaseRef) != o.held {
					t.Errorf("another link: filed on %s (new %v), want held %v", f.CaseRef, f.NewCase, o.held)
				}
				if !o.held {
					cases++
					webhooks += int64(f.Requested)
				}
			}

			if n := countRows(t, d.store, "webhook_deliveries"); n != webhooks {
				t.Errorf("webhook deliveries = %d, want %d: a held report queued webhooks", n, webhooks)
			}
			if n := countRows(t, d.store, "cases"); n != cases {
				t.Errorf("cases = %d, want %d", n, cases)
			}
			c := d.caseRow(t, first.CaseRef)
			if c.Status != StatusDismissed || c.OpenKey != nil {
				t.Errorf("held case: status %s, open key %v; want dismissed and closed", c.Status, c.OpenKey)
			}
			evs := d.events(t, c.ID)
			n := 0
			for _, e := range evs {
				if e == EventReportOnDismissed {
					n++
				}
			}
			if n < 3 {
				t.Errorf("timeline %v: %d %s events, want one per held click", evs, n, EventReportOnDismissed)
			}
			var reps int64
			d.store.w.Model(&Report{}).Where("case_id = ?", c.ID).Count(&reps)
			if reps < 4 {
				t.Errorf("reports on the dismissed case = %d, want the first and three clicks", reps)
			}
			al, err := d.LeadAlerts(ctx, leadActor())
			if err != nil {
				t.Fatalf("LeadAlerts() = %v", err)
			}
			if !slices.ContainsFunc(al.OnDismissed, func(o OnDismissed) bool { return o.CaseRef == first.CaseRef && o.Reports >= 3 }) {
				t.Errorf("LeadAlerts().OnDismissed = %+v, want %s with its held reports", al.OnDismissed, first.CaseRef)
			}
		})
	}
}

// TestDismissHoldRefused: holding an account is for leads, and a hold
// with nothing to hold is refused rather than believed.
func TestDismissHoldRefused(t *testing.T) {
	ctx := context.Background()
	d := newTestDesk(t)
	m := d.mint(t, "ACC-1", "registration")
	f := d.file(t, ReportInput{Token: m.Token})
	_, err := d.Dismiss(ctx, trainedAgent(), f.CaseRef, "holder's own", HoldAccount)
	wantCode(t, "Dismiss(agent, account)", err, EFORBIDDEN, "")
	d.register(t, "<p-1@mail.example.com>", "ACC-2", "x@example.net", "postal_notice")
	g := d.file(t, ReportInput{Channel: ChannelForm, MessageIDs: []string{"<p-1@mail.example.com>"}})
	_, err = d.Dismiss(ctx, leadActor(), g.CaseRef, "holder's own", HoldLink)
	wantCode(t, "Dismiss(no link, link)", err, EINVALID, "link")
	if c := d.caseRow(t, g.CaseRef); c.Status == StatusDismissed {
		t.Errorf("refused hold: case %s is %s, want it left as it was", g.CaseRef, c.Status)
	}
}

// TestDismissedLinkByMail: a held link forwarded to the report mailbox
// joins the dismissed case and requests nothing, as a click does.
func TestDismissedLinkByMail(t *testing.T) {
	ctx := context.Background()
	d := newTestDesk(t)
	link := d.mint(t, "ACC-3", "registration")
	first := d.file(t, ReportInput{Token: link.Token})
	if _, err := d.Dismiss(ctx, leadActor(), first.CaseRef, "the address was the holder's own", HoldLink); err != nil {
		t.Fatalf("Dismiss() = %v", err)
	}
	webhooks := countRows(t, d.store, "webhook_deliveries")
	g := ingest(t, d, InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Raw: []byte("fwd"), Parsed: ParsedMail{
		Class: ClassReport, MessageID: "fwd-1@example.org", From: "holder@example.org", Tokens: []string{link.Token}}})[0]
	if g.CaseRef != first.CaseRef {
		t.Errorf("IngestMail(held link) filed on %s, want the dismissed %s", g.CaseRef, first.CaseRef)
	}
	if n := countRows(t, d.store, "webhook_deliveries"); n != webhooks {
		t.Errorf("webhook deliveries = %d, want %d: the held mail queued webhooks", n, webhooks)
	}
	if c := d.caseRow(t, first.CaseRef); c.Status != StatusDismissed {
		t.Errorf("case %s is %s, want it to stay dismissed", c.Ref, c.Status)
	}
	if evs := d.events(t, first.Case.ID); !slices.Contains(evs, EventReportOnDismissed) {
		t.Errorf("timeline %v lacks %s", evs, EventReportOnDismissed)
	}
}
