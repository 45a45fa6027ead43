package cases

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Mail classes, as the parser in inbox decides them.
const (
	ClassReport    = "report"
	ClassAutoReply = "auto-reply"
	ClassBounce    = "bounce"
	ClassARF       = "arf"
	ClassUnrelated = "unrelated"
)

// What became of a mail: a report, or ignored with a reason staff can read
// and overrule.
const (
	DispositionReport  = "report"
	DispositionIgnored = "ignored"

	ReasonAutoReply  = "auto-reply"
	ReasonBounce     = "bounce"
	ReasonLoop       = "loop"
	ReasonDuplicate  = "duplicate"
	ReasonUnparsable = "unparsable"
	ReasonTooLarge   = "too-large"
	ReasonUnrelated  = "unrelated"
)

// ParsedMail is what the mail parser found in a message, in the domain's
// words; cases never parses MIME itself.
type ParsedMail struct {
	Class      string
	MessageID  string // the mail's own Message-ID
	From       string // the sender (the reporter, for a person's mail)
	Subject    string
	Lang       string   // "ja" or "en": the language to answer in
	MessageIDs []string // candidates for the original, strongest first
	Tokens     []string // candidate sealed tokens, strongest first
	// Auto says why the mail must never be answered ("" = a person wrote it).
	Auto string
	// BounceRecipients are the addresses a bounce says failed.
	BounceRecipients []string
	Problems         []string
	ParserVersion    int
	// Reason, when set, overrules the class: "too-large", "unparsable".
	Reason string
}

// InboundMail is one raw message to take in, from a mailbox or a pipe.
type InboundMail struct {
	// Mailbox names the source; "" for `notme ingest`. With UIDValidity and
	// UID it identifies an IMAP message, so a re-fetch is recognised.
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	Raw         []byte
	Parsed      ParsedMail
}

// MailMessage is stored evidence: the raw mail and what became of it.
type MailMessage struct {
	ID            int64
	Source        string
	IMAPKey       *string
	MessageID     string
	FromAddr      string
	Subject       string
	Class         string
	Disposition   string
	Reason        string
	Lang          string
	ReportID      *int64
	CaseID        *int64
	Raw           []byte
	Size          int64
	Sha256        []byte
	ParserVersion int
	Problems      string
	ReceivedAt    time.Time
}

// Ingested is what became of one inbound mail.
type Ingested struct {
	MailID      int64
	Disposition string
	Reason      string
	// Again is true when this very IMAP message was taken in before (a
	// re-fetch after a crash or restart): nothing new was stored.
	Again       bool
	CaseRef     string
	StatusToken string // the reporter's status link token, for the acknowledgement
	// AckTo is where an acknowledgement may go: a person's address on a
	// new report; "" when the mail must not be answered.
	AckTo string
	Lang  string
}

// IngestMail takes in a batch of mail in one transaction: each message is
// stored with what became of it, and reports go onto their cases. Taking in
// the same IMAP message twice stores nothing new.
func (s *Service) IngestMail(ctx context.Context, batch []InboundMail) ([]Ingested, error) {
	tokens := make([]string, len(batch))
	for i := range tokens {
		tokens[i] = randomToken(18)
	}
	var out []Ingested
	for attempt := 0; ; attempt++ {
		out = out[:0]
		err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i, m := range batch {
				r, err := s.ingestOne(tx, m, tokens[i])
				if err != nil {
					return fmt.Errorf("mail %d of %d (%s): %w", i+1, len(batch), describeMail(m), err)
				}
				out = append(out, r)
			}
			return nil
		})
		if err == nil {
			break
		}
		if errors.Is(err, gorm.ErrDuplicatedKey) && attempt < 3 {
			continue
		}
		return nil, fmt.Errorf("ingest mail: %w", err)
	}
	for _, r := range out {
		if !r.Again {
			s.log.Info("mail ingested", "mail_id", r.MailID, "disposition", r.Disposition, "reason", r.Reason, "case", r.CaseRef)
		}
	}
	return out, nil
}

func describeMail(m InboundMail) string {
	if m.Mailbox == "" {
		return "piped mail"
	}
	return fmt.Sprintf("%s uid %d", m.Mailbox, m.UID)
}

