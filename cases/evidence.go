package cases

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/mask"
)

// AuditDownloadAttachment is the audit action of a download of a mail
// attachment from the evidence viewer.
const AuditDownloadAttachment = "download_mail_attachment"

// Evidence is one stored mail of a case for the evidence viewer, without
// its raw bytes: a 25 MB mail is read from the database only when the
// viewer has no view of it yet (RawMail). Cases never reads MIME: the
// viewer parses the raw mail.
type Evidence struct {
	Case Case
	Mail MailMessage // FromAddr masked; Raw is not loaded
	// revealed holds the case's addresses this session revealed, lower-cased.
	revealed map[string]bool
	// rawSize is the size of the raw mail kept, 0 once retention purged
	// it; set only by MailEvidence and KeptMail, which checked the reader
	// may see the mail, so that RawMail serves no one else.
	rawSize int64
}

// Purged reports whether retention removed the raw mail.
func (e Evidence) Purged() bool { return e.Mail.PurgedAt != nil || e.rawSize == 0 }

// RawMail reads the raw bytes of the mail of e, which MailEvidence or
// KeptMail returned, once and in one piece.
func (s *Service) RawMail(ctx context.Context, e Evidence) ([]byte, error) {
	if e.Purged() {
		return nil, Errorf(ENOTFOUND, "The raw mail is not kept.")
	}
	var raw []byte
	err := s.store.r.WithContext(ctx).Model(&MailMessage{}).Select("raw").Where("id = ?", e.Mail.ID).Row().Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("read raw mail %d: %w", e.Mail.ID, err)
	}
	if len(raw) == 0 {
		return nil, Errorf(ENOTFOUND, "The raw mail is not kept.")
	}
	return raw, nil
}

// readMail reads the mail row without its raw bytes, and their size.
func readMail(db *gorm.DB, e *Evidence, where string, args ...any) error {
	if err := db.Omit("raw").Where(where, args...).Limit(1).Find(&e.Mail).Error; err != nil {
		return err
	}
	if e.Mail.ID == 0 {
		return nil
	}
	var n sql.NullInt64
	if err := db.Model(&MailMessage{}).Select("length(raw)").Where("id = ?", e.Mail.ID).Row().Scan(&n); err != nil {
		return err
	}
	e.rawSize = n.Int64
	return nil
}

// Mask masks every email address in s as the console does, except the
// addresses of the case that this session revealed (RevealAddress).
func (e Evidence) Mask(s string) string {
	return mask.TextExcept(s, func(a string) bool { return e.revealed[strings.ToLower(a)] })
}

// MailEvidence returns one mail of a case for the evidence viewer: only
// security-trained staff may read it, and only through the case it belongs
// to, so a mail of another case is not found. session binds the addresses
// this session revealed, which Mask leaves readable.
func (s *Service) MailEvidence(ctx context.Context, a Actor, session, ref string, mailID int64) (Evidence, error) {
	if !a.canWork() {
		return Evidence{}, errNotTrained
	}
	ref = ident.NormalizeCaseRef(ref)
	if ref == "" {
		return Evidence{}, Errorf(ENOTFOUND, "no such case")
	}
	db := s.store.r.WithContext(ctx)
	var e Evidence
	if err := db.Where("ref = ?", ref).Limit(1).Find(&e.Case).Error; err != nil {
		return Evidence{}, fmt.Errorf("read case %s: %w", ref, err)
	}
	if e.Case.ID == 0 {
		return Evidence{}, Errorf(ENOTFOUND, "no such case")
	}
	if err := readMail(db, &e, "id = ? AND case_id = ?", mailID, e.Case.ID); err != nil {
		return Evidence{}, fmt.Errorf("read mail %d of %s: %w", mailID, ref, err)
	}
	if e.Mail.ID == 0 {
		return Evidence{}, Errorf(ENOTFOUND, "This case has no such mail.")
	}
	e.Mail.FromAddr = mask.Address(e.Mail.FromAddr)
	if err := s.revealedOn(ctx, a, session, &e); err != nil {
		return Evidence{}, err
	}
	return e, nil
}

// revealedOn fills in the addresses of e's case this session revealed.
func (s *Service) revealedOn(ctx context.Context, a Actor, session string, e *Evidence) error {
	e.revealed = map[string]bool{}
	addrs, err := s.CaseAddresses(ctx, a, session, e.Case.Ref)
	if err != nil {
		return fmt.Errorf("evidence of %s: %w", e.Case.Ref, err)
	}
	for _, ad := range addrs {
		if ad.Revealed != "" {
			e.revealed[strings.ToLower(ad.Revealed)] = true
		}
	}
	return nil
}

