package ui

import (
	"context"
	"log/slog"
	"math"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// sharedRateStore keeps a rate limit's counters in the database, so that
// every desk instance behind a load balancer counts the same hits. The
// token bucket of the in-memory limiter becomes a fixed window holding the
// burst and lasting as long as the rate takes to refill it: the same burst
// and the same long-run rate.
type sharedRateStore struct {
	rate  *cases.SharedRate
	log   *slog.Logger
	scope string // keeps each route's counters apart
}

func newSharedRateStore(svc *cases.Service, log *slog.Logger, scope string, r Rate) *sharedRateStore {
	burst := max(r.Burst, 1)
	secs := math.Ceil(float64(burst) * 60 / max(r.PerMinute, 1e-9))
	return &sharedRateStore{rate: svc.NewSharedRate(burst, time.Duration(max(secs, 1))*time.Second), log: log, scope: scope}
}

// Allow implements middleware.RateLimiterStore. A database that cannot
// count lets the request through: the request needs the database anyway,
// and a 429 would tell the reporter the wrong thing.
func (st *sharedRateStore) Allow(identifier string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := st.rate.Allow(ctx, st.scope+"\x00"+identifier)
	if err != nil {
		st.log.Warn("shared rate limit unavailable; request let through", "scope", st.scope, "err", err)
		return true, nil
	}
	return ok, nil
}

// clientKey is whom a per-client limit counts: an IPv4 client by its
// address, an IPv6 client by its /64. One IPv6 host is usually given a
// whole /64 (RFC 7421 section 1; SLAAC, RFC 4862, picks the low 64 bits), so
// a limit per IPv6 address would let it step around any limit by changing
// address. The address is c.RealIP(): X-Forwarded-For only from trusted
// proxies (ipExtractor).
func clientKey(c echo.Context) string {
	ip := c.RealIP()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap() // ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
