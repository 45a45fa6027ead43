package cases

import (
	"context"
	"fmt"
	"time"
)

// Original is what the desk may tell a reporter about the mail they are
// about to report, before anything is filed: whether it knows the mail,
// and when the company sent it. Nothing about the account holder.
type Original struct {
	Found  bool
	SentAt time.Time // zero when the desk does not know it
}

// FindOriginal runs the exact rungs of the matching ladder without filing:
// a sealed token that opens, then a Message-ID in the ledger. It reads only,
// so a reporter can be shown what was found before they send the report.
func (s *Service) FindOriginal(ctx context.Context, tokens, messageIDs []string) (Original, error) {
	if len(tokens) > 20 {
		tokens = tokens[:20]
	}
	if len(messageIDs) > 20 {
		messageIDs = messageIDs[:20]
	}
	for _, tok := range tokens {
		if c, err := s.sealer.Open(tok); err == nil {
			return Original{Found: true, SentAt: c.IssuedAt}, nil
		}
	}
	for _, id := range messageIDs {
		if tok := TokenFromMessageID(id); tok != "" {
			if c, err := s.sealer.Open(tok); err == nil {
				return Original{Found: true, SentAt: c.IssuedAt}, nil
			}
		}
	}
	for _, id := range messageIDs {
		id = NormalizeMessageID(id)
		if id == "" {
			continue
		}
		var m LedgerMessage
		if err := s.store.r.WithContext(ctx).Where("message_id = ?", id).Limit(1).Find(&m).Error; err != nil {
			return Original{}, fmt.Errorf("look up original in ledger: %w", err)
		}
		if m.ID != 0 {
			o := Original{Found: true, SentAt: m.CreatedAt}
			if m.SentAt != nil {
				o.SentAt = *m.SentAt
			}
			return o, nil
		}
	}
	return Original{}, nil
}
