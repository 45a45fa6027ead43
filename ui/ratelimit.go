package ui

import (
	"context"
	"log/slog"
	"math"
	"time"

	"notme/cases"
)

// sharedRateStore keeps a rate limit's counters in the database, so that
// every desk instance behind a load balancer counts the same hits. The
// token bucket of the in-memory limiter becomes a fixed window holding the
// burst and lasting as long as the rate takes to refill it: the same burst
// and the same long-run rate.
type sharedRateStore struct {
	svc    *cases.Service
	log    *slog.Logger
	scope  string // keeps each route's counters apart
	limit  int
	window time.Duration
}

func newSharedRateStore(svc *cases.Service, log *slog.Logger, scope string, r Rate) *sharedRateStore {
	burst := max(r.Burst, 1)
	secs := math.Ceil(float64(burst) * 60 / max(r.PerMinute, 1e-9))
	return &sharedRateStore{svc: svc, log: log, scope: scope, limit: burst,
		window: time.Duration(max(secs, 1)) * time.Second}
}

// Allow implements middleware.RateLimiterStore. A database that cannot
// count lets the request through: the request needs the database anyway,
// and a 429 would tell the reporter the wrong thing.
func (st *sharedRateStore) Allow(identifier string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := st.svc.AllowRate(ctx, st.scope+"\x00"+identifier, st.limit, st.window)
	if err != nil {
		st.log.Warn("shared rate limit unavailable; request let through", "scope", st.scope, "err", err)
		return true, nil
	}
	return ok, nil
}
