package cases

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// A mailBatch takes in one batch of mail in one transaction with a handful
// of statements instead of some ten per mail: what the mails ask of the
// database is looked up once per batch (re-fetches, duplicates, the ledger,
// open cases, recent acknowledgements), and what they store is written at
// the end in multi-row INSERTs, in the order the mails came. Per mail the
// outcome is the one taking the mails in one by one would give: the caches
// see what earlier mails of the batch did.
type mailBatch struct {
	s  *Service
	tx *gorm.DB

	// Looked up before the first mail.
	fetched map[string]MailMessage // by imap_key: taken in before
	reports map[string]bool        // message_ids that became reports before
	ledger  map[string]LedgerMessage
	// ledgerSenders are the senders of unrelated mail that are ledger
	// recipients: their mail is a report (ingestOne).
	ledgerSenders map[string]bool

	// Filled as the batch goes.
	byKey     map[string]int           // imap_key → index of the mail in this batch
	seen      map[string]bool          // message_ids that became reports in this batch
	recipient map[string]LedgerMessage // newest ledger message per address
	refs      map[string]*Case         // case by ref; nil = none
	open      map[string]*Case         // open case by group key; nil = none
	// resolved holds, for the group keys looked up before the first mail,
	// the newest case resolved within the reopen window; nil = none.
	resolved map[string]*Case

	newCases []*Case // to insert, in order
	updates  map[*Case]map[string]any
	updOrder []*Case
	filings  []*batchFiling
	events   []batchEvent
	mails    []batchMail
	acks     []batchAck
}

type batchFiling struct {
	c      *Case
	report Report
	// recipient is the ledger recipient of the matched mail, "" if none
	// (ackPlausible).
	recipient string
}

type batchEvent struct {
	c  *Case
	ev Event
}

type batchMail struct {
	row    MailMessage
	c      *Case
	filing *batchFiling
}

type batchAck struct {
	mail int // index into mails
	c    *Case
	p    ParsedMail
	ref  string
	tok  string
	now  time.Time
	held string // set: recorded as suppressed with this reason, never sent
}

// inChunk bounds the parameters of one IN list or multi-row INSERT, well
// below what SQLite and PostgreSQL accept.
const inChunk = 500

// rowChunk bounds the rows of one multi-row INSERT: at most some 20
// columns each, so a few thousand parameters.
const rowChunk = 200

func chunks[T any](xs []T, n int, f func([]T) error) error {
	for len(xs) > 0 {
		k := min(n, len(xs))
		if err := f(xs[:k]); err != nil {
			return err
		}
		xs = xs[k:]
	}
	return nil
}

