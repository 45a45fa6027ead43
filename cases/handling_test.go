package cases

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func agent(id int64, trained bool) Actor {
	return Actor{User: &User{ID: id, Email: fmt.Sprintf("agent%d@desk.example", id), Role: RoleAgent, SecurityTrained: trained}}
}

func TestTakeNextIsMostUrgentAndNeverShared(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	low := d.file(t, ReportInput{Token: d.mint(t, "A-low", "newsletter").Token})
	crit := d.file(t, ReportInput{Token: d.mint(t, "A-crit", "registration").Token, SetPassword: true})
	high := d.file(t, ReportInput{Token: d.mint(t, "A-high", "registration").Token})

	if _, err := d.TakeNext(ctx, agent(9, false)); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("TakeNext by an untrained agent = %v, want forbidden", err)
	}
	var mu sync.Mutex
	got := map[string]int64{}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := d.TakeNext(ctx, agent(int64(i+1), true))
			if err != nil {
				t.Errorf("TakeNext(agent %d) = %v", i+1, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if prev, ok := got[c.Ref]; ok {
				t.Errorf("case %s taken by agents %d and %d", c.Ref, prev, i+1)
			}
			got[c.Ref] = int64(i + 1)
		}()
	}
	wg.Wait()
	for _, ref := range []string{low.CaseRef, crit.CaseRef, high.CaseRef} {
		if _, ok := got[ref]; !ok {
			t.Errorf("case %s was not taken by anyone: %v", ref, got)
		}
	}
	if _, err := d.TakeNext(ctx, agent(4, true)); ErrorCode(err) != ENOTFOUND {
		t.Errorf("TakeNext on an empty queue = %v, want not found", err)
	}

	// Order: critical first, then the nearest deadline.
	d2 := newTestDesk(t)
	l := d2.file(t, ReportInput{Token: d2.mint(t, "B-low", "newsletter").Token})
	h := d2.file(t, ReportInput{Token: d2.mint(t, "B-high", "registration").Token})
	c := d2.file(t, ReportInput{Token: d2.mint(t, "B-crit", "registration").Token, SetPassword: true})
	for i, want := range []string{c.CaseRef, h.CaseRef, l.CaseRef} {
		got, err := d2.TakeNext(ctx, agent(1, true))
		if err != nil || got.Ref != want {
			t.Errorf("TakeNext #%d = %s, %v; want %s", i+1, got.Ref, err, want)
		}
	}
}

