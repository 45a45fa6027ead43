package cases

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/mask"
	"notme/cases/sealed"
)

// The "not my address" suppression list is what the desk gives back to the
// sending system before it sends: an address whose owner said account mail
// was not theirs is listed, for that account or for every account, and the
// address guard answers do_not_send for it. An entry keeps the address's
// RecipientHash (the same hash sealed tokens and reports carry), its masked
// form for people and exports, and its domain for filters: the list is
// matched without being readable in full.

// Suppression reasons.
const (
	SuppressNotMyAddress = "not_my_address" // its owner reported the account's mail as not theirs
	SuppressBounce       = "bounce"         // a ledger message to it bounced
	SuppressComplaint    = "complaint"      // a feedback-loop complaint named it
	SuppressManual       = "manual"         // a person, or the account system, listed it
)

// SuppressReasons lists the reasons an entry may give.
var SuppressReasons = []string{SuppressNotMyAddress, SuppressBounce, SuppressComplaint, SuppressManual}

// Suppression origins: who put the entry on the list.
const (
	OriginReporter      = "reporter"       // a report's containment (suppress_recipient)
	OriginStaff         = "staff"          // a lead on the console
	OriginAccountSystem = "account_system" // the company's systems, through the API
	OriginDesk          = "desk"           // the desk itself: a bounce of a ledger message it received
)

// SuppressOrigins lists the origins an entry may give.
var SuppressOrigins = []string{OriginReporter, OriginStaff, OriginAccountSystem, OriginDesk}

// AllAccounts is the AccountRef of an entry that holds for every account.
const AllAccounts = ""

// Audit actions of the suppression list.
const (
	AuditSuppressionAdded   = "suppression_added"
	AuditSuppressionRemoved = "suppression_removed"
	// AuditSuppressionsExported: someone took the list out of the desk
	// (masked addresses, accounts, reasons), as NDJSON.
	AuditSuppressionsExported = "suppressions_exported"
)

// MaxSuppressionTTL bounds an entry's lifetime when one is given; an entry
// without an expiry holds until it is removed.
const MaxSuppressionTTL = 10 * 365 * 24 * time.Hour

// Suppression is one entry of the list. RemovedAt is set when a person or
// the account system took it off (an address that changed hands); the row
// stays, for the audit of what was sent when.
type Suppression struct {
	ID         int64
	AddrHash   []byte // RecipientHash of the address
	AddrMasked string // MaskAddress of it; "" when only its hash is known (a sealed link's recipient)
	Domain     string // lower-case; "" when only the hash is known
	AccountRef string // AllAccounts, or the one account it holds for
	Reason     string
	Origin     string
	CaseID     *int64
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RemovedAt  *time.Time
	RemovedBy  string
	// RemovedReason is the remover's words (an address that changed
	// hands, a mistake), at most MaxResultDetail characters.
	RemovedReason string
}

// Active reports whether the entry holds at now.
func (x Suppression) Active(now time.Time) bool {
	return x.RemovedAt == nil && (x.ExpiresAt == nil || now.Before(*x.ExpiresAt))
}

// SuppressionInput is a new entry from a person or the account system.
type SuppressionInput struct {
	Address    string
	AccountRef string // AllAccounts for every account
	Reason     string // default manual
	TTL        time.Duration
	CaseRef    string // optional: the case it came from
}

// canListSuppressions: leads and admins, and keys with suppressions:read.
func (a Actor) canListSuppressions() bool {
	if a.APIKey != nil {
		return a.APIKey.HasScope(ScopeSuppressionsRead)
	}
	return a.isLead()
}

func (a Actor) canChangeSuppressions() bool {
	if a.APIKey != nil {
		return a.APIKey.HasScope(ScopeSuppressionsWrite)
	}
	return a.isLead()
}

var errSuppressionsForbidden = Errorf(EFORBIDDEN, "The suppression list is for leads and admins, and for API keys with the suppressions scopes.")

