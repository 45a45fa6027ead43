package cases

import (
	"time"

	"notme/cases/outbox"
	"notme/cases/store"
)

// openOutboxes puts the acknowledgements and the webhooks on the one
// outbox engine (cases/outbox); their domain (what a row says, the
// timeline events of a delivery) stays here.
func (s *Service) openOutboxes() error {
	claim := store.Claim // the dialect's claim stays in the one file of differences
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