func TestStatusTransitionsAndOutcome(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	a := agent(1, true)
	d.register(t, "o1@mail.example.com", "ACC-1", "x@example.org", "registration")
	got := ingest(t, d, InboundMail{Raw: []byte("r"), Parsed: ParsedMail{Class: ClassReport, MessageID: "r1@example.org",
		From: "x@example.org", Lang: "en", MessageIDs: []string{"o1@mail.example.com"}}})[0]
	ref := got.CaseRef
	due, _ := d.DueAcks(ctx, 10)
	if err := d.AckSentNow(ctx, due[0].ID); err != nil {
		t.Fatal(err)
	}

	if _, err := d.SetStatus(ctx, agent(2, false), ref, StatusContained, ""); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("SetStatus by an untrained agent = %v, want forbidden", err)
	}
	if _, err := d.SetStatus(ctx, a, ref, StatusResolved, ""); ErrorCode(err) != ECONFLICT {
		t.Errorf("new → resolved = %v, want conflict (contain first)", err)
	}
	if _, err := d.SetStatus(ctx, a, ref, StatusDismissed, "  "); ErrorCode(err) != EINVALID {
		t.Errorf("dismiss without a reason = %v, want invalid", err)
	}
	if _, err := d.AddNote(ctx, a, ref, "Called the account system; links revoked."); err != nil {
		t.Fatalf("AddNote = %v", err)
	}
	if _, err := d.SetStatus(ctx, a, ref, StatusContained, ""); err != nil {
		t.Fatalf("new → contained = %v", err)
	}
	if st, _ := d.StatusByToken(ctx, got.StatusToken); st.Status != StatusContained {
		t.Errorf("reporter's status = %s, want contained", st.Status)
	}
	c, err := d.SetStatus(ctx, a, ref, StatusResolved, "")
	if err != nil || c.Status != StatusResolved {
		t.Fatalf("contained → resolved = %+v, %v", c, err)
	}
	if row := d.caseRow(t, ref); row.OpenKey != nil {
		t.Errorf("resolved case keeps open_key %q; the account could not get a new case", *row.OpenKey)
	}
	due, _ = d.DueAcks(ctx, 10)
	if len(due) != 1 || due[0].Kind != AckKindOutcome || due[0].ToAddr != "x@example.org" || due[0].InReplyTo != "r1@example.org" {
		t.Fatalf("after resolving, due acks = %+v; want one outcome notice on the reporter's thread", due)
	}
	if _, err := d.SetStatus(ctx, a, ref, StatusDismissed, "late"); ErrorCode(err) != ECONFLICT {
		t.Errorf("resolved → dismissed = %v, want conflict", err)
	}
	evs := d.events(t, d.caseRow(t, ref).ID)
	want := []string{EventNote, EventStatus, EventStatus, EventOutcomeQueue}
	tail := evs[len(evs)-len(want):]
	for i := range want {
		if tail[i] != want[i] {
			t.Fatalf("timeline ends %v, want %v", tail, want)
		}
	}
	// A new report within the reopen window reopens the case, by mail
	// (batch path) and by link (single path) alike.
	again := ingest(t, d, InboundMail{Raw: []byte("r2"), Parsed: ParsedMail{Class: ClassReport, MessageID: "r2@example.org",
		From: "y@example.org", MessageIDs: []string{"o1@mail.example.com"}}})[0]
	if again.CaseRef != ref {
		t.Fatalf("report within the reopen window went to %q, want %s reopened", again.CaseRef, ref)
	}
	row := d.caseRow(t, ref)
	if row.Status != StatusNew || row.OpenKey == nil || !row.ContainBy.After(d.clock.Now()) {
		t.Fatalf("reopened case = %+v; want new, open, with a deadline ahead", row)
	}
	if evs := d.events(t, row.ID); !contains(evs, EventReopened) {
		t.Errorf("timeline %v lacks %s", evs, EventReopened)
	}
	if _, err := d.SetStatus(ctx, a, ref, StatusContained, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetStatus(ctx, a, ref, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	link := d.file(t, ReportInput{Token: d.mint(t, "ACC-1", "registration").Token})
	if link.CaseRef != ref || link.NewCase {
		t.Fatalf("link report within the window = %s (new %v), want %s reopened", link.CaseRef, link.NewCase, ref)
	}
	d.SetStatus(ctx, a, ref, StatusContained, "")
	d.SetStatus(ctx, a, ref, StatusResolved, "")
	// Beyond the window a new case opens.
	d.clock.Advance(DefaultReopenWindow + time.Hour)
	late := d.file(t, ReportInput{Token: d.mint(t, "ACC-1", "registration").Token})
	if late.CaseRef == ref || !late.NewCase {
		t.Errorf("report after the window = %s (new %v), want a new case", late.CaseRef, late.NewCase)
	}
}

func TestManualEscalation(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	ref := d.file(t, ReportInput{Token: d.mint(t, "ACC-1", "postal_notice").Token}).CaseRef
	lead := Actor{User: &User{ID: 5, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}

	if _, err := d.Escalate(ctx, agent(1, true), ref, ""); ErrorCode(err) != EINVALID {
		t.Errorf("Escalate without a reason = %v, want invalid", err)
	}
	if _, err := d.Escalate(ctx, agent(2, false), ref, "card posted to a stranger"); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("Escalate by an untrained agent = %v, want forbidden", err)
	}
	c, err := d.Escalate(ctx, agent(1, true), ref, "card posted to a stranger")
	if err != nil || !c.Escalated {
		t.Fatalf("Escalate = %+v, %v", c, err)
	}
	yes := true
	if list, _ := d.Queue(ctx, lead, QueueFilter{Escalated: &yes}); len(list) != 1 || list[0].Ref != ref {
		t.Errorf("escalated queue = %v, want %s", queueRefs(list), ref)
	}
	if _, err := d.Deescalate(ctx, agent(1, true), ref, "handled"); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("Deescalate by an agent = %v, want forbidden", err)
	}
	if c, err := d.Deescalate(ctx, lead, ref, "owner reached by phone"); err != nil || c.Escalated {
		t.Fatalf("Deescalate by a lead = %+v, %v", c, err)
	}
	evs := d.events(t, d.caseRow(t, ref).ID)
	if evs[len(evs)-2] != EventEscalated || evs[len(evs)-1] != EventDeescalated {
		t.Errorf("timeline ends %v, want escalated then deescalated", evs)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPossibleTakeoverEscalates: a credential mail whose link the reporter
// used goes to the leads at once, whether it opens the case or joins it;
// other reports do not.
func TestPossibleTakeoverEscalates(t *testing.T) {
	d := newTestDesk(t)
	for _, tc := range []struct {
		kind string
		in   ReportInput
		want bool
	}{
		{"registration", ReportInput{SetPassword: true}, true},
		{"registration", ReportInput{OpenedLink: true}, true},
		{"registration", ReportInput{NeverSignedUp: true}, false},
		{"postal_notice", ReportInput{SetPassword: true}, false},
	} {
		tc.in.Token = d.mint(t, "ACC-"+tc.kind+fmt.Sprint(tc.in), tc.kind).Token
		f := d.file(t, tc.in)
		if c := d.caseRow(t, f.CaseRef); c.Escalated != tc.want {
			t.Errorf("%s %+v: escalated = %v, want %v", tc.kind, tc.in, c.Escalated, tc.want)
		}
	}
	// Joining: a plain report first, then the takeover tick.
	reg := d.mint(t, "ACC-join", "registration").Token
	first := d.file(t, ReportInput{Token: reg})
	if d.caseRow(t, first.CaseRef).Escalated {
		t.Fatalf("a plain report escalated the case")
	}
	d.file(t, ReportInput{Token: reg, SetPassword: true})
	if c := d.caseRow(t, first.CaseRef); !c.Escalated || c.Severity != SeverityCritical {
		t.Errorf("after the takeover report: %+v, want escalated and critical", c)
	}
}
