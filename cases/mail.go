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

	"notme/cases/ident"
	"notme/cases/mask"
	"notme/cases/store"
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
	// DMARCPass: the desk's own receiving server saw DMARC pass for the
	// From's domain, so the From is the sender's (ackPlausible).
	DMARCPass bool
	// BounceRecipients are the addresses a bounce says failed, and
	// BounceStatus its RFC 3463 status (5.x.x: a permanent failure).
	BounceRecipients []string
	BounceStatus     string
	// VerifiedBounce: the bounce is from a configured bounce sender whose
	// DKIM signature the desk's own receiving server verified; only then
	// does it put the failed address on the suppression list.
	VerifiedBounce bool
	Problems       []string
	ParserVersion  int
	// Reason, when set, overrules the class: "too-large", "unparsable".
	Reason string
	// VerifiedFeedbackLoop: an abuse report (ClassARF) from a configured
	// feedback-loop sender whose DKIM signature the desk's own receiving
	// server verified. Only then is its word a mailbox provider's.
	VerifiedFeedbackLoop bool
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
	PurgedAt      *time.Time // when retention removed Raw
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
// the same IMAP message twice stores nothing new. The batch costs a few
// statements in all rather than a few per mail (see mailBatch); each mail
// fares as if the batch were taken in one mail after the other.
func (s *Service) IngestMail(ctx context.Context, batch []InboundMail) ([]Ingested, error) {
	tokens := make([]string, len(batch))
	for i := range tokens {
		tokens[i] = ident.RandomToken(18)
	}
	batch = storableBatch(batch)
	var out []Ingested
	for attempt := 0; ; attempt++ {
		err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			out, err = s.ingestBatch(tx, batch, tokens)
			return err
		})
		if err == nil {
			break
		}
		if errors.Is(err, gorm.ErrDuplicatedKey) && attempt < 3 {
			continue
		}
		return nil, fmt.Errorf("ingest mail: %w", err)
	}
	s.wakeAfterIngest(out)
	for _, r := range out {
		if !r.Again {
			s.log.Info("mail ingested", "mail_id", r.MailID, "disposition", r.Disposition, "reason", r.Reason, "case", r.CaseRef)
		}
	}
	return out, nil
}

