// Package wake is the desk's one loop for background work that sleeps
// until it is due: the acknowledgement sender, the webhook deliverer and
// the SLA ticker each run a round, then sleep until the next due time the
// database knows, a notify, or a maximum idle time, whichever comes first,
// and back off after a failed round.
package wake

import (
	"context"
	"log/slog"
	"time"

	"notme/internal/backoff"
)

// Signal wakes a Loop. The zero value is unusable; make one with
// NewSignal. Notify never blocks, and notifies before the loop wakes
// fold into one.
type Signal chan struct{}

// NewSignal returns a signal that holds one pending wake-up.
func NewSignal() Signal { return make(Signal, 1) }

// Notify wakes the loop waiting on s, or the next one to wait; it never
// blocks.
func (s Signal) Notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// Loop says how a worker sleeps between rounds.
type Loop struct {
	// Name is logged with failed rounds.
	Name string
	// MaxIdle bounds every sleep: work another desk instance queued on
	// the same database (whose notify does not reach this process) is
	// seen within it.
	MaxIdle time.Duration
	// MinWait keeps a round whose work is still due from spinning.
	MinWait time.Duration
	// Retry is the back-off after failed rounds in a row.
	Retry backoff.Policy
	// Wake lists the channels that end a sleep early (a nil one never
	// does).
	Wake []<-chan struct{}
	Log  *slog.Logger
}

// Round does one round of work and says how long until more is due; ok
// false means nothing is due (sleep MaxIdle). A round's error is logged
// and the next round comes after a back-off; it never ends the loop.
type Round func(ctx context.Context) (wait time.Duration, ok bool, err error)

// Run runs round until ctx is done, then returns nil. A round in hand
// finishes first: round decides what it lets ctx cut short.
func (l Loop) Run(ctx context.Context, round Round) error {
	log := l.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var w [3]<-chan struct{}
	copy(w[:], l.Wake) // unused ones stay nil and never fire
	if len(l.Wake) > len(w) {
		panic("wake: at most three wake channels")
	}
	timer := time.NewTimer(l.MaxIdle)
	defer timer.Stop()
	failures := 0
	for {
		wait, ok, err := round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil:
			failures++
			wait = l.Retry.Delay(failures)
			log.Error(l.Name+": round failed, retrying", "err", err, "retry_in", wait.String())
		case !ok:
			failures, wait = 0, l.MaxIdle
		default:
			failures = 0
			wait = min(l.MaxIdle, max(l.MinWait, wait))
		}
		// Since Go 1.23 Reset also drops a tick not yet received.
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-w[0]:
		case <-w[1]:
		case <-w[2]:
		case <-timer.C:
		}
	}
}

// Sleep waits d or until ctx is done; false when ctx ended it.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
