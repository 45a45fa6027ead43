package cases

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Reports in one batch on accounts whose cases were resolved: within the
// reopen window the case is reopened once, whatever the number of mails;
// beyond it a new case opens. The batch looks resolved cases up once, so
// this checks that it answers as the one-by-one path does.
func TestMailBatchReopensResolvedCasesOnce(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	a := agent(1, true)
	reply := func(i int, orig string) InboundMail {
		return InboundMail{Raw: []byte("r"), Parsed: ParsedMail{Class: ClassReport, MessageID: fmt.Sprintf("r%d@example.org", i),
			From: fmt.Sprintf("x%d@example.org", i), MessageIDs: []string{orig}}}
	}
	resolve := func(ref string) {
		t.Helper()
		for _, st := range []Status{StatusContained, StatusResolved} {
			if _, err := d.SetStatus(ctx, a, ref, st, ""); err != nil {
				t.Fatalf("SetStatus(%s, %s) = %v", ref, st, err)
			}
		}
	}
	d.register(t, "o1@mail.example.com", "ACC-1", "x@example.org", "registration")
	d.register(t, "o2@mail.example.com", "ACC-2", "y@example.org", "registration")
	first := ingest(t, d, reply(1, "o1@mail.example.com"), reply(2, "o2@mail.example.com"))
	old1, old2 := first[0].CaseRef, first[1].CaseRef
	resolve(old2)
	d.clock.Advance(DefaultReopenWindow - time.Hour)
	resolve(old1) // ACC-1 resolved just now, ACC-2 almost a window ago
	d.clock.Advance(2 * time.Hour)

	got := ingest(t, d, reply(3, "o1@mail.example.com"), reply(4, "o2@mail.example.com"),
		reply(5, "o1@mail.example.com"), reply(6, "o2@mail.example.com"))
	for i, tc := range []struct {
		ref  string
		want string
	}{
		{got[0].CaseRef, old1}, {got[2].CaseRef, old1},
	} {
		if tc.ref != tc.want {
			t.Errorf("IngestMail() report %d on ACC-1 went to %s, want %s reopened", i, tc.ref, tc.want)
		}
	}
	if got[1].CaseRef == old2 || got[3].CaseRef != got[1].CaseRef {
		t.Errorf("IngestMail() reports on ACC-2 went to %s and %s, want one new case (not %s, resolved beyond the window)",
			got[1].CaseRef, got[3].CaseRef, old2)
	}
	row := d.caseRow(t, old1)
	if row.Status != StatusNew || row.OpenKey == nil {
		t.Errorf("case %s after the batch = status %s, open key %v; want reopened", old1, row.Status, row.OpenKey)
	}
	n := 0
	for _, ev := range d.events(t, row.ID) {
		if ev == EventReopened {
			n++
		}
	}
	if n != 1 {
		t.Errorf("case %s has %d %s events, want 1", old1, n, EventReopened)
	}
	if row := d.caseRow(t, old2); row.Status != StatusResolved {
		t.Errorf("case %s = status %s, want it left resolved", old2, row.Status)
	}
}