// AddSuppression lists an address. An entry already active for the same
// address and account is kept (its expiry moves later if the new one is
// later) and returned with added false: listing twice changes nothing
// else. Leads and admins list as staff; an API key as the account system.
func (s *Service) AddSuppression(ctx context.Context, a Actor, in SuppressionInput) (x Suppression, added bool, err error) {
	if !a.canChangeSuppressions() {
		return Suppression{}, false, errSuppressionsForbidden
	}
	addr := strings.ToLower(strings.TrimSpace(in.Address))
	in.AccountRef = strings.TrimSpace(in.AccountRef)
	in.Reason = cmp.Or(in.Reason, SuppressManual)
	switch {
	case addr == "" || len(addr) > maxRecipient || !validAddress(addr):
		return Suppression{}, false, Errorf(EINVALID, "address must be an email address")
	case len(in.AccountRef) > maxAccountRef || (in.AccountRef != "" && !printable(in.AccountRef)):
		return Suppression{}, false, Errorf(EINVALID, "account_ref must be at most %d printable bytes", maxAccountRef)
	case !slices.Contains(SuppressReasons, in.Reason):
		return Suppression{}, false, Errorf(EINVALID, "reason must be one of: %s", strings.Join(SuppressReasons, ", "))
	case in.TTL < 0 || in.TTL > MaxSuppressionTTL:
		return Suppression{}, false, Errorf(EINVALID, "expiry must be within ten years")
	}
	origin := OriginStaff
	if a.APIKey != nil {
		origin = OriginAccountSystem
	}
	now := s.clock()
	x = Suppression{AddrHash: sealed.RecipientHash(addr), AddrMasked: mask.Address(addr), Domain: ackDomain(addr),
		AccountRef: in.AccountRef, Reason: in.Reason, Origin: origin, CreatedBy: a.String(), CreatedAt: now}
	if in.TTL > 0 {
		exp := now.Add(in.TTL)
		x.ExpiresAt = &exp
	}
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if in.CaseRef != "" {
			var c Case
			if err := tx.Select("id").Where("ref = ?", ident.NormalizeCaseRef(in.CaseRef)).Limit(1).Find(&c).Error; err != nil {
				return fmt.Errorf("read case %s: %w", in.CaseRef, err)
			}
			if c.ID == 0 {
				return Errorf(EINVALID, "no case %s", in.CaseRef)
			}
			x.CaseID = &c.ID
		}
		var err error
		x, added, err = s.suppress(tx, x)
		if err != nil || !added {
			return err
		}
		return tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditSuppressionAdded,
			Subject: "suppression:" + fmt.Sprint(x.ID), Detail: fmt.Sprintf("%s for %s (%s)", x.AddrMasked, accountScope(x.AccountRef), x.Reason),
			Args: Args{"address": x.AddrMasked, "account": x.AccountRef, "listed": x.Reason}}).Error
	})
	if err != nil {
		return Suppression{}, false, err
	}
	return x, added, nil
}

func accountScope(ref string) string {
	if ref == AllAccounts {
		return "every account"
	}
	return "account " + ref
}

// suppress stores x unless an entry is active for its address and account:
// then that one is returned, its expiry moved to the later of the two. An
// expired entry still on the list is closed first, so that the unique
// index on live entries admits the new one.
func (s *Service) suppress(tx *gorm.DB, x Suppression) (Suppression, bool, error) {
	var cur Suppression
	if err := tx.Where("addr_hash = ? AND account_ref = ? AND removed_at IS NULL", x.AddrHash, x.AccountRef).
		Limit(1).Find(&cur).Error; err != nil {
		return Suppression{}, false, fmt.Errorf("read the suppression list: %w", err)
	}
	if cur.ID != 0 && cur.Active(x.CreatedAt) {
		if cur.ExpiresAt != nil && (x.ExpiresAt == nil || x.ExpiresAt.After(*cur.ExpiresAt)) {
			if err := tx.Model(&Suppression{}).Where("id = ?", cur.ID).Update("expires_at", x.ExpiresAt).Error; err != nil {
				return Suppression{}, false, fmt.Errorf("extend suppression %d: %w", cur.ID, err)
			}
			cur.ExpiresAt = x.ExpiresAt
		}
		if cur.AddrMasked == "" && x.AddrMasked != "" {
			// Known by its hash only until now (a sealed link's recipient).
			if err := tx.Model(&Suppression{}).Where("id = ?", cur.ID).
				Updates(map[string]any{"addr_masked": x.AddrMasked, "domain": x.Domain}).Error; err != nil {
				return Suppression{}, false, fmt.Errorf("complete suppression %d: %w", cur.ID, err)
			}
			cur.AddrMasked, cur.Domain = x.AddrMasked, x.Domain
		}
		return cur, false, nil
	}
	if cur.ID != 0 {
		if err := tx.Model(&Suppression{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"removed_at": cur.ExpiresAt, "removed_by": actorDesk, "removed_reason": "expired"}).Error; err != nil {
			return Suppression{}, false, fmt.Errorf("close expired suppression %d: %w", cur.ID, err)
		}
	}
	if err := tx.Create(&x).Error; err != nil {
		return Suppression{}, false, fmt.Errorf("add to the suppression list: %w", err)
	}
	return x, true, nil
}

