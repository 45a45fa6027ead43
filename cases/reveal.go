package cases

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/mask"
)

// AuditRevealAddress is the audit action of a look at a masked address.
const AuditRevealAddress = "reveal_personal_data"

// RevealTTL is how long a revealed address stays readable, in the session
// that revealed it, on the case it belongs to.
const RevealTTL = 10 * time.Minute

// revealRow lets one staff session read one address of one case until it
// expires. The audit log is the lasting record; rows here only say what a
// page may show unmasked.
type revealRow struct {
	ID          int64
	SessionHash []byte
	UserID      int64
	CaseID      int64
	Field       string
	ExpiresAt   time.Time
}

func (revealRow) TableName() string { return "reveals" }

// CaseAddress is one email address on a case, as staff see it: masked,
// unless this session revealed it a moment ago.
type CaseAddress struct {
	// Field names the address for RevealAddress, e.g. "reporter:12"; an
	// address seen in several places is listed once, under its first field.
	Field    string
	Where    []string // "reporter of report 12", "sender of mail 7", …
	Masked   string
	Revealed string    // the address itself, "" unless revealed
	Until    time.Time // when the reveal ends
}

// addressField is one place a case holds an address.
type addressField struct {
	field, where, addr string
}

// caseAddresses lists every place the case holds a reporter's or a
// recipient's address, in a stable order.
func caseAddresses(db *gorm.DB, caseID int64) ([]addressField, error) {
	var out []addressField
	var reports []Report
	if err := db.Select("id, reporter, message_id, matched_by").Where("case_id = ?", caseID).Order("id").Find(&reports).Error; err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	var msgIDs []string
	for _, r := range reports {
		if r.Reporter != "" {
			out = append(out, addressField{"reporter:" + strconv.FormatInt(r.ID, 10), fmt.Sprintf("reporter of report %d", r.ID), r.Reporter})
		}
		if r.MessageID != "" {
			msgIDs = append(msgIDs, r.MessageID)
		}
	}
	if len(msgIDs) > 0 {
		var ledger []LedgerMessage
		if err := db.Select("message_id, recipient").Where("message_id IN ?", msgIDs).Find(&ledger).Error; err != nil {
			return nil, fmt.Errorf("read ledger recipients: %w", err)
		}
		rcpt := map[string]string{}
		for _, l := range ledger {
			rcpt[l.MessageID] = l.Recipient
		}
		for _, r := range reports {
			if a := rcpt[r.MessageID]; a != "" {
				out = append(out, addressField{"recipient:" + strconv.FormatInt(r.ID, 10), fmt.Sprintf("recipient of the mail in report %d", r.ID), a})
			}
		}
	}
	var mail []MailMessage
	if err := db.Select("id, from_addr").Where("case_id = ? AND from_addr <> ''", caseID).Order("id").Find(&mail).Error; err != nil {
		return nil, fmt.Errorf("read mail senders: %w", err)
	}
	for _, m := range mail {
		out = append(out, addressField{"mail:" + strconv.FormatInt(m.ID, 10), fmt.Sprintf("sender of mail %d", m.ID), m.FromAddr})
	}
	var acks []Ack
	if err := db.Select("id, kind, to_addr").Where("case_id = ?", caseID).Order("id").Find(&acks).Error; err != nil {
		return nil, fmt.Errorf("read acknowledgements: %w", err)
	}
	for _, a := range acks {
		out = append(out, addressField{"ack:" + strconv.FormatInt(a.ID, 10), fmt.Sprintf("recipient of %s notice %d", a.Kind, a.ID), a.ToAddr})
	}
	return out, nil
}

// sessionOf checks that token is a live session of the actor's.
func (s *Service) sessionOf(db *gorm.DB, a Actor, token string, now time.Time) ([]byte, error) {
	if a.User == nil || token == "" || len(token) > 128 {
		return nil, Errorf(EUNAUTHORIZED, "your session has ended; please log in again")
	}
	h := ident.HashSecret(token)
	var n int64
	if err := db.Model(&Session{}).Where("token_hash = ? AND user_id = ? AND expires_at > ?", h, a.User.ID, now).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("check session: %w", err)
	}
	if n == 0 {
		return nil, Errorf(EUNAUTHORIZED, "your session has ended; please log in again")
	}
	return h, nil
}

