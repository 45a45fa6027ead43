package app

import (
	"context"
	"log/slog"
	"time"

	"notme/cases"
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
	notify chan struct{}
	max    time.Duration
	now    func() time.Time
	// round, if set, hears of every finished round (tests wait on it).
	round func(marked int, next time.Time, err error)
}

func newSLATicker(svc *cases.Service, log *slog.Logger) *slaTicker {
	return &slaTicker{svc: svc, log: log, notify: make(chan struct{}, 1), max: slaTickMax, now: svc.Now}
}

// Notify wakes the ticker for a round now.
func (t *slaTicker) Notify() {
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

// Run ticks until ctx ends; a round in hand finishes first.
func (t *slaTicker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.notify:
		case <-timer.C:
		}
		marked, next, err := t.svc.MarkBreaches(context.WithoutCancel(ctx))
		if err != nil {
			t.log.Warn("SLA ticker: marking breaches failed; trying again", "err", err)
		}
		if t.round != nil {
			t.round(marked, next, err)
		}
		wait := t.max
		if err == nil && !next.IsZero() {
			wait = min(wait, max(next.Sub(t.now()), time.Millisecond))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// slaWorker is the breach ticker as one of the desk's workers.
func (a *App) slaWorker() worker {
	return worker{name: "sla ticker", run: newSLATicker(a.Service, a.Log.With("worker", "sla")).Run}
}
