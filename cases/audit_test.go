package cases

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestSetSecurityTrainedIsAdminOnlyAndAudited(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	u, err := d.AddUser(ctx, "new@desk.example", RoleAgent, false, "a-long-enough-password")
	if err != nil {
		t.Fatal(err)
	}
	admin := Actor{User: &User{ID: 99, Email: "admin@desk.example", Role: RoleAdmin}}
	lead := Actor{User: &User{ID: 98, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}

	if _, err := d.SetSecurityTrained(ctx, lead, u.ID, true); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("SetSecurityTrained by a lead = %v, want forbidden", err)
	}
	got, err := d.SetSecurityTrained(ctx, admin, u.ID, true)
	if err != nil || !got.SecurityTrained {
		t.Fatalf("SetSecurityTrained(grant) = %+v, %v", got, err)
	}
	// The grant takes effect on the next request: the user can now work cases.
	tok, _, err := d.Login(ctx, "new@desk.example", "a-long-enough-password", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now, _ := d.UserBySession(ctx, tok)
	if _, err := d.Queue(ctx, Actor{User: &now}, QueueFilter{}); err != nil {
		t.Errorf("Queue after the grant = %v", err)
	}
	if _, err := d.SetSecurityTrained(ctx, admin, u.ID, true); err != nil {
		t.Errorf("granting twice = %v, want a quiet no-op", err)
	}
	if _, err := d.SetSecurityTrained(ctx, admin, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetSecurityTrained(ctx, admin, 12345, true); ErrorCode(err) != ENOTFOUND {
		t.Errorf("SetSecurityTrained(unknown user) = %v, want not found", err)
	}
	log, err := d.AuditLog(ctx, lead, 0)
	log = slices.DeleteFunc(log, func(e AuditEntry) bool { return e.Action == AuditSignIn || e.Action == AuditSessionsEnded })
	if err != nil || len(log) != 2 || log[0].Action != AuditRevokeTrained || log[1].Action != AuditGrantTrained ||
		log[1].Actor != "user:admin@desk.example" || log[1].Subject != "user:new@desk.example" {
		t.Fatalf("AuditLog = %+v, %v; want grant then revoke, by the admin, of the user", log, err)
	}
	if _, err := d.AuditLog(ctx, agent(1, true), 0); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("AuditLog for an agent = %v, want forbidden", err)
	}
}
