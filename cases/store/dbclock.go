package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Several desk instances on one PostgreSQL compare times each of them
// wrote: a mailbox lease runs until a time set by its holder, a claimed
// webhook or acknowledgement until a time set by its claimer. On hosts
// whose clocks disagree by more than a lease, an instance would take a
// mailbox that is still polled, or send a webhook being sent. So the desk
// runs on the database's clock: the host's clock plus an offset measured
// against the database server, refreshed while it runs.

// DBClock tells the time of the database server.
type DBClock struct {
	store  *Store
	host   func() time.Time // the host's clock; a test may skew it
	offset atomic.Int64     // database minus host, in nanoseconds
}

// NewDBClock returns a clock following store's database server; host is
// the host's clock (nil: time.Now). It runs on the host's clock until the
// first Sync.
func NewDBClock(store *Store, host func() time.Time) *DBClock {
	if host == nil {
		host = time.Now
	}
	return &DBClock{store: store, host: host}
}

// Now is the database server's time, as near as the last Sync could tell.
func (c *DBClock) Now() time.Time {
	return c.host().Add(time.Duration(c.offset.Load()))
}

// Offset is how far the database's clock is ahead of the host's.
func (c *DBClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// syncSamples: the sample with the shortest round trip bounds the error
// best (half its round trip).
const syncSamples = 3

// Sync measures the offset of the database's clock from the host's and
// returns it with the error bound, half the best sample's round trip.
func (c *DBClock) Sync(ctx context.Context) (offset, within time.Duration, err error) {
	best := time.Duration(-1)
	for range syncSamples {
		sent := c.host()
		db, err := c.store.serverTime(ctx)
		if err != nil {
			return 0, 0, err
		}
		rtt := c.host().Sub(sent)
		if best < 0 || rtt < best {
			best = rtt
			// The server read its clock about halfway through the round trip.
			offset = db.Sub(sent.Add(rtt / 2))
		}
	}
	c.offset.Store(int64(offset))
	return offset, best / 2, nil
}

// serverTime reads the database server's clock: now on PostgreSQL, the
// host's own on SQLite, which runs in this process.
func (s *Store) serverTime(ctx context.Context) (time.Time, error) {
	if dialectOf(s.w).name != "postgres" {
		return time.Now(), nil
	}
	var t time.Time
	if err := s.w.WithContext(ctx).Raw(`SELECT clock_timestamp()`).Scan(&t).Error; err != nil {
		return time.Time{}, fmt.Errorf("read the database's clock: %w", err)
	}
	return t, nil
}
