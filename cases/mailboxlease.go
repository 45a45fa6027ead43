package cases

import (
	"context"
	"fmt"
	"time"
)

// Several desk instances on one database share the configured mailboxes:
// each is polled by one instance at a time, the holder of its lease. A lease
// row (rather than a PostgreSQL session advisory lock) works on SQLite too
// and frees a mailbox whose holder hangs while still connected: it simply
// stops renewing. The price is a takeover that waits for the lease to run
// out, where an advisory lock frees the moment the process dies.

// MailboxLease says which desk instance polls a mailbox, and until when
// unless it renews.
type MailboxLease struct {
	Name       string `gorm:"primaryKey"`
	Owner      string
	LeaseUntil time.Time
	AcquiredAt time.Time
}

// TakeMailboxLease takes the lease on mailbox name for owner until now+ttl,
// or renews it if owner holds it already. held is false when another owner
// holds a lease that has not run out; lease is then theirs, so the caller
// knows when to try again. One statement: the database's row lock on the
// conflict decides between instances trying at once.
func (s *Service) TakeMailboxLease(ctx context.Context, name, owner string, ttl time.Duration) (lease MailboxLease, held bool, err error) {
	if name == "" || owner == "" || ttl <= 0 {
		return MailboxLease{}, false, Errorf(EINVALID, "a mailbox lease needs a mailbox, an owner and a duration")
	}
	now := s.clock().UTC()
	db := s.store.w.WithContext(ctx)
	res := db.Exec(`INSERT INTO mailbox_leases (name, owner, lease_until, acquired_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until,
			acquired_at = CASE WHEN mailbox_leases.owner = excluded.owner THEN mailbox_leases.acquired_at ELSE excluded.acquired_at END
		WHERE mailbox_leases.owner = excluded.owner OR mailbox_leases.lease_until <= ?`,
		name, owner, now.Add(ttl), now, now)
	if res.Error != nil {
		return MailboxLease{}, false, fmt.Errorf("take the lease of mailbox %s: %w", name, res.Error)
	}
	if err := db.Where("name = ?", name).Take(&lease).Error; err != nil {
		return MailboxLease{}, false, fmt.Errorf("read the lease of mailbox %s: %w", name, err)
	}
	return lease, res.RowsAffected == 1 && lease.Owner == owner, nil
}

// ReleaseMailboxLease gives up owner's lease on mailbox name, so another
// instance may take it at once; a lease owner no longer holds is left alone.
func (s *Service) ReleaseMailboxLease(ctx context.Context, name, owner string) error {
	err := s.store.w.WithContext(ctx).Exec(`UPDATE mailbox_leases SET lease_until = ? WHERE name = ? AND owner = ?`,
		s.clock().UTC(), name, owner).Error
	if err != nil {
		return fmt.Errorf("release the lease of mailbox %s: %w", name, err)
	}
	return nil
}

// MailboxLeases returns every mailbox's lease, by name; the ops endpoints
// show who polls what.
func (s *Service) MailboxLeases(ctx context.Context) ([]MailboxLease, error) {
	var ls []MailboxLease
	if err := s.store.r.WithContext(ctx).Order("name").Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("list mailbox leases: %w", err)
	}
	return ls, nil
}