func imapKey(m InboundMail) *string {
	if m.Mailbox == "" || m.UID == 0 {
		return nil
	}
	k := m.Mailbox + "\x00" + strconv.FormatUint(uint64(m.UIDValidity), 10) + "\x00" + strconv.FormatUint(uint64(m.UID), 10)
	return &k
}

func (s *Service) ingestOne(tx *gorm.DB, m InboundMail, statusToken string) (Ingested, error) {
	key := imapKey(m)
	if key != nil {
		var prev MailMessage
		if err := tx.Select("id, disposition, reason, case_id").Where("imap_key = ?", *key).Limit(1).Find(&prev).Error; err != nil {
			return Ingested{}, fmt.Errorf("look up earlier fetch: %w", err)
		}
		if prev.ID != 0 {
			return Ingested{MailID: prev.ID, Disposition: prev.Disposition, Reason: prev.Reason, Again: true}, nil
		}
	}
	p := m.Parsed
	p.MessageID = NormalizeMessageID(p.MessageID)
	p.From = strings.ToLower(strings.TrimSpace(p.From))
	now := s.clock()
	sum := sha256.Sum256(m.Raw)
	row := MailMessage{
		Source: orDefault(m.Mailbox, "ingest"), IMAPKey: key, MessageID: truncate(p.MessageID, maxMessageID),
		FromAddr: truncate(p.From, maxRecipient), Subject: truncate(p.Subject, maxSubject), Class: p.Class,
		Lang: p.Lang, Raw: m.Raw, Size: int64(len(m.Raw)), Sha256: sum[:], ParserVersion: p.ParserVersion,
		Problems: truncate(strings.Join(p.Problems, "\n"), 4000), ReceivedAt: now,
	}
	res := Ingested{Lang: p.Lang}

	row.Disposition, row.Reason = DispositionIgnored, p.Reason
	if row.Reason == "" {
		switch p.Class {
		case ClassAutoReply:
			row.Reason = ReasonAutoReply
			if p.Auto == "own-address" {
				row.Reason = ReasonLoop
			}
		case ClassBounce:
			row.Reason = ReasonBounce
		case ClassUnrelated:
			row.Reason = ReasonUnrelated
		case ClassReport, ClassARF:
			dup, err := s.seenMessageID(tx, p.MessageID)
			if err != nil {
				return Ingested{}, err
			}
			if dup {
				row.Reason = ReasonDuplicate
			} else {
				row.Disposition = DispositionReport
			}
		default:
			row.Reason = ReasonUnparsable
		}
	}

	var filed Filed
	if row.Disposition == DispositionReport {
		in := ReportInput{Channel: ChannelMail, Tokens: p.Tokens, MessageIDs: p.MessageIDs, Actor: "mail"}
		if p.Class == ClassReport {
			in.Reporter = p.From // an ARF's From is the mailbox provider, not a reporter
		}
		if err := s.prepareReport(&in); err != nil {
			return Ingested{}, err
		}
		var err error
		if filed, err = s.fileReport(tx, in, statusToken); err != nil {
			return Ingested{}, err
		}
		row.ReportID, row.CaseID = &filed.Report.ID, &filed.Case.ID
		res.CaseRef, res.StatusToken = filed.CaseRef, statusToken
		if p.Auto == "" && p.Class == ClassReport && p.From != "" {
			res.AckTo = p.From
		}
	}
	if p.Class == ClassBounce {
		caseID, err := s.noteBounce(tx, p, now)
		if err != nil {
			return Ingested{}, err
		}
		row.CaseID = caseID
	}
	if err := tx.Create(&row).Error; err != nil {
		return Ingested{}, fmt.Errorf("store mail: %w", err)
	}
	if res.AckTo != "" {
		p.From = res.AckTo
		if err := s.enqueueAck(tx, row.ID, filed.Case.ID, p, res.CaseRef, statusToken, now); err != nil {
			return Ingested{}, err
		}
	}
	res.MailID, res.Disposition, res.Reason = row.ID, row.Disposition, row.Reason
	return res, nil
}

// seenMessageID reports whether a mail with this Message-ID already became
// a report: the same mail delivered twice files one report.
func (s *Service) seenMessageID(tx *gorm.DB, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	var n int64
	err := tx.Model(&MailMessage{}).Where("message_id = ? AND disposition = ?", id, DispositionReport).Limit(1).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up message-id: %w", err)
	}
	return n > 0, nil
}

