package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// A rate limit shared by every desk instance on the database: a counter
// per key and fixed window, so a flood spread over instances behind a load
// balancer meets the same limit as one aimed at one instance.

// rateSweepOdds: about one write in this many also deletes expired
// counters, so the table stays the size of the last window without a
// worker.
const rateSweepOdds = 256

// rateSlackShare: a shared limit of L hits per window lets each instance
// hold up to L/rateSlackShare hits in memory before it writes them, while
// the count it knows is that far from the limit. A limit under
// 2×rateSlackShare (sign-in, reports) is counted hit by hit.
const rateSlackShare = 16

// addRateHits adds n hits to key's counter for the window that begins at
// start, and returns the counter: the hits of every instance.
func (s *Service) addRateHits(ctx context.Context, key string, start time.Time, window time.Duration, n int) (int64, error) {
	db := s.store.w.WithContext(ctx)
	var hits int64
	err := db.Raw(`INSERT INTO rate_limit_counters (key, window_start, hits, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + excluded.hits
		RETURNING hits`, rateKeyHash(key), start.UnixNano(), n, start.Add(window)).Scan(&hits).Error
	if err != nil {
		return 0, fmt.Errorf("count a hit of a rate limit: %w", err)
	}
	if rand.IntN(rateSweepOdds) == 0 {
		if err := db.Exec(`DELETE FROM rate_limit_counters WHERE expires_at < ?`, s.clock()).Error; err != nil {
			return 0, fmt.Errorf("delete expired rate limit counters: %w", err)
		}
	}
	return hits, nil
}

// rateKeyHash is how a key is stored: hashed, as it is usually a client
// address.
func rateKeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// SharedRate is one shared rate limit (limit hits per window and key) as
// one instance counts it. A large limit is counted in batches: while the
// count an instance last read is more than a batch under the limit, it
// keeps up to limit/16 hits in memory and writes them in one statement,
// so that a sending system's burst of address checks is not a queue on one
// row. The limit then holds to within two batches (limit/8) per instance:
// one held, one being written. Near the limit, and for small limits, every
// hit is written as it comes.
type SharedRate struct {
	svc    *Service
	limit  int
	window time.Duration
	batch  int // hits held in memory before a write; 1: every hit

	mu   sync.Mutex
	keys map[string]*rateCount
	seen int // len(keys) after the last sweep
}

// rateCount is what an instance knows of one key's current window.
type rateCount struct {
	start   time.Time
	known   int64         // the counter as last written or read: every instance's hits
	pending int           // hits allowed here and not yet written
	writing int           // hits being written now, not yet in known
	flight  chan struct{} // closed when the write in flight is done; nil: none
}

// NewSharedRate is a shared limit of limit hits per window; a limit under
// one is one, a window under a millisecond is a millisecond.
func (s *Service) NewSharedRate(limit int, window time.Duration) *SharedRate {
	limit, window = max(limit, 1), max(window, time.Millisecond)
	batch := limit / rateSlackShare
	if batch < 2 {
		batch = 1
	}
	return &SharedRate{svc: s, limit: limit, window: window, batch: batch, keys: map[string]*rateCount{}}
}

// Allow counts one hit for key and reports whether it is within the limit.
// One write per key is in flight at a time: a hit that cannot be held in
// memory waits for it, and then writes with what has been held since.
func (r *SharedRate) Allow(ctx context.Context, key string) (bool, error) {
	start := r.svc.clock().Truncate(r.window)
	for {
		r.mu.Lock()
		c := r.keys[key]
		if c == nil || !c.start.Equal(start) {
			// Hits held for an ended window are dropped with it: they no
			// longer count.
			c = &rateCount{start: start}
			r.keys[key] = c
			r.sweep(start)
		}
		if c.pending+1 < r.batch && c.known+int64(c.writing+c.pending+1) <= int64(r.limit-r.batch) {
			c.pending++
			r.mu.Unlock()
			return true, nil
		}
		if c.flight != nil {
			wait := c.flight
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return false, fmt.Errorf("wait to count a hit of a rate limit: %w", ctx.Err())
			}
		}
		n := c.pending + 1
		c.pending, c.writing, c.flight = 0, n, make(chan struct{})
		r.mu.Unlock()

		hits, err := r.svc.addRateHits(ctx, key, start, r.window, n)
		r.mu.Lock()
		if err == nil {
			c.known = max(c.known, hits)
		}
		c.writing = 0
		close(c.flight)
		c.flight = nil
		r.mu.Unlock()
		if err != nil {
			return false, err
		}
		return hits <= int64(r.limit), nil
	}
}

// sweep forgets the keys of ended windows once their number has doubled
// since the last sweep. r.mu is held.
func (r *SharedRate) sweep(now time.Time) {
	if len(r.keys) < 2*r.seen+1024 {
		return
	}
	for k, c := range r.keys {
		if c.start.Before(now) {
			delete(r.keys, k)
		}
	}
	r.seen = len(r.keys)
}
