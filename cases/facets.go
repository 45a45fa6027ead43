package cases

import (
	"context"
	"fmt"
	"slices"
)

// QueueFacets counts the cases each filter value would list, the other
// filters of the current view kept: what a person sees beside each option
// is what choosing it shows.
type QueueFacets struct {
	Severity  map[Severity]int
	Status    map[Status]int
	Match     map[Match]int
	Escalated map[bool]int
	Kind      map[string]int
	// Assignee counts by assignee ID; 0 is nobody.
	Assignee map[int64]int
	// Assignees names every assignee with a count, by ID.
	Assignees map[int64]string
}

// facetRow is one group of the facet query.
type facetRow struct {
	Status     Status
	Severity   Severity
	Match      Match `gorm:"column:confidence"`
	Escalated  bool
	AssigneeID *int64
	Email      string
	Kind       string
	N          int
}

// QueueFacets counts the queue per filter value with one grouped query;
// each facet ignores its own filter and applies the others (AccountRef
// is not a facet and is not applied).
func (s *Service) QueueFacets(ctx context.Context, a Actor, f QueueFilter) (QueueFacets, error) {
	out := QueueFacets{Severity: map[Severity]int{}, Status: map[Status]int{}, Match: map[Match]int{},
		Escalated: map[bool]int{}, Kind: map[string]int{}, Assignee: map[int64]int{}, Assignees: map[int64]string{}}
	if !a.canReadCases() {
		return out, errNotTrained
	}
	var rows []facetRow
	err := s.store.r.WithContext(ctx).Table("cases").
		Select("cases.status, cases.severity, cases.confidence, cases.escalated, cases.assignee_id, " +
			"COALESCE(users.email, '') AS email, cases.kind, COUNT(*) AS n").
		Joins("LEFT JOIN users ON users.id = cases.assignee_id").
		Group("cases.status, cases.severity, cases.confidence, cases.escalated, cases.assignee_id, users.email, cases.kind").
		Scan(&rows).Error
	if err != nil {
		return out, fmt.Errorf("count queue facets: %w", err)
	}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = OpenStatuses
	}
	for _, r := range rows {
		// keep reports whether r passes every filter but the one named.
		keep := func(except string) bool {
			switch {
			case except != "status" && !slices.Contains(statuses, r.Status),
				except != "severity" && f.Severity != "" && r.Severity != f.Severity,
				except != "match" && f.Match != "" && r.Match != f.Match,
				except != "escalated" && f.Escalated != nil && r.Escalated != *f.Escalated,
				except != "kind" && f.Kind != "" && r.Kind != f.Kind,
				except != "assignee" && f.Unassigned && r.AssigneeID != nil,
				except != "assignee" && f.AssigneeID != nil && (r.AssigneeID == nil || *r.AssigneeID != *f.AssigneeID):
				return false
			}
			return true
		}
		if keep("status") {
			out.Status[r.Status] += r.N
		}
		if keep("severity") {
			out.Severity[r.Severity] += r.N
		}
		if keep("match") {
			out.Match[r.Match] += r.N
		}
		if keep("escalated") {
			out.Escalated[r.Escalated] += r.N
		}
		if keep("kind") {
			out.Kind[r.Kind] += r.N
		}
		if keep("assignee") {
			var id int64
			if r.AssigneeID != nil {
				id = *r.AssigneeID
				out.Assignees[id] = r.Email
			}
			out.Assignee[id] += r.N
		}
	}
	return out, nil
}
