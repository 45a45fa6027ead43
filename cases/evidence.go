package cases

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// AuditDownloadAttachment is the audit action of a download of a mail
// attachment from the evidence viewer.
const AuditDownloadAttachment = "download_mail_attachment"

// Evidence is one stored mail of a case, raw bytes included, for the
// evidence viewer. Cases never reads MIME: the viewer parses Mail.Raw.
type Evidence struct {
	Case Case
	Mail MailMessage // FromAddr masked; Raw is nil once retention purged it
	// revealed holds the case's addresses this session revealed, lower-cased.
	revealed map[string]bool
}

// Purged reports whether retention removed the raw mail.
func (e Evidence) Purged() bool { return e.Mail.PurgedAt != nil || len(e.Mail.Raw) == 0 }

// Mask masks every email address in s as the console does, except the
// addresses of the case that this session revealed (RevealAddress).
func (e Evidence) Mask(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addressInText.ReplaceAllStringFunc(s, func(a string) string {
		if e.revealed[strings.ToLower(a)] {
			return a
		}
		return MaskAddress(a)
	})
}

// MailEvidence returns one mail of a case for the evidence viewer: only
// security-trained staff may read it, and only through the case it belongs
// to, so a mail of another case is not found. session binds the addresses
// this session revealed, which Mask leaves readable.
func (s *Service) MailEvidence(ctx context.Context, a Actor, session, ref string, mailID int64) (Evidence, error) {
	if !a.canWork() {
		return Evidence{}, errNotTrained
	}
	ref = NormalizeCaseRef(ref)
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
	if err := db.Where("id = ? AND case_id = ?", mailID, e.Case.ID).Limit(1).Find(&e.Mail).Error; err != nil {
		return Evidence{}, fmt.Errorf("read mail %d of %s: %w", mailID, ref, err)
	}
	if e.Mail.ID == 0 {
		return Evidence{}, Errorf(ENOTFOUND, "This case has no such mail.")
	}
	e.Mail.FromAddr = MaskAddress(e.Mail.FromAddr)
	addrs, err := s.CaseAddresses(ctx, a, session, ref)
	if err != nil {
		return Evidence{}, fmt.Errorf("evidence of %s: %w", ref, err)
	}
	e.revealed = map[string]bool{}
	for _, ad := range addrs {
		if ad.Revealed != "" {
			e.revealed[strings.ToLower(ad.Revealed)] = true
		}
	}
	return e, nil
}

// MaxAttachmentName bounds the attachment name written to the audit log.
const MaxAttachmentName = 255

// RecordAttachmentDownload writes the download of one attachment of a
// case's mail to the append-only audit log before the file is served:
// who, which case, which mail, which attachment.
func (s *Service) RecordAttachmentDownload(ctx context.Context, a Actor, ref string, mailID int64, name, mediaType string, size int) error {
	if !a.canWork() {
		return errNotTrained
	}
	ref = NormalizeCaseRef(ref)
	name = strings.ToValidUTF8(name, "\uFFFD")
	if utf8.RuneCountInString(name) > MaxAttachmentName {
		name = string([]rune(name)[:MaxAttachmentName]) + "…"
	}
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
			Subject: "case:" + c.Ref, Detail: fmt.Sprintf("mail %d, attachment %q (%s, %d bytes)", mailID, name, mediaType, size),
			Args: Args{"mail": argInt(mailID), "name": name, "type": mediaType, "size": argInt(size)}}).Error
	})
}
