package cases

import (
	"context"
	"slices"
	"testing"
	"time"
)

var testMapping = SSOMapping{
	Roles:   map[string]Role{"desk-agents": RoleAgent, "desk-leads": RoleLead, "desk-admins": RoleAdmin},
	Trained: []string{"security"},
}

func TestSSOMappingResolve(t *testing.T) {
	for _, tt := range []struct {
		groups  []string
		role    Role
		trained bool
		ok      bool
	}{
		{[]string{"desk-agents"}, RoleAgent, false, true},
		{[]string{"security", "desk-agents"}, RoleAgent, true, true},
		{[]string{"desk-agents", "desk-admins", "desk-leads"}, RoleAdmin, false, true},
		{[]string{"security"}, "", true, false},
		{nil, "", false, false},
		{[]string{"Desk-Agents"}, "", false, false}, // groups are compared exactly
	} {
		role, trained, ok := testMapping.Resolve(tt.groups)
		if role != tt.role || trained != tt.trained || ok != tt.ok {
			t.Errorf("Resolve(%q) = %q, %t, %t, want %q, %t, %t", tt.groups, role, trained, ok, tt.role, tt.trained, tt.ok)
		}
	}
}

func TestSignInSSO(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SSORecheck: time.Hour})
	ctx := context.Background()
	id := SSOIdentity{Issuer: "https://idp.example.com", Subject: "u1", Email: "Lead@Desk.example.com", EmailVerified: true,
		Groups: []string{"desk-leads", "security"}}
	in, err := d.SignInSSO(ctx, id, testMapping, ClientInfo{Addr: "192.0.2.1"}, 8*time.Hour)
	if err != nil {
		t.Fatalf("SignInSSO(first) = %v", err)
	}
	if in.User.Email != "lead@desk.example.com" || in.User.Role != RoleLead || !in.User.SecurityTrained {
		t.Fatalf("SignInSSO(first).User = %+v, want a trained lead", in.User)
	}
	// The session ends SSORecheck after the provider confirmed the groups.
	d.clock.Advance(59 * time.Minute)
	if _, err := d.UserBySession(ctx, in.Token); err != nil {
		t.Fatalf("UserBySession() within the re-check = %v", err)
	}
	d.clock.Advance(time.Minute)
	if _, err := d.UserBySession(ctx, in.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("UserBySession() at the re-check = %v, want unauthorized", err)
	}

	// Removed from the security group: the next sign-in takes the training
	// away and ends the other sessions.
	old, err := d.SignInSSO(ctx, id, testMapping, ClientInfo{}, 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id.Groups = []string{"desk-agents"}
	in, err = d.SignInSSO(ctx, id, testMapping, ClientInfo{}, 8*time.Hour)
	if err != nil {
		t.Fatalf("SignInSSO(fewer groups) = %v", err)
	}
	if in.User.Role != RoleAgent || in.User.SecurityTrained {
		t.Errorf("SignInSSO(fewer groups).User = %+v, want an untrained agent", in.User)
	}
	if _, err := d.UserBySession(ctx, old.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Errorf("UserBySession(older session) = %v, want unauthorized", err)
	}
	if _, err := d.UserBySession(ctx, in.Token); err != nil {
		t.Errorf("UserBySession(new session) = %v", err)
	}

	// Refusals.
	for _, tt := range []struct {
		change func(*SSOIdentity)
		reason string
	}{
		{func(i *SSOIdentity) { i.EmailVerified = false }, SSOEmailUnverified},
		{func(i *SSOIdentity) { i.Email = "" }, SSONoEmail},
		{func(i *SSOIdentity) { i.Groups = []string{"security"} }, SSONoGroup},
		{func(i *SSOIdentity) { i.Subject = "someone-else" }, SSOOtherSubject},
	} {
		x := id
		tt.change(&x)
		_, err := d.SignInSSO(ctx, x, testMapping, ClientInfo{}, time.Hour)
		if r, ok := IsSSORefusal(err); !ok || r.Reason != tt.reason {
			t.Errorf("SignInSSO(%+v) = %v, want refusal %s", x, err, tt.reason)
		}
	}
	got := auditActions(t, d)
	for _, want := range []string{"sso_user_added:", "sign_in:oidc", "sso_role_change:", "revoke_security_trained:",
		"sessions_ended:role_lowered", "sign_in_refused:email_unverifiedoidc", "sign_in_refused:no_groupoidc", "sign_in_refused:other_subjectoidc"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit log = %q, want it to have %q", got, want)
		}
	}
}
