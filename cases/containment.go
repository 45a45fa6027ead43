package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
)

// Containment: the actions the desk asks of the company's account system
// (revoke the pending links, suppress the address, …). Each request is a
// containment_actions row and a webhook_deliveries row (the outbox),
// written in the transaction of the case change that called for it, so a
// request is never lost and never made twice.

// States of a requested action.
const (
	ActionRequested = "requested" // in the outbox
	ActionDelivered = "delivered" // the account system took the webhook (2xx)
	ActionConfirmed = "confirmed" // the account system says it did it
	ActionFailed    = "failed"    // the account system says it could not
)

// Timeline events of containment.
const (
	EventMatchConfirmed       = "match_confirmed"
	EventContainmentRequested = "containment_requested"
	EventContainmentDelivered = "containment_delivered"
	EventContainmentResult    = "containment_result"
	EventWebhookDead          = "webhook_dead"
	EventWebhookRetried       = "webhook_retried"
)

// AuditRetryWebhook is the audit action of a dead letter sent again.
const AuditRetryWebhook = "retry_webhook"

const (
	// actorDesk names what the desk does by itself on the timeline.
	actorDesk = "desk"
	// actorAccountSystem names what the company's system reported.
	actorAccountSystem = "account system"
)

// ContainmentAction is one action requested for a case, and what became
// of it.
type ContainmentAction struct {
	ID           int64
	CaseID       int64
	Action       string
	State        string
	RequestedBy  string
	RequestedAt  time.Time
	DeliveredAt  *time.Time
	ConfirmedAt  *time.Time // when the account system reported, done or failed
	ResultDetail string
	ResultBy     string
}

// LeadOnly reports whether only a security lead (or an admin) may request
// the action: locking the holder out and contacting them through another
// channel are never automatic.
func LeadOnly(action string) bool {
	return action == ActionLockAccount || action == ActionContactOwner
}

// AutomaticActions returns the kind's actions that are requested without
// a person: all but the lead-only ones.
func AutomaticActions(k Kind) []string {
	var out []string
	for _, a := range k.Actions {
		if !LeadOnly(a) {
			out = append(out, a)
		}
	}
	return out
}

// autoActions returns what the desk requests by itself for a case as it
// stands: the kind's automatic actions once the case is matched exactly to
// an account (a token, a ledger Message-ID, or a person's confirmation).
func (s *Service) autoActions(c *Case) []string {
	if c.Match != MatchExact || !c.Status.Open() || c.AccountRef == "" {
		return nil
	}
	return AutomaticActions(s.kinds[c.Kind])
}

// actionRequest is one action for one case.
type actionRequest struct {
	c      *Case
	action string
	fresh  bool // the case was opened in this transaction: it has no actions yet
}

// containFiled requests, in the filing's transaction, the automatic
// actions of the cases a filing touched; actions requested before are not
// requested again. It returns how many requests it queued and their
// timeline events, for the caller to append with its own.
func (s *Service) containFiled(tx *gorm.DB, cs []*Case, fresh map[*Case]bool, now time.Time) (int, []Event, error) {
	var reqs []actionRequest
	for _, c := range cs {
		for _, a := range s.autoActions(c) {
			reqs = append(reqs, actionRequest{c, a, fresh[c]})
		}
	}
	return s.requestActions(tx, reqs, actorDesk, now)
}

// containBatch is containFiled for a flushed mail batch.
func (s *Service) containBatch(tx *gorm.DB, b *mailBatch) error {
	fresh := map[*Case]bool{}
	for _, c := range b.newCases {
		fresh[c] = true
	}
	_, evs, err := s.containFiled(tx, b.filedCases(), fresh, s.clock())
	if err != nil || len(evs) == 0 {
		return err
	}
	if err := tx.Create(&evs).Error; err != nil {
		return fmt.Errorf("append timeline: %w", err)
	}
	return nil
}

// filedCases are the cases the batch filed reports on, each once, with
// their IDs after flush.
func (b *mailBatch) filedCases() []*Case {
	seen := map[*Case]bool{}
	var out []*Case
	for _, f := range b.filings {
		if !seen[f.c] {
			seen[f.c] = true
			out = append(out, f.c)
		}
	}
	return out
}

