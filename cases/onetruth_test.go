package cases

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Case.Deadlines is the one rule of a deadline's state: met by the status
// (or an assessment) that answers it, whenever that came; otherwise
// pending before its due time and overdue from it on.
func TestDeadlineStates(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	past, future := now.Add(-16*time.Minute), now.Add(time.Hour)
	at := func(t time.Time) *time.Time { return &t }
	for _, tt := range []struct {
		name string
		c    Case
		want string // kind=state, in the order contain, resolve, assess
	}{
		{"new, in time", Case{Status: StatusNew, ContainBy: future, ResolveBy: at(future)},
			"contain=pending resolve=pending"},
		{"new, contain-by passed", Case{Status: StatusNew, ContainBy: past, ResolveBy: at(future)},
			"contain=overdue resolve=pending"},
		{"new, due this instant", Case{Status: StatusNew, ContainBy: now},
			"contain=overdue"},
		{"contained after its contain-by", Case{Status: StatusContained, ContainBy: past, ResolveBy: at(future)},
			"contain=met resolve=pending"},
		{"contained, resolve-by passed", Case{Status: StatusContained, ContainBy: past, ResolveBy: at(past)},
			"contain=met resolve=overdue"},
		{"resolved late", Case{Status: StatusResolved, ContainBy: past, ResolveBy: at(past)},
			"contain=met resolve=met"},
		{"dismissed with an assessment owed", Case{Status: StatusDismissed, ContainBy: past, ResolveBy: at(past), AssessBy: at(past)},
			"contain=met resolve=met assess=met"},
		{"resolved, assessment owed and late", Case{Status: StatusResolved, ContainBy: past, ResolveBy: at(future), AssessBy: at(past)},
			"contain=met resolve=met assess=overdue"},
		{"assessed after its deadline", Case{Status: StatusContained, ContainBy: past, ResolveBy: at(future), AssessBy: at(past), AssessedAt: at(now)},
			"contain=met resolve=pending assess=met"},
		{"opened before resolve deadlines", Case{Status: StatusContained, ContainBy: past},
			"contain=met"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range tt.c.Deadlines(now) {
				got = append(got, d.Kind+"="+string(d.State))
				if d.State == DeadlineMet && d.Left != 0 || d.State != DeadlineMet && d.Left != d.Due.Sub(now) {
					t.Errorf("Deadlines() %s: Left = %v for due %v", d.Kind, d.Left, d.Due)
				}
			}
			if g := fmt.Sprint(got); g != "["+tt.want+"]" {
				t.Errorf("Deadlines() = %s, want [%s]", g, tt.want)
			}
			// Unmet and NextDeadline follow the same rule.
			var unmet []string
			for _, d := range tt.c.Unmet() {
				st, _ := tt.c.DeadlineOf(d.Kind, now)
				if st.State == DeadlineMet {
					t.Errorf("Unmet() lists %s, which Deadlines() calls met", d.Kind)
				}
				unmet = append(unmet, d.Kind)
			}
			if next, ok := tt.c.NextDeadlineAt(now); ok != (len(unmet) > 0) || ok && next.State == DeadlineMet {
				t.Errorf("NextDeadlineAt() = %+v, %v with unmet %v", next, ok, unmet)
			}
		})
	}
}

