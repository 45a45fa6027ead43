package cases

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Deadline kinds of a case's SLA.
const (
	DeadlineContain = "contain" // met by contained, resolved or dismissed
	DeadlineResolve = "resolve" // met by resolved or dismissed
	DeadlineAssess  = "assess"  // met by a lead's breach assessment
)

// DefaultResolveBy returns the resolution deadline per severity, a fresh
// map on each call.
func DefaultResolveBy() map[Severity]time.Duration {
	return map[Severity]time.Duration{
		SeverityCritical: 24 * time.Hour,
		SeverityHigh:     3 * 24 * time.Hour,
		SeverityNormal:   5 * 24 * time.Hour,
		SeverityLow:      10 * 24 * time.Hour,
	}
}

// DefaultBreachAssessment is the time a data-protection officer has to
// assess a possible personal-data breach: GDPR Article 33's 72 hours, also
// the time of the preliminary report under Japan's APPI.
const DefaultBreachAssessment = 72 * time.Hour

// SLAOptions are the deadlines besides Options.ContainBy.
type SLAOptions struct {
	// ResolveBy per severity; missing severities take DefaultResolveBy.
	ResolveBy map[Severity]time.Duration
	// BreachAssessment: 0 means DefaultBreachAssessment.
	BreachAssessment time.Duration
}

type slaRules struct {
	resolveBy map[Severity]time.Duration
	assessBy  time.Duration
}

// configureRules sets the SLA and escalation rules from the options.
func (s *Service) configureRules(o Options) error {
	s.sla = slaRules{resolveBy: map[Severity]time.Duration{}, assessBy: o.SLA.BreachAssessment}
	for sev, d := range DefaultResolveBy() {
		s.sla.resolveBy[sev] = d
	}
	for sev, d := range o.SLA.ResolveBy {
		if !sev.Valid() || d <= 0 {
			return fmt.Errorf("cases: resolve-by for %q: bad severity or duration", sev)
		}
		s.sla.resolveBy[sev] = d
	}
	switch {
	case s.sla.assessBy == 0:
		s.sla.assessBy = DefaultBreachAssessment
	case s.sla.assessBy < 0:
		return fmt.Errorf("cases: breach assessment %v must be positive", s.sla.assessBy)
	}
	return s.configureEscalation(o.Escalation)
}

// needsAssessment decides which cases get a breach-assessment deadline:
// those that exposed personal data. A kind that shows the holder's personal
// data does so by itself; a credential mail does once the reporter says they
// set a password or entered details, because whoever did could read the
// account. A credential link merely received is contained, not a breach.
func (s *Service) needsAssessment(kindName string, setPassword bool) bool {
	k, ok := s.kinds[kindName]
	return ok && (k.PersonalData || (k.Credential && setPassword))
}

// openDeadlines sets the resolve and assess deadlines of a case being opened
// (contain_by is set with it).
func (s *Service) openDeadlines(c *Case, in ReportInput, now time.Time) {
	rb := now.Add(s.sla.resolveBy[c.Severity])
	c.ResolveBy = &rb
	if s.needsAssessment(c.Kind, in.SetPassword) {
		ab := now.Add(s.sla.assessBy)
		c.AssessBy = &ab
	}
}

// moveDeadlines brings a case's resolve and assess deadlines forward where a
// new report calls for it (severity raised to sev, personal data exposed),
// as contain_by is; deadlines never move later. Changed columns go into upd.
func (s *Service) moveDeadlines(c *Case, sev Severity, in ReportInput, now time.Time, upd map[string]any) {
	if sev.rank() > c.Severity.rank() {
		if due := now.Add(s.sla.resolveBy[sev]); c.ResolveBy == nil || due.Before(*c.ResolveBy) {
			c.ResolveBy, upd["resolve_by"] = &due, due
		}
	}
	if c.AssessBy == nil && c.AssessedAt == nil && s.needsAssessment(c.Kind, in.SetPassword) {
		due := now.Add(s.sla.assessBy)
		c.AssessBy, upd["assess_by"] = &due, due
	}
}

// Deadline is one of a case's SLA deadlines.
type Deadline struct {
	Kind string // DeadlineContain, DeadlineResolve, DeadlineAssess
	Due  time.Time
}

// DeadlineState is where one deadline stands at a given moment.
type DeadlineState string

const (
	// DeadlineMet: the case did what the deadline asks (contained,
	// resolved, assessed, or closed without needing it), whether on time
	// or late; a met deadline never becomes pending or overdue again by
	// the clock alone.
	DeadlineMet DeadlineState = "met"
	// DeadlinePending: not met, due in the future.
	DeadlinePending DeadlineState = "pending"
	// DeadlineOverdue: not met, due now or in the past.
	DeadlineOverdue DeadlineState = "overdue"
)

