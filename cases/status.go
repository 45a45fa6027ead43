package cases

import (
	"context"
	"fmt"
	"slices"
	"time"

	"notme/cases/ident"
)

// ReporterCode is what a reporter's status page (and any other surface
// that tells a reporter an outcome) may say about their report. It is
// decided by ReporterOutcome alone from what happened to that report; the
// ui renders it in the reporter's language. No code names the account, its
// holder, the staff or their reasons.
type ReporterCode string

const (
	// OutcomeReceived: open, nobody has taken it yet. A report whose link
	// was real and one whose link was forged read the same here, so the
	// page tells a prober nothing while the case is new.
	OutcomeReceived ReporterCode = "received"
	// OutcomeHandling: open, and a person took it or it is contained.
	OutcomeHandling ReporterCode = "handling"
	// OutcomeRemoved: closed, the report is linked to the account and the
	// account system confirmed suppress_recipient done.
	OutcomeRemoved ReporterCode = "removed"
	// OutcomeNotRemoved: closed, linked, changes were requested, but the
	// address's removal was never confirmed (failed, still pending, or not
	// one of the changes).
	OutcomeNotRemoved ReporterCode = "not_removed"
	// OutcomeNoChange: closed, linked, and nothing was requested of the
	// account system for the case.
	OutcomeNoChange ReporterCode = "no_change"
	// OutcomeUnlinked: closed, the report was never linked to an account
	// and nothing was requested for the case: nothing changed.
	OutcomeUnlinked ReporterCode = "unlinked"
	// OutcomeUnconfirmed: closed, the report itself was not linked (a
	// heuristic nobody confirmed), although the case it joined had changes
	// requested: we cannot say whether they concern this reporter.
	OutcomeUnconfirmed ReporterCode = "unconfirmed"
)

// ReporterCodes lists every code, for the catalog's completeness test.
var ReporterCodes = []ReporterCode{OutcomeReceived, OutcomeHandling, OutcomeRemoved, OutcomeNotRemoved,
	OutcomeNoChange, OutcomeUnlinked, OutcomeUnconfirmed}

// ReporterFact is a confirmed change a reporter may be told of beside the
// outcome: only the account system's word that it was done counts.
type ReporterFact string

const (
	FactAddressRemoved ReporterFact = "address_removed" // suppress_recipient confirmed
	FactLinksRevoked   ReporterFact = "links_revoked"   // revoke_pending_links confirmed
)

// ReporterFacts lists every fact, for the catalog's completeness test.
var ReporterFacts = []ReporterFact{FactAddressRemoved, FactLinksRevoked}

// OutcomeInput is what ReporterOutcome decides from.
type OutcomeInput struct {
	// Match is this report's own match; MatchConfirmed says a person
	// confirmed the case's account after this report arrived, which is
	// what makes a probable match count.
	Match          Match
	MatchConfirmed bool
	Status         Status
	Assigned       bool
	// Unseen says no person on the staff has acted on the case since this
	// report arrived. A report that joins a case already being handled
	// must not read "being handled" at once: only a real link (or a known
	// Message-ID) joins an account's case, so the page right after the
	// button would tell a prober that the link was real.
	Unseen bool
	// Actions maps each action requested for the case to its state
	// (ActionRequested, ActionDelivered, ActionConfirmed, ActionFailed).
	Actions map[string]string
}

// Outcome is what a reporter may be told: a code and the confirmed facts.
type Outcome struct {
	Code  ReporterCode
	Facts []ReporterFact
}

// ReporterOutcome decides what a reporter may be told about their report.
// It never claims more than the data shows: a change counts only once the
// account system confirmed it, and only for a report linked to the
// account (an exact match, or a probable one a person confirmed). The
// table is written out in docs/reporter-status.md.
func ReporterOutcome(in OutcomeInput) Outcome {
	linked := in.Match == MatchExact || (in.Match == MatchProbable && in.MatchConfirmed)
	var out Outcome
	if linked {
		if in.Actions[ActionSuppressRecipient] == ActionConfirmed {
			out.Facts = append(out.Facts, FactAddressRemoved)
		}
		if in.Actions[ActionRevokePendingLinks] == ActionConfirmed {
			out.Facts = append(out.Facts, FactLinksRevoked)
		}
	}
	switch {
	case in.Unseen, in.Status.Open() && in.Status == StatusNew && !in.Assigned:
		// No facts either: a real link's confirmed revocation would
		// otherwise tell a prober, right after the button, that it was real.
		out.Code, out.Facts = OutcomeReceived, nil
	case in.Status.Open():
		out.Code = OutcomeHandling
	case !linked && len(in.Actions) == 0:
		out.Code = OutcomeUnlinked
	case !linked:
		out.Code = OutcomeUnconfirmed
	case slices.Contains(out.Facts, FactAddressRemoved):
		out.Code = OutcomeRemoved
		// The outcome says it already.
		out.Facts = slices.DeleteFunc(out.Facts, func(f ReporterFact) bool { return f == FactAddressRemoved })
	case len(in.Actions) == 0:
		out.Code = OutcomeNoChange
	default:
		out.Code = OutcomeNotRemoved
	}
	return out
}

