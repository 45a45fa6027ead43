package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"notme/cases/typo"
)

// A domain cluster on the leads' dashboard (three cases from gmial.example
// in a day) is usually a typo domain: people mean another domain and type
// this one. When a lead confirms which domain was meant, the address guard
// suggests it from then on, on every instance of the desk: the guard
// learns from the reports.

// TypoDomain is a typo domain a lead confirmed, and the domain meant.
type TypoDomain struct {
	Domain      string `gorm:"primaryKey"`
	Intended    string
	ConfirmedBy string
	ConfirmedAt time.Time
}

// AuditTypoDomain is the audit action of a confirmed typo domain.
const AuditTypoDomain = "typo_domain_confirmed"

// typoRefresh is how often an instance reads the typo domains confirmed on
// others (a confirmation on this instance is learned at once).
const typoRefresh = 30 * time.Second

// learnedTypos keeps the service's suggester up to date with the table.
type learnedTypos struct {
	mu     sync.Mutex
	loaded time.Time // the newest confirmed_at read so far
	read   time.Time // when the table was last read
}

// ConfirmTypoDomain records that mail to domain was meant for intended.
// Leads and admins only; audited. A known mail domain is never a typo:
// that is refused, as is a name that is no domain.
func (s *Service) ConfirmTypoDomain(ctx context.Context, a Actor, domain, intended string) (TypoDomain, error) {
	if !a.isLead() {
		return TypoDomain{}, Errorf(EFORBIDDEN, "Only a security lead can confirm a typo domain.")
	}
	domain = strings.ToLower(strings.TrimSpace(domain))
	intended = strings.ToLower(strings.TrimSpace(intended))
	typos, err := s.typos()
	if err != nil {
		return TypoDomain{}, err
	}
	switch {
	case !validAddress("x@"+domain) || !validAddress("x@"+intended) || len(domain) > 253 || len(intended) > 253:
		return TypoDomain{}, Errorf(EINVALID, "Both must be mail domains, like gmial.com and gmail.com.")
	case domain == intended:
		return TypoDomain{}, Errorf(EINVALID, "The domain meant must differ from the typo domain.")
	case typos.Known(domain):
		return TypoDomain{}, Errorf(EINVALID, "%s is a known mail domain, so it is never taken for a typo.", domain)
	}
	t := TypoDomain{Domain: domain, Intended: intended, ConfirmedBy: a.String(), ConfirmedAt: s.clock()}
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "domain"}},
			DoUpdates: clause.AssignmentColumns([]string{"intended", "confirmed_by", "confirmed_at"})}).Create(&t).Error; err != nil {
			return fmt.Errorf("store typo domain %s: %w", domain, err)
		}
		return tx.Create(&AuditEntry{At: t.ConfirmedAt, Actor: a.String(), Action: AuditTypoDomain, Subject: "domain:" + domain,
			Detail: domain + " → " + intended, Args: Args{"domain": domain, "intended": intended}}).Error
	})
	if err != nil {
		return TypoDomain{}, err
	}
	if err := typos.Learn([]typo.Pair{{Typo: domain, Intended: intended}}); err != nil {
		return TypoDomain{}, fmt.Errorf("learn %s: %w", domain, err)
	}
	return t, nil
}

// TypoDomains lists the confirmed typo domains, by domain; leads and
// admins only.
func (s *Service) TypoDomains(ctx context.Context, a Actor) ([]TypoDomain, error) {
	if !a.isLead() {
		return nil, Errorf(EFORBIDDEN, "The typo domains are for security leads and admins.")
	}
	var ts []TypoDomain
	if err := s.store.r.WithContext(ctx).Order("domain").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list typo domains: %w", err)
	}
	return ts, nil
}

// suggester is the guard's typo suggester with every typo domain leads
// confirmed, on any instance, up to typoRefresh ago.
func (s *Service) suggester(ctx context.Context) (*typo.Suggester, error) {
	typos, err := s.typos()
	if err != nil {
		return nil, err
	}
	l := &s.learned
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.read.IsZero() && now.Sub(l.read) < typoRefresh {
		return typos, nil
	}
	var ts []TypoDomain
	if err := s.store.r.WithContext(ctx).Where("confirmed_at >= ?", l.loaded).Order("confirmed_at").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("read typo domains: %w", err)
	}
	for _, t := range ts {
		// One by one: a domain a later list made known is skipped, not a
		// reason to learn none.
		if err := typos.Learn([]typo.Pair{{Typo: t.Domain, Intended: t.Intended}}); err != nil && !errors.Is(err, typo.ErrKnownDomain) {
			s.log.Warn("a confirmed typo domain cannot be learned", "domain", t.Domain, "err", err)
		}
		l.loaded = t.ConfirmedAt
	}
	l.read = now
	return typos, nil
}