// wakeAfterIngest wakes the webhook worker after a mail batch that filed
// reports committed: some may have requested containment.
func (s *Service) wakeAfterIngest(out []Ingested) {
	for _, r := range out {
		if r.CaseRef != "" && !r.Again {
			s.wakeDeliveries()
			return
		}
	}
}

// requestActions writes the action rows and their outbox rows, skipping
// actions the case has already, and returns one timeline event per case
// for the caller to store. The unique index on (case_id, action) backs
// this up.
func (s *Service) requestActions(tx *gorm.DB, reqs []actionRequest, actor string, now time.Time) (int, []Event, error) {
	if len(reqs) == 0 {
		return 0, nil, nil
	}
	var ids []int64
	idSeen := map[int64]bool{}
	for _, r := range reqs {
		if !idSeen[r.c.ID] && !r.fresh {
			idSeen[r.c.ID] = true
			ids = append(ids, r.c.ID)
		}
	}
	have := map[int64]map[string]bool{}
	err := chunks(ids, inChunk, func(part []int64) error {
		var rows []struct {
			CaseID int64
			Action string
		}
		if err := tx.Model(&ContainmentAction{}).Select("case_id, action").Where("case_id IN ?", part).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read requested actions: %w", err)
		}
		for _, r := range rows {
			if have[r.CaseID] == nil {
				have[r.CaseID] = map[string]bool{}
			}
			have[r.CaseID][r.Action] = true
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	var keep []actionRequest
	var acts []ContainmentAction
	for _, r := range reqs {
		if have[r.c.ID][r.action] {
			continue
		}
		if have[r.c.ID] == nil {
			have[r.c.ID] = map[string]bool{}
		}
		have[r.c.ID][r.action] = true
		keep = append(keep, r)
		acts = append(acts, ContainmentAction{CaseID: r.c.ID, Action: r.action, State: ActionRequested,
			RequestedBy: actor, RequestedAt: now})
	}
	if len(keep) == 0 {
		return 0, nil, nil
	}
	if err := chunks(acts, rowChunk, func(rs []ContainmentAction) error { return tx.Create(&rs).Error }); err != nil {
		return 0, nil, fmt.Errorf("store containment actions: %w", err)
	}
	// chunks hands Create sub-slices of acts, so the IDs land in acts.
	outbox := make([]Delivery, len(keep))
	perCase := map[int64][]string{}
	var order []*Case
	for i, r := range keep {
		outbox[i] = s.newDelivery(r.c, acts[i], now)
		if perCase[r.c.ID] == nil {
			order = append(order, r.c)
		}
		perCase[r.c.ID] = append(perCase[r.c.ID], r.action)
	}
	if err := chunks(outbox, rowChunk, func(rs []Delivery) error { return tx.Create(&rs).Error }); err != nil {
		return 0, nil, fmt.Errorf("queue webhooks: %w", err)
	}
	for _, r := range keep {
		if r.action == ActionSuppressRecipient {
			// The desk's own list says it too, for the address guard.
			if err := s.suppressCaseRecipients(tx, r.c, actor, now); err != nil {
				return 0, nil, err
			}
		}
	}
	evs := make([]Event, 0, len(order))
	for _, c := range order {
		evs = append(evs, Event{CaseID: c.ID, At: now, Actor: actor, Type: EventContainmentRequested,
			Detail: "Containment requested from the account system: " + strings.Join(perCase[c.ID], ", ") + ".",
			Code:   CodeContainRequested, Args: Args{"actions": argList(perCase[c.ID])}})
	}
	return len(keep), evs, nil
}

// ConfirmMatch is a security-trained agent's word that a probable match is
// the right account; the case becomes an exact match and its kind's
// automatic actions are requested in the same transaction.
func (s *Service) ConfirmMatch(ctx context.Context, a Actor, ref string) (Case, error) {
	n := 0
	c, err := s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		switch {
		case !c.Status.Open():
			return Errorf(ECONFLICT, "This case is closed.")
		case c.Match == MatchExact:
			return Errorf(ECONFLICT, "The match is exact already: nothing to confirm.")
		case c.Match != MatchProbable || c.AccountRef == "":
			return Errorf(ECONFLICT, "This case is not matched to an account; only a probable match can be confirmed.")
		}
		if err := tx.Model(&Case{}).Where("id = ? AND confidence = ?", c.ID, MatchProbable).
			Updates(map[string]any{"confidence": MatchExact, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("confirm match of %s: %w", c.Ref, err)
		}
		c.Match, c.UpdatedAt = MatchExact, now
		var reqs []actionRequest
		for _, act := range s.autoActions(c) {
			reqs = append(reqs, actionRequest{c: c, action: act})
		}
		var evs []Event
		var err error
		if n, evs, err = s.requestActions(tx, reqs, a.String(), now); err != nil {
			return err
		}
		evs = append([]Event{event(c, a, now, EventMatchConfirmed,
			"Match confirmed: account "+c.AccountRef+" (probable → exact).").with(CodeMatchConfirmed, Args{"account": c.AccountRef})}, evs...)
		return tx.Create(&evs).Error
	})
	if err == nil && n > 0 {
		s.wakeDeliveries()
	}
	return c, err
}

// RequestContainment requests one more action for an exactly matched,
// open case. lock_account and contact_owner need a security lead or an
// admin; an action is requested at most once per case.
func (s *Service) RequestContainment(ctx context.Context, a Actor, ref, action string) (Case, error) {
	if !validAction(action) {
		return Case{}, Errorf(EINVALID, "Unknown containment action %q; known: %s.", action, strings.Join(Actions, ", "))
	}
	if LeadOnly(action) && (a.User == nil || (a.User.Role != RoleLead && a.User.Role != RoleAdmin)) {
		return Case{}, Errorf(EFORBIDDEN, "Only a security lead can request %s.", action)
	}
	c, err := s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		switch {
		case !c.Status.Open():
			return Errorf(ECONFLICT, "This case is closed.")
		case c.Match != MatchExact || c.AccountRef == "":
			return Errorf(ECONFLICT, "Confirm the match to an account first: containment acts on the account.")
		}
		n, evs, err := s.requestActions(tx, []actionRequest{{c: c, action: action}}, a.String(), now)
		if err != nil {
			return err
		}
		if n == 0 {
			return Errorf(ECONFLICT, "%s has been requested for this case already.", action)
		}
		if err := tx.Create(&evs).Error; err != nil {
			return err
		}
		return tx.Model(&Case{}).Where("id = ?", c.ID).Update("updated_at", now).Error
	})
	if err == nil {
		s.wakeDeliveries()
	}
	return c, err
}

