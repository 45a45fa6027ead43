package cases

import (
	"time"

	"gorm.io/gorm"

	"notme/cases/outbox"
)

// openOutboxes puts the acknowledgements and the webhooks on the one
// outbox engine (cases/outbox); their domain (what a row says, the
// timeline events of a delivery) stays here.
func (s *Service) openOutboxes() error {
	claim := func(db *gorm.DB, table, where string, whereArgs []any, order string, limit int, set string, setArgs []any) (int64, error) {
		return dialectOf(db).claim(db, table, where, whereArgs, order, limit, set, setArgs)
	}
	now := func() time.Time { return s.clock() }
	var err error
	s.ackQ, err = outbox.New(outbox.Options{Table: ackTable, Writer: s.store.w, Reader: s.store.r, Claim: claim, Now: now,
		Instance: s.instance, Lease: ackLease, Retry: ackRetry, MaxAttempts: s.acks.MaxAttempts})
	if err != nil {
		return err
	}
	s.hookQ, err = outbox.New(outbox.Options{Table: hookTable, Writer: s.store.w, Reader: s.store.r, Claim: claim, Now: now,
		Instance: s.instance, Lease: s.webhooks.Lease, Retry: s.webhooks.retry()})
	return err
}
