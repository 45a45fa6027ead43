package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"notme/cases"
	"notme/cases/sealed"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clockedService opens a migrated database of the test's own (SQLite, or
// PostgreSQL with NOTME_TEST_POSTGRES) and a Service on it whose clock the
// test moves by hand, starting at start; adjust sets further options.
func clockedService(t *testing.T, start time.Time, adjust ...func(*cases.Options, Config)) (*cases.Service, *testClock, Config) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	db, err := OpenDatabase(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("OpenDatabase() = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &testClock{t: start}
	sealer, err := sealed.NewSealer([]sealed.Key{{ID: 1, Secret: make([]byte, 32)}}, clock.Now)
	if err != nil {
		t.Fatalf("sealed.NewSealer() = %v", err)
	}
	o := cases.Options{Store: db.Store, Sealer: sealer, Kinds: cfg.kinds(),
		PublicURL: "https://desk.example.com", MessageIDDomain: "mail.example.com", Now: clock.Now}
	for _, f := range adjust {
		f(&o, cfg)
	}
	svc, err := cases.NewService(o)
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	return svc, clock, cfg
}

// clockedCase is a desk with the default SLAs and its clock at 2026-05-01
// 09:00 UTC, holding one case opened then: a postal notice, due to be
// contained within the hour.
func clockedCase(t *testing.T) (*cases.Service, *testClock, cases.Filed) {
	t.Helper()
	svc, clock, _ := clockedService(t, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), func(o *cases.Options, cfg Config) {
		o.SLA, o.Escalation = cfg.slaOptions(), cfg.escalationRules()
	})
	m, err := svc.Mint("ACC-1", "postal_notice", "")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	filed, err := svc.FileReport(context.Background(), reportFor(m.Token))
	if err != nil {
		t.Fatalf("FileReport() = %v", err)
	}
	return svc, clock, filed
}

// The ticker sleeps until the next deadline, wakes on Notify, marks what
// fell due and stops with its context.
func TestSLATicker(t *testing.T) {
	ctx := context.Background()
	svc, clock, filed := clockedCase(t)

	type round struct {
		marked int
		next   time.Time
		err    error
	}
	rounds := make(chan round, 8)
	tk := newSLATicker(svc, discardLogger())
	tk.now = clock.Now
	tk.round = func(n int, next time.Time, err error) { rounds <- round{n, next, err} }
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tk.Run(runCtx) }()

	wait := func(step string) round {
		t.Helper()
		select {
		case r := <-rounds:
			if r.err != nil {
				t.Fatalf("%s: MarkBreaches() = %v", step, r.err)
			}
			return r
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no round of the ticker within 10s", step)
		}
		return round{}
	}
	if r := wait("first round"); r.marked != 0 || !r.next.Equal(filed.Case.ContainBy) {
		t.Errorf("first round = %+v, want nothing marked and the next deadline at %v", r, filed.Case.ContainBy)
	}
	clock.Advance(time.Hour)
	tk.Notify()
	if r := wait("after the deadline"); r.marked != 1 {
		t.Errorf("round after the deadline marked %d, want 1", r.marked)
	}
	d, err := svc.CaseByRef(ctx, cases.Actor{User: &cases.User{ID: 1, SecurityTrained: true}}, filed.CaseRef)
	if err != nil || !d.Case.Escalated {
		t.Errorf("CaseByRef() escalated = %v, %v; want the breach escalated (sla_breach on by default)", d.Case.Escalated, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run() did not return after its context ended")
	}
}
