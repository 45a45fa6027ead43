package cases

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/mask"
	"notme/cases/sealed"
)

// ExposureListMax bounds the mails an exposure lists; its counts stay
// exact however many there are.
const ExposureListMax = 500

// exposureBatch is how many of an account's ledger rows are read at once.
const exposureBatch = 5000

// Exposure answers the question a breach assessment starts from: which of
// the account's mails went to the wrong address(es) the case's reports
// identify, when, and of which kinds. Addresses are masked.
type Exposure struct {
	CaseRef    string
	AccountRef string
	// Recipients are the wrong addresses found in the ledger, masked;
	// UnlistedRecipients counts those the reports name (by a sealed
	// link's hash) that no ledger mail of the account went to.
	Recipients         []string
	UnlistedRecipients int
	// Mails are the newest ExposureListMax mails, newest first; Total
	// counts them all.
	Mails []ExposureMail
	Total int
	// First and Last are the oldest and the newest mail (nil with none).
	First, Last *ExposureMail
	// Kinds counts the mails by kind, most mails first; the kind of a
	// reported mail (a ledger mail a report quotes, or the case's kind
	// when a sealed link matched it) is listed even without ledger mails.
	Kinds []ExposureKind
	// Credential and PersonalData: some mail of such a kind went to the
	// wrong address.
	Credential, PersonalData bool
	// OpenedLink and SetPassword: a report on the case says so.
	OpenedLink, SetPassword bool
	// CredentialLinkUsed: a credential mail went to the wrong address and
	// a reporter opened a link or set a password.
	CredentialLinkUsed bool
}

// Truncated reports whether some mails are counted but not listed.
func (e Exposure) Truncated() bool { return e.Total > len(e.Mails) }

// ExposureMail is one account mail to a wrong address.
type ExposureMail struct {
	MessageID    string
	Kind         string
	Subject      string // addresses in it masked
	Recipient    string // masked
	At           time.Time
	Credential   bool
	PersonalData bool
	// Reported: a report on the case is about this very mail.
	Reported bool
}

// ExposureKind counts one kind's mails to the wrong address.
type ExposureKind struct {
	Kind         string
	Mails        int
	First, Last  *time.Time // nil when no ledger mail of the kind
	Credential   bool
	PersonalData bool
	Reported     bool // a report on the case is about a mail of this kind (see Exposure.Kinds)
}

// canSeeExposure: the exposure is for leads and admins deciding a breach
// assessment, and for API keys that read cases.
func (a Actor) canSeeExposure() bool {
	if !a.canReadCases() {
		return false
	}
	return a.APIKey != nil || a.User.Role == RoleLead || a.User.Role == RoleAdmin
}

var errExposureForbidden = Errorf(EFORBIDDEN, "What the wrong person received is for security leads and admins.")

// Exposure lists the case account's ledger mails to the addresses the
// case's reports identify: a matched ledger mail's recipient, and the
// recipient hash a sealed link carries. Another account's mail to the same
// address is not this case's exposure and is left out.
func (s *Service) Exposure(ctx context.Context, a Actor, ref string) (Exposure, error) {
	if !a.canSeeExposure() {
		return Exposure{}, errExposureForbidden
	}
	return s.exposure(s.store.r.WithContext(ctx), ref)
}

// Export formats of an exposure.
const (
	ExposureJSON = "json"
	ExposureCSV  = "csv"
)

// ExportExposure is Exposure for a lead's or an admin's download for the
// regulator's report; each export is audited with the case and the format.
func (s *Service) ExportExposure(ctx context.Context, a Actor, ref, format string) (Exposure, error) {
	if a.User == nil || !a.canSeeExposure() {
		return Exposure{}, errExposureForbidden
	}
	if format != ExposureJSON && format != ExposureCSV {
		return Exposure{}, Errorf(EINVALID, "The export format must be %s or %s.", ExposureJSON, ExposureCSV)
	}
	var e Exposure
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if e, err = s.exposure(tx, ref); err != nil {
			return err
		}
		total := strconv.Itoa(e.Total)
		return tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditExposureExport,
			Subject: "case:" + e.CaseRef, Detail: format + ": " + total + " mails",
			Args: Args{"format": format, "mails": total}}).Error
	})
	if err != nil {
		return Exposure{}, fmt.Errorf("export the exposure of %s: %w", ref, err)
	}
	return e, nil
}

