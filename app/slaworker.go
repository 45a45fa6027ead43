package app

import (
	"context"
	"log/slog"
	"time"

	"notme/cases"
	"notme/internal/backoff"
	"notme/internal/wake"
)

// slaTickMax caps the ticker's sleep: deadlines set after it went to sleep
// (a new critical case, a raised severity) are marked at most this late.
const slaTickMax = time.Minute

// slaTicker marks SLA breaches as they fall due. It sleeps until the next
// unmet deadline the database knows (at most slaTickMax) or a Notify; the
// marking itself is idempotent, so several instances may tick at once.
type slaTicker struct {
	svc    *cases.Service
	log    *slog.Logger
	notify wake.Signal
	max    time.Duration
	now    func() time.Time
	// round, if set, hears of every finished round (tests wait on it).
	round func(marked int, next time.Time, err error)
}

func newSLATicker(svc *cases.Service, log *slog.Logger) *slaTicker {
	return &slaTicker{svc: svc, log: log, notify: wake.NewSignal(), max: slaTickMax, now: svc.Now}
}

// Notify wakes the ticker for a round now.
func (t *slaTicker) Notify() { t.notify.Notify() }

// Run ticks until ctx ends; a round in hand finishes first.
func (t *slaTicker) Run(ctx context.Context) error {
	loop := wake.Loop{Name: "SLA ticker", MaxIdle: t.max, MinWait: time.Millisecond,
		Retry: backoff.Policy{Min: time.Second, Max: t.max}, Wake: []<-chan struct{}{t.notify}, Log: t.log}
	return loop.Run(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		marked, next, err := t.svc.MarkBreaches(context.WithoutCancel(ctx))
		if t.round != nil {
			t.round(marked, next, err)
		}
		return next.Sub(t.now()), !next.IsZero(), err
	})
}

// slaWorker is the breach ticker as one of the desk's workers.
func (a *App) slaWorker() worker {
	return worker{name: "sla ticker", run: newSLATicker(a.Service, a.Log.With("worker", "sla")).Run}
}