// Take next gives the case that most needs a person now: uncontained
// before contained, then severity, then the nearest unmet deadline; the
// queue lists open cases in the same order, so Take next is its first
// unassigned row.
func TestTakeNextAndQueueOrder(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	lead := Actor{User: &User{ID: 50, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}
	file := func(account, kind string, setPassword bool) string {
		return d.file(t, ReportInput{Token: d.mint(t, account, kind).Token, SetPassword: setPassword}).CaseRef
	}
	contain := func(ref string) {
		t.Helper()
		if _, err := d.SetStatus(ctx, trainedAgent(), ref, StatusContained, ""); err != nil {
			t.Fatalf("SetStatus(%s, contained) = %v", ref, err)
		}
	}
	// Contained cases first, critical ones among them: the old order
	// (severity, then contain-by) handed these out before new ones.
	containedCrit := file("C-crit", "registration", true)
	contain(containedCrit)
	containedHigh := file("C-high", "registration", false)
	contain(containedHigh)
	d.clock.Advance(time.Minute)
	newLow := file("N-low", "newsletter", false)
	newHighLater := file("N-high-2", "registration", false) // contain by now + 1 h
	d.clock.Advance(-30 * time.Minute)
	newHighSooner := file("N-high-1", "registration", false) // filed "earlier" by the clock: due sooner, but a later id
	d.clock.Advance(30 * time.Minute)
	newCrit := file("N-crit", "registration", true)
	// A case a lead took is not handed out, but is still listed.
	taken := file("N-taken", "registration", true)
	if _, err := d.Take(ctx, lead, taken); err != nil {
		t.Fatalf("Take(%s) = %v", taken, err)
	}

	want := []string{newCrit, newHighSooner, newHighLater, newLow, containedCrit, containedHigh}
	names := map[string]string{containedCrit: "contained critical", containedHigh: "contained high", newLow: "new low",
		newHighLater: "new high, due later", newHighSooner: "new high, due sooner", newCrit: "new critical", taken: "new critical, taken"}
	list, err := d.Queue(ctx, trainedAgent(), QueueFilter{})
	if err != nil {
		t.Fatalf("Queue() = %v", err)
	}
	var listed []string
	for _, q := range list {
		if q.Ref != taken {
			listed = append(listed, names[q.Ref])
		}
	}
	var wantNames []string
	for _, ref := range want {
		wantNames = append(wantNames, names[ref])
	}
	if !slices.Equal(listed, wantNames) {
		t.Errorf("Queue() order (unassigned) = %q, want %q", listed, wantNames)
	}
	for i, ref := range want {
		got, err := d.TakeNext(ctx, agent(int64(i+1), true))
		if err != nil || got.Ref != ref {
			t.Errorf("TakeNext #%d = %s (%s), %v; want %s", i+1, names[got.Ref], got.Ref, err, names[ref])
		}
	}
	if _, err := d.TakeNext(ctx, agent(99, true)); ErrorCode(err) != ENOTFOUND {
		t.Errorf("TakeNext with every case taken = %v, want not found", err)
	}
}

// A report of a worse kind ("I set a password") joining a case already
// contained for a milder one puts it back to new: raised severity, a
// fresh contain-by, an escalation, and new evidence on the case and in
// the queue, until it is contained again. A report that adds nothing
// worse leaves a contained case contained.
func TestWorseEvidenceReopensContainedCase(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	tok := d.mint(t, "ACC-W", "registration").Token
	first := d.file(t, ReportInput{Token: tok})
	if _, err := d.SetStatus(ctx, trainedAgent(), first.CaseRef, StatusContained, ""); err != nil {
		t.Fatalf("SetStatus(contained) = %v", err)
	}
	d.clock.Advance(2 * time.Hour) // the first contain-by has long passed, and was met

	// The same click again adds nothing worse.
	d.file(t, ReportInput{Token: tok})
	if c := d.caseRow(t, first.CaseRef); c.Status != StatusContained || c.Severity != SeverityHigh {
		t.Fatalf("after a second plain report: status %s severity %s, want contained high", c.Status, c.Severity)
	}

	d.file(t, ReportInput{Token: tok, SetPassword: true})
	now := d.clock.Now()
	c := d.caseRow(t, first.CaseRef)
	if c.Status != StatusNew || c.Severity != SeverityCritical || !c.Escalated {
		t.Errorf("after \"I set a password\": status %s severity %s escalated %v, want new critical escalated", c.Status, c.Severity, c.Escalated)
	}
	if want := now.Add(DefaultContainBy()[SeverityCritical]); !c.ContainBy.Equal(want) {
		t.Errorf("contain_by = %v, want a fresh %v", c.ContainBy, want)
	}
	if st, _ := c.DeadlineOf(DeadlineContain, now); st.State != DeadlinePending {
		t.Errorf("contain deadline state = %s, want pending", st.State)
	}
	evs := d.events(t, c.ID)
	if !slices.Contains(evs, EventNewEvidence) || !slices.Contains(evs, EventEscalated) || !slices.Contains(evs, EventSeverityRaised) {
		t.Errorf("timeline = %v, want %s, %s and %s", evs, EventSeverityRaised, EventNewEvidence, EventEscalated)
	}
	detail, err := d.CaseByRef(ctx, trainedAgent(), first.CaseRef)
	if err != nil {
		t.Fatalf("CaseByRef() = %v", err)
	}
	if detail.NewEvidence == nil || detail.NewEvidence.Type != EventNewEvidence {
		t.Errorf("CaseByRef().NewEvidence = %v, want the new_evidence event", detail.NewEvidence)
	}
	queueFlag := func() bool {
		t.Helper()
		list, err := d.Queue(ctx, trainedAgent(), QueueFilter{Statuses: Statuses})
		if err != nil || len(list) != 1 {
			t.Fatalf("Queue() = %d cases, %v; want 1", len(list), err)
		}
		return list[0].NewEvidence
	}
	if !queueFlag() {
		t.Error("Queue() does not mark the case as having new evidence")
	}
	// The old contain-by was met; only the fresh one can be breached.
	d.clock.Advance(DefaultContainBy()[SeverityCritical] + time.Minute)
	if n, _, err := d.MarkBreaches(ctx); err != nil || n != 1 {
		t.Errorf("MarkBreaches() past the fresh contain-by = %d, %v; want 1", n, err)
	}

	if _, err := d.SetStatus(ctx, trainedAgent(), first.CaseRef, StatusContained, ""); err != nil {
		t.Fatalf("SetStatus(contained) again = %v", err)
	}
	if queueFlag() {
		t.Error("Queue() still marks new evidence after the case was contained again")
	}
	if detail, _ := d.CaseByRef(ctx, trainedAgent(), first.CaseRef); detail.NewEvidence != nil {
		t.Error("CaseByRef().NewEvidence is set after the case was contained again")
	}
}