// DeadlineStatus is a deadline and its state at a moment.
type DeadlineStatus struct {
	Deadline
	State DeadlineState
	// Left is Due minus the moment: negative when overdue, 0 when met.
	Left time.Duration
}

// Met reports whether the deadline of this kind is met by the case as it
// stands. It is the one rule every surface (queue, case page, /leads,
// API, /metrics, the breach ticker) follows; deadlineColumns says the same
// in SQL for the ticker's search, and markBreach checks each hit here.
//   - contain: met once the case is contained, resolved or dismissed;
//   - resolve: met once it is resolved or dismissed;
//   - assess: met once a lead recorded an assessment, or the case was
//     dismissed (a dismissed case exposed nobody's data).
//
// A case reopened by a new report is new again, so its fresh contain-by
// is unmet until it is contained again.
func (c Case) Met(kind string) bool {
	switch kind {
	case DeadlineContain:
		return c.Status != StatusNew
	case DeadlineResolve:
		return !c.Status.Open()
	case DeadlineAssess:
		return c.AssessedAt != nil || c.Status == StatusDismissed
	}
	return false
}

// Deadlines returns the case's deadlines with their state at now, in the
// order contain, resolve, assess; a deadline the case does not have
// (no resolve-by on an old case, no assessment owed) is left out.
func (c Case) Deadlines(now time.Time) []DeadlineStatus {
	ds := []Deadline{{DeadlineContain, c.ContainBy}}
	if c.ResolveBy != nil {
		ds = append(ds, Deadline{DeadlineResolve, *c.ResolveBy})
	}
	if c.AssessBy != nil {
		ds = append(ds, Deadline{DeadlineAssess, *c.AssessBy})
	}
	out := make([]DeadlineStatus, 0, len(ds))
	for _, d := range ds {
		out = append(out, c.stateOf(d, now))
	}
	return out
}

// DeadlineOf returns the state at now of the case's deadline of kind; ok
// is false when the case has no such deadline.
func (c Case) DeadlineOf(kind string, now time.Time) (DeadlineStatus, bool) {
	for _, d := range c.Deadlines(now) {
		if d.Kind == kind {
			return d, true
		}
	}
	return DeadlineStatus{}, false
}

func (c Case) stateOf(d Deadline, now time.Time) DeadlineStatus {
	switch {
	case c.Met(d.Kind):
		return DeadlineStatus{Deadline: d, State: DeadlineMet}
	case now.Before(d.Due):
		return DeadlineStatus{Deadline: d, State: DeadlinePending, Left: d.Due.Sub(now)}
	}
	return DeadlineStatus{Deadline: d, State: DeadlineOverdue, Left: d.Due.Sub(now)}
}

// Unmet returns the case's deadlines not met yet, in no particular order.
func (c Case) Unmet() []Deadline {
	var out []Deadline
	for _, d := range c.Deadlines(time.Time{}) {
		if d.State != DeadlineMet {
			out = append(out, d.Deadline)
		}
	}
	return out
}

// NextDeadline returns the nearest unmet deadline; ok is false when every
// deadline is met.
func (c Case) NextDeadline() (d Deadline, ok bool) {
	for _, x := range c.Unmet() {
		if !ok || x.Due.Before(d.Due) {
			d, ok = x, true
		}
	}
	return d, ok
}

// NextDeadlineAt is NextDeadline with its state at now.
func (c Case) NextDeadlineAt(now time.Time) (DeadlineStatus, bool) {
	d, ok := c.NextDeadline()
	if !ok {
		return DeadlineStatus{}, false
	}
	return c.stateOf(d, now), true
}

// Breach is a passed, unmet deadline, marked once.
type Breach struct {
	ID       int64
	CaseID   int64
	Deadline string
	DueAt    time.Time
	MarkedAt time.Time
}

func (Breach) TableName() string { return "sla_breaches" }

// EventSLABreached marks a passed deadline on the timeline.
const EventSLABreached = "sla_breached"

// breachRound bounds the breaches marked in one transaction; a longer
// backlog is marked in further rounds at once.
const breachRound = 200

// deadlineColumns are the queries that find each kind of unmet deadline:
// the column and the condition under which it is still unmet.
var deadlineColumns = []struct {
	kind, column, unmet string
}{
	// Each unmet condition is Case.Met's rule, negated, in SQL.
	{DeadlineContain, "contain_by", "cases.status = 'new'"},
	{DeadlineResolve, "resolve_by", "cases.status IN ('new', 'contained')"},
	{DeadlineAssess, "assess_by", "cases.assessed_at IS NULL AND cases.status <> 'dismissed'"},
}

