package cases

import (
	"crypto/sha256"
	"fmt"
	"time"

	"gorm.io/gorm"

	"notme/cases/sealed"
)

// A containment hold is what a lead leaves behind when dismissing a case
// whose reporter turned out to be the account holder ("the address was
// the holder's own"): without it the same link, clicked again, opens a
// new case and requests containment again, every time. A report whose
// link, account or recipient is held is filed on the dismissed case,
// which stays dismissed, with a report_on_dismissed event that /leads
// lists; it requests nothing. Nothing is lost and a person decides.

// Hold scopes, chosen by the lead on the dismiss form.
const (
	HoldNone      = ""
	HoldLink      = "link"      // the sealed links reported on the case
	HoldAccount   = "account"   // every report matched to the case's account
	HoldRecipient = "recipient" // every report about mail to the case's recipients
)

// HoldScopes lists the scopes a dismissal may hold.
var HoldScopes = []string{HoldLink, HoldAccount, HoldRecipient}

// EventReportOnDismissed marks a report filed on a dismissed case because
// the lead who dismissed it held its link, account or recipient.
const EventReportOnDismissed = "report_on_dismissed"

// CodeReportOnHold is its message code: scope (link, account, recipient).
const CodeReportOnHold = "report.on_hold"

// ContainmentHold is one held key of a dismissed case.
type ContainmentHold struct {
	ID        int64
	Scope     string
	KeyHash   []byte
	CaseID    int64
	CreatedBy string
	CreatedAt time.Time
}

// holdKey is the stored key of a held value in a scope; values are
// themselves hashes (a token's, RecipientHash) or an account reference.
func holdKey(scope string, value []byte) []byte {
	h := sha256.New()
	h.Write([]byte("notme-hold\x00" + scope + "\x00"))
	h.Write(value)
	return h.Sum(nil)[:16]
}

// linkHash is the stored identity of a sealed link: its token's hash.
func linkHash(token string) []byte {
	h := sha256.Sum256([]byte("notme-link\x00" + token))
	return h[:16]
}

// heldKeys are the hold keys a report matched as m would meet.
func heldKeys(m match) map[string][]byte {
	keys := map[string][]byte{}
	if m.linkHash != nil {
		keys[HoldLink] = holdKey(HoldLink, m.linkHash)
	}
	if m.accountRef != "" {
		keys[HoldAccount] = holdKey(HoldAccount, []byte(m.accountRef))
	}
	if m.recipientHash != nil {
		keys[HoldRecipient] = holdKey(HoldRecipient, m.recipientHash)
	}
	return keys
}

// heldCase returns the dismissed case holding a report matched as m, and
// the scope that holds it; nil when nothing holds it.
func (s *Service) heldCase(tx *gorm.DB, m match) (*Case, string, error) {
	keys := heldKeys(m)
	if len(keys) == 0 {
		return nil, "", nil
	}
	var hashes [][]byte
	for _, k := range keys {
		hashes = append(hashes, k)
	}
	var h ContainmentHold
	if err := tx.Where("key_hash IN ?", hashes).Order("id DESC").Limit(1).Find(&h).Error; err != nil {
		return nil, "", fmt.Errorf("look up containment holds: %w", err)
	}
	if h.ID == 0 {
		return nil, "", nil
	}
	var c Case
	if err := tx.Where("id = ?", h.CaseID).Take(&c).Error; err != nil {
		return nil, "", fmt.Errorf("read held case %d: %w", h.CaseID, err)
	}
	return &c, h.Scope, nil
}

// onHoldEvent is the event of a report filed on a held, dismissed case.
func onHoldEvent(scope string) Event {
	return Event{Type: EventReportOnDismissed,
		Detail: "Report on a dismissed case: its " + scope + " is held by the dismissal; no containment was requested.",
		Code:   CodeReportOnHold, Args: Args{"scope": scope}}
}

// placeHolds records the holds of a case dismissed with scope: its links
// always, and its account or its recipients where the lead chose so. A
// scope with nothing to hold is refused: the lead would believe the link
// held when it is not.
func (s *Service) placeHolds(tx *gorm.DB, c *Case, scope, actor string, now time.Time) error {
	var reps []Report
	if err := tx.Select("token_hash", "recipient_hash").Where("case_id = ?", c.ID).Find(&reps).Error; err != nil {
		return fmt.Errorf("read reports of %s: %w", c.Ref, err)
	}
	seen := map[string]bool{}
	var holds []ContainmentHold
	add := func(sc string, value []byte) {
		k := holdKey(sc, value)
		if seen[string(k)] {
			return
		}
		seen[string(k)] = true
		holds = append(holds, ContainmentHold{Scope: sc, KeyHash: k, CaseID: c.ID, CreatedBy: actor, CreatedAt: now})
	}
	for _, r := range reps {
		if r.TokenHash != nil {
			add(HoldLink, r.TokenHash)
		}
	}
	switch scope {
	case HoldAccount:
		if c.AccountRef == "" {
			return Errorf(EINVALID, "This case is matched to no account, so there is no account to hold.")
		}
		add(HoldAccount, []byte(c.AccountRef))
	case HoldRecipient:
		n := len(holds)
		for _, r := range reps {
			if r.RecipientHash != nil {
				add(HoldRecipient, r.RecipientHash)
			}
		}
		if len(holds) == n {
			return Errorf(EINVALID, "No report on this case says which address the mail went to, so there is no recipient to hold.")
		}
	}
	if len(holds) == 0 {
		return Errorf(EINVALID, "No report on this case came through a sealed link, so there is no link to hold; choose the account, or no hold.")
	}
	if err := tx.Create(&holds).Error; err != nil {
		return fmt.Errorf("hold the keys of %s: %w", c.Ref, err)
	}
	return nil
}

// withHoldKeys fills in m's link and recipient hashes from the report.
func (s *Service) withHoldKeys(m match, in ReportInput) match {
	if m.by != "token" {
		if m.recipient != "" {
			m.recipientHash = sealed.RecipientHash(m.recipient)
		}
		return m
	}
	for _, tok := range append([]string{in.Token}, in.Tokens...) {
		if tok == "" {
			continue
		}
		if c, err := s.sealer.Open(tok); err == nil {
			return withTokenKeys(m, tok, c)
		}
	}
	for _, id := range in.MessageIDs {
		if tok := TokenFromMessageID(id); tok != "" {
			if c, err := s.sealer.Open(tok); err == nil {
				return withTokenKeys(m, tok, c)
			}
		}
	}
	return m
}

func withTokenKeys(m match, tok string, c sealed.Claims) match {
	m.linkHash = linkHash(tok)
	switch {
	case m.recipient != "":
		m.recipientHash = sealed.RecipientHash(m.recipient)
	case c.RecipientHash != nil:
		m.recipientHash = c.RecipientHash
	}
	return m
}
