package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
)

// Timeline event types of case handling.
const (
	EventAssigned     = "assigned"
	EventNote         = "note"
	EventStatus       = "status"
	EventOutcomeQueue = "outcome_queued"
)

// canWork: only security-trained staff act on security cases; the API
// and untrained staff may at most read.
func (a Actor) canWork() bool {
	return a.User != nil && a.User.SecurityTrained && !a.User.Disabled
}

// transitions lists the moves a case may make; anything else is refused.
var transitions = map[Status][]Status{
	StatusNew:       {StatusContained, StatusDismissed},
	StatusContained: {StatusResolved, StatusDismissed},
}

func allowed(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// inCase runs f on the case with ref inside one write transaction, after
// checking that the actor may work cases.
func (s *Service) inCase(ctx context.Context, a Actor, ref string, f func(tx *gorm.DB, c *Case, now time.Time) error) (Case, error) {
	if !a.canWork() {
		return Case{}, errNotTrained
	}
	ref = ident.NormalizeCaseRef(ref)
	if ref == "" {
		return Case{}, Errorf(ENOTFOUND, "no such case")
	}
	var c Case
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
			return fmt.Errorf("read case %s: %w", ref, err)
		}
		if c.ID == 0 {
			return Errorf(ENOTFOUND, "no such case")
		}
		return f(tx, &c, s.clock())
	})
	return c, err
}

func event(c *Case, a Actor, now time.Time, typ, detail string) Event {
	return Event{CaseID: c.ID, At: now, Actor: a.String(), Type: typ, Detail: detail}
}

// TakeNext assigns the most urgent unassigned open case to the actor, in
// the queue's order (urgencyOrder: uncontained first, then severity, then
// the nearest unmet deadline), so it is the first unassigned row of the
// queue. Two agents never
// get the same case: the single write transaction serialises takers on
// SQLite, and the conditional UPDATE does on PostgreSQL.
func (s *Service) TakeNext(ctx context.Context, a Actor) (Case, error) {
	if !a.canWork() {
		return Case{}, errNotTrained
	}
	var taken Case
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for range 5 {
			var c Case
			err := tx.Where("status IN ? AND assignee_id IS NULL", OpenStatuses).
				Order(urgencyOrder).
				Limit(1).Find(&c).Error
			if err != nil {
				return fmt.Errorf("find next case: %w", err)
			}
			if c.ID == 0 {
				return Errorf(ENOTFOUND, "No unassigned open case is waiting.")
			}
			now := s.clock()
			res := tx.Model(&Case{}).Where("id = ? AND assignee_id IS NULL", c.ID).
				Updates(map[string]any{"assignee_id": a.User.ID, "updated_at": now})
			if res.Error != nil {
				return fmt.Errorf("take case %s: %w", c.Ref, res.Error)
			}
			if res.RowsAffected == 0 {
				continue // someone else was quicker
			}
			c.AssigneeID, c.UpdatedAt = &a.User.ID, now
			taken = c
			return tx.Create(&[]Event{event(&c, a, now, EventAssigned, "Taken by "+a.User.Email+".").with(CodeTaken, Args{"to": a.User.Email})}).Error
		}
		return Errorf(ECONFLICT, "Other agents are taking cases right now; try again.")
	})
	return taken, err
}

// Take assigns one case to the actor; only a lead may take it from
// someone else.
func (s *Service) Take(ctx context.Context, a Actor, ref string) (Case, error) {
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		return s.assign(tx, a, c, *a.User, now)
	})
}

// MaxNoteChars bounds an internal note.
const MaxNoteChars = 4000

// AddNote puts an internal note on the case's timeline; reporters never
// see notes.
func (s *Service) AddNote(ctx context.Context, a Actor, ref, text string) (Case, error) {
	text = cleanNote(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return Case{}, Errorf(EINVALID, "The note is empty.")
	case n > MaxNoteChars:
		return Case{}, Errorf(EINVALID, "The note is %d characters long; at most %d fit.", n, MaxNoteChars)
	}
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		if err := tx.Model(&Case{}).Where("id = ?", c.ID).Update("updated_at", now).Error; err != nil {
			return err
		}
		return tx.Create(&[]Event{event(c, a, now, EventNote, text).with(CodeNote, Args{"text": text})}).Error
	})
}