// RemoveSuppression takes an entry off the list, with the reason (an
// address that changed hands, a mistake); the row stays, closed.
func (s *Service) RemoveSuppression(ctx context.Context, a Actor, id int64, reason string) (Suppression, error) {
	if !a.canChangeSuppressions() {
		return Suppression{}, errSuppressionsForbidden
	}
	reason = cleanNote(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return Suppression{}, Errorf(EINVALID, "Say why the address comes off the list (for example: the address changed hands).")
	case n > MaxResultDetail:
		return Suppression{}, Errorf(EINVALID, "the reason is longer than %d characters", MaxResultDetail)
	}
	var x Suppression
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Limit(1).Find(&x).Error; err != nil {
			return fmt.Errorf("read suppression %d: %w", id, err)
		}
		if x.ID == 0 {
			return Errorf(ENOTFOUND, "no such suppression")
		}
		if x.RemovedAt != nil {
			return Errorf(ECONFLICT, "This entry was taken off the list already.")
		}
		now := s.clock()
		x.RemovedAt, x.RemovedBy, x.RemovedReason = &now, a.String(), reason
		if err := tx.Model(&Suppression{}).Where("id = ? AND removed_at IS NULL", x.ID).Updates(map[string]any{
			"removed_at": now, "removed_by": x.RemovedBy, "removed_reason": reason}).Error; err != nil {
			return fmt.Errorf("remove suppression %d: %w", x.ID, err)
		}
		return tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditSuppressionRemoved,
			Subject: "suppression:" + fmt.Sprint(x.ID), Detail: fmt.Sprintf("%s for %s: %s", x.AddrMasked, accountScope(x.AccountRef), reason),
			Args: Args{"address": x.AddrMasked, "account": x.AccountRef, "reason": reason}}).Error
	})
	if err != nil {
		return Suppression{}, err
	}
	return x, nil
}

// SuppressionFilter narrows a listing; zero values match everything.
type SuppressionFilter struct {
	Domain     string
	AccountRef string
	Reason     string
	Origin     string
	// Removed lists the closed entries (taken off, or expired) as well.
	Removed bool
	// AfterID and Limit page through the list in id order (Limit 0: 100,
	// at most 1000; an export pages until a page comes back short).
	AfterID int64
	Limit   int
}

// Suppressions lists entries in id order.
func (s *Service) Suppressions(ctx context.Context, a Actor, f SuppressionFilter) ([]Suppression, error) {
	if !a.canListSuppressions() {
		return nil, errSuppressionsForbidden
	}
	if f.Reason != "" && !slices.Contains(SuppressReasons, f.Reason) {
		return nil, Errorf(EINVALID, "reason must be one of: %s", strings.Join(SuppressReasons, ", "))
	}
	if f.Origin != "" && !slices.Contains(SuppressOrigins, f.Origin) {
		return nil, Errorf(EINVALID, "origin must be one of: %s", strings.Join(SuppressOrigins, ", "))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := s.store.r.WithContext(ctx).Where("id > ?", f.AfterID).Order("id").Limit(min(limit, 1000))
	if f.Domain != "" {
		q = q.Where("domain = ?", strings.ToLower(strings.TrimSpace(f.Domain)))
	}
	if f.AccountRef != "" {
		q = q.Where("account_ref = ?", f.AccountRef)
	}
	if f.Reason != "" {
		q = q.Where("reason = ?", f.Reason)
	}
	if f.Origin != "" {
		q = q.Where("origin = ?", f.Origin)
	}
	if !f.Removed {
		q = q.Where("removed_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", s.clock())
	}
	var xs []Suppression
	if err := q.Find(&xs).Error; err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	return xs, nil
}

// StartSuppressionExport checks that a may list the entries f selects and
// records in the audit log that a takes them out of the desk, before the
// first one is written: an export that fails half way is audited too.
func (s *Service) StartSuppressionExport(ctx context.Context, a Actor, f SuppressionFilter) error {
	if !a.canListSuppressions() {
		return errSuppressionsForbidden
	}
	var parts []string
	for _, kv := range [][2]string{{"domain", f.Domain}, {"account", f.AccountRef}, {"reason", f.Reason}, {"origin", f.Origin}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if f.Removed {
		parts = append(parts, "removed=true")
	}
	filter := cmp.Or(strings.Join(parts, " "), "-")
	err := s.store.w.WithContext(ctx).Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditSuppressionsExported,
		Subject: "suppressions", Detail: "NDJSON export, filter " + filter, Args: Args{"filter": filter}}).Error
	if err != nil {
		return fmt.Errorf("audit the suppression export: %w", err)
	}
	return nil
}