// exposedRow is what the scan keeps of a matched ledger row.
type exposedRow struct {
	id        int64
	recipient string
	kind      string
	at        time.Time
}

func (s *Service) exposure(db *gorm.DB, ref string) (Exposure, error) {
	ref = ident.NormalizeCaseRef(ref)
	if ref == "" {
		return Exposure{}, Errorf(ENOTFOUND, "no such case")
	}
	var c Case
	if err := db.Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
		return Exposure{}, fmt.Errorf("read case %s: %w", ref, err)
	}
	if c.ID == 0 {
		return Exposure{}, Errorf(ENOTFOUND, "no such case")
	}
	e := Exposure{CaseRef: c.Ref, AccountRef: c.AccountRef, Recipients: []string{}, Mails: []ExposureMail{}, Kinds: []ExposureKind{}}
	var reps []Report
	if err := db.Select("id, matched_by, message_id, recipient_hash, opened_link, set_password").
		Where("case_id = ?", c.ID).Find(&reps).Error; err != nil {
		return Exposure{}, fmt.Errorf("read reports of %s: %w", c.Ref, err)
	}
	// The wrong addresses, by hash: a sealed link's recipient is known by
	// its hash alone, and a ledger recipient hashes the same way.
	wrong := map[string]bool{}
	reportedIDs := map[string]bool{}
	reportedKinds := map[string]bool{}
	for _, r := range reps {
		e.OpenedLink = e.OpenedLink || r.OpenedLink
		e.SetPassword = e.SetPassword || r.SetPassword
		if r.RecipientHash != nil {
			wrong[string(r.RecipientHash)] = true
		}
		if r.MessageID != "" {
			reportedIDs[NormalizeMessageID(r.MessageID)] = true
		}
		if r.MatchedBy == "token" && c.Kind != "" {
			reportedKinds[c.Kind] = true // the kind the sealed link carried
		}
	}
	if c.AccountRef == "" {
		return e, nil
	}
	// Reports from before recipient hashes were kept name the mail only.
	if len(reportedIDs) > 0 {
		var ms []LedgerMessage
		if err := db.Select("message_id, recipient, kind").
			Where("account_ref = ? AND message_id IN ?", c.AccountRef, slices.Collect(maps.Keys(reportedIDs))).
			Find(&ms).Error; err != nil {
			return Exposure{}, fmt.Errorf("read the reported mails of %s: %w", c.Ref, err)
		}
		for _, m := range ms {
			wrong[string(sealed.RecipientHash(m.Recipient))] = true
			reportedKinds[m.Kind] = true
		}
	}
	if len(wrong) == 0 {
		s.fillKinds(&e, nil, reportedKinds)
		return e, nil
	}
	rows, found, err := scanAccountLedger(db, c.AccountRef, wrong)
	if err != nil {
		return Exposure{}, fmt.Errorf("read the ledger of %s: %w", c.Ref, err)
	}
	e.UnlistedRecipients = len(wrong) - len(found)
	for addr := range found {
		e.Recipients = append(e.Recipients, mask.Address(addr))
	}
	slices.Sort(e.Recipients)
	e.Recipients = slices.Compact(e.Recipients)
	slices.SortFunc(rows, func(a, b exposedRow) int {
		return cmp.Or(b.at.Compare(a.at), cmp.Compare(b.id, a.id))
	})
	e.Total = len(rows)
	s.fillKinds(&e, rows, reportedKinds)
	if err := s.listMails(db, &e, rows, reportedIDs); err != nil {
		return Exposure{}, fmt.Errorf("read the exposed mails of %s: %w", c.Ref, err)
	}
	return e, nil
}

