package cases

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// claimEverything has d claim every due ack and webhook and the mailbox
// "reports" under its own instance, as a desk does just before it dies.
func claimEverything(t *testing.T, d *testDesk) (acks []Ack, hooks []Delivery) {
	t.Helper()
	ctx := context.Background()
	acks, err := d.DueAcks(ctx, 100)
	if err != nil {
		t.Fatalf("DueAcks() = %v", err)
	}
	hooks, err = d.claimDeliveries(ctx, 100)
	if err != nil {
		t.Fatalf("claimDeliveries() = %v", err)
	}
	if _, held, err := d.TakeMailboxLease(ctx, "reports", d.Instance(), 15*time.Second); err != nil || !held {
		t.Fatalf("TakeMailboxLease(%s) = held %v, %v; want held", d.Instance(), held, err)
	}
	return acks, hooks
}

// An instance whose heartbeat stops is reaped by a live one once the
// heartbeat is stale: its claimed acknowledgements and webhooks are due at
// once (not after their 10-minute and 2-minute leases) and its mailbox is
// free. A live instance is never reaped. Both databases.
func TestDeadInstanceClaimsComeBack(t *testing.T) {
	a := newTestDesk(t)
	b := secondDesk(t, a)
	ctx := context.Background()
	const n = 5
	ingest(t, a, repliesTo(t, a, n, "postal_notice")...)
	for _, d := range []*testDesk{a, b} {
		if _, err := d.Heartbeat(ctx, InstanceStaleAfter); err != nil {
			t.Fatalf("Heartbeat(%s) = %v", d.Instance(), err)
		}
	}
	acks, hooks := claimEverything(t, a)
	if len(acks) != n || len(hooks) != n {
		t.Fatalf("A claimed %d acks and %d webhooks, want %d of each", len(acks), len(hooks), n)
	}
	if as, _ := b.DueAcks(ctx, 100); len(as) != 0 {
		t.Fatalf("B's DueAcks() while A holds them = %d, want 0", len(as))
	}

	// A beats within the stale time: B reaps nothing.
	a.clock.Advance(InstanceStaleAfter / 2)
	if _, err := a.Heartbeat(ctx, InstanceStaleAfter); err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(InstanceStaleAfter / 2)
	if reaped, err := b.Heartbeat(ctx, InstanceStaleAfter); err != nil || len(reaped) != 0 {
		t.Fatalf("B's Heartbeat() with A alive = %v, %v; want nothing reaped", reaped, err)
	}

	// A is killed: no more beats. Once its last beat is stale, B's next
	// beat reaps it.
	a.clock.Advance(InstanceStaleAfter + time.Second)
	reaped, err := b.Heartbeat(ctx, InstanceStaleAfter)
	if err != nil || !slices.Equal(reaped, []string{a.Instance()}) {
		t.Fatalf("B's Heartbeat() after A stopped = %v, %v; want A reaped", reaped, err)
	}
	as, err := b.DueAcks(ctx, 100)
	if err != nil || len(as) != n {
		t.Errorf("B's DueAcks() right after the reap = %d, %v; want A's %d (due at once, not after the lease)", len(as), err, n)
	}
	ds, err := b.claimDeliveries(ctx, 100)
	if err != nil || len(ds) != n {
		t.Errorf("B's claimDeliveries() right after the reap = %d, %v; want A's %d", len(ds), err, n)
	}
	if _, held, err := b.TakeMailboxLease(ctx, "reports", b.Instance(), 15*time.Second); err != nil || !held {
		t.Errorf("B's TakeMailboxLease() right after the reap = held %v, %v; want A's mailbox free", held, err)
	}
	for _, x := range as {
		if x.LeaseInstance != b.Instance() {
			t.Errorf("ack %d claimed by instance %q, want B's %q", x.ID, x.LeaseInstance, b.Instance())
		}
	}
	// A's late news of a failure must not undo B's claim.
	if err := a.AckAttemptFailed(ctx, acks[0], errors.New("421 late")); err != nil {
		t.Fatal(err)
	}
	var row Ack
	a.store.r.Where("id = ?", acks[0].ID).Take(&row)
	if row.Attempts != 0 || row.LeaseOwner != as[0].LeaseOwner {
		t.Errorf("ack after the dead claim's failure report = %+v, want B's claim untouched", row)
	}

	ins, err := b.Instances(ctx)
	if err != nil || len(ins) != 1 || ins[0].ID != b.Instance() {
		t.Errorf("Instances() = %+v, %v; want only B", ins, err)
	}
	// A was only slow: its next beat registers it again.
	if _, err := a.Heartbeat(ctx, InstanceStaleAfter); err != nil {
		t.Fatal(err)
	}
	if ins, _ := b.Instances(ctx); len(ins) != 2 {
		t.Errorf("Instances() after A beat again = %d, want 2", len(ins))
	}
}

