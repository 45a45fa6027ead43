package cases

import (
	"context"
	"fmt"
	"time"
)

// DefaultLedgerPurgeBatch is how many ledger rows one purge statement
// deletes: a few milliseconds of the writer, so registrations and reports
// are never kept waiting long.
const DefaultLedgerPurgeBatch = 1000

// PurgeLedger deletes ledger messages registered more than retention ago
// and returns how many it deleted. A report quoting a pruned Message-ID no
// longer matches by the ledger (it may still match its reporter's address
// to a newer mail, or go unmatched to triage); sealed tokens carry their
// account and still match. Cases and reports never refer to ledger rows,
// so nothing else changes.
//
// It deletes batch rows (0 means DefaultLedgerPurgeBatch) per statement,
// oldest first along the created_at index, and stops between statements
// when ctx ends. Several instances may run it at once: a row goes once,
// and a purger that finds fewer rows than a batch stops.
func (s *Service) PurgeLedger(ctx context.Context, retention time.Duration, batch int) (int, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("purge ledger: retention %v must be positive", retention)
	}
	if batch <= 0 {
		batch = DefaultLedgerPurgeBatch
	}
	return inBatches(ctx, batch, func(ctx context.Context) (int, error) {
		cutoff := s.clock().Add(-retention)
		res := s.store.w.WithContext(ctx).Exec(
			`DELETE FROM ledger_messages WHERE id IN (
				SELECT id FROM ledger_messages WHERE created_at < ? ORDER BY created_at LIMIT ?)`, cutoff, batch)
		if res.Error != nil {
			return 0, fmt.Errorf("purge ledger before %s: %w", cutoff.Format(time.RFC3339), res.Error)
		}
		return int(res.RowsAffected), nil
	})
}

// LedgerPurgeDue returns when the oldest ledger message passes retention:
// the next time PurgeLedger has work. ok is false when the ledger is empty.
func (s *Service) LedgerPurgeDue(ctx context.Context, retention time.Duration) (due time.Time, ok bool, err error) {
	var oldest []LedgerMessage
	if err := s.store.r.WithContext(ctx).Select("created_at").Order("created_at").Limit(1).Find(&oldest).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("read the oldest ledger message: %w", err)
	}
	if len(oldest) == 0 {
		return time.Time{}, false, nil
	}
	return oldest[0].CreatedAt.Add(retention), true, nil
}
