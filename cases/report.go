package cases

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/sealed"
	"notme/cases/store"
)

// ReportInput is one report as a channel received it.
type ReportInput struct {
	Channel Channel
	// Token is a sealed token from the link, the address a reply went to,
	// or text; it may be forged or empty.
	Token string
	// Tokens are further candidate tokens, strongest first (mail).
	Tokens []string
	// MessageIDs are candidates for the original mail, strongest first.
	MessageIDs []string
	// Reporter is the reporter's address where the channel gives one (mail).
	Reporter      string
	OpenedLink    bool
	SetPassword   bool
	NeverSignedUp bool
	Note          string
	// Actor names who filed it on the timeline: "reporter", "api:NAME".
	Actor string
	// Submission, when set, names this one submission of a form: filed
	// again with the same Submission, the report is not filed twice, and
	// the first filing is the answer (Filed.Again).
	Submission string
	// Request, with Submission, describes what the submission asks for
	// (an API call's body): the same Submission with another Request is
	// refused (EINVALID), not answered with the first filing.
	Request []byte
	// VerifiedFeedbackLoop (mail): an abuse report from a configured
	// feedback-loop sender whose DKIM the desk's own MTA verified.
	VerifiedFeedbackLoop bool
	// ReporterDoubted (mail): something casts doubt on Reporter being the
	// sender (the desk's MTA saw DMARC or SPF fail, a null return path, a
	// list), so the address proves nothing of holding the mail.
	ReporterDoubted bool
	// Client is an opaque key of who sent the report (the web layer's
	// choice, say an address); only a keyed hash is stored, to bound the
	// triage cases one client opens (triage.go). Empty for mail.
	Client string
}

// Filed is the answer to a report. StatusToken is shown to the reporter
// once and stored only as a hash.
type Filed struct {
	CaseRef     string
	StatusToken string
	NewCase     bool
	Case        Case
	Report      Report
	Requested   int // containment actions the filing requested
	// Again is true when the submission had been filed before: nothing new
	// was filed, and the fields describe the first filing.
	Again bool
}

// match is the outcome of the matching ladder for one report.
type match struct {
	confidence Match
	by         string // token, ledger, recipient, none
	accountRef string
	kind       string
	keyID      int
	messageID  string
	groupKey   string
	recipient  string // the ledger message's recipient, if one matched
	// linkHash and recipientHash identify the sealed link and the
	// recipient for containment holds (holds.go).
	linkHash      []byte
	recipientHash []byte
	triageClient  []byte // the client key of a new triage case
}

// FileReport runs the matching ladder and puts the report on the open case
// of the affected account, opening one if there is none. Nothing is dropped:
// a report that matches nothing opens (or joins) an unmatched case.
func (s *Service) FileReport(ctx context.Context, in ReportInput) (Filed, error) {
	if err := s.prepareReport(&in); err != nil {
		return Filed{}, err
	}
	statusToken := ident.RandomToken(18)
	if in.Submission != "" {
		statusToken = s.sealer.StatusToken(in.Submission)
	}
	var filed Filed
	// Two instances on PostgreSQL may race to open the same account's case;
	// the loser of the unique index on open_key retries and joins it. A
	// submission filed before meets its own status_hash in that index, and
	// the retry finds the first filing.
	for attempt := 0; ; attempt++ {
		if in.Submission != "" && attempt > 0 {
			again, ok, err := s.filedBefore(ctx, statusToken)
			if err != nil {
				return Filed{}, err
			}
			if ok && !sameRequest(again.Report.RequestDigest, in.Request) {
				return Filed{}, Errorf(EINVALID, "this submission was filed before with another request; send the new one under a new name")
			}
			if ok {
				s.log.Info("report submitted again; filed once", "case", again.CaseRef, "channel", in.Channel)
				return again, nil
			}
		}
		err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			filed, err = s.fileReport(tx, in, statusToken)
			return err
		})
		if err == nil {
			break
		}
		if errors.Is(err, gorm.ErrDuplicatedKey) && attempt < 3 {
			continue
		}
		return Filed{}, fmt.Errorf("file %s report: %w", in.Channel, err)
	}
	filed.StatusToken = statusToken
	if filed.Requested > 0 {
		s.wakeDeliveries()
	}
	s.log.Info("report filed", "case", filed.CaseRef, "channel", in.Channel,
		"match", filed.Report.Match, "matched_by", filed.Report.MatchedBy, "new_case", filed.NewCase)
	return filed, nil
}

