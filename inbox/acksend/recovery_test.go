package acksend_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"notme/cases"
	"notme/inbox/acksend"
)

// The submission server is away for a while (it closes every session with
// 421) and comes back. Once one acknowledgement goes through, the ones
// that failed meanwhile go at once, in the same round, not at their
// back-off times (15 s at the least after a first failure): every reporter
// has an answer within seconds of the server's return (issue 13).
func TestAcksGoAtOnceWhenTheServerIsBack(t *testing.T) {
	d := openAckDesk(t)
	var down atomic.Bool
	down.Store(true)
	sk := startAckSink(t, ackSinkOptions{buffer: 32, rcpt: func(string) error {
		if down.Load() {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service not available, closing channel"}
		}
		return nil
	}})
	const waiting = 6
	var mails []cases.InboundMail
	for i := range waiting {
		mails = append(mails, ackReportMail(fmt.Sprintf("r%d@example.org", i), fmt.Sprintf("waiting%d@example.org", i), "Welcome", "en", ackLedgerID1))
	}
	got := d.ingest(t, mails...)
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	ctx := context.Background()
	if n, err := s.SendDue(ctx); n != 0 || err != nil {
		t.Fatalf("SendDue with the server away = %d, %v; want 0 sent, no round error", n, err)
	}
	for i := range waiting {
		a := d.ackTo(t, got[i].CaseRef, fmt.Sprintf("waiting%d@example.org", i))
		if a.State != cases.AckPending || a.Attempts != 1 || a.NextAttemptAt.Before(time.Now().Add(10*time.Second)) {
			t.Fatalf("ack %d with the server away = %+v; want pending, one attempt, backed off 15 s or more", i, a)
		}
	}

	// The server is back; a new report's acknowledgement is the first to go.
	down.Store(false)
	d.ingest(t, ackReportMail("new@example.org", "newcomer@example.org", "Welcome", "en", ackLedgerID1))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() after cancel = %v", err)
		}
	}()
	start := time.Now()
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second) // below the least back-off (15 s)
	for len(seen) < waiting+1 {
		select {
		case dl := <-sk.got:
			for _, to := range dl.to {
				seen[to] = true
			}
		case <-deadline:
			t.Fatalf("%d of %d acknowledgements arrived within 10 s of the server's return, want all: the waiting ones must not wait out their back-off (got %v)",
				len(seen), waiting+1, seen)
		}
	}
	t.Logf("all %d acknowledgements arrived %v after the server came back", waiting+1, time.Since(start).Round(time.Millisecond))
	for i := range waiting {
		waitAckSent(t, d, got[i].CaseRef, fmt.Sprintf("waiting%d@example.org", i))
	}
}

// waitAckSent waits until the ack to addr is recorded sent.
func waitAckSent(t *testing.T, d *ackDesk, ref, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := d.ackTo(t, ref, addr)
		if a.State == cases.AckSent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ack to %s = %+v, want recorded sent", addr, a)
		}
		time.Sleep(10 * time.Millisecond) // polling the database's state, with a deadline
	}
}
