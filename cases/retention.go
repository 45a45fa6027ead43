package cases

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"notme/cases/store"
)

// EventEvidencePurged marks on a case that retention removed the raw bytes
// of its mail evidence.
const EventEvidencePurged = "evidence_purged"

// DefaultPurgeBatch is how many mails one purge transaction handles: small
// enough that the writer is never held for long.
const DefaultPurgeBatch = 200

// PurgeEvidence removes the raw bytes of mail received more than retention
// ago and returns how many mails it purged. The mail's metadata, its case,
// reports and timeline stay; purged_at records when, and each case gets
// one timeline event per purge that touched it, so a mail is never
// reported purged twice. It works in transactions of batch mails (0 means
// DefaultPurgeBatch) and stops between batches when ctx ends; the batch in
// hand finishes.
func (s *Service) PurgeEvidence(ctx context.Context, retention time.Duration, batch int) (int, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("purge evidence: retention %v must be positive", retention)
	}
	if batch <= 0 {
		batch = DefaultPurgeBatch
	}
	total, err := inBatches(ctx, batch, func(ctx context.Context) (int, error) {
		return s.purgeBatch(ctx, retention, batch)
	})
	if err != nil {
		return total, fmt.Errorf("purge evidence: %w", err)
	}
	return total, nil
}

// inBatches runs one batch of up to batch rows after another until one
// comes back short, and returns the rows done in all. It stops between
// batches when ctx ends; the batch in hand finishes, under a context
// without ctx's cancellation, so no statement is cut off midway.
func inBatches(ctx context.Context, batch int, one func(context.Context) (int, error)) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := one(context.WithoutCancel(ctx))
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) purgeBatch(ctx context.Context, retention time.Duration, batch int) (int, error) {
	var n int
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		var rows []struct {
			ID     int64
			CaseID *int64
		}
		// Locked and skipped by a purge running on another instance, so
		// a mail's purge and its timeline event happen once.
		err := store.Claimable(tx.Model(&MailMessage{}).Select("id, case_id").
			Where("purged_at IS NULL AND received_at < ?", now.Add(-retention)).
			Order("received_at, id").Limit(batch)).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("find mail past retention: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		perCase := map[int64]int{}
		var order []int64
		for i, r := range rows {
			ids[i] = r.ID
			if r.CaseID != nil {
				if perCase[*r.CaseID] == 0 {
					order = append(order, *r.CaseID)
				}
				perCase[*r.CaseID]++
			}
		}
		res := tx.Model(&MailMessage{}).Where("id IN ? AND purged_at IS NULL", ids).
			Updates(map[string]any{"raw": nil, "purged_at": now})
		if res.Error != nil {
			return fmt.Errorf("purge %d mails: %w", len(ids), res.Error)
		}
		n = int(res.RowsAffected)
		if len(order) == 0 {
			return nil
		}
		evs := make([]Event, 0, len(order))
		for _, id := range order {
			evs = append(evs, Event{CaseID: id, At: now, Actor: "retention", Type: EventEvidencePurged, Detail: fmt.Sprintf(
				"Raw evidence mail purged after the %s retention: %d message(s). The case, its reports and the mail's metadata stay.",
				retentionText(retention), perCase[id]),
				Code: CodeEvidencePurged, Args: Args{"retention": argInt(int64(retention / time.Minute)), "n": argInt(perCase[id])}})
		}
		return tx.Create(&evs).Error
	})
	return n, err
}

// retentionText writes a retention in days when it is whole days.
func retentionText(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	}
	return d.String()
}
