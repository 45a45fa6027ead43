package app

import (
	"context"
	"log/slog"
	"time"

	"notme/cases"
)

// evidencePurger removes raw evidence mail past retention.evidence: once at
// start, then every retention.interval. A day late is nothing against a
// retention of months, so a plain interval is enough.
type evidencePurger struct {
	svc   *cases.Service
	keep  time.Duration
	every time.Duration
	log   *slog.Logger
	// after is time.After; tests replace it to step the timer by hand.
	after func(time.Duration) <-chan time.Time
	// purged, when set, hears each round's outcome (tests).
	purged func(n int, err error)
}

func (a *App) evidencePurger() worker {
	p := &evidencePurger{svc: a.Service, keep: a.Config.Retention.Evidence.D(), every: a.Config.Retention.Interval.D(),
		log: a.Log.With("worker", "retention"), after: time.After}
	return worker{name: "evidence retention", run: p.Run}
}

// Run purges until ctx ends; a batch in hand finishes first.
func (p *evidencePurger) Run(ctx context.Context) error {
	for {
		n, err := p.svc.PurgeEvidence(ctx, p.keep, 0)
		switch {
		case err != nil:
			p.log.Warn("evidence purge failed; retrying at the next round", "err", err, "purged", n)
		case n > 0:
			p.log.Info("raw evidence mail purged", "purged", n, "retention", p.keep.String())
		}
		if p.purged != nil {
			p.purged(n, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.after(p.every):
		}
	}
}
