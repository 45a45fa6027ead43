package cases

import (
	"context"
	"fmt"

	"notme/cases/ident"
)

// QueueFilter narrows the queue; zero values mean "any", and no status
// means the open ones.
type QueueFilter struct {
	Statuses   []Status
	Severity   Severity
	Match      Match
	AccountRef string
	Escalated  *bool
	Kind       string
	// AssigneeID narrows to one assignee's cases; Unassigned to nobody's.
	AssigneeID *int64
	Unassigned bool
	Limit      int     // 0 = 200
	ids        []int64 // set by FindCases: only these cases
}

// QueueCase is a case as the queue lists it.
type QueueCase struct {
	Case
	Reports  int
	Assignee string // the assignee's email, "" when nobody has it
	// NewEvidence: worse evidence reopened this case after it was
	// contained, and it is not contained again yet.
	NewEvidence bool
}

// newEvidenceSQL is QueueCase.NewEvidence: a new case with a new_evidence
// event that no later reopening (of a resolved case) superseded.
const newEvidenceSQL = "(cases.status = 'new' AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.type = '" +
	EventNewEvidence + "' AND NOT EXISTS (SELECT 1 FROM case_events f WHERE f.case_id = cases.id AND f.type = '" +
	EventReopened + "' AND f.id > e.id))) AS new_evidence"

// NewEvidenceSince returns the event of the worse evidence that reopened a
// contained case still waiting to be contained again, or nil; events are
// the case's timeline in order.
func NewEvidenceSince(c Case, events []Event) *Event {
	if c.Status != StatusNew {
		return nil
	}
	var last *Event
	for i := range events {
		switch events[i].Type {
		case EventNewEvidence:
			last = &events[i]
		case EventReopened:
			last = nil
		}
	}
	return last
}

// urgencyOrder is the order of the queue and of TakeNext: the case that
// most needs a person now comes first.
//  1. uncontained (new) before contained: an uncontained case still lets
//     the stranger use the mail; a contained one waits for its resolution;
//  2. then severity, critical first;
//  3. then the nearest unmet deadline (Case.NextDeadline in portable SQL:
//     contain-by while new, else the earlier of resolve-by and an
//     assessment still owed);
//  4. then the oldest case (its id).
//
// Closed cases (a filter may list them) come after both open statuses.
const urgencyOrder = "CASE cases.status WHEN 'new' THEN 0 WHEN 'contained' THEN 1 ELSE 2 END, " +
	"CASE cases.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, " +
	"CASE WHEN cases.status = 'new' THEN cases.contain_by " +
	"WHEN cases.assess_by IS NOT NULL AND cases.assessed_at IS NULL AND (cases.resolve_by IS NULL OR cases.assess_by < cases.resolve_by) THEN cases.assess_by " +
	"ELSE COALESCE(cases.resolve_by, cases.contain_by) END, cases.id"

