package cases

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInvitations(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	admin := Actor{User: &User{ID: 99, Email: "admin@desk.example", Role: RoleAdmin}}
	lead := Actor{User: &User{ID: 98, Email: "lead@desk.example", Role: RoleLead, SecurityTrained: true}}
	if _, err := d.AddUser(ctx, "taken@desk.example", RoleAgent, true, "a-long-enough-password"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		who   Actor
		email string
		role  Role
		want  func(error) bool
	}{
		{lead, "new@desk.example", RoleAgent, func(err error) bool { return ErrorCode(err) == EFORBIDDEN }},
		{admin, "not an address", RoleAgent, func(err error) bool { return errors.Is(err, ErrNotAnAddress) }},
		{admin, "new@desk.example", "owner", func(err error) bool { return errors.Is(err, ErrUnknownRole) }},
		{admin, " Taken@Desk.example ", RoleLead, func(err error) bool { return errors.Is(err, ErrUserExists) }},
	} {
		_, tok, err := d.InviteUser(ctx, tc.who, tc.email, tc.role, true)
		switch {
		case !tc.want(err):
			t.Errorf("InviteUser(%q, %q) by %s = %v, want it refused for its reason", tc.email, tc.role, tc.who, err)
		case tok != "":
			t.Errorf("InviteUser(%q, %q) refused but gave a token", tc.email, tc.role)
		}
	}

	// A first invitation is replaced by a second for the same address: the
	// admin lost the link or got the role wrong.
	_, first, err := d.InviteUser(ctx, admin, "New@Desk.example", RoleAgent, false)
	if err != nil {
		t.Fatal(err)
	}
	inv, tok, err := d.InviteUser(ctx, admin, "new@desk.example", RoleLead, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.InvitationByToken(ctx, first); !errors.Is(err, ErrInvitationInvalid) {
		t.Errorf("InvitationByToken(replaced link) = %v, want ErrInvitationInvalid", err)
	}
	if got, err := d.InvitationByToken(ctx, tok); err != nil || got.Email != "new@desk.example" || got.Role != RoleLead {
		t.Errorf("InvitationByToken(link) = %+v, %v", got, err)
	}
	if strings.Contains(string(inv.TokenHash), tok) {
		t.Errorf("the invitation keeps its token, want only a hash")
	}
	pending, err := d.PendingInvitations(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != inv.ID {
		t.Errorf("PendingInvitations() = %+v, %v, want only the second", pending, err)
	}

	if _, err := d.AcceptInvitation(ctx, tok, "short"); !errors.Is(err, ErrPasswordShort) {
		t.Errorf("AcceptInvitation(short password) = %v, want ErrPasswordShort", err)
	}
	u, err := d.AcceptInvitation(ctx, tok, "my own long password")
	if err != nil || u.Role != RoleLead || !u.SecurityTrained {
		t.Fatalf("AcceptInvitation() = %+v, %v", u, err)
	}
	if _, _, err := d.Login(ctx, "new@desk.example", "my own long password", time.Hour); err != nil {
		t.Errorf("Login with the password set on the invitation = %v", err)
	}
	if _, err := d.AcceptInvitation(ctx, tok, "another long password"); !errors.Is(err, ErrInvitationInvalid) {
		t.Errorf("AcceptInvitation(used link) = %v, want ErrInvitationInvalid", err)
	}
	if _, _, err := d.InviteUser(ctx, admin, "new@desk.example", RoleAgent, true); !errors.Is(err, ErrUserExists) {
		t.Errorf("InviteUser(now a user) = %v, want ErrUserExists", err)
	}

	// A link expires.
	_, late, err := d.InviteUser(ctx, admin, "late@desk.example", RoleAgent, true)
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(InvitationTTL + time.Second)
	if _, err := d.AcceptInvitation(ctx, late, "my own long password"); !errors.Is(err, ErrInvitationInvalid) {
		t.Errorf("AcceptInvitation(expired link) = %v, want ErrInvitationInvalid", err)
	}

	// The audit log names who invited whom with which role, and who
	// accepted; never a token or password.
	log, err := d.AuditLog(ctx, admin, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Actor+" "+e.Action+" "+e.Subject+" "+e.Detail)
		if strings.Contains(e.Detail, tok) || strings.Contains(e.Detail, "my own long password") {
			t.Errorf("audit entry %+v holds a secret", e)
		}
	}
	want := []string{
		"user:admin@desk.example invite_user user:late@desk.example role=agent security_trained=true",
		"user:new@desk.example sign_in user:new@desk.example signed in with password",
		"user:new@desk.example accept_invitation user:new@desk.example invited_by=user:admin@desk.example",
		"user:admin@desk.example invite_user user:new@desk.example role=lead security_trained=true",
		"user:admin@desk.example invite_user user:new@desk.example role=agent security_trained=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("AuditLog() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