// noteBounce records on the account's open case that a ledger message
// bounced: the address is undeliverable, which matters for containment.
func (s *Service) noteBounce(tx *gorm.DB, p ParsedMail, now time.Time) (*int64, error) {
	m, err := s.matchReport(tx, ReportInput{Tokens: p.Tokens, MessageIDs: p.MessageIDs})
	if err != nil || m.confidence != MatchExact {
		return nil, err
	}
	var c Case
	if err := tx.Where("open_key = ?", m.groupKey).Limit(1).Find(&c).Error; err != nil {
		return nil, fmt.Errorf("find case for bounce: %w", err)
	}
	if c.ID == 0 {
		return nil, nil
	}
	detail := "Address undeliverable: a bounce came back for this account's mail"
	if len(p.BounceRecipients) > 0 {
		detail += " (" + strings.Join(p.BounceRecipients, ", ") + ")"
	}
	ev := Event{CaseID: c.ID, At: now, Actor: "mail", Type: EventUndeliverable, Detail: detail + "."}
	if err := tx.Create(&ev).Error; err != nil {
		return nil, fmt.Errorf("note bounce on %s: %w", c.Ref, err)
	}
	return &c.ID, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8ValidSuffix(s) {
		s = s[:len(s)-1]
	}
	return s
}

func utf8ValidSuffix(s string) bool { return strings.ToValidUTF8(s, "") == s }

// MailFilter narrows the list of stored mail.
type MailFilter struct {
	Disposition string // "" = ignored mail, the list staff review
	Reason      string
	Limit       int
}

// MailList lists stored mail without its raw bytes, newest first.
func (s *Service) MailList(ctx context.Context, a Actor, f MailFilter) ([]MailMessage, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	if f.Disposition == "" {
		f.Disposition = DispositionIgnored
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q := s.store.r.WithContext(ctx).Omit("raw").Where("disposition = ?", f.Disposition)
	if f.Reason != "" {
		q = q.Where("reason = ?", f.Reason)
	}
	var ms []MailMessage
	if err := q.Order("received_at DESC, id DESC").Limit(f.Limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list mail: %w", err)
	}
	return ms, nil
}

// MailReasonCounts counts ignored mail per reason.
func (s *Service) MailReasonCounts(ctx context.Context, a Actor) (map[string]int, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	var rows []struct {
		Reason string
		N      int
	}
	err := s.store.r.WithContext(ctx).Model(&MailMessage{}).Select("reason, COUNT(*) AS n").
		Where("disposition = ?", DispositionIgnored).Group("reason").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count mail: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Reason] = r.N
	}
	return out, nil
}

// OpenCaseFromMail turns an ignored mail into a report by hand: a person
// decided that the auto-reply, the unrelated mail or the unparsable one is
// a report after all. The reporter's address still goes through the
// matching ladder.
func (s *Service) OpenCaseFromMail(ctx context.Context, a Actor, mailID int64) (Filed, error) {
	if !a.canReadCases() || a.User == nil {
		return Filed{}, errNotTrained
	}
	statusToken := randomToken(18)
	var filed Filed
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m MailMessage
		if err := tx.Omit("raw").Where("id = ?", mailID).Limit(1).Find(&m).Error; err != nil {
			return fmt.Errorf("read mail %d: %w", mailID, err)
		}
		if m.ID == 0 {
			return Errorf(ENOTFOUND, "no such mail")
		}
		if m.Disposition != DispositionIgnored {
			return Errorf(ECONFLICT, "this mail is a report already")
		}
		in := ReportInput{Channel: ChannelMail, Reporter: m.FromAddr, Actor: a.String(),
			MessageIDs: nil, Note: "Opened by hand from a mail kept as " + m.Reason + "."}
		if err := s.prepareReport(&in); err != nil {
			return err
		}
		var err error
		if filed, err = s.fileReport(tx, in, statusToken); err != nil {
			return err
		}
		return tx.Model(&MailMessage{}).Where("id = ?", m.ID).Updates(map[string]any{
			"disposition": DispositionReport, "report_id": filed.Report.ID, "case_id": filed.Case.ID,
		}).Error
	})
	if err != nil {
		return Filed{}, fmt.Errorf("open case from mail %d: %w", mailID, err)
	}
	filed.StatusToken = statusToken
	return filed, nil
}