// scanAccountLedger reads the account's ledger rows in batches (the ledger
// is indexed by account) and keeps those whose recipient hashes into
// wrong; each distinct recipient is hashed once. found holds the matched
// recipients.
func scanAccountLedger(db *gorm.DB, account string, wrong map[string]bool) ([]exposedRow, map[string]bool, error) {
	var rows []exposedRow
	found := map[string]bool{}
	hashed := map[string]bool{}
	var last int64
	for {
		var batch []LedgerMessage
		err := exposureScanQuery(db, account, last).Find(&batch).Error
		if err != nil {
			return nil, nil, err
		}
		for _, m := range batch {
			last = m.ID
			hit, ok := hashed[m.Recipient]
			if !ok {
				hit = wrong[string(sealed.RecipientHash(m.Recipient))]
				hashed[m.Recipient] = hit
			}
			if !hit {
				continue
			}
			found[m.Recipient] = true
			at := m.CreatedAt
			if m.SentAt != nil {
				at = *m.SentAt
			}
			rows = append(rows, exposedRow{id: m.ID, recipient: m.Recipient, kind: m.Kind, at: at.UTC()})
		}
		if len(batch) < exposureBatch {
			return rows, found, nil
		}
	}
}

// exposureScanQuery reads the next batch of an account's ledger rows after
// id last.
func exposureScanQuery(db *gorm.DB, account string, last int64) *gorm.DB {
	return db.Model(&LedgerMessage{}).Select("id, recipient, kind, sent_at, created_at").
		Where("account_ref = ? AND id > ?", account, last).Order("id").Limit(exposureBatch)
}

// fillKinds counts rows (newest first) by kind and sets the case-wide
// marks; reported kinds without ledger mails are listed too.
func (s *Service) fillKinds(e *Exposure, rows []exposedRow, reported map[string]bool) {
	byKind := map[string]*ExposureKind{}
	kindOf := func(name string) *ExposureKind {
		if k, ok := byKind[name]; ok {
			return k
		}
		def := s.kinds[name] // a kind no longer configured counts with no marks
		k := &ExposureKind{Kind: name, Credential: def.Credential, PersonalData: def.PersonalData, Reported: reported[name]}
		byKind[name] = k
		return k
	}
	for _, r := range rows {
		k := kindOf(r.kind)
		k.Mails++
		at := r.at
		if k.Last == nil {
			k.Last = &at
		}
		k.First = &at
	}
	for name := range reported {
		kindOf(name)
	}
	for _, k := range byKind {
		e.Kinds = append(e.Kinds, *k)
		e.Credential = e.Credential || k.Credential
		e.PersonalData = e.PersonalData || k.PersonalData
	}
	slices.SortFunc(e.Kinds, func(a, b ExposureKind) int {
		return cmp.Or(cmp.Compare(b.Mails, a.Mails), cmp.Compare(a.Kind, b.Kind))
	})
	e.CredentialLinkUsed = e.Credential && (e.OpenedLink || e.SetPassword)
}

// listMails fills in the listed mails (the newest ExposureListMax of rows,
// which are newest first) with their Message-ID and subject, and the first
// and the last mail.
func (s *Service) listMails(db *gorm.DB, e *Exposure, rows []exposedRow, reportedIDs map[string]bool) error {
	if len(rows) == 0 {
		return nil
	}
	listed := rows[:min(len(rows), ExposureListMax)]
	ids := make([]int64, 0, len(listed)+1)
	for _, r := range listed {
		ids = append(ids, r.id)
	}
	oldest := rows[len(rows)-1]
	ids = append(ids, oldest.id)
	details := map[int64]LedgerMessage{}
	for chunk := range slices.Chunk(ids, 500) {
		var ms []LedgerMessage
		if err := db.Select("id, message_id, subject").Where("id IN ?", chunk).Find(&ms).Error; err != nil {
			return err
		}
		for _, m := range ms {
			details[m.ID] = m
		}
	}
	mail := func(r exposedRow) ExposureMail {
		d, k := details[r.id], s.kinds[r.kind]
		return ExposureMail{MessageID: d.MessageID, Kind: r.kind, Subject: mask.Text(d.Subject),
			Recipient: mask.Address(r.recipient), At: r.at, Credential: k.Credential,
			PersonalData: k.PersonalData, Reported: reportedIDs[d.MessageID]}
	}
	for _, r := range listed {
		e.Mails = append(e.Mails, mail(r))
	}
	first, last := mail(oldest), e.Mails[0]
	e.First, e.Last = &first, &last
	return nil
}
