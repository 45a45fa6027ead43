package app

import (
	"context"
	"time"
)

// clockSyncEvery: hosts' clocks drift by well under a millisecond a minute
// under NTP, and by a few without it.
const clockSyncEvery = time.Minute

// clockSyncer keeps the desk's clock on the database server's (PostgreSQL
// only: see store.DBClock).
func (a *App) clockSyncer() worker {
	return worker{name: "database clock", run: func(ctx context.Context) error {
		t := time.NewTicker(clockSyncEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			offset, within, err := a.DB.Clock.Sync(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				// The last offset stands; the next tick tries again.
				a.Log.Warn("database clock not read", "err", err)
				continue
			}
			logClockOffset(a.Log, offset, within)
		}
	}}
}
