package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Automatic escalation rules; each names itself on the timeline.
const (
	RuleMultipleReporters = "multiple_reporters"
	RuleSharedRecipient   = "shared_recipient"
	RuleDomainCluster     = "domain_cluster"
	RuleSLABreach         = "sla_breach"
)

// EscalationRules configures the automatic escalation rules besides the
// possible takeover (Options.NoTakeoverEscalation). The zero value turns
// them all off; DefaultEscalationRules is what the desk ships with.
type EscalationRules struct {
	// MultipleReporters escalates an account reported by at least this
	// many distinct reporter addresses; 0 is off.
	MultipleReporters int
	// SharedRecipient escalates a case whose reporter or recipient address
	// received mail for at least this many accounts; 0 is off.
	SharedRecipient int
	// DomainCluster escalates every open case of a recipient domain once
	// at least this many cases of it had reports within DomainWindow; 0
	// is off. DomainIgnore lists domains that never cluster (big mailbox
	// providers, where many cases a day are normal).
	DomainCluster int
	DomainWindow  time.Duration
	DomainIgnore  []string
	// SLABreach escalates a case when one of its deadlines passes unmet.
	SLABreach bool
}

// DefaultEscalationRules are the rules as the desk ships them.
var DefaultEscalationRules = EscalationRules{
	MultipleReporters: 2, SharedRecipient: 2,
	DomainCluster: 3, DomainWindow: 24 * time.Hour, SLABreach: true,
}

func (s *Service) configureEscalation(r EscalationRules) error {
	if r.MultipleReporters < 0 || r.SharedRecipient < 0 || r.DomainCluster < 0 {
		return fmt.Errorf("cases: escalation thresholds must not be negative")
	}
	if r.DomainCluster > 0 && r.DomainWindow <= 0 {
		return fmt.Errorf("cases: escalation domain window %v must be positive", r.DomainWindow)
	}
	r.DomainIgnore = slices.Clone(r.DomainIgnore)
	for i, d := range r.DomainIgnore {
		r.DomainIgnore[i] = strings.ToLower(strings.TrimSpace(d))
	}
	s.esc = r
	return nil
}

// EventEscalated detail prefix: the leads read why at a glance.
const escalatedPrefix = "Escalated to the security leads: "

// escalateByRule escalates c for rule and returns the timeline event; on
// an escalated case the reason is still added. The caller makes it happen
// once (escalateAll: once per case and rule, so a lead's de-escalation
// sticks; SLA breaches: once per breach).
func (s *Service) escalateByRule(tx *gorm.DB, c *Case, rule string, fact Fact, now time.Time) ([]Event, error) {
	ev, newly := escalate(c, rule, fact, now)
	if newly {
		if err := tx.Model(&Case{}).Where("id = ?", c.ID).Updates(map[string]any{"escalated": true, "updated_at": now}).Error; err != nil {
			return nil, fmt.Errorf("escalate %s: %w", c.Ref, err)
		}
	}
	return []Event{ev}, nil
}

// escalate marks c escalated for rule in memory and returns the timeline
// event; newly is true when c was not escalated before, so the caller
// writes the flag.
func escalate(c *Case, rule string, fact Fact, now time.Time) (ev Event, newly bool) {
	detail := "rule " + rule + ": " + fact.Text + "."
	if c.Escalated {
		return Event{CaseID: c.ID, At: now, Actor: "rules", Type: EventEscalated, Detail: "Further escalation reason, " + detail,
			Code: CodeEscalatedFurther, Args: withFact(rule, fact)}, false
	}
	c.Escalated, c.UpdatedAt = true, now
	return Event{CaseID: c.ID, At: now, Actor: "rules", Type: EventEscalated, Detail: escalatedPrefix + detail,
		Code: CodeEscalatedRule, Args: withFact(rule, fact)}, true
}

// filedReport is a report just written and its case.
type filedReport struct {
	c         *Case
	r         Report
	recipient string // the matched ledger message's recipient, when known
}

