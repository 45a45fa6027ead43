package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// LeadAlerts is what needs a lead now: why each open escalation is on
// their list, the deadlines that passed unmet on open cases, and webhooks
// the account system never took.
type LeadAlerts struct {
	// Reasons holds, per escalated open case (by reference), the reasons
	// given since it was last escalated, oldest first.
	Reasons     map[string][]Event
	Breaches    []BreachAlert
	DeadLetters []DeadLetter
	// OnDismissed are dismissed cases that held reports joined in the
	// last OnDismissedWindow, newest first: the lead who held the link
	// or account sees that it is still being reported.
	OnDismissed []OnDismissed
}

// OnDismissed is a dismissed case that reports joined through its holds.
type OnDismissed struct {
	CaseRef string
	Reports int
	Last    time.Time
}

// OnDismissedWindow is how far back /leads lists reports on held cases.
const OnDismissedWindow = 30 * 24 * time.Hour

// BreachAlert is a passed, unmet deadline: of an open case, or a breach
// assessment still owed on a closed one.
type BreachAlert struct {
	CaseRef  string
	Severity Severity
	Deadline string // contain, resolve, assess
	DueAt    time.Time
}

// DeadLetter is a containment webhook given up on; staff may send it again
// from its case.
type DeadLetter struct {
	CaseRef   string
	Action    string
	Attempts  int
	LastError string
	Since     time.Time // when it was queued
}

// leadAlertsLimit bounds each list: a lead reads the first screen, the
// queue holds the rest.
const leadAlertsLimit = 50

// LeadAlerts reads the leads' alerts; only leads and admins may.
func (s *Service) LeadAlerts(ctx context.Context, a Actor) (LeadAlerts, error) {
	if a.User == nil || a.User.Disabled || (a.User.Role != RoleLead && a.User.Role != RoleAdmin) {
		return LeadAlerts{}, Errorf(EFORBIDDEN, "Lead alerts are for security leads and admins.")
	}
	db := s.store.r.WithContext(ctx)
	out := LeadAlerts{Reasons: map[string][]Event{}}

	// The escalation and de-escalation events of open escalated cases: the
	// reasons that count are those after the last de-escalation.
	var evs []struct {
		Ref    string
		Type   string
		Detail string
		Code   string
		Args   Args
	}
	err := db.Table("case_events").
		Select("cases.ref, case_events.type, case_events.detail, case_events.code, case_events.args").
		Joins("JOIN cases ON cases.id = case_events.case_id").
		Where("cases.escalated = ? AND cases.status IN ? AND case_events.type IN ?", true, OpenStatuses, []string{EventEscalated, EventDeescalated}).
		Order("case_events.id").Scan(&evs).Error
	if err != nil {
		return out, fmt.Errorf("read escalation reasons: %w", err)
	}
	for _, e := range evs {
		if e.Type == EventDeescalated {
			delete(out.Reasons, e.Ref)
			continue
		}
		out.Reasons[e.Ref] = append(out.Reasons[e.Ref], Event{Type: e.Type, Detail: escalationReason(e.Detail), Code: e.Code, Args: e.Args})
	}

	var breaches []struct {
		Ref      string
		Severity Severity
		Deadline string
		DueAt    time.Time
	}
	err = db.Table("sla_breaches").
		Select("cases.ref, cases.severity, sla_breaches.deadline, sla_breaches.due_at").
		Joins("JOIN cases ON cases.id = sla_breaches.case_id").
		Where("cases.status IN ? OR (sla_breaches.deadline = ? AND cases.assessed_at IS NULL)", OpenStatuses, DeadlineAssess).
		Order("sla_breaches.due_at").Limit(leadAlertsLimit * 4).Scan(&breaches).Error
	if err != nil {
		return out, fmt.Errorf("read SLA breaches: %w", err)
	}
	// A breach stays in sla_breaches when the deadline is met later (say,
	// contained after its contain-by); only those still unmet are shown,
	// judged by the case as it is now.
	refs := make([]string, 0, len(breaches))
	for _, b := range breaches {
		refs = append(refs, b.Ref)
	}
	unmet := map[string]map[string]bool{}
	if len(refs) > 0 {
		var cs []Case
		if err := db.Where("ref IN ?", refs).Find(&cs).Error; err != nil {
			return out, fmt.Errorf("read breached cases: %w", err)
		}
		for _, c := range cs {
			unmet[c.Ref] = map[string]bool{}
			for _, d := range c.Unmet() {
				unmet[c.Ref][d.Kind] = true
			}
		}
	}
	for _, b := range breaches {
		if unmet[b.Ref][b.Deadline] && len(out.Breaches) < leadAlertsLimit {
			out.Breaches = append(out.Breaches, BreachAlert{CaseRef: b.Ref, Severity: b.Severity, Deadline: b.Deadline, DueAt: b.DueAt})
		}
	}

	var dead []Delivery
	if err := db.Where("state = ?", DeliveryDead).Order("id").Limit(leadAlertsLimit).Find(&dead).Error; err != nil {
		return out, fmt.Errorf("read dead webhooks: %w", err)
	}
	for _, d := range dead {
		out.DeadLetters = append(out.DeadLetters, DeadLetter{CaseRef: d.CaseRef, Action: d.Action, Attempts: d.Attempts, LastError: d.LastError, Since: d.CreatedAt})
	}

	var held []struct {
		Ref string
		At  time.Time
	}
	err = db.Table("case_events").Select("cases.ref, case_events.at").
		Joins("JOIN cases ON cases.id = case_events.case_id").
		Where("case_events.type = ? AND case_events.at > ?", EventReportOnDismissed, s.clock().Add(-OnDismissedWindow)).
		Order("case_events.id DESC").Limit(leadAlertsLimit * 20).Scan(&held).Error
	if err != nil {
		return out, fmt.Errorf("read reports on dismissed cases: %w", err)
	}
	at := map[string]int{}
	for _, h := range held {
		i, ok := at[h.Ref]
		if !ok {
			if len(out.OnDismissed) == leadAlertsLimit {
				continue
			}
			i = len(out.OnDismissed)
			at[h.Ref] = i
			out.OnDismissed = append(out.OnDismissed, OnDismissed{CaseRef: h.Ref, Last: h.At})
		}
		out.OnDismissed[i].Reports++
	}
	return out, nil
}

// escalationReason strips the fixed lead-in of an escalation event.
func escalationReason(detail string) string {
	detail = strings.TrimPrefix(detail, escalatedPrefix)
	return strings.TrimPrefix(detail, "Further escalation reason, ")
}
