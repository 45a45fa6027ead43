package cases

import (
	"context"
	"strings"
	"testing"
)

func TestAssign(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	add := func(email string, role Role, trained bool) Actor {
		t.Helper()
		u, err := d.AddUser(ctx, email, role, trained, "correct horse battery")
		if err != nil {
			t.Fatalf("AddUser(%s) = %v", email, err)
		}
		return Actor{User: &u}
	}
	lead := add("lead@desk.example", RoleLead, true)
	ann := add("ann@desk.example", RoleAgent, true)
	bob := add("bob@desk.example", RoleAgent, true)
	untrained := add("carl@desk.example", RoleAgent, false)
	gone := add("dora@desk.example", RoleAgent, true)
	if err := d.store.w.Model(&User{}).Where("id = ?", gone.User.ID).Update("disabled", true).Error; err != nil {
		t.Fatalf("disable user: %v", err)
	}
	f := d.file(t, ReportInput{Token: d.mint(t, "AS-1", "postal_notice").Token})
	ref := f.CaseRef

	steps := []struct {
		name     string
		by       Actor
		to       Actor
		code     Code   // "" = success
		mention  string // in the error message, or in the timeline event
		assignee string // after the step
	}{
		{"agent assigns someone else", ann, bob, EFORBIDDEN, "leads", ""},
		{"lead assigns an untrained user", lead, untrained, EFORBIDDEN, "not security-trained", ""},
		{"lead assigns a disabled user", lead, gone, EINVALID, "disabled", ""},
		{"untrained user assigns", untrained, untrained, EFORBIDDEN, "security-trained", ""},
		{"agent takes it for themselves", ann, ann, "", "Taken by ann@desk.example.", "ann@desk.example"},
		{"another agent cannot take it from her", bob, bob, EFORBIDDEN, "someone else's", "ann@desk.example"},
		{"lead reassigns", lead, bob, "", "Reassigned from ann@desk.example to bob@desk.example.", "bob@desk.example"},
		{"lead assigns the same again: nothing changes", lead, bob, "", "", "bob@desk.example"},
	}
	for _, st := range steps {
		before := len(d.events(t, f.Case.ID))
		c, err := d.Assign(ctx, st.by, ref, st.to.User.ID)
		if st.code != "" {
			wantCode(t, st.name+": Assign()", err, st.code, st.mention)
		} else if err != nil {
			t.Errorf("%s: Assign() = %v", st.name, err)
		}
		got := d.caseRow(t, ref)
		var who string
		if got.AssigneeID != nil {
			var u User
			d.store.w.Where("id = ?", *got.AssigneeID).Take(&u)
			who = u.Email
		}
		if who != st.assignee {
			t.Errorf("%s: assignee = %q, want %q", st.name, who, st.assignee)
		}
		evs := d.eventDetails(t, f.Case.ID, EventAssigned)
		switch {
		case st.code == "" && st.mention != "":
			if len(d.events(t, f.Case.ID)) != before+1 || !strings.Contains(evs[len(evs)-1], st.mention) {
				t.Errorf("%s: assignment events = %q, want a new one %q", st.name, evs, st.mention)
			}
			if c.AssigneeID == nil || *c.AssigneeID != st.to.User.ID {
				t.Errorf("%s: Assign() returned assignee %v, want %d", st.name, c.AssigneeID, st.to.User.ID)
			}
		case len(d.events(t, f.Case.ID)) != before:
			t.Errorf("%s: the timeline grew: %q", st.name, evs)
		}
	}

	// Take follows the same rule: an agent cannot take a case from bob.
	if _, err := d.Take(ctx, ann, ref); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("Take(someone else's case) = %v, want forbidden", err)
	}
	if _, err := d.SetStatus(ctx, bob, ref, StatusDismissed, "test mail"); err != nil {
		t.Fatalf("SetStatus(dismissed) = %v", err)
	}
	wantCode(t, "Assign(closed case)", func() error { _, err := d.Assign(ctx, lead, ref, ann.User.ID); return err }(), ECONFLICT, "closed")

	us, err := d.Assignable(ctx, lead)
	if err != nil {
		t.Fatalf("Assignable() = %v", err)
	}
	var emails []string
	for _, u := range us {
		emails = append(emails, u.Email)
	}
	if got := strings.Join(emails, ","); got != "ann@desk.example,bob@desk.example,lead@desk.example" {
		t.Errorf("Assignable() = %s, want the enabled trained staff", got)
	}
}