// A desk restarted on the same host knows at once that its predecessor is
// gone (its process no longer runs), without waiting for the heartbeat to
// go stale; an instance of a process that runs is left alone.
func TestRestartedDeskReapsItsPredecessorAtOnce(t *testing.T) {
	a := newTestDesk(t)
	ctx := context.Background()
	host := thisHost()
	ingest(t, a, repliesTo(t, a, 3, "postal_notice")...)
	claimEverything(t, a)

	// Another Service in this very process, which lives.
	sibling := secondDesk(t, a)
	if _, err := sibling.Heartbeat(ctx, InstanceStaleAfter); err != nil {
		t.Fatal(err)
	}
	// The predecessor: a's claims, a process that has ended, a fresh beat.
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	now := a.clock.Now()
	rows := []Instance{
		{ID: a.Instance(), Host: host, PID: exited.Process.Pid, StartedAt: now, HeartbeatAt: now},
		// Another desk process that runs (this test's parent).
		{ID: "alive", Host: host, PID: os.Getppid(), StartedAt: now, HeartbeatAt: now},
		// A desk on another host with a fresh beat.
		{ID: "elsewhere", Host: host + ".other", PID: exited.Process.Pid, StartedAt: now, HeartbeatAt: now},
		// This process id's earlier holder (a container's pid 1 restarted).
		{ID: "before-me", Host: host, PID: os.Getpid(), StartedAt: now, HeartbeatAt: now},
	}
	if err := a.store.w.Create(&rows).Error; err != nil {
		t.Fatalf("insert instances: %v", err)
	}
	restarted := secondDesk(t, a)
	reaped, err := restarted.Heartbeat(ctx, InstanceStaleAfter)
	slices.Sort(reaped)
	want := []string{a.Instance(), "before-me"}
	slices.Sort(want)
	if err != nil || !slices.Equal(reaped, want) {
		t.Fatalf("the restarted desk's first Heartbeat() = %v, %v; want %v reaped", reaped, err, want)
	}
	if as, _ := restarted.DueAcks(ctx, 100); len(as) != 3 {
		t.Errorf("DueAcks() after the restart = %d, want the predecessor's 3 at once", len(as))
	}
	if _, held, err := restarted.TakeMailboxLease(ctx, "reports", restarted.Instance(), 15*time.Second); err != nil || !held {
		t.Errorf("TakeMailboxLease() after the restart = held %v, %v; want the predecessor's mailbox at once", held, err)
	}
}

// Once a send goes through after the endpoint failed, the deliveries
// waiting out their back-off are due at once, not at their jittered times.
func TestOutboxRecovered(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	ingest(t, d, repliesTo(t, d, 4, "postal_notice")...)
	as, err := d.DueAcks(ctx, 100)
	if err != nil || len(as) != 4 {
		t.Fatalf("DueAcks() = %d, %v; want 4", len(as), err)
	}
	for _, a := range as[1:] {
		if err := d.AckAttemptFailed(ctx, a, errors.New("dial: connection refused")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.ReleaseAcks(ctx, as[:1]); err != nil {
		t.Fatal(err)
	}
	if due, _ := d.DueAcks(ctx, 100); len(due) != 1 {
		t.Fatalf("DueAcks() with three backed off = %d, want 1", len(due))
	} else if err := d.AckSentNow(ctx, due[0].ID); err != nil {
		t.Fatal(err)
	}
	n, err := d.AcksRecovered(ctx)
	if err != nil || n != 3 {
		t.Fatalf("AcksRecovered() = %d, %v; want the 3 backed off", n, err)
	}
	if due, _ := d.DueAcks(ctx, 100); len(due) != 3 {
		t.Errorf("DueAcks() right after AcksRecovered = %d, want 3 (no clock moved)", len(due))
	}
	if n, _ := d.AcksRecovered(ctx); n != 0 {
		t.Errorf("AcksRecovered() with nothing backed off = %d, want 0", n)
	}
}