// filedBefore finds the report whose status token is statusToken.
func (s *Service) filedBefore(ctx context.Context, statusToken string) (Filed, bool, error) {
	db := s.store.w.WithContext(ctx)
	var r Report
	if err := db.Where("status_hash = ?", ident.HashSecret(statusToken)).Limit(1).Find(&r).Error; err != nil {
		return Filed{}, false, fmt.Errorf("look up the submission: %w", err)
	}
	if r.ID == 0 {
		return Filed{}, false, nil
	}
	var c Case
	if err := db.Where("id = ?", r.CaseID).Take(&c).Error; err != nil {
		return Filed{}, false, fmt.Errorf("read the case of report %d: %w", r.ID, err)
	}
	return Filed{CaseRef: c.Ref, StatusToken: statusToken, Case: c, Report: r, Again: true}, true, nil
}

func (s *Service) prepareReport(in *ReportInput) error {
	switch in.Channel {
	case ChannelLink, ChannelMail, ChannelForm, ChannelAPI:
	default:
		return Errorf(EINVALID, "unknown channel %q", in.Channel)
	}
	in.Note = cleanNote(in.Note)
	if n := utf8.RuneCountInString(in.Note); n > s.noteMaxChars {
		return Errorf(EINVALID, "the note is %d characters long; at most %d fit", n, s.noteMaxChars)
	}
	in.Reporter = strings.ToLower(strings.TrimSpace(store.StorableText(in.Reporter)))
	in.Reporter = truncate(in.Reporter, maxRecipient)
	in.Token = truncate(in.Token, 1024)
	if len(in.MessageIDs) > 20 {
		in.MessageIDs = in.MessageIDs[:20]
	}
	if len(in.Tokens) > 20 {
		in.Tokens = in.Tokens[:20]
	}
	if in.Actor == "" {
		in.Actor = "reporter"
	}
	return nil
}