// filed lists the reports a mail batch wrote, once it has flushed.
func (b *mailBatch) filed() []filedReport {
	out := make([]filedReport, len(b.filings))
	for i, f := range b.filings {
		out[i] = filedReport{c: f.c, r: f.report} // recipients come from the ledger by Message-ID
	}
	return out
}

// escalateFiled evaluates the filing-time rules that look across reports —
// multiple_reporters, shared_recipient and domain_cluster — for reports
// just written in tx, with a few set-wise queries however many there are.
// (possible_takeover needs only the report and is decided in planFiling.)
// Event details name the rule and the facts, never an address of the
// holder or a reporter: domains and counts only.
func (s *Service) escalateFiled(tx *gorm.DB, filed []filedReport) error {
	if len(filed) == 0 {
		return nil
	}
	now := s.clock()
	// The rules name candidates; which of them escalate (once per case and
	// rule) is decided for all at once, as escalateByRule does one by one:
	// a batch of mail costs a few statements, not one per report.
	var cands []escalation
	seen := map[escalationKey]bool{}
	fire := func(c *Case, rule string, fact Fact) error {
		if k := (escalationKey{c.ID, rule}); !seen[k] {
			seen[k] = true
			cands = append(cands, escalation{c, rule, fact})
		}
		return nil
	}
	if s.esc.MultipleReporters > 0 {
		if err := s.multipleReporters(tx, filed, fire); err != nil {
			return err
		}
	}
	if s.esc.SharedRecipient > 0 {
		if err := s.sharedRecipient(tx, filed, fire); err != nil {
			return err
		}
	}
	if s.esc.DomainCluster > 0 {
		if err := s.domainCluster(tx, filed, now, fire); err != nil {
			return err
		}
	}
	return s.escalateAll(tx, cands, now)
}

type escalationKey struct {
	caseID int64
	rule   string
}

// escalation is a rule's finding on a case, to escalate it once.
type escalation struct {
	c    *Case
	rule string
	fact Fact
}

// escalateAll records each (case, rule) of cands not seen before in one
// multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, marks the cases
// escalated and puts the reasons on their timelines, in cands' order.
func (s *Service) escalateAll(tx *gorm.DB, cands []escalation, now time.Time) error {
	if len(cands) == 0 {
		return nil
	}
	fresh := map[escalationKey]bool{}
	err := chunks(cands, inChunk/3, func(cs []escalation) error {
		var q strings.Builder
		args := make([]any, 0, 3*len(cs))
		q.WriteString(`INSERT INTO case_escalations (case_id, rule, at) VALUES `)
		for i, e := range cs {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, e.c.ID, e.rule, now)
		}
		q.WriteString(` ON CONFLICT DO NOTHING RETURNING case_id, rule`)
		var rows []struct {
			CaseID int64
			Rule   string
		}
		if err := tx.Raw(q.String(), args...).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			fresh[escalationKey{r.CaseID, r.Rule}] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record escalations: %w", err)
	}
	var evs []Event
	var newly []int64
	for _, e := range cands {
		if !fresh[escalationKey{e.c.ID, e.rule}] {
			continue
		}
		ev, first := escalate(e.c, e.rule, e.fact, now)
		if first {
			newly = append(newly, e.c.ID)
		}
		evs = append(evs, ev)
	}
	err = chunks(newly, inChunk, func(ids []int64) error {
		return tx.Model(&Case{}).Where("id IN ?", ids).Updates(map[string]any{"escalated": true, "updated_at": now}).Error
	})
	if err != nil {
		return fmt.Errorf("escalate cases: %w", err)
	}
	if err := chunks(evs, rowChunk, func(es []Event) error { return tx.Create(&es).Error }); err != nil {
		return fmt.Errorf("append escalations to the timeline: %w", err)
	}
	return nil
}

type fireFunc func(c *Case, rule string, fact Fact) error