// MarkBreaches marks every passed, unmet deadline exactly once per case,
// deadline kind and due time, leaves a timeline event and, under the
// sla_breach rule, escalates the case. It returns how many it marked and
// when the next unmet deadline falls due (zero when none is pending), so a
// ticker can sleep until then. A deadline moved later by nobody and earlier
// by a severity change is marked at its new time; one met before the tick
// is never marked.
func (s *Service) MarkBreaches(ctx context.Context) (marked int, next time.Time, err error) {
	for {
		n, more, err := s.markBreachRound(ctx)
		marked += n
		if err != nil {
			return marked, time.Time{}, err
		}
		if !more {
			break
		}
	}
	next, err = s.nextDeadline(ctx)
	return marked, next, err
}

type dueDeadline struct {
	Kind   string
	CaseID int64
	Due    time.Time
}

func (s *Service) markBreachRound(ctx context.Context) (marked int, more bool, err error) {
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		var due []dueDeadline
		for _, d := range deadlineColumns {
			var rows []dueDeadline
			err := tx.Table("cases").
				Select("cases.id AS case_id, cases."+d.column+" AS due").
				Where("cases."+d.column+" IS NOT NULL AND cases."+d.column+" <= ? AND "+d.unmet, now).
				Where("NOT EXISTS (SELECT 1 FROM sla_breaches b WHERE b.case_id = cases.id AND b.deadline = ? AND b.due_at = cases."+d.column+")", d.kind).
				Order("cases." + d.column + ", cases.id").Limit(breachRound - len(due) + 1).Scan(&rows).Error
			if err != nil {
				return fmt.Errorf("find passed %s deadlines: %w", d.kind, err)
			}
			for i := range rows {
				rows[i].Kind = d.kind
			}
			due = append(due, rows...)
			if len(due) > breachRound {
				due, more = due[:breachRound], true
				break
			}
		}
		for _, d := range due {
			ok, err := s.markBreach(tx, d, now)
			if err != nil {
				return err
			}
			if ok {
				marked++
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("mark SLA breaches: %w", err)
	}
	if marked > 0 {
		s.log.Info("SLA breaches marked", "count", marked)
	}
	return marked, more, nil
}

var deadlineNames = map[string]string{
	DeadlineContain: "containment",
	DeadlineResolve: "resolution",
	DeadlineAssess:  "breach-assessment",
}

// markBreach records one breach; false when another instance (or an
// earlier tick) did.
func (s *Service) markBreach(tx *gorm.DB, d dueDeadline, now time.Time) (bool, error) {
	var c Case
	if err := tx.Where("id = ?", d.CaseID).Take(&c).Error; err != nil {
		return false, fmt.Errorf("read case %d: %w", d.CaseID, err)
	}
	// The SQL found it; the one rule decides, so the ticker can never mark
	// what every page shows as met.
	if st, ok := c.DeadlineOf(d.Kind, now); !ok || st.State != DeadlineOverdue {
		return false, nil
	}
	b := Breach{CaseID: d.CaseID, Deadline: d.Kind, DueAt: d.Due, MarkedAt: now}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&b)
	if res.Error != nil {
		return false, fmt.Errorf("record %s breach of case %d: %w", d.Kind, d.CaseID, res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	fact := Fact{Code: FactDeadlinePassed, Args: Args{"deadline": d.Kind, "due": argTime(d.Due), "severity": string(c.Severity), "status": string(c.Status)},
		Text: fmt.Sprintf("the %s deadline %s passed (severity %s, status %s)",
			deadlineNames[d.Kind], d.Due.UTC().Format(time.RFC3339), c.Severity, c.Status)}
	evs := []Event{{CaseID: c.ID, At: now, Actor: "sla", Type: EventSLABreached, Detail: "SLA breach: " + fact.Text + ".",
		Code: CodeSLABreached, Args: withFact("", fact)}}
	if s.esc.SLABreach {
		ev, err := s.escalateByRule(tx, &c, RuleSLABreach, fact, now)
		if err != nil {
			return false, err
		}
		evs = append(evs, ev...)
	}
	if err := tx.Create(&evs).Error; err != nil {
		return false, fmt.Errorf("append timeline of %s: %w", c.Ref, err)
	}
	return true, nil
}

// nextDeadline is the earliest unmet deadline still to come.
func (s *Service) nextDeadline(ctx context.Context) (time.Time, error) {
	now := s.clock()
	var next time.Time
	for _, d := range deadlineColumns {
		var c Case
		err := s.store.r.WithContext(ctx).Table("cases").
			Where("cases."+d.column+" > ? AND "+d.unmet, now).
			Order("cases." + d.column).Limit(1).Find(&c).Error
		if err != nil {
			return time.Time{}, fmt.Errorf("find next %s deadline: %w", d.kind, err)
		}
		if c.ID == 0 {
			continue
		}
		var due time.Time
		switch d.kind {
		case DeadlineContain:
			due = c.ContainBy
		case DeadlineResolve:
			due = *c.ResolveBy
		case DeadlineAssess:
			due = *c.AssessBy
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next, nil
}

// Breach-assessment outcomes.
const (
	AssessNotifiable    = "notifiable"     // report to the authority and tell the holder
	AssessNotNotifiable = "not_notifiable" // unlikely to result in a risk to the holder
)

// AuditBreachAssessment is the audit action of a recorded assessment.
const AuditBreachAssessment = "breach_assessment"

// EventAssessed records a lead's breach assessment on the timeline.
const EventAssessed = "breach_assessed"

// RecordAssessment records a lead's assessment of whether the case is a
// notifiable personal-data breach, which meets its assess deadline. Only
// leads and admins may; the outcome is audited and on the timeline. A
// later assessment replaces the earlier one and is audited likewise.
func (s *Service) RecordAssessment(ctx context.Context, a Actor, ref, outcome, reason string) (Case, error) {
	if a.User == nil || (a.User.Role != RoleLead && a.User.Role != RoleAdmin) {
		return Case{}, Errorf(EFORBIDDEN, "Only security leads can record a breach assessment.")
	}
	if outcome != AssessNotifiable && outcome != AssessNotNotifiable {
		return Case{}, Errorf(EINVALID, "The outcome must be %s or %s.", AssessNotifiable, AssessNotNotifiable)
	}
	reason, err := requireReason(reason, "Say in at most 500 characters why the breach is or is not notifiable.")
	if err != nil {
		return Case{}, err
	}
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		verb, prev := "Breach assessment", c.Assessment
		if c.AssessedAt != nil {
			verb = "Breach assessment changed from " + c.Assessment
		}
		c.AssessedAt, c.Assessment, c.UpdatedAt = &now, outcome, now
		err := tx.Model(&Case{}).Where("id = ?", c.ID).
			Updates(map[string]any{"assessed_at": now, "assessment": outcome, "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("record assessment of %s: %w", c.Ref, err)
		}
		detail := fmt.Sprintf("%s: %s — %s", verb, outcome, reason)
		if c.AssessBy != nil {
			if now.After(*c.AssessBy) {
				detail += fmt.Sprintf(" (%s after the deadline)", now.Sub(*c.AssessBy).Round(time.Minute))
			} else {
				detail += " (within the deadline)"
			}
		}
		if err := tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditBreachAssessment,
			Subject: "case:" + c.Ref, Detail: outcome + ": " + reason, Args: Args{"outcome": outcome, "reason": reason}}).Error; err != nil {
			return fmt.Errorf("audit assessment of %s: %w", c.Ref, err)
		}
		return tx.Create(&[]Event{event(c, a, now, EventAssessed, detail).with(CodeAssessed, assessArgs(c, outcome, reason, prev, now))}).Error
	})
}

// DeadlineCount is how many deadlines of one kind are in one state.
type DeadlineCount struct {
	Kind  string
	State DeadlineState
	N     int
}

// DeadlineCounts counts the unmet deadlines of every case, per kind and
// state (pending or overdue) at the desk's clock, by Case.Deadlines, for
// /metrics. Every kind and state is present, zero or not, so a scrape
// always has the series.
func (s *Service) DeadlineCounts(ctx context.Context) ([]DeadlineCount, error) {
	now := s.clock()
	n := map[string]map[DeadlineState]int{}
	for _, k := range []string{DeadlineContain, DeadlineResolve, DeadlineAssess} {
		n[k] = map[DeadlineState]int{}
	}
	// Only cases with a deadline possibly unmet are read, in batches by id.
	var last int64
	for {
		var cs []Case
		err := s.store.r.WithContext(ctx).
			Select("id, status, contain_by, resolve_by, assess_by, assessed_at").
			Where("id > ? AND (status IN ? OR (assess_by IS NOT NULL AND assessed_at IS NULL AND status <> ?))", last, OpenStatuses, StatusDismissed).
			Order("id").Limit(1000).Find(&cs).Error
		if err != nil {
			return nil, fmt.Errorf("count deadlines: %w", err)
		}
		for _, c := range cs {
			for _, d := range c.Deadlines(now) {
				n[d.Kind][d.State]++
			}
			last = c.ID
		}
		if len(cs) < 1000 {
			break
		}
	}
	var out []DeadlineCount
	for _, k := range []string{DeadlineContain, DeadlineResolve, DeadlineAssess} {
		for _, st := range []DeadlineState{DeadlinePending, DeadlineOverdue} {
			out = append(out, DeadlineCount{Kind: k, State: st, N: n[k][st]})
		}
	}
	return out, nil
}
