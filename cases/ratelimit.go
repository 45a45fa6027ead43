package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"
)

// A rate limit shared by every desk instance on the database: a counter
// per key and fixed window, so a flood spread over instances behind a load
// balancer meets the same limit as one aimed at one instance.

// rateSweepOdds: about one hit in this many also deletes expired counters,
// so the table stays the size of the last window without a worker.
const rateSweepOdds = 256

// AllowRate counts one hit for key in the current window of length window
// and reports whether it is within limit. The key is stored hashed: it is
// usually a client address.
func (s *Service) AllowRate(ctx context.Context, key string, limit int, window time.Duration) (bool, error) {
	if limit <= 0 || window <= 0 {
		return false, Errorf(EINVALID, "a rate limit needs a positive limit and window")
	}
	now := s.clock().UTC()
	start := now.Truncate(window)
	sum := sha256.Sum256([]byte(key))
	db := s.store.w.WithContext(ctx)
	var hits int64
	err := db.Raw(`INSERT INTO rate_limit_counters (key, window_start, hits, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1
		RETURNING hits`, hex.EncodeToString(sum[:16]), start.UnixNano(), start.Add(window)).Scan(&hits).Error
	if err != nil {
		return false, fmt.Errorf("count a hit of a rate limit: %w", err)
	}
	if rand.IntN(rateSweepOdds) == 0 {
		if err := db.Exec(`DELETE FROM rate_limit_counters WHERE expires_at < ?`, now).Error; err != nil {
			return false, fmt.Errorf("delete expired rate limit counters: %w", err)
		}
	}
	return hits <= int64(limit), nil
}
