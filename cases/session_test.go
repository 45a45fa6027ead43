package cases

import (
	"context"
	"testing"
	"time"
)

// newPolicyDesk is newTestDesk with a session policy.
func newPolicyDesk(t testing.TB, p SessionPolicy) *testDesk {
	t.Helper()
	clock := newFakeClock()
	st := openTestStore(t)
	svc, err := NewService(Options{Store: st, Sealer: svcSealer(t, clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: clock.Now, Sessions: p})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	return &testDesk{Service: svc, store: handlesOf(st), clock: clock}
}

func auditActions(t testing.TB, d *testDesk) []string {
	t.Helper()
	admin := User{ID: -1, Role: RoleAdmin}
	es, err := d.AuditLog(context.Background(), Actor{User: &admin}, 100)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action+":"+es[i].Args["why"]+es[i].Args["reason"]+es[i].Args["method"])
	}
	return out
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{Idle: 30 * time.Minute})
	ctx := context.Background()
	if _, err := d.AddUser(ctx, "a@desk.example.com", RoleAgent, true, goodPassword); err != nil {
		t.Fatal(err)
	}
	in, err := d.LoginFromClient(ctx, "a@desk.example.com", goodPassword, ClientInfo{Addr: "192.0.2.7", UserAgent: "Firefox on Linux"}, 2*time.Hour)
	if err != nil {
		t.Fatalf("LoginFromClient() = %v", err)
	}
	// Used every 20 minutes, it lives to its absolute end and not past it.
	for range 5 {
		d.clock.Advance(20 * time.Minute)
		if _, err := d.UserBySession(ctx, in.Token); err != nil {
			t.Fatalf("UserBySession() after 20 idle minutes = %v, want the user", err)
		}
	}
	d.clock.Advance(20 * time.Minute)
	_, err = d.UserBySession(ctx, in.Token)
	wantCode(t, "UserBySession() past the absolute end", err, EUNAUTHORIZED, "")

	in, err = d.LoginFromClient(ctx, "a@desk.example.com", goodPassword, ClientInfo{}, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(30 * time.Minute)
	_, err = d.UserBySession(ctx, in.Token)
	wantCode(t, "UserBySession() after 30 idle minutes", err, EUNAUTHORIZED, "")
}

func TestSessionsListedAndEnded(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	admin, err := d.AddUser(ctx, "admin@desk.example.com", RoleAdmin, false, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.AddUser(ctx, "a@desk.example.com", RoleAgent, true, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{Addr: "192.0.2.7", UserAgent: "Firefox on Linux"}, time.Hour)
	d.clock.Advance(time.Minute)
	two, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{Addr: "2001:db8:1:2::/64", UserAgent: "Chrome on Android"}, time.Hour)
	me := Actor{User: &u}
	list, err := d.Sessions(ctx, me, two.Token)
	if err != nil {
		t.Fatalf("Sessions() = %v", err)
	}
	if len(list) != 2 || !list[0].Current || list[0].UserAgent != "Chrome on Android" || list[1].Client != "192.0.2.7" || list[1].AuthMethod != AuthPassword {
		t.Fatalf("Sessions() = %+v, want the Android one (current) then the Firefox one", list)
	}
	// Another person cannot end it; its owner can.
	other := Actor{User: &admin}
	wantCode(t, "EndSession(someone else's)", d.EndSession(ctx, other, list[1].ID), ENOTFOUND, "")
	if err := d.EndSession(ctx, me, list[1].ID); err != nil {
		t.Fatalf("EndSession(own) = %v", err)
	}
	if _, err := d.UserBySession(ctx, one.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Errorf("UserBySession(ended) = %v, want unauthorized", err)
	}
	// An admin ends all; so does removing the training.
	if _, err := d.EndUserSessions(ctx, me, admin.ID); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("EndUserSessions(by an agent) = %v, want forbidden", err)
	}
	if n, err := d.EndUserSessions(ctx, other, u.ID); err != nil || n != 1 {
		t.Errorf("EndUserSessions() = %d, %v, want 1", n, err)
	}
	three, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, time.Hour)
	if _, err := d.SetSecurityTrained(ctx, other, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UserBySession(ctx, three.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Errorf("UserBySession() after the training was removed = %v, want unauthorized", err)
	}
	four, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, time.Hour)
	if _, err := d.SetDisabled(ctx, other, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UserBySession(ctx, four.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Errorf("UserBySession() after disabling = %v, want unauthorized", err)
	}
	if _, err := d.SetDisabled(ctx, other, admin.ID, true); ErrorCode(err) != EINVALID {
		t.Errorf("SetDisabled(oneself) = %v, want invalid", err)
	}
	got := auditActions(t, d)
	want := []string{"sign_in:password", "sign_in:password", "sessions_ended:owner", "sessions_ended:admin", "sign_in:password",
		"revoke_security_trained:", "sessions_ended:untrained", "sign_in:password", "disable_user:", "sessions_ended:disabled"}
	if len(got) != len(want) {
		t.Fatalf("audit log = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit log = %q, want %q", got, want)
		}
	}
}

func TestPasswordLoginPolicy(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		policy      SessionPolicy
		admin, lead bool // may sign in with a password
	}{
		{SessionPolicy{}, true, true},
		{SessionPolicy{PasswordLogin: PasswordLoginBreakGlass, BreakGlass: " Admin@Desk.example.com"}, true, false},
		{SessionPolicy{PasswordLogin: PasswordLoginBreakGlass}, false, false},
		{SessionPolicy{PasswordLogin: PasswordLoginOff, BreakGlass: "admin@desk.example.com"}, false, false},
	} {
		d := newPolicyDesk(t, tt.policy)
		for _, u := range []struct {
			email string
			ok    bool
		}{{"admin@desk.example.com", tt.admin}, {"lead@desk.example.com", tt.lead}} {
			if _, err := d.AddUser(ctx, u.email, RoleAdmin, false, goodPassword); err != nil {
				t.Fatal(err)
			}
			_, err := d.LoginFromClient(ctx, u.email, goodPassword, ClientInfo{}, time.Hour)
			if got := err == nil; got != u.ok || (err != nil && err != ErrPasswordLoginOff) {
				t.Errorf("policy %+v: LoginFromClient(%s) = %v, want allowed %t", tt.policy, u.email, err, u.ok)
			}
		}
	}
}