// ReporterStatus is all a reporter may learn: nothing about the account,
// its holder or the staff.
type ReporterStatus struct {
	CaseRef string
	// Status is the case's, for the desk's own tests and logs; pages show
	// Outcome, never this.
	Status     Status
	Outcome    Outcome
	ReceivedAt time.Time
	UpdatedAt  time.Time
}

// StatusByToken returns the status a reporter's private status link shows,
// decided by ReporterOutcome from this report, its case and the case's
// containment actions.
func (s *Service) StatusByToken(ctx context.Context, token string) (ReporterStatus, error) {
	if token == "" || len(token) > 64 {
		return ReporterStatus{}, Errorf(ENOTFOUND, "no such status link")
	}
	db := s.store.r.WithContext(ctx)
	var row struct {
		Ref        string
		CaseID     int64
		Status     Status
		AssigneeID *int64
		Confidence Match
		ReceivedAt time.Time
	}
	err := db.Table("reports").
		Select("cases.ref, cases.id AS case_id, cases.status, cases.assignee_id, reports.confidence, reports.received_at").
		Joins("JOIN cases ON cases.id = reports.case_id").
		Where("reports.status_hash = ?", ident.HashSecret(token)).Limit(1).Scan(&row).Error
	if err != nil {
		return ReporterStatus{}, fmt.Errorf("look up status link: %w", err)
	}
	if row.Ref == "" {
		return ReporterStatus{}, Errorf(ENOTFOUND, "no such status link")
	}
	in := OutcomeInput{Match: row.Confidence, Status: row.Status, Assigned: row.AssigneeID != nil, Actions: map[string]string{}}
	var acts []ContainmentAction
	if err := db.Select("action", "state").Where("case_id = ?", row.CaseID).Find(&acts).Error; err != nil {
		return ReporterStatus{}, fmt.Errorf("read actions of %s: %w", row.Ref, err)
	}
	for _, a := range acts {
		in.Actions[a.Action] = a.State
	}
	// Only what a person did after this report arrived speaks for it: an
	// action on the case at all, its time, and a confirmation of its
	// account (a case confirmed earlier says nothing of a later heuristic
	// match). The desk's own events (a webhook delivered, a deadline
	// marked) never show: their times would tell a prober which links are
	// real. A report kept on a closed case (a dismissal's hold, a client
	// at its triage bound) reads "received" by the same rule until a
	// person acts on that case.
	var since struct{ Acted, Confirmed int64 }
	if err := db.Model(&Event{}).
		Select("COALESCE(SUM(CASE WHEN actor LIKE ? THEN 1 ELSE 0 END), 0) AS acted, "+
			"COALESCE(SUM(CASE WHEN type = ? THEN 1 ELSE 0 END), 0) AS confirmed", "user:%", EventMatchConfirmed).
		Where("case_id = ? AND at >= ?", row.CaseID, row.ReceivedAt).Scan(&since).Error; err != nil {
		return ReporterStatus{}, fmt.Errorf("read the events of %s since the report: %w", row.Ref, err)
	}
	in.Unseen = since.Acted == 0
	in.MatchConfirmed = in.Match == MatchProbable && since.Confirmed > 0
	updated := row.ReceivedAt
	if !in.Unseen {
		var last Event
		if err := db.Select("at").Where("case_id = ? AND at >= ? AND actor LIKE ?", row.CaseID, row.ReceivedAt, "user:%").
			Order("at DESC").Limit(1).Find(&last).Error; err != nil {
			return ReporterStatus{}, fmt.Errorf("read the last action on %s: %w", row.Ref, err)
		}
		if last.At.After(updated) {
			updated = last.At
		}
	}
	return ReporterStatus{CaseRef: row.Ref, Status: row.Status, Outcome: ReporterOutcome(in), ReceivedAt: row.ReceivedAt, UpdatedAt: updated}, nil
}
