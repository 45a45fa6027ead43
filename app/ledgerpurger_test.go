package app

import (
	"context"
	"testing"
	"time"

	"notme/cases"
)

// The ledger purger runs at start, then sleeps until the oldest message
// passes retention (at least an hour, at most retention.interval), with
// the desk's clock moved by hand.
func TestLedgerPurgerRounds(t *testing.T) {
	ctx := context.Background()
	svc, clock, cfg := clockedService(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	register := func(id string) {
		t.Helper()
		if _, _, err := svc.RegisterMessage(ctx, cases.LedgerMessage{MessageID: id, AccountRef: "ACC-1",
			Recipient: "taro@gmial.example", Kind: "registration"}); err != nil {
			t.Fatalf("RegisterMessage(%s) = %v", id, err)
		}
	}
	register("<m1@mail.example.com>")

	type round struct {
		n   int
		err error
	}
	rounds := make(chan round, 1)
	waits := make(chan time.Duration, 1)
	tick := make(chan time.Time)
	p := &ledgerPurger{svc: svc, keep: cfg.Ledger.Retention.D(), every: cfg.Retention.Interval.D(), log: discardLogger(),
		now:    clock.Now,
		after:  func(d time.Duration) <-chan time.Time { waits <- d; return tick },
		purged: func(n int, err error) { rounds <- round{n, err} }}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	if r := <-rounds; r.n != 0 || r.err != nil {
		t.Fatalf("round at start = %+v, want nothing purged", r)
	}
	if d := <-waits; d != 24*time.Hour {
		t.Fatalf("Run waits %v with the oldest message 180 days from due, want retention.interval 24h", d)
	}
	clock.Advance(180*24*time.Hour - 90*time.Minute)
	register("<m2@mail.example.com>")
	tick <- clock.Now()
	if r := <-rounds; r.n != 0 || r.err != nil {
		t.Fatalf("round 90 minutes before m1 is due = %+v, want nothing purged", r)
	}
	if d := <-waits; d != 90*time.Minute {
		t.Fatalf("Run waits %v, want the 90 minutes until m1 passes retention", d)
	}
	clock.Advance(time.Hour) // the tick comes early: nothing is due yet
	tick <- clock.Now()
	if r := <-rounds; r.n != 0 || r.err != nil {
		t.Fatalf("round 30 minutes before m1 is due = %+v, want nothing purged", r)
	}
	if d := <-waits; d != time.Hour {
		t.Fatalf("Run waits %v with m1 due in 30 minutes, want at least the 1h gap", d)
	}
	clock.Advance(time.Hour)
	tick <- clock.Now()
	if r := <-rounds; r.n != 1 || r.err != nil {
		t.Fatalf("round after m1 passed retention = %+v, want m1 purged", r)
	}
	<-waits
	if _, err := svc.LedgerByMessageID(ctx, "m1@mail.example.com"); cases.ErrorCode(err) != cases.ENOTFOUND {
		t.Errorf("LedgerByMessageID(m1) after the purge = %v, want not found", err)
	}
	if _, err := svc.LedgerByMessageID(ctx, "m2@mail.example.com"); err != nil {
		t.Errorf("LedgerByMessageID(m2) after the purge = %v, want it kept", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run() after cancel = %v, want nil", err)
	}
}

// ledger.retention 0 keeps the ledger: the worker only waits for the end.
func TestLedgerPurgerKeepsForEver(t *testing.T) {
	p := &ledgerPurger{keep: 0, log: discardLogger(),
		after:  func(time.Duration) <-chan time.Time { t.Error("Run() with retention 0 set a timer"); return nil },
		purged: func(n int, err error) { t.Errorf("Run() with retention 0 purged: %d, %v", n, err) }}
	ctx, stop := context.WithCancel(context.Background())
	stop()
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run() with retention 0 = %v, want nil", err)
	}
}