// CaseAddresses lists the addresses on a case, masked, except those this
// staff session revealed within RevealTTL.
func (s *Service) CaseAddresses(ctx context.Context, a Actor, session, ref string) ([]CaseAddress, error) {
	if !a.canReadCases() || a.User == nil {
		return nil, errNotTrained
	}
	ref = ident.NormalizeCaseRef(ref)
	db := s.store.r.WithContext(ctx)
	var c Case
	if err := db.Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
		return nil, fmt.Errorf("read case %s: %w", ref, err)
	}
	if ref == "" || c.ID == 0 {
		return nil, Errorf(ENOTFOUND, "no such case")
	}
	fields, err := caseAddresses(db, c.ID)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", ref, err)
	}
	until := map[string]time.Time{}
	if session != "" {
		var rs []revealRow
		err := db.Where("session_hash = ? AND user_id = ? AND case_id = ? AND expires_at > ?", ident.HashSecret(session), a.User.ID, c.ID, s.clock()).
			Find(&rs).Error
		if err != nil {
			return nil, fmt.Errorf("read reveals of %s: %w", ref, err)
		}
		for _, r := range rs {
			if r.ExpiresAt.After(until[r.Field]) {
				until[r.Field] = r.ExpiresAt
			}
		}
	}
	var out []CaseAddress
	byAddr := map[string]int{}
	for _, f := range fields {
		i, ok := byAddr[f.addr]
		if !ok {
			i = len(out)
			byAddr[f.addr] = i
			out = append(out, CaseAddress{Field: f.field, Masked: mask.Address(f.addr)})
		}
		out[i].Where = append(out[i].Where, f.where)
		if t, ok := until[f.field]; ok && t.After(out[i].Until) {
			out[i].Revealed, out[i].Until = f.addr, t
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return fieldOrder(out[i].Field) < fieldOrder(out[j].Field) })
	return out, nil
}

func fieldOrder(f string) int {
	switch {
	case strings.HasPrefix(f, "reporter:"):
		return 0
	case strings.HasPrefix(f, "recipient:"):
		return 1
	case strings.HasPrefix(f, "mail:"):
		return 2
	}
	return 3
}

// MaxRevealReason bounds the reason given for revealing an address.
const MaxRevealReason = 500

// RevealAddress shows one masked address of a case to the staff member
// who asks, with a reason: only security-trained staff may, each look is
// written to the append-only audit log (who, which case, which field, why;
// never the address itself), and the address stays readable for RevealTTL
// in this session only.
func (s *Service) RevealAddress(ctx context.Context, a Actor, session, ref, field, reason string) error {
	if !a.canWork() {
		return errNotTrained
	}
	reason = cleanNote(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return Errorf(EINVALID, "Say why you need to see this address.")
	case n > MaxRevealReason:
		return Errorf(EINVALID, "The reason is %d characters long; at most %d fit.", n, MaxRevealReason)
	}
	ref = ident.NormalizeCaseRef(ref)
	if ref == "" {
		return Errorf(ENOTFOUND, "no such case")
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		sess, err := s.sessionOf(tx, a, session, now)
		if err != nil {
			return err
		}
		var c Case
		if err := tx.Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
			return fmt.Errorf("read case %s: %w", ref, err)
		}
		if c.ID == 0 {
			return Errorf(ENOTFOUND, "no such case")
		}
		fields, err := caseAddresses(tx, c.ID)
		if err != nil {
			return fmt.Errorf("addresses of %s: %w", ref, err)
		}
		var where string
		for _, f := range fields {
			if f.field == field {
				where = f.where
				break
			}
		}
		if where == "" {
			return Errorf(ENOTFOUND, "This case has no such address.")
		}
		// Expired reveals go whenever someone reveals; no sweeper needed.
		if err := tx.Where("expires_at <= ?", now).Delete(&revealRow{}).Error; err != nil {
			return fmt.Errorf("drop expired reveals: %w", err)
		}
		if err := tx.Create(&revealRow{SessionHash: sess, UserID: a.User.ID, CaseID: c.ID, Field: field, ExpiresAt: now.Add(RevealTTL)}).Error; err != nil {
			return fmt.Errorf("record reveal: %w", err)
		}
		return tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditRevealAddress, Subject: "case:" + c.Ref,
			Detail: where + " (" + field + "); reason: " + reason, Args: Args{"where": where, "field": field, "reason": reason}}).Error
	})
}

// maskDetail masks the reporters' and recipients' addresses of a case as
// staff see it by default; RevealAddress shows one, with a reason.
func maskDetail(d *CaseDetail) {
	for i := range d.Reports {
		d.Reports[i].Reporter = mask.Address(d.Reports[i].Reporter)
	}
	for i := range d.Mail {
		d.Mail[i].FromAddr = mask.Address(d.Mail[i].FromAddr)
	}
	for i := range d.Acks {
		d.Acks[i].ToAddr = mask.Address(d.Acks[i].ToAddr)
		d.Acks[i].LastError = mask.Text(d.Acks[i].LastError)
	}
}