// Queue lists cases, the one that most needs a person first (urgencyOrder).
func (s *Service) Queue(ctx context.Context, a Actor, f QueueFilter) ([]QueueCase, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	if len(f.Statuses) == 0 {
		f.Statuses = OpenStatuses
	}
	q := s.store.r.WithContext(ctx).Model(&Case{}).
		Select(s.store.Columns(&Case{})+", (SELECT COUNT(*) FROM reports WHERE reports.case_id = cases.id) AS reports, "+
			"COALESCE((SELECT email FROM users WHERE users.id = cases.assignee_id), '') AS assignee, "+newEvidenceSQL).
		Where("status IN ?", f.Statuses)
	if f.Severity != "" {
		q = q.Where("severity = ?", f.Severity)
	}
	if f.Match != "" {
		q = q.Where("confidence = ?", f.Match)
	}
	if f.AccountRef != "" {
		q = q.Where("account_ref = ?", f.AccountRef)
	}
	if f.Escalated != nil {
		q = q.Where("escalated = ?", *f.Escalated)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.AssigneeID != nil {
		q = q.Where("assignee_id = ?", *f.AssigneeID)
	}
	if f.Unassigned {
		q = q.Where("assignee_id IS NULL")
	}
	if f.ids != nil {
		q = q.Where("cases.id IN ?", f.ids)
	}
	var out []QueueCase
	if err := q.Order(urgencyOrder).Limit(f.Limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return out, nil
}

// CaseDetail is a case with its reports and timeline.
type CaseDetail struct {
	Case     Case
	Reports  []Report
	Events   []Event
	Assignee *User
	Mail     []MailMessage // the case's mail evidence, without raw bytes
	Acks     []Ack         // acknowledgements, without the reporter's status URL
	// NewEvidence is the event of worse evidence since containment (see
	// NewEvidenceSince), nil when there is none.
	NewEvidence *Event
}

// CaseByRef returns a case for staff who may see it.
func (s *Service) CaseByRef(ctx context.Context, a Actor, ref string) (CaseDetail, error) {
	if !a.canReadCases() {
		return CaseDetail{}, errNotTrained
	}
	ref = ident.NormalizeCaseRef(ref)
	var d CaseDetail
	db := s.store.r.WithContext(ctx)
	if ref == "" {
		return d, Errorf(ENOTFOUND, "no such case")
	}
	if err := db.Where("ref = ?", ref).Limit(1).Find(&d.Case).Error; err != nil {
		return d, fmt.Errorf("read case %s: %w", ref, err)
	}
	if d.Case.ID == 0 {
		return d, Errorf(ENOTFOUND, "no such case")
	}
	if err := db.Where("case_id = ?", d.Case.ID).Order("received_at, id").Find(&d.Reports).Error; err != nil {
		return d, fmt.Errorf("read reports of %s: %w", ref, err)
	}
	if err := db.Where("case_id = ?", d.Case.ID).Order("id").Find(&d.Events).Error; err != nil {
		return d, fmt.Errorf("read timeline of %s: %w", ref, err)
	}
	if err := db.Omit("raw").Where("case_id = ?", d.Case.ID).Order("id").Find(&d.Mail).Error; err != nil {
		return d, fmt.Errorf("read mail of %s: %w", ref, err)
	}
	if err := db.Omit("status_url").Where("case_id = ?", d.Case.ID).Order("id").Find(&d.Acks).Error; err != nil {
		return d, fmt.Errorf("read acks of %s: %w", ref, err)
	}
	if d.Case.AssigneeID != nil {
		var u User
		if err := db.Where("id = ?", *d.Case.AssigneeID).Limit(1).Find(&u).Error; err != nil {
			return d, fmt.Errorf("read assignee of %s: %w", ref, err)
		}
		if u.ID != 0 {
			d.Assignee = &u
		}
	}
	maskDetail(&d)
	d.NewEvidence = NewEvidenceSince(d.Case, d.Events)
	return d, nil
}

// QueueCounts counts the open cases per severity, for the queue's filters.
func (s *Service) QueueCounts(ctx context.Context, a Actor) (map[Severity]int, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	var rows []struct {
		Severity Severity
		N        int
	}
	err := s.store.r.WithContext(ctx).Model(&Case{}).Select("severity, COUNT(*) AS n").
		Where("status IN ?", OpenStatuses).Group("severity").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count queue: %w", err)
	}
	out := map[Severity]int{}
	for _, r := range rows {
		out[r.Severity] = r.N
	}
	return out, nil
}

// ReportsOf returns the reports of the given cases, by case ID.
func (s *Service) ReportsOf(ctx context.Context, a Actor, caseIDs []int64) (map[int64][]Report, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	out := map[int64][]Report{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	var rs []Report
	if err := s.store.r.WithContext(ctx).Where("case_id IN ?", caseIDs).Order("received_at, id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	for _, r := range rs {
		out[r.CaseID] = append(out[r.CaseID], r)
	}
	return out, nil
}
