package cases

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// queueRefs returns the refs of a queue listing, in order.
func queueRefs(list []QueueCase) []string {
	out := make([]string, len(list))
	for i, q := range list {
		out[i] = q.Ref
	}
	return out
}

func TestQueue(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	// Opened in this order, due in another: low 24h, high 1h, critical
	// 15m (opened 10 minutes later), normal 4h (unmatched), high 1h
	// (opened 5 minutes later).
	low := d.file(t, ReportInput{Token: d.mint(t, "acct-low", "newsletter").Token})
	high := d.file(t, ReportInput{Token: d.mint(t, "acct-high", "postal_notice").Token})
	d.clock.Advance(5 * time.Minute)
	high2 := d.file(t, ReportInput{Token: d.mint(t, "acct-high2", "registration").Token})
	d.clock.Advance(5 * time.Minute)
	crit := d.file(t, ReportInput{Token: d.mint(t, "acct-crit", "registration").Token, SetPassword: true})
	unm := d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<lost@x.example>"}})
	d.file(t, ReportInput{Token: d.mint(t, "acct-high", "postal_notice").Token}) // a second report on high

	list, err := d.Queue(ctx, trainedAgent(), QueueFilter{})
	if err != nil {
		t.Fatalf("Queue() = %v", err)
	}
	want := []string{crit.CaseRef, high.CaseRef, high2.CaseRef, unm.CaseRef, low.CaseRef}
	if got := queueRefs(list); !slices.Equal(got, want) {
		t.Errorf("Queue() = %v, want nearest deadline first %v", got, want)
	}
	for _, q := range list {
		wantReports := 1
		if q.Ref == high.CaseRef {
			wantReports = 2
		}
		if q.Reports != wantReports {
			t.Errorf("Queue() case %s has Reports %d, want %d", q.Ref, q.Reports, wantReports)
		}
	}
	for i := 1; i < len(list); i++ {
		if list[i].ContainBy.Before(list[i-1].ContainBy) {
			t.Errorf("Queue()[%d] due %v before [%d] due %v", i, list[i].ContainBy, i-1, list[i-1].ContainBy)
		}
	}

	// Resolve the low case: it leaves the default (open) queue.
	if err := d.store.w.Model(&Case{}).Where("ref = ?", low.CaseRef).
		Updates(map[string]any{"status": StatusResolved, "open_key": nil}).Error; err != nil {
		t.Fatalf("resolve case: %v", err)
	}
	yes, no := true, false
	if err := d.store.w.Model(&Case{}).Where("ref = ?", high2.CaseRef).Update("escalated", true).Error; err != nil {
		t.Fatalf("escalate case: %v", err)
	}
	// The critical case was escalated as a possible takeover when filed;
	// this test wants exactly one escalated case.
	if err := d.store.w.Model(&Case{}).Where("ref = ?", crit.CaseRef).Update("escalated", false).Error; err != nil {
		t.Fatalf("de-escalate case: %v", err)
	}
	filters := []struct {
		name string
		f    QueueFilter
		want []string
	}{
		{"open", QueueFilter{}, []string{crit.CaseRef, high.CaseRef, high2.CaseRef, unm.CaseRef}},
		{"resolved", QueueFilter{Statuses: []Status{StatusResolved}}, []string{low.CaseRef}},
		{"any status", QueueFilter{Statuses: Statuses}, []string{crit.CaseRef, high.CaseRef, high2.CaseRef, unm.CaseRef, low.CaseRef}},
		{"severity high", QueueFilter{Severity: SeverityHigh}, []string{high.CaseRef, high2.CaseRef}},
		{"severity critical", QueueFilter{Severity: SeverityCritical}, []string{crit.CaseRef}},
		{"severity low (resolved)", QueueFilter{Severity: SeverityLow}, []string{}},
		{"unmatched", QueueFilter{Match: MatchUnmatched}, []string{unm.CaseRef}},
		{"exact", QueueFilter{Match: MatchExact}, []string{crit.CaseRef, high.CaseRef, high2.CaseRef}},
		{"account", QueueFilter{AccountRef: "acct-high"}, []string{high.CaseRef}},
		{"escalated", QueueFilter{Escalated: &yes}, []string{high2.CaseRef}},
		{"not escalated", QueueFilter{Escalated: &no}, []string{crit.CaseRef, high.CaseRef, unm.CaseRef}},
		{"limit", QueueFilter{Limit: 2}, []string{crit.CaseRef, high.CaseRef}},
		{"combined", QueueFilter{Severity: SeverityHigh, Escalated: &no}, []string{high.CaseRef}},
	}
	for _, tt := range filters {
		list, err := d.Queue(ctx, trainedAgent(), tt.f)
		if err != nil {
			t.Errorf("Queue(%s) = %v", tt.name, err)
			continue
		}
		if got := queueRefs(list); !slices.Equal(got, tt.want) {
			t.Errorf("Queue(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}

	counts, err := d.QueueCounts(ctx, trainedAgent())
	if err != nil {
		t.Fatalf("QueueCounts() = %v", err)
	}
	if want := map[Severity]int{SeverityCritical: 1, SeverityHigh: 2, SeverityNormal: 1}; fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("QueueCounts() = %v, want %v", counts, want)
	}
}

func TestQueueRefusesUntrained(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	f := d.file(t, ReportInput{Token: d.mint(t, "acct-1", "registration").Token})
	untrained := Actor{User: &User{ID: 2, Email: "parcel@desk.example.com", Role: RoleAgent}}
	untrainedLead := Actor{User: &User{ID: 3, Email: "lead@desk.example.com", Role: RoleLead}}
	disabled := Actor{User: &User{ID: 4, Email: "gone@desk.example.com", Role: RoleAgent, SecurityTrained: true, Disabled: true}}
	noScope := Actor{APIKey: &APIKey{Name: "sender", Scopes: "messages:write mint"}}
	refused := map[string]Actor{"untrained agent": untrained, "untrained lead": untrainedLead,
		"disabled": disabled, "key without cases:read": noScope, "nobody": {}}
	for name, a := range refused {
		_, err := d.Queue(ctx, a, QueueFilter{})
		wantCode(t, "Queue("+name+")", err, EFORBIDDEN, "security-trained")
		_, err = d.CaseByRef(ctx, a, f.CaseRef)
		wantCode(t, "CaseByRef("+name+")", err, EFORBIDDEN, "")
		_, err = d.QueueCounts(ctx, a)
		wantCode(t, "QueueCounts("+name+")", err, EFORBIDDEN, "")
		_, err = d.ReportsOf(ctx, a, []int64{f.Case.ID})
		wantCode(t, "ReportsOf("+name+")", err, EFORBIDDEN, "")
	}
	callCentre := Actor{APIKey: &APIKey{Name: "callcentre", Scopes: "reports:write cases:read"}}
	if list, err := d.Queue(ctx, callCentre, QueueFilter{}); err != nil || len(list) != 1 {
		t.Errorf("Queue(key with cases:read) = %d cases, %v; want 1, nil", len(list), err)
	}
}

func TestCaseByRef(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	tok := d.mint(t, "acct-1", "registration").Token
	f := d.file(t, ReportInput{Token: tok})
	d.clock.Advance(time.Minute)
	d.file(t, ReportInput{Token: tok, SetPassword: true})
	// A ref with the digits people misread.
	if err := d.store.w.Model(&Case{}).Where("id = ?", f.Case.ID).Update("ref", "NM-0A1B-C0DE").Error; err != nil {
		t.Fatalf("set ref: %v", err)
	}
	for _, ref := range []string{"NM-0A1B-C0DE", "nm-0a1b-c0de", "nm-oalb-code", " NM-OA1B-CODE ", "0a1bc0de", "NM-0AIB-C0DE"} {
		got, err := d.CaseByRef(ctx, trainedAgent(), ref)
		if err != nil {
			t.Errorf("CaseByRef(%q) = %v", ref, err)
			continue
		}
		if got.Case.ID != f.Case.ID {
			t.Errorf("CaseByRef(%q) = case %d, want %d", ref, got.Case.ID, f.Case.ID)
		}
	}
	got, err := d.CaseByRef(ctx, trainedAgent(), "nm-oalb-code")
	if err != nil {
		t.Fatalf("CaseByRef() = %v", err)
	}
	if len(got.Reports) != 2 || !got.Reports[0].ReceivedAt.Before(got.Reports[1].ReceivedAt) {
		t.Errorf("CaseByRef().Reports = %+v, want two, oldest first", got.Reports)
	}
	wantEvents := []string{EventOpened, EventReportAdded, EventContainmentRequested, EventSeverityRaised, EventEscalated, EventReportAdded}
	var evs []string
	for _, e := range got.Events {
		evs = append(evs, e.Type)
	}
	if !slices.Equal(evs, wantEvents) {
		t.Errorf("CaseByRef().Events = %v, want %v", evs, wantEvents)
	}
	if got.Assignee != nil {
		t.Errorf("CaseByRef().Assignee = %+v, want none", got.Assignee)
	}

	u, err := d.AddUser(ctx, "agent@desk.example.com", RoleAgent, true, goodPassword)
	if err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	if err := d.store.w.Model(&Case{}).Where("id = ?", f.Case.ID).Update("assignee_id", u.ID).Error; err != nil {
		t.Fatalf("assign case: %v", err)
	}
	got, err = d.CaseByRef(ctx, trainedAgent(), "NM-0A1B-C0DE")
	if err != nil || got.Assignee == nil || got.Assignee.Email != u.Email {
		t.Errorf("CaseByRef(assigned) = assignee %+v, %v; want %s", got.Assignee, err, u.Email)
	}

	for _, ref := range []string{"", "NM-0A1B-C0DF", "NM-0A1B", "NM-0A1B-C0DE-1", "'; DROP TABLE cases; --"} {
		_, err := d.CaseByRef(ctx, trainedAgent(), ref)
		wantCode(t, fmt.Sprintf("CaseByRef(%q)", ref), err, ENOTFOUND, "")
	}
}
