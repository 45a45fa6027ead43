package cases

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Mailbox is the poller's state and health for one mailbox.
type Mailbox struct {
	Name        string `gorm:"primaryKey"`
	UIDValidity uint32
	LastUID     uint32
	LastSuccess *time.Time
	LastError   string
	LastErrorAt *time.Time
	Waiting     int64 // messages left in the folder after the last round
	FirstSeen   time.Time
	UpdatedAt   time.Time
}

// Stale reports whether no fetch has succeeded for longer than after:
// counted from the last success, or from the first round for a mailbox
// that never had one (a wrong password from the start must alert too).
func (m Mailbox) Stale(now time.Time, after time.Duration) bool {
	since := m.FirstSeen
	if m.LastSuccess != nil {
		since = *m.LastSuccess
	}
	return now.Sub(since) > after
}

// MailboxRound is what one poll of a mailbox saw.
type MailboxRound struct {
	UIDValidity uint32
	LastUID     uint32 // highest UID taken in
	Waiting     int64
	Err         error // nil: the round succeeded
}

// RecordMailboxRound saves the state and health after a poll round.
func (s *Service) RecordMailboxRound(ctx context.Context, name string, r MailboxRound) error {
	now := s.clock()
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return recordRound(tx, name, r, now)
	})
}

func recordRound(tx *gorm.DB, name string, r MailboxRound, now time.Time) error {
	var prev Mailbox
	if err := tx.Where("name = ?", name).Limit(1).Find(&prev).Error; err != nil {
		return fmt.Errorf("read mailbox %s: %w", name, err)
	}
	m := prev
	if prev.Name == "" {
		m.FirstSeen = now
	}
	m.Name, m.UpdatedAt = name, now
	if r.Err != nil {
		m.LastError, m.LastErrorAt = truncate(r.Err.Error(), 1000), &now
	} else {
		if r.UIDValidity != prev.UIDValidity {
			m.LastUID = 0 // a new UIDVALIDITY starts the numbering again
		}
		m.UIDValidity, m.Waiting, m.LastSuccess, m.LastError = r.UIDValidity, r.Waiting, &now, ""
		if r.LastUID > m.LastUID {
			m.LastUID = r.LastUID
		}
	}
	err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&m).Error
	if err != nil {
		return fmt.Errorf("save mailbox %s: %w", name, err)
	}
	return nil
}

// Mailboxes returns the state of every polled mailbox, by name.
func (s *Service) Mailboxes(ctx context.Context) ([]Mailbox, error) {
	var ms []Mailbox
	if err := s.store.r.WithContext(ctx).Order("name").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	return ms, nil
}
