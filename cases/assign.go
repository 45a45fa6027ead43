package cases

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// isLead: leads and admins direct the security tier.
func (a Actor) isLead() bool {
	return a.User != nil && !a.User.Disabled && (a.User.Role == RoleLead || a.User.Role == RoleAdmin)
}

// Assign gives an open case to a staff member, or moves it from one to
// another. Leads and admins assign anyone who may work cases: enabled and
// security-trained. An agent may only take an unassigned case for
// themselves (as Take does), never move someone else's. The change and its
// timeline event (who → whom) commit together.
func (s *Service) Assign(ctx context.Context, a Actor, ref string, userID int64) (Case, error) {
	if !a.canWork() {
		return Case{}, errNotTrained
	}
	if !a.isLead() && userID != a.User.ID {
		return Case{}, Errorf(EFORBIDDEN, "Only security leads can assign a case to someone else.")
	}
	return s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		var to User
		if err := tx.Where("id = ?", userID).Limit(1).Find(&to).Error; err != nil {
			return fmt.Errorf("read user %d: %w", userID, err)
		}
		switch {
		case to.ID == 0:
			return Errorf(EINVALID, "No such staff member.")
		case to.Disabled:
			return Errorf(EINVALID, "%s is disabled and cannot be assigned cases.", to.Email)
		case !to.SecurityTrained:
			return Errorf(EFORBIDDEN, "%s is not security-trained; only trained staff can be assigned security cases.", to.Email)
		}
		return s.assign(tx, a, c, to, now)
	})
}

// assign moves c to user to inside tx; an agent may not move a case away
// from someone else.
func (s *Service) assign(tx *gorm.DB, a Actor, c *Case, to User, now time.Time) error {
	if !c.Status.Open() {
		return Errorf(ECONFLICT, "This case is closed.")
	}
	if c.AssigneeID != nil && *c.AssigneeID == to.ID {
		return nil
	}
	var from User
	if c.AssigneeID != nil {
		if !a.isLead() {
			return Errorf(EFORBIDDEN, "This case is someone else's; ask a security lead to reassign it.")
		}
		if err := tx.Where("id = ?", *c.AssigneeID).Limit(1).Find(&from).Error; err != nil {
			return fmt.Errorf("read assignee of %s: %w", c.Ref, err)
		}
	}
	// The condition makes a concurrent change lose rather than overwrite.
	q := tx.Model(&Case{}).Where("id = ?", c.ID)
	if c.AssigneeID == nil {
		q = q.Where("assignee_id IS NULL")
	} else {
		q = q.Where("assignee_id = ?", *c.AssigneeID)
	}
	res := q.Updates(map[string]any{"assignee_id": to.ID, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("assign %s: %w", c.Ref, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ECONFLICT, "Someone else assigned this case just now; reload and try again.")
	}
	var detail, code string
	args := Args{"to": to.Email}
	switch {
	case c.AssigneeID == nil && a.User.ID == to.ID:
		detail, code = "Taken by "+to.Email+".", CodeTaken
	case c.AssigneeID == nil:
		detail, code = "Assigned to "+to.Email+".", CodeAssigned
	default:
		args["from"] = orDefault(from.Email, fmt.Sprintf("#%d", *c.AssigneeID))
		detail, code = "Reassigned from "+orDefault(from.Email, fmt.Sprintf("user %d", *c.AssigneeID))+" to "+to.Email+".", CodeReassigned
	}
	c.AssigneeID, c.UpdatedAt = &to.ID, now
	return tx.Create(&[]Event{event(c, a, now, EventAssigned, detail).with(code, args)}).Error
}

// Assignable lists the staff a case can be assigned to: enabled and
// security-trained, by email.
func (s *Service) Assignable(ctx context.Context, a Actor) ([]User, error) {
	if !a.canReadCases() {
		return nil, errNotTrained
	}
	var us []User
	err := s.store.r.WithContext(ctx).Omit("password_hash").
		Where("security_trained = ? AND disabled = ?", true, false).Order("email").Find(&us).Error
	if err != nil {
		return nil, fmt.Errorf("list assignable staff: %w", err)
	}
	return us, nil
}