// cleanNote drops control characters other than line breaks and tabs, and
// invalid UTF-8, which a note has no use for.
func cleanNote(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// matchLookup answers the database questions of the matching ladder; the
// ingest of a mail batch answers them from per-batch caches.
type matchLookup interface {
	// ledgerByMessageID returns the ledger message with this Message-ID
	// (ID 0 when there is none).
	ledgerByMessageID(id string) (LedgerMessage, error)
	// caseByRef returns the case with this reference (ID 0 when none).
	caseByRef(ref string) (Case, error)
	// ledgerByRecipient returns the newest ledger message to this address
	// (ID 0 when none).
	ledgerByRecipient(addr string) (LedgerMessage, error)
}

// txLookup asks the database every time.
type txLookup struct{ tx *gorm.DB }

func (l txLookup) ledgerByMessageID(id string) (LedgerMessage, error) {
	var m LedgerMessage
	err := l.tx.Where("message_id = ?", id).Limit(1).Find(&m).Error
	return m, err
}

func (l txLookup) caseByRef(ref string) (Case, error) {
	var c Case
	err := l.tx.Where("ref = ?", ref).Limit(1).Find(&c).Error
	return c, err
}

func (l txLookup) ledgerByRecipient(addr string) (LedgerMessage, error) {
	var m LedgerMessage
	err := l.tx.Where("recipient = ?", addr).Order("created_at DESC").Limit(1).Find(&m).Error
	return m, err
}

// matchReport is the matching ladder, strongest first: a sealed token, a
// Message-ID in the ledger (probable when pasted on the form; see
// ledgerConfidence), then the reporter's address as a recipient.
func (s *Service) matchReport(tx *gorm.DB, in ReportInput) (match, error) {
	return s.matchWith(txLookup{tx}, in)
}

func (s *Service) matchWith(l matchLookup, in ReportInput) (match, error) {
	for _, tok := range append([]string{in.Token}, in.Tokens...) {
		if tok == "" {
			continue
		}
		if c, err := s.sealer.Open(tok); err == nil {
			return s.withLedgerRecipient(l, c, s.tokenMatch(c, ""))
		}
	}
	for _, id := range in.MessageIDs {
		if tok := TokenFromMessageID(id); tok != "" {
			if c, err := s.sealer.Open(tok); err == nil {
				return s.withLedgerRecipient(l, c, s.tokenMatch(c, NormalizeMessageID(id)))
			}
		}
	}
	// The first ledger message that the evidence shows the reporter holds
	// wins; else the first one named, as a probable match.
	var named match
	for _, id := range in.MessageIDs {
		id = NormalizeMessageID(id)
		if id == "" {
			continue
		}
		m, err := l.ledgerByMessageID(id)
		if err != nil {
			return match{}, fmt.Errorf("look up %q in ledger: %w", id, err)
		}
		if m.ID == 0 {
			continue
		}
		lm := match{confidence: ledgerConfidence(in, m), by: "ledger", accountRef: m.AccountRef, kind: m.Kind,
			messageID: m.MessageID, groupKey: "account:" + m.AccountRef, recipient: m.Recipient}
		if lm.confidence == MatchExact {
			return lm, nil
		}
		if named.by == "" {
			named = lm
		}
	}
	if named.by != "" {
		return named, nil
	}
	// A reply to the desk's own acknowledgement (Message-ID
	// ack.NM-XXXX-XXXX.…@desk) belongs to that case. Anyone could write
	// such an ID, so it is a probable match: it joins the case, never
	// strengthens it.
	for _, id := range in.MessageIDs {
		ref := caseRefFromAckID(NormalizeMessageID(id))
		if ref == "" {
			continue
		}
		c, err := l.caseByRef(ref)
		if err != nil {
			return match{}, fmt.Errorf("look up case %s: %w", ref, err)
		}
		if c.ID != 0 || c.Ref != "" {
			return match{confidence: MatchProbable, by: "case-ref", accountRef: c.AccountRef, kind: c.Kind,
				groupKey: c.GroupKey}, nil
		}
	}
	if in.Reporter != "" {
		m, err := l.ledgerByRecipient(in.Reporter)
		if err != nil {
			return match{}, fmt.Errorf("look up reporter in ledger: %w", err)
		}
		if m.ID != 0 {
			return match{confidence: MatchProbable, by: "recipient", accountRef: m.AccountRef, kind: m.Kind,
				messageID: m.MessageID, groupKey: "account:" + m.AccountRef, recipient: m.Recipient}, nil
		}
	}
	// Unmatched. Reports of the same link or message still share a case, so
	// that a second click does not open a second one.
	m := match{confidence: MatchUnmatched, by: "none"}
	firstToken := in.Token
	if firstToken == "" && len(in.Tokens) > 0 {
		firstToken = in.Tokens[0]
	}
	switch {
	case firstToken != "":
		m.groupKey = "token:" + shortHash(firstToken)
	case len(in.MessageIDs) > 0 && NormalizeMessageID(in.MessageIDs[0]) != "":
		m.messageID = NormalizeMessageID(in.MessageIDs[0])
		m.groupKey = "msgid:" + shortHash(m.messageID)
	default:
		m.groupKey = "report:" + ident.RandomToken(12)
	}
	return m, nil
}

// ledgerConfidence is how much a ledger Message-ID proves: by itself,
// nothing of holding the mail. Companies' Message-IDs are often guessable
// (<order-1002@shop.example>) and anyone can write one on /report, in a
// mail's In-Reply-To or in an abuse report, so it is a probable match for a
// trained agent to confirm (ConfirmMatch) and requests no containment.
// It is exact only with evidence a stranger cannot cheaply make:
//   - a reply or forward whose From is the address the ledger says the
//     mail went to, with nothing casting doubt on that From;
//   - an abuse report from a configured feedback-loop sender whose DKIM the
//     desk's own MTA verified (decided in inbox);
//
// The call centre's API (reports:write) is no exception: its caller is a
// stranger reading out a Message-ID, which proves no more than one pasted
// on /report.
// A sealed token is exact everywhere (tokenMatch): only a holder has one.
func ledgerConfidence(in ReportInput, m LedgerMessage) Match {
	switch in.Channel {
	case ChannelMail:
		if in.VerifiedFeedbackLoop {
			return MatchExact
		}
		if in.Reporter != "" && !in.ReporterDoubted && sameAddress(in.Reporter, m.Recipient) {
			return MatchExact
		}
	}
	return MatchProbable
}

// sameAddress compares two addresses as the ledger stores them: trimmed,
// the domain case-insensitive. The local part is compared lower-cased too,
// as the ledger and the reporter's address are both lower-cased; no other
// folding (dots, +tags), which would let one address stand for another.
func sameAddress(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && validAddress(a) && strings.EqualFold(a, b)
}

func (s *Service) tokenMatch(c sealed.Claims, messageID string) match {
	return match{confidence: MatchExact, by: "token", accountRef: c.AccountRef, kind: c.Kind,
		keyID: int(c.KeyID), messageID: messageID, groupKey: "account:" + c.AccountRef}
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// assess returns the severity a report alone calls for: the kind's, raised
// by what the reporter says they did.
func (s *Service) assess(kindName string, in ReportInput) (Severity, string) {
	k, known := s.kinds[kindName]
	sev := SeverityNormal
	if known {
		sev = k.Severity
	}
	switch {
	case in.SetPassword && known && k.Credential:
		return SeverityCritical, "the reporter set a password or entered details from a credential mail: possible takeover"
	case in.SetPassword:
		return maxSeverity(sev, SeverityHigh), "the reporter set a password or entered details"
	case in.OpenedLink && known && k.Credential:
		return maxSeverity(sev, SeverityHigh), "the reporter opened a link in a credential mail"
	}
	return sev, ""
}

func (s *Service) fileReport(tx *gorm.DB, in ReportInput, statusToken string) (Filed, error) {
	now := s.clock()
	m, err := s.matchReport(tx, in)
	if err != nil {
		return Filed{}, err
	}
	m = s.withHoldKeys(m, in)
	if held, scope, err := s.heldCase(tx, m); err != nil {
		return Filed{}, err
	} else if held != nil {
		return s.fileOnHold(tx, m, in, held, onHoldEvent(scope), statusToken, now)
	}
	var c Case
	if err := tx.Where("open_key = ?", m.groupKey).Limit(1).Find(&c).Error; err != nil {
		return Filed{}, fmt.Errorf("find open case: %w", err)
	}
	if c.ID == 0 && m.confidence == MatchUnmatched {
		key := m.groupKey
		closed, ev, keep, err := s.triage(tx, &m, in, now)
		if err != nil {
			return Filed{}, err
		}
		if keep {
			return s.fileOnHold(tx, m, in, closed, ev, statusToken, now)
		}
		if m.groupKey != key {
			if err := tx.Where("open_key = ?", m.groupKey).Limit(1).Find(&c).Error; err != nil {
				return Filed{}, fmt.Errorf("find open triage case: %w", err)
			}
		}
	}
	var reopened map[string]any
	var reopenEvent Event
	if c.ID == 0 {
		old, found, err := s.reopenable(tx, m.groupKey, now)
		if err != nil {
			return Filed{}, err
		}
		if found {
			c = *old
			reopened, reopenEvent = s.reopen(&c, now)
		}
	}
	newCase := c.ID == 0
	updates, events := s.planFiling(m, in, &c, newCase, now)
	if reopened != nil {
		for k, v := range reopened {
			if _, set := updates[k]; !set {
				updates[k] = v
			}
		}
		events = append([]Event{reopenEvent}, events...)
	}
	if newCase {
		c.TriageClient = m.triageClient
		if err := tx.Create(&c).Error; err != nil {
			return Filed{}, fmt.Errorf("open case: %w", err)
		}
	} else {
		if err := tx.Model(&Case{}).Where("id = ?", c.ID).Updates(updates).Error; err != nil {
			return Filed{}, fmt.Errorf("update case %s: %w", c.Ref, err)
		}
	}
	r := s.newReport(m, in, c.ID, statusToken, now)
	if err := tx.Create(&r).Error; err != nil {
		return Filed{}, fmt.Errorf("store report: %w", err)
	}
	events = append(events, Event{Type: EventReportAdded, Detail: reportSummary(r), Code: CodeReportAdded, Args: reportArgs(r)})
	for i := range events {
		events[i].CaseID, events[i].At, events[i].Actor = c.ID, now, in.Actor
	}
	var requested int
	if newCase || updates["confidence"] == MatchExact {
		// A case asks for containment when it becomes an exact match;
		// later reports on it add nothing.
		var contained []Event
		requested, contained, err = s.containFiled(tx, []*Case{&c}, map[*Case]bool{&c: newCase}, now)
		if err != nil {
			return Filed{}, err
		}
		events = append(events, contained...)
	}
	if err := tx.Create(&events).Error; err != nil {
		return Filed{}, fmt.Errorf("append timeline: %w", err)
	}
	if err := s.escalateFiled(tx, []filedReport{{&c, r, m.recipient}}); err != nil {
		return Filed{}, err
	}
	return Filed{CaseRef: c.Ref, NewCase: newCase, Case: c, Report: r, Requested: requested}, nil
}

// fileOnHold files a report on a closed case (why says why): the case
// whose dismissal holds its link, account or recipient, or the triage
// case of a client at its bound. The case stays as it is and nothing is
// requested; the event puts it on /leads.
func (s *Service) fileOnHold(tx *gorm.DB, m match, in ReportInput, c *Case, why Event, statusToken string, now time.Time) (Filed, error) {
	r := s.newReport(m, in, c.ID, statusToken, now)
	r.OnClosedCase = true
	if err := tx.Create(&r).Error; err != nil {
		return Filed{}, fmt.Errorf("store report: %w", err)
	}
	events := []Event{why,
		{Type: EventReportAdded, Detail: reportSummary(r), Code: CodeReportAdded, Args: reportArgs(r)}}
	for i := range events {
		events[i].CaseID, events[i].At, events[i].Actor = c.ID, now, in.Actor
	}
	if err := tx.Create(&events).Error; err != nil {
		return Filed{}, fmt.Errorf("append timeline: %w", err)
	}
	return Filed{CaseRef: c.Ref, Case: *c, Report: r}, nil
}

// planFiling decides, without touching the database, what a report matched
// as m does to its case: c is the open case (newCase false) or is filled in
// as the case to open. It returns the columns to update on an existing case
// and the timeline events before the report's own; c is changed to match.
func (s *Service) planFiling(m match, in ReportInput, c *Case, newCase bool, now time.Time) (map[string]any, []Event) {
	sev, why := s.assess(m.kind, in)
	var events []Event
	if newCase {
		key := m.groupKey
		*c = Case{
			Ref: ident.NewCaseRef(), GroupKey: m.groupKey, OpenKey: &key,
			AccountRef: m.accountRef, Kind: m.kind,
			Status: StatusNew, Severity: sev, Tier: TierSecurity, Match: m.confidence,
			CreatedAt: now, UpdatedAt: now, ContainBy: now.Add(s.containBy[sev]),
		}
		s.openDeadlines(c, in, now)
		events = append(events, Event{Type: EventOpened, Detail: fmt.Sprintf(
			"Opened from a %s report, %s match by %s; severity %s; to the %s tier; contain by %s.",
			in.Channel, m.confidence, m.by, sev, TierSecurity, c.ContainBy.Format(time.RFC3339)),
			Code: CodeOpened, Args: Args{"channel": string(in.Channel), "match": string(m.confidence), "by": m.by,
				"severity": string(sev), "tier": TierSecurity, "contain_by": argTime(c.ContainBy)}})
		if why != "" {
			events = append(events, Event{Type: EventSeverityRaised, Detail: "Severity " + string(sev) + ": " + why + ".",
				Code: CodeSeveritySet, Args: Args{"severity": string(sev), "why": whyCode(why)}})
		}
		if reason := s.takeoverReason(m, in); reason != "" {
			c.Escalated = true
			events = append(events, Event{Type: EventEscalated, Detail: "Escalated to the security leads: " + reason,
				Code: CodeEscalatedRule, Args: withFact(RulePossibleTakeover, takeoverFact(reason))})
		}
		return nil, events
	}

	updates := map[string]any{"updated_at": now}
	s.moveDeadlines(c, sev, in, now, updates)
	// Worse evidence on a contained case (a report that raises its
	// severity, such as "I set a password" after a credential mail was
	// contained) reopens it: see reopenForEvidence.
	worse := c.Status == StatusContained && sev.rank() > c.Severity.rank()
	before := c.Severity
	if sev.rank() > c.Severity.rank() {
		due := now.Add(s.containBy[sev])
		if due.Before(c.ContainBy) {
			updates["contain_by"] = due
			c.ContainBy = due
		}
		events = append(events, Event{Type: EventSeverityRaised, Detail: fmt.Sprintf(
			"Severity %s → %s: %s.", c.Severity, sev, orDefault(why, "the reported mail's kind")),
			Code: CodeSeverityRaised, Args: Args{"from": string(c.Severity), "to": string(sev), "why": whyCode(why)}})
		updates["severity"] = sev
		c.Severity = sev
	}
	if m.confidence.rank() > c.Match.rank() {
		events = append(events, Event{Type: EventMatchImproved, Detail: fmt.Sprintf(
			"Match %s → %s by %s.", c.Match, m.confidence, m.by),
			Code: CodeMatchImproved, Args: Args{"from": string(c.Match), "to": string(m.confidence), "by": m.by}})
		updates["confidence"] = m.confidence
		c.Match = m.confidence
	}
	reason := s.takeoverReason(m, in)
	if worse {
		events = append(events, s.reopenForEvidence(c, before, sev, reason, now, updates)...)
	} else if reason != "" && !c.Escalated {
		c.Escalated, updates["escalated"] = true, true
		events = append(events, Event{Type: EventEscalated, Detail: "Escalated to the security leads: " + reason,
			Code: CodeEscalatedRule, Args: withFact(RulePossibleTakeover, takeoverFact(reason))})
	}
	c.UpdatedAt = now
	return updates, events
}

// EventNewEvidence marks worse evidence on a contained case, which put it
// back to new.
const EventNewEvidence = "new_evidence"

// reopenForEvidence puts a contained case that a worse report (severity
// from → to) joined back to new, so that every surface shows it as
// needing a person: the queue lists it among the uncontained cases, Take
// next hands it out first, and its contain-by is unmet again. Back to new
// rather than a flag beside "contained" because the containment done so
// far answered the earlier, milder evidence (say, pending links revoked);
// what the new evidence calls for (locking the account, reaching the
// holder) is not done until someone contains the case again. The fresh
// contain-by runs from now at the new severity; the leads hear of it (the
// takeover reason if the report is one), also on a case escalated
// already. Columns go into upd; the events are returned.
func (s *Service) reopenForEvidence(c *Case, from, to Severity, reason string, now time.Time, upd map[string]any) []Event {
	due := now.Add(s.containBy[to])
	c.Status, c.ContainBy = StatusNew, due
	upd["status"], upd["contain_by"] = StatusNew, due
	evs := []Event{{Type: EventNewEvidence, Detail: fmt.Sprintf(
		"New evidence since containment: severity %s → %s; status contained → new; contain by %s.",
		from, to, due.Format(time.RFC3339)),
		Code: CodeNewEvidence, Args: Args{"from": string(from), "to": string(to), "contain_by": argTime(due)}}}
	fact, rule := takeoverFact(reason), RulePossibleTakeover
	if reason == "" {
		reason = fmt.Sprintf("new evidence since containment raised the severity from %s to %s.", from, to)
		fact = Fact{Code: FactNewEvidence, Args: Args{"from": string(from), "to": string(to)}, Text: reason}
		rule = ""
	}
	if c.Escalated {
		return append(evs, Event{Type: EventEscalated, Detail: "Further escalation reason, " + reason,
			Code: CodeEscalatedFurther, Args: withFact(rule, fact)})
	}
	c.Escalated, upd["escalated"] = true, true
	return append(evs, Event{Type: EventEscalated, Detail: escalatedPrefix + reason,
		Code: CodeEscalatedRule, Args: withFact(rule, fact)})
}

// takeoverReason says why a report is a possible account takeover, or "":
// the mail carried a credential link and the reporter used it.
func (s *Service) takeoverReason(m match, in ReportInput) string {
	if !s.escalateTakeover {
		return ""
	}
	k, ok := s.kinds[m.kind]
	if !ok || !k.Credential || !(in.SetPassword || in.OpenedLink) {
		return ""
	}
	if in.SetPassword {
		return "possible takeover: the reporter set a password or entered details from a credential mail."
	}
	return "possible takeover: the reporter opened the link of a credential mail."
}

// newReport is the report row of a filing on case caseID.
func (s *Service) newReport(m match, in ReportInput, caseID int64, statusToken string, now time.Time) Report {
	return Report{
		CaseID: caseID, Channel: in.Channel, MatchedBy: m.by, Match: m.confidence,
		MessageID: m.messageID, TokenKeyID: m.keyID,
		OpenedLink: in.OpenedLink, SetPassword: in.SetPassword, NeverSignedUp: in.NeverSignedUp,
		Note: in.Note, Reporter: in.Reporter, StatusHash: ident.HashSecret(statusToken), ReceivedAt: now,
		RequestDigest: requestDigest(in), RecipientDomain: recipientDomain(m.recipient, in.Reporter),
		TokenHash: m.linkHash, RecipientHash: m.recipientHash,
	}
}

// requestDigest is the digest of a named submission's request; nil
// without one.
func requestDigest(in ReportInput) []byte {
	if in.Submission == "" || in.Request == nil {
		return nil
	}
	d := sha256.Sum256(in.Request)
	return d[:]
}

// sameRequest reports whether a submission filed with digest asks what
// request does. A filing without a digest (a form, or filed by a release
// that kept none) is taken as the same.
func sameRequest(digest, request []byte) bool {
	if digest == nil || request == nil {
		return true
	}
	d := sha256.Sum256(request)
	return bytes.Equal(digest, d[:])
}

func reportSummary(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Report by %s, %s match by %s", r.Channel, r.Match, r.MatchedBy)
	var ticks []string
	if r.OpenedLink {
		ticks = append(ticks, "opened a link")
	}
	if r.SetPassword {
		ticks = append(ticks, "set a password or entered details")
	}
	if r.NeverSignedUp {
		ticks = append(ticks, "never signed up")
	}
	if len(ticks) > 0 {
		b.WriteString("; reporter says: " + strings.Join(ticks, ", "))
	}
	if r.Note != "" {
		b.WriteString("; with a note")
	}
	b.WriteString(".")
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// caseRefFromAckID returns the case reference inside the Message-ID of an
// acknowledgement the desk sent ("ack.NM-XXXX-XXXX.RANDOM@domain"), or "".
func caseRefFromAckID(id string) string {
	rest, ok := strings.CutPrefix(id, "ack.")
	if !ok {
		return ""
	}
	ref, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	return ident.NormalizeCaseRef(ref)
}