// multipleReporters: one account reported by several distinct reporters.
// Reporters are told apart by address only. Link, form and API reports
// carry none, and one person who clicks twice, or clicks and then forwards
// the mail, must not look like two; so they do not count.
func (s *Service) multipleReporters(tx *gorm.DB, filed []filedReport, fire fireFunc) error {
	accounts := map[string]bool{}
	caseIDs := map[int64]bool{} // unmatched cases have no account
	for _, f := range filed {
		switch {
		case f.r.Reporter == "":
		case f.c.AccountRef != "":
			accounts[f.c.AccountRef] = true
		default:
			caseIDs[f.c.ID] = true
		}
	}
	count := map[string]int{}
	err := chunks(keysOf(accounts), inChunk, func(as []string) error {
		var rows []struct {
			K string
			N int
		}
		err := tx.Table("reports").Select("cases.account_ref AS k, COUNT(DISTINCT reports.reporter) AS n").
			Joins("JOIN cases ON cases.id = reports.case_id").
			Where("cases.account_ref IN ? AND reports.reporter <> ''", as).Group("cases.account_ref").Scan(&rows).Error
		for _, r := range rows {
			count["account:"+r.K] = r.N
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("count reporters per account: %w", err)
	}
	ids := make([]int64, 0, len(caseIDs))
	for id := range caseIDs {
		ids = append(ids, id)
	}
	err = chunks(ids, inChunk, func(is []int64) error {
		var rows []struct {
			K int64
			N int
		}
		err := tx.Table("reports").Select("case_id AS k, COUNT(DISTINCT reporter) AS n").
			Where("case_id IN ? AND reporter <> ''", is).Group("case_id").Scan(&rows).Error
		for _, r := range rows {
			count[fmt.Sprintf("case:%d", r.K)] = r.N
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("count reporters per case: %w", err)
	}
	for _, f := range filed {
		if f.r.Reporter == "" {
			continue
		}
		k := "account:" + f.c.AccountRef
		what, of := "this account", "account"
		if f.c.AccountRef == "" {
			k, what, of = fmt.Sprintf("case:%d", f.c.ID), "this case", "case"
		}
		if n := count[k]; n >= s.esc.MultipleReporters {
			fact := Fact{Code: FactMultipleReporters, Args: Args{"n": argInt(n), "of": of},
				Text: fmt.Sprintf("%d distinct reporter addresses reported %s", n, what)}
			if err := fire(f.c, RuleMultipleReporters, fact); err != nil {
				return err
			}
		}
	}
	return nil
}

// sharedRecipient: one address received mail for several accounts, as the
// ledger's recipients and the reporters of matched reports show. The
// addresses of a report are its reporter's and the ledger recipient of the
// message it matched.
func (s *Service) sharedRecipient(tx *gorm.DB, filed []filedReport, fire fireFunc) error {
	msgIDs := map[string]bool{}
	for _, f := range filed {
		if f.r.MessageID != "" {
			msgIDs[f.r.MessageID] = true
		}
	}
	recipientOf := map[string]string{}
	err := chunks(keysOf(msgIDs), inChunk, func(ids []string) error {
		var rows []LedgerMessage
		err := tx.Select("message_id, recipient").Where("message_id IN ?", ids).Find(&rows).Error
		for _, r := range rows {
			recipientOf[r.MessageID] = r.Recipient
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("look up recipients: %w", err)
	}
	addrsOf := func(f filedReport) []string {
		var out []string
		if f.r.Reporter != "" {
			out = append(out, f.r.Reporter)
		}
		r := f.recipient
		if r == "" {
			r = recipientOf[f.r.MessageID]
		}
		if r != "" && r != f.r.Reporter {
			out = append(out, r)
		}
		return out
	}
	addrs := map[string]bool{}
	for _, f := range filed {
		for _, a := range addrsOf(f) {
			addrs[a] = true
		}
	}
	accounts := map[string]map[string]bool{}
	add := func(addr, account string) {
		if accounts[addr] == nil {
			accounts[addr] = map[string]bool{}
		}
		accounts[addr][account] = true
	}
	err = chunks(keysOf(addrs), inChunk, func(as []string) error {
		var rows []struct{ Addr, Account string }
		if err := tx.Table("ledger_messages").Distinct("recipient AS addr, account_ref AS account").
			Where("recipient IN ?", as).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			add(r.Addr, r.Account)
		}
		rows = nil
		if err := tx.Table("reports").Distinct("reports.reporter AS addr, cases.account_ref AS account").
			Joins("JOIN cases ON cases.id = reports.case_id").
			Where("reports.reporter IN ? AND cases.account_ref <> ''", as).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			add(r.Addr, r.Account)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count accounts per address: %w", err)
	}
	for _, f := range filed {
		for _, a := range addrsOf(f) {
			if n := len(accounts[a]); n >= s.esc.SharedRecipient {
				fact := Fact{Code: FactSharedRecipient, Args: Args{"domain": domainOf(a), "n": argInt(n)},
					Text: fmt.Sprintf("one address at %s received mail for %d accounts", domainOf(a), n)}
				if err := fire(f.c, RuleSharedRecipient, fact); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// domainCluster: many cases from one recipient domain within the window, as
// when a typo domain (gmial.com) receives the mail of many accounts. Every
// open case of the cluster is escalated, each once.
func (s *Service) domainCluster(tx *gorm.DB, filed []filedReport, now time.Time, fire fireFunc) error {
	domains := map[string]bool{}
	for _, f := range filed {
		if d := f.r.RecipientDomain; d != "" && !slices.Contains(s.esc.DomainIgnore, d) {
			domains[d] = true
		}
	}
	since := now.Add(-s.esc.DomainWindow)
	count := map[string]int{}
	err := chunks(keysOf(domains), inChunk, func(ds []string) error {
		var rows []struct {
			Domain string
			N      int
		}
		err := tx.Table("reports").Select("recipient_domain AS domain, COUNT(DISTINCT case_id) AS n").
			Where("recipient_domain IN ? AND received_at > ?", ds, since).Group("recipient_domain").Scan(&rows).Error
		for _, r := range rows {
			count[r.Domain] = r.N
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("count cases per recipient domain: %w", err)
	}
	known := map[int64]*Case{}
	for _, f := range filed {
		known[f.c.ID] = f.c
	}
	for _, d := range sortedKeys(count) {
		n := count[d]
		if n < s.esc.DomainCluster {
			continue
		}
		// Only the open members this rule has not escalated yet: during a
		// flood from one domain each batch reads its own new cases, not
		// the whole cluster again.
		var fresh []Case
		err := tx.Where("status IN ? AND id IN (SELECT case_id FROM reports WHERE recipient_domain = ? AND received_at > ?)",
			OpenStatuses, d, since).
			Where("NOT EXISTS (SELECT 1 FROM case_escalations e WHERE e.case_id = cases.id AND e.rule = ?)", RuleDomainCluster).
			Order("id").Find(&fresh).Error
		if err != nil {
			return fmt.Errorf("read cases of a domain cluster: %w", err)
		}
		fact := Fact{Code: FactDomainCluster, Args: Args{"n": argInt(n), "domain": d, "window": argInt(int64(s.esc.DomainWindow / time.Minute))},
			Text: fmt.Sprintf("%d cases from recipient domain %s within %s", n, d, roundDuration(s.esc.DomainWindow))}
		for i := range fresh {
			c := known[fresh[i].ID]
			if c == nil {
				c = &fresh[i]
			}
			if err := fire(c, RuleDomainCluster, fact); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// roundDuration writes a window as people do: "24h", "90m", "7 days".
func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// domainOf returns the lower-cased domain of an address, or "".
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(addr[i+1:]))
}

// recipientDomain is the domain the misdirected mail went to: the ledger's
// recipient when the report matched one, else the reporter's address.
func recipientDomain(ledgerRecipient, reporter string) string {
	if d := domainOf(ledgerRecipient); d != "" {
		return d
	}
	return domainOf(reporter)
}

// requireReason cleans a staff member's reason and insists on one of at
// most 500 characters.
func requireReason(reason, msg string) (string, error) {
	reason = strings.TrimSpace(cleanNote(reason))
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return "", Errorf(EINVALID, "%s", msg)
	}
	return reason, nil
}
