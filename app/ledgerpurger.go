package app

import (
	"context"
	"log/slog"
	"time"

	"notme/cases"
)

// ledgerPurgeGap is the least time between two ledger purges: with mail
// registered all day, the oldest row is always about to pass retention,
// and an hour's rows in one run is a few hundred short DELETEs even for
// a large sender.
const ledgerPurgeGap = time.Hour

// ledgerPurger deletes ledger messages past ledger.retention: at start,
// then when the oldest remaining message passes it (no sooner than
// ledgerPurgeGap, no later than retention.interval).
type ledgerPurger struct {
	svc   *cases.Service
	keep  time.Duration // 0: keep for ever
	every time.Duration
	log   *slog.Logger
	now   func() time.Time
	// after is time.After; tests replace it to step the timer by hand.
	after func(time.Duration) <-chan time.Time
	// purged, when set, hears each round's outcome (tests).
	purged func(n int, err error)
}

func (a *App) ledgerPurger() worker {
	p := &ledgerPurger{svc: a.Service, keep: a.Config.Ledger.Retention.D(), every: a.Config.Retention.Interval.D(),
		log: a.Log.With("worker", "ledger_retention"), now: a.Service.Now, after: time.After}
	return worker{name: "ledger retention", run: p.Run}
}

// Run purges until ctx ends; the DELETE in hand finishes first.
func (p *ledgerPurger) Run(ctx context.Context) error {
	if p.keep <= 0 {
		<-ctx.Done()
		return nil
	}
	for {
		n, err := p.svc.PurgeLedger(ctx, p.keep, 0)
		switch {
		case err != nil:
			p.log.Warn("ledger purge failed; retrying at the next round", "err", err, "purged", n)
		case n > 0:
			p.log.Info("ledger messages past retention deleted", "purged", n, "retention", p.keep.String())
		}
		if p.purged != nil {
			p.purged(n, err)
		}
		wait := p.every
		if due, ok, err := p.svc.LedgerPurgeDue(ctx, p.keep); err != nil {
			p.log.Warn("ledger purge: read the next due time", "err", err)
		} else if ok {
			wait = min(max(due.Sub(p.now()), ledgerPurgeGap), p.every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.after(wait):
		}
	}
}
