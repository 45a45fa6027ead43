package cases

import (
	"context"
	"fmt"
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
}

// queueOrder puts the nearest deadline still to meet first: containment
// while new, then resolution (Case.NextDeadline also weighs the breach
// assessment, which the order leaves out to stay portable SQL).
const queueOrder = "CASE WHEN status = 'new' OR resolve_by IS NULL THEN contain_by ELSE resolve_by END, id"

// Queue lists cases, the nearest deadline first.
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
		Select(s.store.columns(&Case{})+", (SELECT COUNT(*) FROM reports WHERE reports.case_id = cases.id) AS reports, "+
			"COALESCE((SELECT email FROM users WHERE users.id = cases.assignee_id), '') AS assignee").
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
	if err := q.Order(queueOrder).Limit(f.Limit).Scan(&out).Error; err != nil {
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
}

// CaseByRef returns a case for staff who may see it.
func (s *Service) CaseByRef(ctx context.Context, a Actor, ref string) (CaseDetail, error) {
	if !a.canReadCases() {
		return CaseDetail{}, errNotTrained
	}
	ref = NormalizeCaseRef(ref)
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
