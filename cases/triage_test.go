package cases

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// forged is a link token that opens nothing, distinct per i.
func forged(i int) string { return fmt.Sprintf("AQforged-link-%04d-xxxxxxxxxxxxxxxxxxxxxxxx", i) }

// unmatchedCases counts the triage cases.
func (d *testDesk) unmatchedCases(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := d.store.w.Model(&Case{}).Where("confidence = ?", MatchUnmatched).Count(&n).Error; err != nil {
		t.Fatalf("count triage cases: %v", err)
	}
	return n
}

// TestForgedLinkFlood is issue 12's forged-link flood: thirty POSTs of
// distinct forged links from three addresses open one triage case per
// address, and every report is filed.
func TestForgedLinkFlood(t *testing.T) {
	d := newTestDesk(t)
	clients := []string{"198.51.100.7", "203.0.113.9", "2001:db8::1"}
	refs := map[string]map[string]bool{}
	for i := 0; i < 30; i++ {
		cl := clients[i%3]
		f := d.file(t, ReportInput{Token: forged(i), Client: cl})
		if f.Report.Match != MatchUnmatched {
			t.Fatalf("forged link %d matched %s", i, f.Report.Match)
		}
		if refs[cl] == nil {
			refs[cl] = map[string]bool{}
		}
		refs[cl][f.CaseRef] = true
		d.clock.Advance(time.Second)
	}
	if n := d.unmatchedCases(t); n != 3 {
		t.Errorf("triage cases = %d after 30 forged links from 3 clients, want 3", n)
	}
	for cl, rs := range refs {
		if len(rs) != 1 {
			t.Errorf("client %s: reports on %d cases, want 1", cl, len(rs))
		}
	}
	if n := countRows(t, d.store, "reports"); n != 30 {
		t.Errorf("reports = %d, want all 30 filed", n)
	}
	var c Case
	d.store.w.Where("confidence = ?", MatchUnmatched).Limit(1).Find(&c)
	if len(c.TriageClient) != 16 || string(c.TriageClient) == clients[0] {
		t.Errorf("triage_client = %x, want a 16-byte keyed hash, not the address", c.TriageClient)
	}
}

// TestTriageBoundPerClientHour: a client whose triage cases are dismissed
// one after another opens at most PerClientHour within the hour; then its
// reports are kept on its newest, closed case for the leads to see, and
// an hour later it may open one again.
func TestTriageBoundPerClientHour(t *testing.T) {
	ctx := context.Background()
	d := newTestDesk(t)
	var last Filed
	for i := 0; i < 3; i++ {
		last = d.file(t, ReportInput{Token: forged(i), Client: "198.51.100.7"})
		if !last.NewCase {
			t.Fatalf("report %d: joined %s, want a new case (bound 3, earlier ones dismissed)", i, last.CaseRef)
		}
		if _, err := d.Dismiss(ctx, trainedAgent(), last.CaseRef, "forged", HoldNone); err != nil {
			t.Fatalf("Dismiss() = %v", err)
		}
		d.clock.Advance(time.Minute)
	}
	over := d.file(t, ReportInput{Token: forged(3), Client: "198.51.100.7"})
	if over.NewCase || over.CaseRef != last.CaseRef {
		t.Errorf("fourth triage case within the hour: filed on %s (new %v), want the client's newest %s", over.CaseRef, over.NewCase, last.CaseRef)
	}
	if st, err := d.StatusByToken(ctx, over.StatusToken); err != nil || st.Outcome.Code != OutcomeReceived {
		t.Errorf("StatusByToken(over the bound) = %+v, %v; want received, as for any new report", st.Outcome, err)
	}
	if c := d.caseRow(t, last.CaseRef); c.Status != StatusDismissed {
		t.Errorf("case %s is %s, want it to stay dismissed", last.CaseRef, c.Status)
	}
	if evs := d.events(t, over.Case.ID); evs[len(evs)-2] != EventReportOnDismissed {
		t.Errorf("timeline %v, want %s before the report", evs, EventReportOnDismissed)
	}
	al, err := d.LeadAlerts(ctx, leadActor())
	if err != nil || len(al.OnDismissed) != 1 || al.OnDismissed[0].CaseRef != last.CaseRef {
		t.Errorf("LeadAlerts() = %+v, %v; want %s on the dismissed list", al.OnDismissed, err, last.CaseRef)
	}
	other := d.file(t, ReportInput{Token: forged(4), Client: "203.0.113.9"})
	if !other.NewCase {
		t.Errorf("another client's report joined %s, want its own case", other.CaseRef)
	}
	d.clock.Advance(time.Hour)
	if again := d.file(t, ReportInput{Token: forged(5), Client: "198.51.100.7"}); !again.NewCase {
		t.Errorf("an hour later: joined %s, want a new case", again.CaseRef)
	}
}

// TestTriageBurst: many clients at once (a botnet) open at most Burst
// triage cases within the window; the rest share one burst case.
func TestTriageBurst(t *testing.T) {
	d := newTestDesk(t)
	for i := 0; i < 30; i++ {
		d.file(t, ReportInput{Token: forged(i), Client: fmt.Sprintf("198.51.100.%d", i)})
	}
	if n := d.unmatchedCases(t); n != 21 {
		t.Errorf("triage cases = %d after 30 clients' forged links within minutes, want 20 and one burst case", n)
	}
	if n := countRows(t, d.store, "reports"); n != 30 {
		t.Errorf("reports = %d, want all 30 filed", n)
	}
	d.clock.Advance(time.Hour)
	if f := d.file(t, ReportInput{Token: forged(99), Client: "192.0.2.1"}); !f.NewCase {
		t.Errorf("after the burst: joined %s, want a case of its own", f.CaseRef)
	}
}