// SetStatus moves a case along new → contained → resolved, or to dismissed
// with a reason. Closing a case frees its account for a new case and
// queues the outcome notice to every reporter who got an acknowledgement.
func (s *Service) SetStatus(ctx context.Context, a Actor, ref string, to Status, reason string) (Case, error) {
	return s.setStatus(ctx, a, ref, to, reason, HoldNone)
}

// Dismiss dismisses a case with a reason and holds what scope names
// (holds.go): HoldLink, its sealed links; HoldAccount or HoldRecipient,
// its links and its account or recipients. Later reports of a held key
// join this case and request no containment. Holding an account or a
// recipient, which silences every report about it, is for leads.
func (s *Service) Dismiss(ctx context.Context, a Actor, ref, reason, scope string) (Case, error) {
	switch scope {
	case HoldNone, HoldLink:
	case HoldAccount, HoldRecipient:
		if a.User == nil || (a.User.Role != RoleLead && a.User.Role != RoleAdmin) {
			return Case{}, Errorf(EFORBIDDEN, "Only security leads can hold an account or a recipient.")
		}
	default:
		return Case{}, Errorf(EINVALID, "Unknown hold %q.", scope)
	}
	return s.setStatus(ctx, a, ref, StatusDismissed, reason, scope)
}

func (s *Service) setStatus(ctx context.Context, a Actor, ref string, to Status, reason, hold string) (Case, error) {
	reason = strings.TrimSpace(cleanNote(reason))
	if to == StatusDismissed && reason == "" {
		return Case{}, Errorf(EINVALID, "Say why the case is dismissed, for example “the address was the holder's own” or “test mail”.")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return Case{}, Errorf(EINVALID, "The reason is longer than 500 characters.")
	}
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		if !allowed(c.Status, to) {
			return Errorf(ECONFLICT, "A %s case cannot become %s.", c.Status, to)
		}
		upd := map[string]any{"status": to, "updated_at": now}
		if !to.Open() {
			upd["open_key"] = nil
		}
		if err := tx.Model(&Case{}).Where("id = ? AND status = ?", c.ID, c.Status).Updates(upd).Error; err != nil {
			return fmt.Errorf("set status of %s: %w", c.Ref, err)
		}
		detail := fmt.Sprintf("Status %s → %s.", c.Status, to)
		if reason != "" {
			detail = fmt.Sprintf("Status %s → %s: %s", c.Status, to, reason)
		}
		args := Args{"from": string(c.Status), "to": string(to), "reason": reason}
		if hold != HoldNone {
			if err := s.placeHolds(tx, c, hold, a.String(), now); err != nil {
				return err
			}
			detail += " Held: " + hold + "."
			args["hold"] = hold
		}
		evs := []Event{event(c, a, now, EventStatus, detail).with(CodeStatus, args)}
		c.Status, c.UpdatedAt = to, now
		if to == StatusResolved {
			n, err := s.queueOutcomes(tx, c, now)
			if err != nil {
				return err
			}
			if n > 0 {
				evs = append(evs, event(c, a, now, EventOutcomeQueue, fmt.Sprintf("Outcome notice queued to %d reporter(s).", n)).with(CodeOutcomeQueued, Args{"n": argInt(n)}))
			}
		}
		return tx.Create(&evs).Error
	})
}

// queueOutcomes queues one outcome notice per address that received an
// acknowledgement on this case, on the same thread.
func (s *Service) queueOutcomes(tx *gorm.DB, c *Case, now time.Time) (int, error) {
	var sent []Ack
	if err := tx.Where("case_id = ? AND kind = ? AND state = ?", c.ID, AckKindReceived, AckSent).Order("id").Find(&sent).Error; err != nil {
		return 0, fmt.Errorf("read acks of %s: %w", c.Ref, err)
	}
	var prior []Ack
	if err := tx.Select("to_addr").Where("case_id = ? AND kind = ?", c.ID, AckKindOutcome).Find(&prior).Error; err != nil {
		return 0, fmt.Errorf("read outcome notices of %s: %w", c.Ref, err)
	}
	done := map[string]bool{}
	for _, p := range prior {
		done[p.ToAddr] = true
	}
	var out []Ack
	for _, a := range sent {
		if done[a.ToAddr] {
			continue
		}
		done[a.ToAddr] = true
		out = append(out, Ack{MailID: a.MailID, CaseID: c.ID, Kind: AckKindOutcome, ToAddr: a.ToAddr, Lang: a.Lang,
			InReplyTo: a.InReplyTo, Subject: a.Subject, CaseRef: c.Ref, State: AckPending, NextAttemptAt: now, CreatedAt: now})
	}
	if len(out) == 0 {
		return 0, nil
	}
	if err := tx.Create(&out).Error; err != nil {
		return 0, fmt.Errorf("queue outcome notices of %s: %w", c.Ref, err)
	}
	return len(out), nil
}

