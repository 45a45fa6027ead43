package cases

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newRuleDesk is newTestDesk with options adjusted, e.g. the escalation
// rules switched on.
func newRuleDesk(t testing.TB, adjust func(*Options)) *testDesk {
	t.Helper()
	clock := newFakeClock()
	st := openTestStore(t)
	o := Options{
		Store: st, Sealer: svcSealer(t, clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: clock.Now,
	}
	adjust(&o)
	svc, err := NewService(o)
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	return &testDesk{Service: svc, store: handlesOf(st), clock: clock}
}

// breaches lists the marked breaches as "REF deadline", sorted.
func (d *testDesk) breaches(t testing.TB) []string {
	t.Helper()
	var rows []struct {
		Ref      string
		Deadline string
	}
	if err := d.store.w.Table("sla_breaches").Select("cases.ref, sla_breaches.deadline").
		Joins("JOIN cases ON cases.id = sla_breaches.case_id").Scan(&rows).Error; err != nil {
		t.Fatalf("read sla_breaches: %v", err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Ref + " " + r.Deadline
	}
	slices.Sort(out)
	return out
}

// eventDetails returns the details of a case's events of one type.
func (d *testDesk) eventDetails(t testing.TB, caseID int64, typ string) []string {
	t.Helper()
	var out []string
	if err := d.store.w.Model(&Event{}).Where("case_id = ? AND type = ?", caseID, typ).Order("id").Pluck("detail", &out).Error; err != nil {
		t.Fatalf("read %s events of case %d: %v", typ, caseID, err)
	}
	return out
}

func TestDeadlinesWhenACaseOpens(t *testing.T) {
	d := newTestDesk(t)
	now := d.clock.Now()
	tests := []struct {
		name        string
		in          ReportInput
		contain     time.Duration
		resolve     time.Duration
		assess      time.Duration // 0: no breach assessment
		wantSev     Severity
		wantUnmetBy string // the nearest deadline's kind
	}{
		{"low, no personal data", ReportInput{Token: d.mint(t, "D-news", "newsletter").Token}, 24 * time.Hour, 10 * 24 * time.Hour, 0, SeverityLow, DeadlineContain},
		{"personal data", ReportInput{Token: d.mint(t, "D-post", "postal_notice").Token}, time.Hour, 3 * 24 * time.Hour, 72 * time.Hour, SeverityHigh, DeadlineContain},
		{"credential link only received", ReportInput{Token: d.mint(t, "D-reg", "registration").Token}, time.Hour, 3 * 24 * time.Hour, 0, SeverityHigh, DeadlineContain},
		{"credential used: the account was open to a stranger", ReportInput{Token: d.mint(t, "D-used", "registration").Token, SetPassword: true},
			15 * time.Minute, 24 * time.Hour, 72 * time.Hour, SeverityCritical, DeadlineContain},
		{"unmatched", ReportInput{Token: "forged"}, 4 * time.Hour, 5 * 24 * time.Hour, 0, SeverityNormal, DeadlineContain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := d.file(t, tt.in)
			c := d.caseRow(t, f.CaseRef)
			if c.Severity != tt.wantSev {
				t.Errorf("severity = %s, want %s", c.Severity, tt.wantSev)
			}
			if !c.ContainBy.Equal(now.Add(tt.contain)) {
				t.Errorf("contain_by = %v, want %v", c.ContainBy, now.Add(tt.contain))
			}
			if c.ResolveBy == nil || !c.ResolveBy.Equal(now.Add(tt.resolve)) {
				t.Errorf("resolve_by = %v, want %v", c.ResolveBy, now.Add(tt.resolve))
			}
			switch {
			case tt.assess == 0 && c.AssessBy != nil:
				t.Errorf("assess_by = %v, want none", *c.AssessBy)
			case tt.assess != 0 && (c.AssessBy == nil || !c.AssessBy.Equal(now.Add(tt.assess))):
				t.Errorf("assess_by = %v, want %v", c.AssessBy, now.Add(tt.assess))
			}
			if next, ok := c.NextDeadline(); !ok || next.Kind != tt.wantUnmetBy || !next.Due.Equal(now.Add(tt.contain)) {
				t.Errorf("NextDeadline() = %+v, %v; want %s at %v", next, ok, tt.wantUnmetBy, now.Add(tt.contain))
			}
		})
	}
}

func TestNextDeadlineSkipsMetOnes(t *testing.T) {
	at := func(h int) *time.Time { x := time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC); return &x }
	tests := []struct {
		name string
		c    Case
		want string // "" = none
	}{
		{"new: contain first", Case{Status: StatusNew, ContainBy: *at(11), ResolveBy: at(20), AssessBy: at(9)}, DeadlineAssess},
		{"new: contain", Case{Status: StatusNew, ContainBy: *at(11), ResolveBy: at(20)}, DeadlineContain},
		{"contained: resolve", Case{Status: StatusContained, ContainBy: *at(11), ResolveBy: at(20)}, DeadlineResolve},
		{"contained: assess before resolve", Case{Status: StatusContained, ContainBy: *at(11), ResolveBy: at(20), AssessBy: at(15)}, DeadlineAssess},
		{"assessed", Case{Status: StatusContained, ContainBy: *at(11), ResolveBy: at(20), AssessBy: at(15), AssessedAt: at(12)}, DeadlineResolve},
		{"resolved, not assessed", Case{Status: StatusResolved, ContainBy: *at(11), ResolveBy: at(20), AssessBy: at(15)}, DeadlineAssess},
		{"dismissed", Case{Status: StatusDismissed, ContainBy: *at(11), ResolveBy: at(20), AssessBy: at(15)}, ""},
		{"opened before resolve deadlines", Case{Status: StatusContained, ContainBy: *at(11)}, ""},
	}
	for _, tt := range tests {
		got, ok := tt.c.NextDeadline()
		if got.Kind != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: NextDeadline() = %+v, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

func TestMarkBreachesUnderAClock(t *testing.T) {
	d := newRuleDesk(t, func(o *Options) { o.Escalation = EscalationRules{SLABreach: true} })
	ctx := context.Background()
	start := d.clock.Now()
	news := d.file(t, ReportInput{Token: d.mint(t, "S-news", "newsletter").Token})           // low: contain 24h, resolve 10d
	post := d.file(t, ReportInput{Token: d.mint(t, "S-post", "postal_notice").Token})        // high: 1h, 3d, assess 72h
	order := d.file(t, ReportInput{Token: d.mint(t, "S-order", "order_confirmation").Token}) // normal: 4h, 5d, assess 72h
	lead := Actor{User: &User{ID: 7, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}

	mark := func(step string, wantMarked int, wantNext time.Duration) {
		t.Helper()
		n, next, err := d.MarkBreaches(ctx)
		if err != nil {
			t.Fatalf("%s: MarkBreaches() = %v", step, err)
		}
		if n != wantMarked {
			t.Errorf("%s: MarkBreaches() marked %d, want %d", step, n, wantMarked)
		}
		if want := start.Add(wantNext); !next.Equal(want) {
			t.Errorf("%s: MarkBreaches() next = %v, want %v", step, next, want)
		}
	}
	mark("before any deadline", 0, time.Hour)

	d.clock.Advance(time.Hour) // the postal notice's containment is due now
	mark("at the first deadline", 1, 4*time.Hour)
	mark("again at once", 0, 4*time.Hour)
	if got, want := d.breaches(t), []string{post.CaseRef + " contain"}; !slices.Equal(got, want) {
		t.Fatalf("breaches = %v, want %v", got, want)
	}
	c := d.caseRow(t, post.CaseRef)
	if !c.Escalated {
		t.Errorf("case %s not escalated after its breach", post.CaseRef)
	}
	if evs := d.eventDetails(t, c.ID, EventSLABreached); len(evs) != 1 || !strings.Contains(evs[0], "containment deadline") {
		t.Errorf("sla_breached events = %q, want one naming the containment deadline", evs)
	}
	if evs := d.eventDetails(t, c.ID, EventEscalated); len(evs) != 1 || !strings.Contains(evs[0], "rule sla_breach") {
		t.Errorf("escalated events = %q, want one naming rule sla_breach", evs)
	}

	// A severity change moves the newsletter's deadline from 24h to 2h+1h.
	d.clock.Advance(time.Hour)
	d.file(t, ReportInput{Token: d.mint(t, "S-news", "newsletter").Token, SetPassword: true})
	if c := d.caseRow(t, news.CaseRef); !c.ContainBy.Equal(start.Add(3 * time.Hour)) {
		t.Fatalf("contain_by after the severity change = %v, want %v", c.ContainBy, start.Add(3*time.Hour))
	}
	mark("after the severity change", 0, 3*time.Hour)
	// The order's containment is met before it is due: never marked.
	if _, err := d.SetStatus(ctx, trainedAgent(), order.CaseRef, StatusContained, ""); err != nil {
		t.Fatalf("SetStatus(contained) = %v", err)
	}
	d.clock.Advance(2 * time.Hour) // 4h
	mark("at the moved deadline", 1, 72*time.Hour)
	var b Breach
	if err := d.store.w.Where("case_id = ?", d.caseRow(t, news.CaseRef).ID).Take(&b).Error; err != nil || !b.DueAt.Equal(start.Add(3*time.Hour)) {
		t.Errorf("newsletter breach = %+v, %v; want due at the moved time %v", b, err, start.Add(3*time.Hour))
	}

	// The postal notice is assessed in time; the order is not.
	if _, err := d.RecordAssessment(ctx, lead, post.CaseRef, AssessNotNotifiable, "only the holder's street name was shown"); err != nil {
		t.Fatalf("RecordAssessment() = %v", err)
	}
	d.clock.Advance(68 * time.Hour) // 72h: assess deadlines; post's resolve (3d) too
	mark("at 72h", 2, 74*time.Hour)
	want := []string{news.CaseRef + " contain", order.CaseRef + " assess", post.CaseRef + " contain", post.CaseRef + " resolve"}
	slices.Sort(want)
	if got := d.breaches(t); !slices.Equal(got, want) {
		t.Errorf("breaches = %v, want %v", got, want)
	}
	// Escalated once, and a further reason for the second breach.
	if evs := d.eventDetails(t, d.caseRow(t, post.CaseRef).ID, EventEscalated); len(evs) != 2 || !strings.Contains(evs[1], "resolution deadline") {
		t.Errorf("escalated events of %s = %q, want the second naming the resolution deadline", post.CaseRef, evs)
	}
}

func TestMarkBreachesWithoutEscalation(t *testing.T) {
	d := newTestDesk(t) // escalation rules off
	f := d.file(t, ReportInput{Token: d.mint(t, "N-post", "postal_notice").Token})
	d.clock.Advance(time.Hour)
	if n, _, err := d.MarkBreaches(context.Background()); err != nil || n != 1 {
		t.Fatalf("MarkBreaches() = %d, %v; want 1", n, err)
	}
	if c := d.caseRow(t, f.CaseRef); c.Escalated {
		t.Errorf("case %s escalated with rule sla_breach off", f.CaseRef)
	}
}

// Two instances marking at once mark each breach once between them.
func TestMarkBreachesTwoInstances(t *testing.T) {
	d := newTestDesk(t)
	other, err := NewService(Options{Store: d.store.Store, Sealer: svcSealer(t, d.clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com", MessageIDDomain: "mail.example.com", Now: d.clock.Now})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	const n = 30
	for i := range n {
		d.file(t, ReportInput{Token: d.mint(t, "T-"+string(rune('a'+i)), "postal_notice").Token})
	}
	d.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	got := make([]int, 2)
	for i, svc := range []*Service{d.Service, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, _, err := svc.MarkBreaches(context.Background())
			if err != nil {
				t.Errorf("MarkBreaches(instance %d) = %v", i, err)
			}
			got[i] = m
		}()
	}
	wg.Wait()
	if got[0]+got[1] != n || countRows(t, d.store, "sla_breaches") != n {
		t.Errorf("instances marked %v (%d rows), want %d in all", got, countRows(t, d.store, "sla_breaches"), n)
	}
	var evs int64
	d.store.w.Model(&Event{}).Where("type = ?", EventSLABreached).Count(&evs)
	if evs != n {
		t.Errorf("%d sla_breached events, want %d", evs, n)
	}
}

func TestRecordAssessment(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	f := d.file(t, ReportInput{Token: d.mint(t, "R-post", "postal_notice").Token})
	lead := Actor{User: &User{ID: 7, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}
	wantCode(t, "RecordAssessment(agent)", func() error {
		_, err := d.RecordAssessment(ctx, trainedAgent(), f.CaseRef, AssessNotifiable, "name and address shown")
		return err
	}(), EFORBIDDEN, "leads")
	wantCode(t, "RecordAssessment(bad outcome)", func() error {
		_, err := d.RecordAssessment(ctx, lead, f.CaseRef, "maybe", "unsure")
		return err
	}(), EINVALID, "notifiable")
	wantCode(t, "RecordAssessment(no reason)", func() error {
		_, err := d.RecordAssessment(ctx, lead, f.CaseRef, AssessNotifiable, "  ")
		return err
	}(), EINVALID, "why")
	c, err := d.RecordAssessment(ctx, lead, f.CaseRef, AssessNotifiable, "name and postal address shown")
	if err != nil || c.Assessment != AssessNotifiable || c.AssessedAt == nil {
		t.Fatalf("RecordAssessment() = %+v, %v", c, err)
	}
	if _, ok := c.NextDeadline(); !ok {
		t.Fatalf("NextDeadline() after assessment: none, want the contain deadline")
	}
	if next, _ := c.NextDeadline(); next.Kind == DeadlineAssess {
		t.Errorf("NextDeadline() after assessment = %+v, want the assess deadline met", next)
	}
	evs := d.eventDetails(t, c.ID, EventAssessed)
	if len(evs) != 1 || !strings.Contains(evs[0], "notifiable — name and postal address shown") || !strings.Contains(evs[0], "within the deadline") {
		t.Errorf("breach_assessed events = %q", evs)
	}
	audit, err := d.AuditLog(ctx, lead, 10)
	if err != nil || len(audit) != 1 || audit[0].Action != AuditBreachAssessment || audit[0].Subject != "case:"+f.CaseRef {
		t.Errorf("AuditLog() = %+v, %v; want one breach_assessment of case:%s", audit, err, f.CaseRef)
	}
}

func TestQueueOrdersByTheNearestUnmetDeadline(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	low := d.file(t, ReportInput{Token: d.mint(t, "Q-low", "newsletter").Token}) // contain at 24h
	order := d.file(t, ReportInput{Token: d.mint(t, "Q-order", "order_confirmation").Token})
	d.clock.Advance(time.Hour)
	crit := d.file(t, ReportInput{Token: d.mint(t, "Q-crit", "registration").Token, SetPassword: true}) // 1h15m, resolve 25h
	refs := func() []string {
		list, err := d.Queue(ctx, trainedAgent(), QueueFilter{})
		if err != nil {
			t.Fatalf("Queue() = %v", err)
		}
		return queueRefs(list)
	}
	if got, want := refs(), []string{crit.CaseRef, order.CaseRef, low.CaseRef}; !slices.Equal(got, want) {
		t.Errorf("Queue() = %v, want %v (containment deadlines)", got, want)
	}
	for _, ref := range []string{crit.CaseRef, order.CaseRef} {
		if _, err := d.SetStatus(ctx, trainedAgent(), ref, StatusContained, ""); err != nil {
			t.Fatalf("SetStatus(%s, contained) = %v", ref, err)
		}
	}
	// Contained cases wait for their resolution: critical at 25h, normal at 5 days.
	if got, want := refs(), []string{low.CaseRef, crit.CaseRef, order.CaseRef}; !slices.Equal(got, want) {
		t.Errorf("Queue() after containment = %v, want %v", got, want)
	}
}

// A reopened case gets fresh contain and resolve deadlines, as it is new
// again; its breach assessment stands.
func TestReopenSetsFreshDeadlines(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	tok := d.mint(t, "RO-1", "postal_notice").Token
	f := d.file(t, ReportInput{Token: tok})
	for _, st := range []Status{StatusContained, StatusResolved} {
		if _, err := d.SetStatus(ctx, trainedAgent(), f.CaseRef, st, ""); err != nil {
			t.Fatalf("SetStatus(%s) = %v", st, err)
		}
	}
	d.clock.Advance(5 * 24 * time.Hour)
	again := d.file(t, ReportInput{Token: tok})
	if again.CaseRef != f.CaseRef {
		t.Fatalf("second report opened %s, want %s reopened", again.CaseRef, f.CaseRef)
	}
	c := d.caseRow(t, f.CaseRef)
	now := d.clock.Now()
	if c.Status != StatusNew || !c.ContainBy.Equal(now.Add(time.Hour)) || c.ResolveBy == nil || !c.ResolveBy.Equal(now.Add(3*24*time.Hour)) {
		t.Errorf("reopened case: status %s, contain_by %v, resolve_by %v; want new, %v, %v",
			c.Status, c.ContainBy, c.ResolveBy, now.Add(time.Hour), now.Add(3*24*time.Hour))
	}
	if first := f.Case.AssessBy; c.AssessBy == nil || !c.AssessBy.Equal(*first) {
		t.Errorf("reopened case assess_by = %v, want the first %v", c.AssessBy, first)
	}
}