// KeptMail returns any mail the desk kept, by its id, for the evidence
// viewer on /mail: staff read a mail before deciding whether to open a
// case from it. The rules are the evidence viewer's: security-trained
// staff only, every address masked. A mail that belongs to a case comes
// with it (Case.ID set), and the addresses this session revealed on that
// case stay readable; a mail without one has nothing to reveal.
func (s *Service) KeptMail(ctx context.Context, a Actor, session string, mailID int64) (Evidence, error) {
	if !a.canWork() {
		return Evidence{}, errNotTrained
	}
	db := s.store.r.WithContext(ctx)
	var e Evidence
	if err := readMail(db, &e, "id = ?", mailID); err != nil {
		return Evidence{}, fmt.Errorf("read mail %d: %w", mailID, err)
	}
	if e.Mail.ID == 0 {
		return Evidence{}, Errorf(ENOTFOUND, "No such mail.")
	}
	e.Mail.FromAddr = mask.Address(e.Mail.FromAddr)
	if e.Mail.CaseID == nil {
		return e, nil
	}
	if err := db.Where("id = ?", *e.Mail.CaseID).Limit(1).Find(&e.Case).Error; err != nil {
		return Evidence{}, fmt.Errorf("read the case of mail %d: %w", mailID, err)
	}
	if e.Case.ID == 0 {
		return e, nil
	}
	if err := s.revealedOn(ctx, a, session, &e); err != nil {
		return Evidence{}, err
	}
	return e, nil
}

// MaxAttachmentName bounds the attachment name written to the audit log.
const MaxAttachmentName = 255

// RecordKeptMailDownload is RecordAttachmentDownload for the viewer on
// /mail, which reaches any kept mail by its id: the entry names the mail's
// case when it has one, else the mail itself ("mail:ID").
func (s *Service) RecordKeptMailDownload(ctx context.Context, a Actor, mailID int64, name, mediaType string, size int) error {
	if !a.canWork() {
		return errNotTrained
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m MailMessage
		if err := tx.Select("id, case_id").Where("id = ?", mailID).Limit(1).Find(&m).Error; err != nil {
			return fmt.Errorf("read mail %d: %w", mailID, err)
		}
		if m.ID == 0 {
			return Errorf(ENOTFOUND, "No such mail.")
		}
		subject := fmt.Sprintf("mail:%d", m.ID)
		if m.CaseID != nil {
			var c Case
			if err := tx.Select("id, ref").Where("id = ?", *m.CaseID).Limit(1).Find(&c).Error; err != nil {
				return fmt.Errorf("read the case of mail %d: %w", mailID, err)
			}
			if c.ID != 0 {
				subject = "case:" + c.Ref
			}
		}
		return tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditDownloadAttachment,
			Subject: subject, Detail: downloadDetail(mailID, name, mediaType, size), Args: downloadArgs(mailID, name, mediaType, size)}).Error
	})
}

// downloadArgs are the audit arguments of one attachment download.
func downloadArgs(mailID int64, name, mediaType string, size int) Args {
	return Args{"mail": argInt(mailID), "name": name, "type": mediaType, "size": argInt(size)}
}

// downloadDetail is the audit detail of one attachment download, the name
// made valid and bounded.
func downloadDetail(mailID int64, name, mediaType string, size int) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if utf8.RuneCountInString(name) > MaxAttachmentName {
		name = string([]rune(name)[:MaxAttachmentName]) + "…"
	}
	return fmt.Sprintf("mail %d, attachment %q (%s, %d bytes)", mailID, name, mediaType, size)
}

// RecordAttachmentDownload writes the download of one attachment of a
// case's mail to the append-only audit log before the file is served:
// who, which case, which mail, which attachment.
func (s *Service) RecordAttachmentDownload(ctx context.Context, a Actor, ref string, mailID int64, name, mediaType string, size int) error {
	if !a.canWork() {
		return errNotTrained
	}
	ref = ident.NormalizeCaseRef(ref)
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Case
		if err := tx.Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
			return fmt.Errorf("read case %s: %w", ref, err)
		}
		var n int64
		if c.ID != 0 {
			if err := tx.Model(&MailMessage{}).Where("id = ? AND case_id = ?", mailID, c.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("read mail %d of %s: %w", mailID, ref, err)
			}
		}
		if n == 0 {
			return Errorf(ENOTFOUND, "This case has no such mail.")
		}
		return tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditDownloadAttachment,
			Subject: "case:" + c.Ref, Detail: downloadDetail(mailID, name, mediaType, size), Args: downloadArgs(mailID, name, mediaType, size)}).Error
	})
}
