// Package backoff is the desk's one retry policy: an exponential back-off
// with jitter, used by every loop that waits after a failure (the outbox of
// acknowledgements and webhooks, the mailbox pollers, the wake loops'
// failed rounds).
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy bounds an exponential back-off. The n-th wait (n ≥ 1) is drawn
// uniformly between half and all of min(Max, Min·2ⁿ⁻¹) ("equal jitter"):
// retries of many callers that failed together spread over half the window
// instead of marching in step, and no retry comes sooner than half its
// step, so a broken peer is not hammered.
type Policy struct {
	Min, Max time.Duration
}

// Ceiling is the upper bound of the n-th wait (n ≥ 1): Min doubled n-1
// times, at most Max.
func (p Policy) Ceiling(n int) time.Duration {
	top := max(p.Max, p.Min, time.Nanosecond)
	ceil := max(p.Min, time.Nanosecond)
	for i := 1; i < n && ceil < top; i++ {
		ceil *= 2
	}
	return min(ceil, top)
}

// Delay is the wait before retry n (n ≥ 1; smaller counts as 1).
func (p Policy) Delay(n int) time.Duration {
	ceil := p.Ceiling(n)
	half := ceil / 2
	return ceil - half + rand.N(half+1)
}