func keysOf(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

func newMailBatch(s *Service, tx *gorm.DB) *mailBatch {
	return &mailBatch{s: s, tx: tx,
		fetched: map[string]MailMessage{}, reports: map[string]bool{}, ledger: map[string]LedgerMessage{}, ledgerSenders: map[string]bool{},
		byKey: map[string]int{}, seen: map[string]bool{}, recipient: map[string]LedgerMessage{},
		refs: map[string]*Case{}, open: map[string]*Case{}, resolved: map[string]*Case{}, updates: map[*Case]map[string]any{},
	}
}

// mailReportInput is the ReportInput a report mail files, prepared.
func (s *Service) mailReportInput(p ParsedMail) (ReportInput, error) {
	in := ReportInput{Channel: ChannelMail, Tokens: p.Tokens, MessageIDs: p.MessageIDs, Actor: "mail"}
	if p.Class == ClassReport {
		in.Reporter = p.From // an ARF's From is the mailbox provider, not a reporter
		in.ReporterDoubted = !personalMail(p.Auto)
	}
	in.VerifiedFeedbackLoop = p.Class == ClassARF && p.VerifiedFeedbackLoop
	err := s.prepareReport(&in)
	return in, err
}

// personalMail reports whether a mail without candidates may still be a
// person's report, judged by why it must not be answered (ParsedMail.Auto):
// a person wrote it, or it only asks for no automatic answer (Outlook sets
// X-Auto-Response-Suppress on mail people write). A failed DMARC or SPF
// check, a null reverse path or a list's mail casts doubt on the very From
// that would make it a report, so such mail stays unrelated, for a person
// to read on /mail.
func personalMail(auto string) bool {
	return auto == "" || auto == "x-auto-response-suppress"
}

// prefetch looks up, for the whole batch, what the mails will ask.
func (b *mailBatch) prefetch(batch []InboundMail) error {
	keys := map[string]bool{}
	msgIDs := map[string]bool{}
	ledgerIDs := map[string]bool{}
	senders := map[string]bool{}
	for _, m := range batch {
		if k := imapKey(m); k != nil {
			keys[*k] = true
		}
		p := m.Parsed
		if p.Reason != "" {
			continue
		}
		if from := strings.ToLower(strings.TrimSpace(p.From)); p.Class == ClassUnrelated && from != "" && personalMail(p.Auto) {
			senders[from] = true
		}
		var candidates []string
		switch p.Class {
		case ClassReport, ClassARF:
			if id := NormalizeMessageID(p.MessageID); id != "" {
				msgIDs[id] = true
			}
			candidates = p.MessageIDs
			if len(candidates) > 20 {
				candidates = candidates[:20]
			}
		case ClassBounce:
			candidates = p.MessageIDs
		}
		for _, id := range candidates {
			if id = NormalizeMessageID(id); id != "" {
				ledgerIDs[id] = true
			}
		}
	}
	err := chunks(keysOf(keys), inChunk, func(ks []string) error {
		var rows []MailMessage
		if err := b.tx.Select("id, imap_key, disposition, reason").Where("imap_key IN ?", ks).Find(&rows).Error; err != nil {
			return fmt.Errorf("look up earlier fetches: %w", err)
		}
		for _, r := range rows {
			b.fetched[*r.IMAPKey] = r
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = chunks(keysOf(msgIDs), inChunk, func(ids []string) error {
		var found []string
		if err := b.tx.Model(&MailMessage{}).Where("message_id IN ? AND disposition = ?", ids, DispositionReport).
			Distinct().Pluck("message_id", &found).Error; err != nil {
			return fmt.Errorf("look up message-ids: %w", err)
		}
		for _, id := range found {
			b.reports[id] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = chunks(keysOf(senders), inChunk, func(as []string) error {
		var found []string
		if err := b.tx.Model(&LedgerMessage{}).Where("recipient IN ?", as).Distinct().Pluck("recipient", &found).Error; err != nil {
			return fmt.Errorf("look up senders in ledger: %w", err)
		}
		for _, a := range found {
			b.ledgerSenders[a] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	accounts := map[string]bool{}
	err = chunks(keysOf(ledgerIDs), inChunk, func(ids []string) error {
		var rows []LedgerMessage
		if err := b.tx.Where("message_id IN ?", ids).Find(&rows).Error; err != nil {
			return fmt.Errorf("look up ledger: %w", err)
		}
		for _, r := range rows {
			if _, dup := b.ledger[r.MessageID]; !dup {
				b.ledger[r.MessageID] = r
			}
			accounts["account:"+r.AccountRef] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id := range ledgerIDs {
		if _, ok := b.ledger[id]; !ok {
			b.ledger[id] = LedgerMessage{}
		}
	}
	// The open cases of the accounts the ledger found: most reports join or
	// open one of these. Where none is open, a case resolved within the
	// reopen window is reopened instead of a new one opened.
	for k := range accounts {
		b.open[k] = nil
		b.resolved[k] = nil
	}
	since := b.s.clock().Add(-b.s.reopenWindow)
	return chunks(keysOf(accounts), inChunk, func(ks []string) error {
		var cs []Case
		if err := b.tx.Where("open_key IN ?", ks).Find(&cs).Error; err != nil {
			return fmt.Errorf("find open cases: %w", err)
		}
		for i := range cs {
			c := cs[i]
			b.open[*c.OpenKey] = &c
		}
		var rs []Case
		err := b.tx.Where("group_key IN ? AND status = ? AND updated_at > ?", ks, StatusResolved, since).Find(&rs).Error
		if err != nil {
			return fmt.Errorf("find resolved cases: %w", err)
		}
		for i := range rs {
			c := rs[i]
			// The newest, as reopenable picks it.
			if prev := b.resolved[c.GroupKey]; prev == nil || c.UpdatedAt.After(prev.UpdatedAt) ||
				c.UpdatedAt.Equal(prev.UpdatedAt) && c.ID > prev.ID {
				b.resolved[c.GroupKey] = &c
			}
		}
		return nil
	})
}

// reopenable is Service.reopenable, answered from the look-up before the
// first mail when the group key was in it. The clock only moves on, so a
// case resolved within the window at each mail's time was in that look-up.
func (b *mailBatch) reopenable(key string, now time.Time) (c *Case, found bool, err error) {
	c, ok := b.resolved[key]
	if !ok {
		return b.s.reopenable(b.tx, key, now)
	}
	if c == nil || !c.UpdatedAt.After(now.Add(-b.s.reopenWindow)) {
		return nil, false, nil
	}
	b.resolved[key] = nil // reopened now: from here on it is the open case
	return c, true, nil
}

func (b *mailBatch) ledgerByMessageID(id string) (LedgerMessage, error) {
	if m, ok := b.ledger[id]; ok {
		return m, nil
	}
	m, err := txLookup{b.tx}.ledgerByMessageID(id)
	if err == nil {
		b.ledger[id] = m
	}
	return m, err
}

func (b *mailBatch) ledgerByRecipient(addr string) (LedgerMessage, error) {
	if m, ok := b.recipient[addr]; ok {
		return m, nil
	}
	m, err := txLookup{b.tx}.ledgerByRecipient(addr)
	if err == nil {
		b.recipient[addr] = m
	}
	return m, err
}

// caseByRef finds cases opened earlier in the batch too; those have no ID
// yet but a Ref.
func (b *mailBatch) caseByRef(ref string) (Case, error) {
	if c, ok := b.refs[ref]; ok {
		if c == nil {
			return Case{}, nil
		}
		return *c, nil
	}
	c, err := txLookup{b.tx}.caseByRef(ref)
	if err != nil {
		return Case{}, err
	}
	if c.ID == 0 {
		b.refs[ref] = nil
	} else {
		b.refs[ref] = &c
	}
	return c, nil
}

// openCase returns the open case of a group key; found is false when
// there is none. Cases opened earlier in the batch count.
func (b *mailBatch) openCase(key string) (c *Case, found bool, err error) {
	if c, ok := b.open[key]; ok {
		return c, c != nil, nil
	}
	var oc Case
	if err := b.tx.Where("open_key = ?", key).Limit(1).Find(&oc).Error; err != nil {
		return nil, false, err
	}
	if oc.ID == 0 {
		b.open[key] = nil // none: asked once per batch
		return nil, false, nil
	}
	b.open[key] = &oc
	return &oc, true, nil
}

// fileReport is Service.fileReport with the writes left for flush.
func (b *mailBatch) fileReport(in ReportInput, statusToken string) (*batchFiling, error) {
	s := b.s
	now := s.clock()
	m, err := s.matchWith(b, in)
	if err != nil {
		return nil, err
	}
	m = s.withHoldKeys(m, in)
	if held, scope, err := s.heldCase(b.tx, m); err != nil {
		return nil, err
	} else if held != nil {
		// A held, dismissed case: the report joins it and requests
		// nothing (autoActions skips a closed case).
		f := &batchFiling{c: held, report: s.newReport(m, in, 0, statusToken, now)}
		f.report.OnClosedCase = true
		b.filings = append(b.filings, f)
		for _, ev := range []Event{onHoldEvent(scope), {Type: EventReportAdded, Detail: reportSummary(f.report), Code: CodeReportAdded, Args: reportArgs(f.report)}} {
			ev.At, ev.Actor = now, in.Actor
			b.events = append(b.events, batchEvent{c: held, ev: ev})
		}
		return f, nil
	}
	c, found, err := b.openCase(m.groupKey)
	if err != nil {
		return nil, fmt.Errorf("find open case: %w", err)
	}
	var reopened map[string]any
	var reopenEvent Event
	if !found {
		old, found, err := b.reopenable(m.groupKey, now)
		if err != nil {
			return nil, err
		}
		if found {
			c = old
			reopened, reopenEvent = s.reopen(c, now)
			b.open[m.groupKey] = c
			b.refs[c.Ref] = c
		}
	}
	newCase := c == nil
	if newCase {
		c = &Case{}
	}
	updates, events := s.planFiling(m, in, c, newCase, now)
	if reopened != nil {
		for k, v := range reopened {
			if _, set := updates[k]; !set {
				updates[k] = v
			}
		}
		events = append([]Event{reopenEvent}, events...)
	}
	if newCase {
		b.newCases = append(b.newCases, c)
		b.open[m.groupKey] = c
		b.refs[c.Ref] = c
	} else if c.ID != 0 { // a case opened in this batch is inserted as it ends up
		prev, ok := b.updates[c]
		if !ok {
			prev = map[string]any{}
			b.updates[c] = prev
			b.updOrder = append(b.updOrder, c)
		}
		for k, v := range updates {
			prev[k] = v
		}
	}
	f := &batchFiling{c: c, report: s.newReport(m, in, 0, statusToken, now), recipient: m.recipient}
	b.filings = append(b.filings, f)
	events = append(events, Event{Type: EventReportAdded, Detail: reportSummary(f.report), Code: CodeReportAdded, Args: reportArgs(f.report)})
	for _, ev := range events {
		ev.At, ev.Actor = now, in.Actor
		b.events = append(b.events, batchEvent{c: c, ev: ev})
	}
	return f, nil
}

// noteBounce is Service.noteBounce with the event left for flush. noted
// is false when the bounce names no open case: then nothing is noted.
func (b *mailBatch) noteBounce(p ParsedMail, now time.Time) (c *Case, noted bool, err error) {
	m, err := b.s.matchWith(b, ReportInput{Tokens: p.Tokens, MessageIDs: p.MessageIDs})
	if err != nil {
		return nil, false, err
	}
	// A bounce only notes on an open case that the company's mail did not
	// arrive; it requests nothing, so a ledger Message-ID is enough.
	if m.confidence != MatchExact && m.by != "ledger" {
		return nil, false, nil
	}
	c, found, err := b.openCase(m.groupKey)
	if err != nil {
		return nil, false, fmt.Errorf("find case for bounce: %w", err)
	}
	if err := b.suppressBounced(p, m, c, now); err != nil {
		return nil, false, err
	}
	if !found {
		return nil, false, nil
	}
	b.events = append(b.events, batchEvent{c: c, ev: Event{At: now, Actor: "mail", Type: EventUndeliverable,
		Detail: bounceDetail(p), Code: CodeUndeliverable, Args: bounceArgs(p)}})
	return c, true, nil
}

// flush writes what the batch decided, each table in one statement per
// chunk, in the order the mails came.
func (b *mailBatch) flush() error {
	tx := b.tx
	if len(b.newCases) > 0 {
		rows := make([]Case, len(b.newCases))
		for i, c := range b.newCases {
			rows[i] = *c
		}
		err := chunks(rows, rowChunk, func(rs []Case) error { return tx.Create(&rs).Error })
		if err != nil {
			return fmt.Errorf("open case: %w", err)
		}
		for i, c := range b.newCases {
			c.ID = rows[i].ID
		}
	}
	// Most cases a batch touches only have a report added: one statement
	// for all of those, stamped with the batch's last filing time (they are
	// one transaction), and one each for the others.
	var touched []int64
	var touchedAt time.Time
	for _, c := range b.updOrder {
		upd := b.updates[c]
		if at, only := upd["updated_at"].(time.Time); only && len(upd) == 1 {
			touched = append(touched, c.ID)
			if at.After(touchedAt) {
				touchedAt = at
			}
			continue
		}
		if err := tx.Model(&Case{}).Where("id = ?", c.ID).Updates(upd).Error; err != nil {
			return fmt.Errorf("update case %s: %w", c.Ref, err)
		}
	}
	err := chunks(touched, inChunk, func(ids []int64) error {
		return tx.Model(&Case{}).Where("id IN ?", ids).Update("updated_at", touchedAt).Error
	})
	if err != nil {
		return fmt.Errorf("update cases: %w", err)
	}
	if len(b.filings) > 0 {
		rows := make([]Report, len(b.filings))
		for i, f := range b.filings {
			f.report.CaseID = f.c.ID
			rows[i] = f.report
		}
		if err := chunks(rows, rowChunk, func(rs []Report) error { return tx.Create(&rs).Error }); err != nil {
			return fmt.Errorf("store report: %w", err)
		}
		for i, f := range b.filings {
			f.report.ID = rows[i].ID
		}
	}
	if len(b.events) > 0 {
		rows := make([]Event, len(b.events))
		for i, e := range b.events {
			rows[i] = e.ev
			rows[i].CaseID = e.c.ID
		}
		if err := chunks(rows, rowChunk, func(rs []Event) error { return tx.Create(&rs).Error }); err != nil {
			return fmt.Errorf("append timeline: %w", err)
		}
	}
	if len(b.mails) > 0 {
		rows := make([]MailMessage, len(b.mails))
		for i := range b.mails {
			m := &b.mails[i]
			if m.filing != nil {
				m.row.ReportID = &m.filing.report.ID
			}
			if m.c != nil {
				m.row.CaseID = &m.c.ID
			}
			rows[i] = m.row
		}
		if err := chunks(rows, rowChunk, func(rs []MailMessage) error { return tx.Create(&rs).Error }); err != nil {
			return fmt.Errorf("store mail: %w", err)
		}
		for i := range b.mails {
			b.mails[i].row.ID = rows[i].ID
		}
	}
	return b.flushAcks()
}

// flushAcks queues the acknowledgements, each suppressed when its address
// had one within the window before it, in the database or earlier in the
// batch: as enqueueAck does one by one.
func (b *mailBatch) flushAcks() error {
	if len(b.acks) == 0 {
		return nil
	}
	s := b.s
	addrs := map[string]bool{}
	since := b.acks[0].now
	for _, a := range b.acks {
		addrs[a.p.From] = true
		if a.now.Before(since) {
			since = a.now
		}
	}
	since = since.Add(-s.acks.Window)
	recent := map[string][]time.Time{} // created_at of acks that count, per address
	err := chunks(keysOf(addrs), inChunk, func(as []string) error {
		var rows []struct {
			ToAddr    string
			State     string
			CreatedAt time.Time
		}
		// The state is checked here, not in SQL: with it, SQLite would
		// search the index on state rather than the one on the address.
		err := b.tx.Model(&Ack{}).Select("to_addr, state, created_at").
			Where("to_addr IN ? AND kind = ? AND created_at > ?", as, AckKindReceived, since).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("count recent acks: %w", err)
		}
		for _, r := range rows {
			if r.State == AckPending || r.State == AckSent {
				recent[r.ToAddr] = append(recent[r.ToAddr], r.CreatedAt)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	perDomain, err := b.recentAcksPerDomain()
	if err != nil {
		return err
	}
	rows := make([]Ack, len(b.acks))
	for i, a := range b.acks {
		from := a.now.Add(-s.acks.Window)
		within := false
		for _, t := range recent[a.p.From] {
			if t.After(from) {
				within = true
				break
			}
		}
		if a.held != "" {
			rows[i] = s.newAck(b.mails[a.mail].row.ID, a.c.ID, a.p, a.ref, "", a.now, true)
			rows[i].LastError = a.held
			continue
		}
		dom := ackDomain(a.p.From)
		if !within && countSince(perDomain[dom], a.now.Add(-ackDomainWindow)) >= s.acks.DomainPerHour {
			rows[i] = s.newAck(b.mails[a.mail].row.ID, a.c.ID, a.p, a.ref, "", a.now, true)
			rows[i].LastError = AckHeldDomainLimit
			continue
		}
		rows[i] = s.newAck(b.mails[a.mail].row.ID, a.c.ID, a.p, a.ref, a.tok, a.now, within)
		if rows[i].State == AckPending {
			recent[a.p.From] = append(recent[a.p.From], a.now)
			perDomain[dom] = append(perDomain[dom], a.now)
		}
	}
	if err := chunks(rows, rowChunk, func(rs []Ack) error { return b.tx.Create(&rs).Error }); err != nil {
		return fmt.Errorf("enqueue ack: %w", err)
	}
	return nil
}

// recentAcksPerDomain gives, per recipient domain of the batch's acks, the
// created_at of the acknowledgements (of any kind) queued or sent to it
// within ackDomainWindow before the batch's earliest ack: what
// AckOptions.DomainPerHour counts.
func (b *mailBatch) recentAcksPerDomain() (map[string][]time.Time, error) {
	since := b.acks[0].now
	doms := map[string]bool{}
	for _, a := range b.acks {
		doms[ackDomain(a.p.From)] = true
		if a.now.Before(since) {
			since = a.now
		}
	}
	since = since.Add(-ackDomainWindow)
	out := map[string][]time.Time{}
	for d := range doms {
		if d == "" {
			continue
		}
		var rows []struct {
			ToAddr    string
			State     string
			CreatedAt time.Time
		}
		// LIKE (its wildcards escaped) only narrows the rows read; the
		// domain is compared exactly in Go.
		pat := "%@" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(d)
		err := b.tx.Model(&Ack{}).Select("to_addr, state, created_at").
			Where(`created_at > ? AND LOWER(to_addr) LIKE ? ESCAPE '\'`, since, pat).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("count recent acks to a domain: %w", err)
		}
		for _, r := range rows {
			if (r.State == AckPending || r.State == AckSent) && ackDomain(r.ToAddr) == d {
				out[d] = append(out[d], r.CreatedAt)
			}
		}
	}
	return out, nil
}

// countSince counts the times after from.
func countSince(ts []time.Time, from time.Time) int {
	n := 0
	for _, t := range ts {
		if t.After(from) {
			n++
		}
	}
	return n
}