// SuppressionCaseRefs names the cases the entries came from, by case id,
// for a listing its caller was allowed to read.
func (s *Service) SuppressionCaseRefs(ctx context.Context, xs []Suppression) (map[int64]string, error) {
	var ids []int64
	for _, x := range xs {
		if x.CaseID != nil && !slices.Contains(ids, *x.CaseID) {
			ids = append(ids, *x.CaseID)
		}
	}
	refs := map[int64]string{}
	err := chunks(ids, inChunk, func(part []int64) error {
		var rows []Case
		if err := s.store.r.WithContext(ctx).Select("id, ref").Where("id IN ?", part).Find(&rows).Error; err != nil {
			return fmt.Errorf("read the cases of suppressions: %w", err)
		}
		for _, c := range rows {
			refs[c.ID] = c.Ref
		}
		return nil
	})
	return refs, err
}

// SuppressedFor returns the active entries that hold for mail to addr
// about account (AllAccounts: entries for every account only), for the
// address guard. It asks no actor: the guard's caller checks its key.
func (s *Service) SuppressedFor(ctx context.Context, addr, account string) ([]Suppression, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return nil, nil
	}
	var xs []Suppression
	err := s.store.r.WithContext(ctx).
		Where("addr_hash = ? AND account_ref IN ? AND removed_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
			sealed.RecipientHash(addr), []string{AllAccounts, strings.TrimSpace(account)}, s.clock()).
		Order("id").Find(&xs).Error
	if err != nil {
		return nil, fmt.Errorf("check the suppression list: %w", err)
	}
	return xs, nil
}

// suppressCaseRecipients lists the recipients of a case's matched reports
// for its account, when suppress_recipient is requested for it: the
// owner of the address said the account's mail was not theirs. The
// address is known (and masked) where a ledger message names it; a sealed
// link's recipient is known by its hash alone, which is what the guard
// matches on.
func (s *Service) suppressCaseRecipients(tx *gorm.DB, c *Case, actor string, now time.Time) error {
	if c.AccountRef == "" {
		return nil
	}
	var rows []struct {
		RecipientHash []byte
		Recipient     *string
	}
	err := tx.Table("reports").Select("reports.recipient_hash, ledger_messages.recipient").
		Joins("LEFT JOIN ledger_messages ON ledger_messages.message_id = reports.message_id AND ledger_messages.account_ref = ?", c.AccountRef).
		Where("reports.case_id = ? AND reports.recipient_hash IS NOT NULL", c.ID).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("read the recipients of case %s: %w", c.Ref, err)
	}
	origin := OriginReporter
	if strings.HasPrefix(actor, "user:") {
		origin = OriginStaff
	}
	seen := map[string]bool{}
	for _, r := range rows {
		x := Suppression{AddrHash: r.RecipientHash, AccountRef: c.AccountRef, Reason: SuppressNotMyAddress,
			Origin: origin, CaseID: &c.ID, CreatedBy: actor, CreatedAt: now}
		if r.Recipient != nil && slices.Equal(sealed.RecipientHash(*r.Recipient), r.RecipientHash) {
			x.AddrMasked, x.Domain = mask.Address(*r.Recipient), ackDomain(*r.Recipient)
		}
		if seen[string(x.AddrHash)] && x.AddrMasked == "" {
			continue
		}
		seen[string(x.AddrHash)] = true
		if _, _, err := s.suppress(tx, x); err != nil {
			return err
		}
	}
	return nil
}