func (s *Service) ingestBatch(tx *gorm.DB, batch []InboundMail, tokens []string) ([]Ingested, error) {
	if len(batch) == 0 {
		return []Ingested{}, nil
	}
	b := newMailBatch(s, tx)
	if err := b.prefetch(batch); err != nil {
		return nil, err
	}
	out := make([]Ingested, len(batch))
	mailOf := make([]int, len(batch)) // index into b.mails; -1 when nothing is stored
	for i, m := range batch {
		mailOf[i] = -1
		key := imapKey(m)
		if key != nil {
			if prev, ok := b.fetched[*key]; ok {
				out[i] = Ingested{MailID: prev.ID, Disposition: prev.Disposition, Reason: prev.Reason, Again: true}
				continue
			}
			if j, ok := b.byKey[*key]; ok { // twice in this batch: the first is stored
				out[i] = Ingested{Disposition: out[j].Disposition, Reason: out[j].Reason, Again: true}
				mailOf[i] = mailOf[j]
				continue
			}
		}
		r, err := b.ingestOne(m, tokens[i])
		if err != nil {
			return nil, fmt.Errorf("mail %d of %d (%s): %w", i+1, len(batch), describeMail(m), err)
		}
		out[i] = r
		mailOf[i] = len(b.mails) - 1
		if key != nil {
			b.byKey[*key] = i
		}
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	if err := s.escalateFiled(tx, b.filed()); err != nil {
		return nil, err
	}
	if err := s.containBatch(tx, b); err != nil {
		return nil, err
	}
	for i := range out {
		if mailOf[i] >= 0 {
			out[i].MailID = b.mails[mailOf[i]].row.ID
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
	// The two numbers end the key, so any separator keeps it unique; not
	// NUL, which a PostgreSQL text column refuses. (Keys stored by SQLite
	// before held NUL: only a re-fetch across the upgrade would miss them.)
	k := m.Mailbox + "\x1f" + strconv.FormatUint(uint64(m.UIDValidity), 10) + "\x1f" + strconv.FormatUint(uint64(m.UID), 10)
	return &k
}

// ingestOne decides what becomes of one mail that is not a re-fetch; the
// rows it stores are written when the batch flushes.
func (b *mailBatch) ingestOne(m InboundMail, statusToken string) (Ingested, error) {
	s := b.s
	key := imapKey(m)
	p := m.Parsed
	p.MessageID = NormalizeMessageID(p.MessageID)
	p.From = strings.ToLower(strings.TrimSpace(p.From))
	if p.Reason == "" && p.Class == ClassUnrelated && personalMail(p.Auto) && b.ledgerSenders[p.From] {
		// A new mail from an address the company writes to ("this is not
		// me", in any language) is a report: being a ledger recipient is
		// the signal, not the words. The From can be forged, so the match
		// stays probable (matchWith: by recipient) and a person confirms.
		p.Class = ClassReport
	}
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
			// A mail with this Message-ID that already became a report, in
			// the database or earlier in the batch: the same mail delivered
			// twice files one report.
			if p.MessageID != "" && (b.reports[p.MessageID] || b.seen[p.MessageID]) {
				row.Reason = ReasonDuplicate
			} else {
				row.Disposition = DispositionReport
			}
		default:
			row.Reason = ReasonUnparsable
		}
	}

	bm := batchMail{}
	held := "" // why a person's report gets no acknowledgement
	if row.Disposition == DispositionReport {
		in, err := s.mailReportInput(p)
		if err != nil {
			return Ingested{}, err
		}
		if bm.filing, err = b.fileReport(in, statusToken); err != nil {
			return Ingested{}, err
		}
		bm.c = bm.filing.c
		res.CaseRef, res.StatusToken = bm.c.Ref, statusToken
		if p.Class == ClassReport && p.From != "" {
			switch {
			case p.Auto != "":
				held = heldAckReason(p.Auto)
			case !s.ackPlausible(p, bm.filing.recipient):
				held = AckHeldNotPlausible
			default:
				res.AckTo = p.From
			}
		}
		b.seen[row.MessageID] = true
	}
	if p.Class == ClassBounce {
		c, _, err := b.noteBounce(p, now)
		if err != nil {
			return Ingested{}, err
		}
		bm.c = c // nil when the bounce noted nothing
	}
	bm.row = row
	b.mails = append(b.mails, bm)
	if res.AckTo != "" || held != "" {
		b.acks = append(b.acks, batchAck{mail: len(b.mails) - 1, c: bm.filing.c, p: p, ref: res.CaseRef, tok: statusToken, now: now, held: held})
	}
	res.Disposition, res.Reason = row.Disposition, row.Reason
	return res, nil
}

// heldAckReason says on the case why a report mail was not answered: it
// asked for no automatic answer, or an answer could land on an innocent
// third party (a null reverse path, RFC 5321 section 4.5.5; a DMARC or SPF
// failure at the desk's own receiving server).
func heldAckReason(auto string) string {
	return truncate(AckHeldPrefix+auto, 1000)
}

// bounceDetail is the timeline entry of a bounce on its account's case:
// the address is undeliverable, which matters for containment.
func bounceDetail(p ParsedMail) string {
	detail := "Address undeliverable: a bounce came back for this account's mail"
	if len(p.BounceRecipients) > 0 {
		detail += " (" + mask.Text(strings.Join(p.BounceRecipients, ", ")) + ")"
	}
	return detail + "."
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
	for i := range ms {
		ms[i].FromAddr = mask.Address(ms[i].FromAddr)
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
	statusToken := ident.RandomToken(18)
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

// storableBatch returns the batch with every parsed text storable
// (store.StorableText): a NUL in one subject must not fail the whole batch on
// PostgreSQL, nor become a query parameter it refuses. The caller's slices
// are left alone.
func storableBatch(batch []InboundMail) []InboundMail {
	out := make([]InboundMail, len(batch))
	list := func(in []string) []string {
		if in == nil {
			return nil
		}
		l := make([]string, len(in))
		for i, s := range in {
			l[i] = store.StorableText(s)
		}
		return l
	}
	for i, m := range batch {
		p := &m.Parsed
		p.Class, p.MessageID, p.From, p.Subject = store.StorableText(p.Class), store.StorableText(p.MessageID), store.StorableText(p.From), store.StorableText(p.Subject)
		p.Lang, p.Auto, p.Reason = store.StorableText(p.Lang), store.StorableText(p.Auto), store.StorableText(p.Reason)
		p.MessageIDs, p.Tokens, p.BounceRecipients, p.Problems = list(p.MessageIDs), list(p.Tokens), list(p.BounceRecipients), list(p.Problems)
		out[i] = m
	}
	return out
}