// Escalation events.
const (
	EventEscalated   = "escalated"
	EventDeescalated = "deescalated"
)

// Escalate puts the case in front of the security leads, with a reason.
func (s *Service) Escalate(ctx context.Context, a Actor, ref, reason string) (Case, error) {
	reason = strings.TrimSpace(cleanNote(reason))
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return Case{}, Errorf(EINVALID, "Say in at most 500 characters why the leads should look at this case.")
	}
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		if c.Escalated {
			return Errorf(ECONFLICT, "This case is escalated already.")
		}
		c.Escalated, c.UpdatedAt = true, now
		if err := tx.Model(&Case{}).Where("id = ?", c.ID).Updates(map[string]any{"escalated": true, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("escalate %s: %w", c.Ref, err)
		}
		return tx.Create(&[]Event{event(c, a, now, EventEscalated, "Escalated to the security leads: "+reason).with(CodeEscalatedManual, Args{"reason": reason})}).Error
	})
}

// Deescalate takes the case off the leads' list; only leads and admins
// may, with a reason.
func (s *Service) Deescalate(ctx context.Context, a Actor, ref, reason string) (Case, error) {
	if a.User == nil || (a.User.Role != RoleLead && a.User.Role != RoleAdmin) {
		return Case{}, Errorf(EFORBIDDEN, "Only security leads can de-escalate a case.")
	}
	reason = strings.TrimSpace(cleanNote(reason))
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return Case{}, Errorf(EINVALID, "Say in at most 500 characters why the case no longer needs the leads.")
	}
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		if !c.Escalated {
			return Errorf(ECONFLICT, "This case is not escalated.")
		}
		c.Escalated, c.UpdatedAt = false, now
		if err := tx.Model(&Case{}).Where("id = ?", c.ID).Updates(map[string]any{"escalated": false, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("de-escalate %s: %w", c.Ref, err)
		}
		return tx.Create(&[]Event{event(c, a, now, EventDeescalated, "De-escalated: "+reason).with(CodeDeescalated, Args{"reason": reason})}).Error
	})
}

// EventReopened marks a resolved case that a new report opened again.
const EventReopened = "reopened"

// DefaultReopenWindow is how long after resolution a new report reopens a
// case instead of opening a new one.
const DefaultReopenWindow = 14 * 24 * time.Hour

// reopenable returns the case of the group key that was resolved within
// the reopen window; found is false when there is none.
func (s *Service) reopenable(tx *gorm.DB, key string, now time.Time) (c *Case, found bool, err error) {
	var rc Case
	err = tx.Where("group_key = ? AND status = ? AND updated_at > ?", key, StatusResolved, now.Add(-s.reopenWindow)).
		Order("updated_at DESC, id DESC").Limit(1).Find(&rc).Error
	if err != nil {
		return nil, false, fmt.Errorf("find resolved case: %w", err)
	}
	return &rc, rc.ID != 0, nil
}

// reopen turns a resolved case back into a new one, with a fresh
// containment deadline, and returns the columns to write and the event.
func (s *Service) reopen(c *Case, now time.Time) (map[string]any, Event) {
	key := c.GroupKey
	c.Status, c.OpenKey, c.ContainBy, c.UpdatedAt = StatusNew, &key, now.Add(s.containBy[c.Severity]), now
	rb := now.Add(s.sla.resolveBy[c.Severity])
	c.ResolveBy = &rb
	return map[string]any{"status": StatusNew, "open_key": key, "contain_by": c.ContainBy, "resolve_by": rb},
		Event{CaseID: c.ID, At: now, Type: EventReopened, Detail: "Reopened: a new report came within " +
			s.reopenWindow.String() + " of the resolution; contain by " + c.ContainBy.Format(time.RFC3339) + ".",
			Code: CodeReopened, Args: Args{"window": argInt(int64(s.reopenWindow / time.Minute)), "contain_by": argTime(c.ContainBy)}}
}