// ContainmentResult is what the account system reports for one action.
type ContainmentResult struct {
	Action string
	Status string // done or failed
	Detail string
}

// Result statuses the account system reports.
const (
	ResultDone   = "done"
	ResultFailed = "failed"
)

// MaxResultDetail bounds the account system's note on a result.
const MaxResultDetail = 500

// ConfirmContainment records what the account system did (an API key with
// cases:write). Reporting the same result again changes nothing. When every
// requested action is confirmed done and the case is still new, it becomes
// contained by itself. It returns the case and its actions as they are now.
func (s *Service) ConfirmContainment(ctx context.Context, a Actor, ref string, results []ContainmentResult) (Case, []ActionView, error) {
	if a.APIKey == nil || !a.APIKey.HasScope(ScopeCasesWrite) {
		return Case{}, nil, Errorf(EFORBIDDEN, "Confirming containment needs an API key with the cases:write scope.")
	}
	if len(results) == 0 || len(results) > len(Actions) {
		return Case{}, nil, Errorf(EINVALID, "results must list 1 to %d actions.", len(Actions))
	}
	seen := map[string]bool{}
	for i := range results {
		r := &results[i]
		r.Detail = cleanNote(r.Detail)
		switch {
		case !validAction(r.Action):
			return Case{}, nil, Errorf(EINVALID, "results[%d]: unknown action %q; known: %s.", i, r.Action, strings.Join(Actions, ", "))
		case r.Status != ResultDone && r.Status != ResultFailed:
			return Case{}, nil, Errorf(EINVALID, "results[%d]: status must be %q or %q.", i, ResultDone, ResultFailed)
		case utf8.RuneCountInString(r.Detail) > MaxResultDetail:
			return Case{}, nil, Errorf(EINVALID, "results[%d]: detail is longer than %d characters.", i, MaxResultDetail)
		case seen[r.Action]:
			return Case{}, nil, Errorf(EINVALID, "results[%d]: %s is listed twice.", i, r.Action)
		}
		seen[r.Action] = true
	}
	ref = ident.NormalizeCaseRef(ref)
	if ref == "" {
		return Case{}, nil, Errorf(ENOTFOUND, "no such case")
	}
	var acts []ContainmentAction
	var c Case
	var views []ActionView
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
			return fmt.Errorf("read case %s: %w", ref, err)
		}
		if c.ID == 0 {
			return Errorf(ENOTFOUND, "no such case")
		}
		if err := tx.Where("case_id = ?", c.ID).Order("id").Find(&acts).Error; err != nil {
			return fmt.Errorf("read actions of %s: %w", ref, err)
		}
		now := s.clock()
		var evs []Event
		for i, r := range results {
			j := slices.IndexFunc(acts, func(x ContainmentAction) bool { return x.Action == r.Action })
			if j < 0 {
				return Errorf(EINVALID, "results[%d]: %s was never requested for case %s.", i, r.Action, ref)
			}
			state := ActionConfirmed
			if r.Status == ResultFailed {
				state = ActionFailed
			}
			act := &acts[j]
			if act.State == state && act.ResultDetail == r.Detail {
				continue
			}
			act.State, act.ConfirmedAt, act.ResultDetail, act.ResultBy = state, &now, r.Detail, a.String()
			if err := tx.Model(&ContainmentAction{}).Where("id = ?", act.ID).Updates(map[string]any{
				"state": state, "confirmed_at": now, "result_detail": r.Detail, "result_by": act.ResultBy,
			}).Error; err != nil {
				return fmt.Errorf("record result of %s: %w", r.Action, err)
			}
			detail := fmt.Sprintf("The account system reports %s: %s", r.Action, r.Status)
			if r.Detail != "" {
				detail += " — " + r.Detail
			}
			args := Args{"action": r.Action, "result": string(state)}
			if r.Detail != "" {
				args["detail"] = r.Detail
			}
			evs = append(evs, Event{CaseID: c.ID, At: now, Actor: a.String(), Type: EventContainmentResult, Detail: detail + ".",
				Code: CodeContainResult, Args: args})
		}
		if len(evs) == 0 {
			var err error
			views, err = actionViews(tx, c.ID, acts)
			return err
		}
		upd := map[string]any{"updated_at": now}
		allDone := !slices.ContainsFunc(acts, func(x ContainmentAction) bool { return x.State != ActionConfirmed })
		if allDone && c.Status == StatusNew {
			upd["status"], c.Status = StatusContained, StatusContained
			evs = append(evs, Event{CaseID: c.ID, At: now, Actor: actorAccountSystem, Type: EventStatus,
				Detail: "Status new → contained: every requested containment action was confirmed done.",
				Code:   CodeContainedConfirmed})
		}
		q := tx.Model(&Case{}).Where("id = ?", c.ID)
		if _, ok := upd["status"]; ok {
			q = q.Where("status = ?", StatusNew)
		}
		if err := q.Updates(upd).Error; err != nil {
			return fmt.Errorf("update case %s: %w", ref, err)
		}
		c.UpdatedAt = now
		if err := tx.Create(&evs).Error; err != nil {
			return err
		}
		var err error
		views, err = actionViews(tx, c.ID, acts)
		return err
	})
	if err != nil {
		return Case{}, nil, err
	}
	return c, views, nil
}

// ActionView is a requested action with its webhook delivery, for staff
// and for the API.
type ActionView struct {
	ContainmentAction
	Delivery Delivery
}

// ContainmentOf lists the actions requested for a case, oldest first,
// each with its delivery.
func (s *Service) ContainmentOf(ctx context.Context, a Actor, caseID int64) ([]ActionView, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	db := s.store.r.WithContext(ctx)
	var acts []ContainmentAction
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&acts).Error; err != nil {
		return nil, fmt.Errorf("read containment of case %d: %w", caseID, err)
	}
	return actionViews(db, caseID, acts)
}

// actionViews joins a case's actions with their deliveries.
func actionViews(db *gorm.DB, caseID int64, acts []ContainmentAction) ([]ActionView, error) {
	var ds []Delivery
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("read webhooks of case %d: %w", caseID, err)
	}
	out := make([]ActionView, len(acts))
	for i, act := range acts {
		out[i].ContainmentAction = act
		for _, d := range ds {
			if d.ActionID == act.ID {
				out[i].Delivery = d
			}
		}
	}
	return out, nil
}
