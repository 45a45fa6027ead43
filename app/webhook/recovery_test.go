package webhook_test

import (
	"fmt"
	"testing"
	"time"
)

// The account system's receiver is down (503 to everything) and comes
// back. Once one webhook goes through, the ones that failed meanwhile go
// in the same round, not at their jittered back-off times: the clock does
// not move at all here, so only that recovery can deliver them (issue 13:
// after a three-minute outage the last webhook had come 253 s late).
func TestWebhooksGoAtOnceWhenTheReceiverIsBack(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t, clk.Now)
	rcv.fail = 1 << 30 // down
	dk := openDesk(t, t.TempDir(), clk, rcv, policy)
	const waitingReports = 4
	for i := range waitingReports {
		dk.report(t, fmt.Sprintf("ACC-DOWN-%d", i))
	}
	if n := dk.deliverDue(t); n != 0 {
		t.Fatalf("DeliverDue() with the receiver down = %d, want 0", n)
	}
	attempts, _ := rcv.counts()
	waiting := len(attempts)
	perReport := waiting / waitingReports // the kind's automatic actions
	if perReport == 0 || waiting != waitingReports*perReport {
		t.Fatalf("%d webhooks tried while the receiver was down, want the same number for each of %d reports", waiting, waitingReports)
	}
	if n := dk.deliverDue(t); n != 0 {
		t.Fatalf("DeliverDue() again, the clock unmoved = %d, want 0 (all backed off)", n)
	}

	rcv.mu.Lock()
	rcv.fail = 0 // back
	rcv.mu.Unlock()
	dk.report(t, "ACC-BACK") // its webhooks are the first to go
	fresh := perReport
	if n := dk.deliverDue(t); n != waiting+fresh {
		t.Errorf("DeliverDue() once the receiver is back = %d, want the %d new and the %d waiting at once", n, fresh, waiting)
	}
	_, accepted := rcv.counts()
	if len(accepted) != waiting+fresh {
		t.Errorf("the receiver accepted %d webhooks, want %d", len(accepted), waiting+fresh)
	}
	rcv.check(t)
}
