package cases

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// totpCode is what the person's authenticator app shows at the time.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totpOpts)
	if err != nil {
		t.Fatalf("GenerateCodeCustom() = %v", err)
	}
	return c
}

// enrolledLead is a lead with a confirmed authenticator app, signed out;
// it returns the secret and the recovery codes.
func enrolledLead(t *testing.T, d *testDesk, email string) (User, string, []string) {
	t.Helper()
	ctx := context.Background()
	u, err := d.AddUser(ctx, email, RoleLead, true, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.LoginFromClient(ctx, email, goodPassword, ClientInfo{Addr: "192.0.2.7"}, 8*time.Hour)
	if err != nil || in.SecondFactor {
		t.Fatalf("LoginFromClient() before enrolment = %+v, %v, want a full session", in, err)
	}
	st, err := d.StaffSessionOf(ctx, in.Token)
	if err != nil || st.MustEnrol != d.SessionPolicy().SecondFactorRequired(u) {
		t.Fatalf("StaffSessionOf() of a lead without a second factor = %+v, %v, want MustEnrol as the policy says", st, err)
	}
	e1, err := d.StartTOTP(ctx, Actor{User: &u})
	if err != nil {
		t.Fatalf("StartTOTP() = %v", err)
	}
	e2, err := d.StartTOTP(ctx, Actor{User: &u})
	if err != nil || e2.Secret != e1.Secret {
		t.Fatalf("StartTOTP() again = %q, %v, want the same secret %q until confirmed", e2.Secret, err, e1.Secret)
	}
	if !strings.HasPrefix(e1.URI, "otpauth://totp/") || !strings.Contains(e1.URI, "secret="+e1.Secret) || len(e1.QRPNG) < 100 {
		t.Fatalf("StartTOTP() = URI %q, %d bytes of QR, want an otpauth URI with the secret and a QR code", e1.URI, len(e1.QRPNG))
	}
	_, err = d.ConfirmTOTP(ctx, Actor{User: &u}, in.Token, goodPassword, "000000")
	wantCode(t, "ConfirmTOTP(wrong code)", err, EINVALID, "not right")
	conf, err := d.ConfirmTOTP(ctx, Actor{User: &u}, in.Token, goodPassword, totpCode(t, e1.Secret, d.clock.Now()))
	if err != nil {
		t.Fatalf("ConfirmTOTP() = %v", err)
	}
	if len(conf.RecoveryCodes) != RecoveryCodeCount || conf.Token == in.Token {
		t.Fatalf("ConfirmTOTP() = %d codes, token changed %v; want %d codes and a new session id", len(conf.RecoveryCodes), conf.Token != in.Token, RecoveryCodeCount)
	}
	_, err = d.UserBySession(ctx, in.Token)
	wantCode(t, "UserBySession(the session before enrolment)", err, EUNAUTHORIZED, "")
	st, err = d.StaffSessionOf(ctx, conf.Token)
	if err != nil || st.MustEnrol || st.AuthMethod != AuthPasswordTOTP {
		t.Fatalf("StaffSessionOf(new session) = %+v, %v, want a password+totp session that need not enrol", st, err)
	}
	if _, err := d.StartTOTP(ctx, Actor{User: &u}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("StartTOTP() after confirming = %v, want a conflict: the secret is never shown again", err)
	}
	if err := d.Logout(ctx, conf.Token); err != nil {
		t.Fatal(err)
	}
	return u, e1.Secret, conf.RecoveryCodes
}

func TestTOTPSignInWindowAndReplay(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SecondFactorRoles: []Role{RoleLead, RoleAdmin}})
	ctx := context.Background()
	_, secret, _ := enrolledLead(t, d, "lead@desk.example.com")
	confirmedAt := d.clock.Now()

	pending := func() string {
		t.Helper()
		in, err := d.LoginFromClient(ctx, "lead@desk.example.com", goodPassword, ClientInfo{Addr: "192.0.2.7"}, 8*time.Hour)
		if err != nil || !in.SecondFactor {
			t.Fatalf("LoginFromClient() with TOTP enrolled = %+v, %v, want a pending sign-in", in, err)
		}
		if _, err := d.UserBySession(ctx, in.Token); ErrorCode(err) != EUNAUTHORIZED {
			t.Fatalf("UserBySession(pending sign-in) = %v, want it refused: no session before the second factor", err)
		}
		return in.Token
	}

	// The code that confirmed enrolment cannot sign in (same time step).
	p := pending()
	_, err := d.CompleteSecondFactor(ctx, p, totpCode(t, secret, confirmedAt), ClientInfo{}, 8*time.Hour)
	wantCode(t, "CompleteSecondFactor(the enrolment's code again)", err, EINVALID, "not right")

	// The next step's code is accepted a step early (clock skew).
	d.clock.Advance(30 * time.Second)
	in, err := d.CompleteSecondFactor(ctx, p, totpCode(t, secret, d.clock.Now().Add(30*time.Second)), ClientInfo{}, 8*time.Hour)
	if err != nil {
		t.Fatalf("CompleteSecondFactor(next step's code) = %v, want signed in", err)
	}
	if in.Token == p {
		t.Fatal("CompleteSecondFactor() kept the pending token, want a new session id")
	}
	if st, err := d.StaffSessionOf(ctx, in.Token); err != nil || st.AuthMethod != AuthPasswordTOTP {
		t.Fatalf("StaffSessionOf() = %+v, %v, want a password+totp session", st, err)
	}
	if _, err := d.CompleteSecondFactor(ctx, p, totpCode(t, secret, d.clock.Now()), ClientInfo{}, 8*time.Hour); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("CompleteSecondFactor(the used pending token) = %v, want it gone", err)
	}

	// Replay: the step just used, and the one before it, are refused now.
	p = pending()
	for _, at := range []time.Time{d.clock.Now().Add(30 * time.Second), d.clock.Now()} {
		_, err = d.CompleteSecondFactor(ctx, p, totpCode(t, secret, at), ClientInfo{}, 8*time.Hour)
		wantCode(t, "CompleteSecondFactor(an older step's code)", err, EINVALID, "not right")
	}
	// Two steps ahead is outside the window.
	d.clock.Advance(30 * time.Second)
	_, err = d.CompleteSecondFactor(ctx, p, totpCode(t, secret, d.clock.Now().Add(90*time.Second)), ClientInfo{}, 8*time.Hour)
	wantCode(t, "CompleteSecondFactor(a code two steps ahead)", err, EINVALID, "not right")
	// A step behind, not yet used, is inside it.
	d.clock.Advance(60 * time.Second)
	if _, err := d.CompleteSecondFactor(ctx, p, totpCode(t, secret, d.clock.Now().Add(-30*time.Second)), ClientInfo{}, 8*time.Hour); err != nil {
		t.Fatalf("CompleteSecondFactor(previous step's code) = %v, want signed in", err)
	}

	// The pending sign-in ends after pendingSecondFactorTTL.
	p = pending()
	d.clock.Advance(pendingSecondFactorTTL)
	_, err = d.CompleteSecondFactor(ctx, p, totpCode(t, secret, d.clock.Now()), ClientInfo{}, 8*time.Hour)
	wantCode(t, "CompleteSecondFactor() after the pending sign-in ran out", err, EUNAUTHORIZED, "")
}

func TestRecoveryCodeSingleUse(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SecondFactorRoles: []Role{RoleLead}})
	ctx := context.Background()
	_, _, codes := enrolledLead(t, d, "lead@desk.example.com")
	signIn := func(code string) (SignedIn, error) {
		in, err := d.LoginFromClient(ctx, "lead@desk.example.com", goodPassword, ClientInfo{}, 8*time.Hour)
		if err != nil || !in.SecondFactor {
			t.Fatalf("LoginFromClient() = %+v, %v, want a pending sign-in", in, err)
		}
		return d.CompleteSecondFactor(ctx, in.Token, code, ClientInfo{}, 8*time.Hour)
	}
	// As shown, or typed in capitals without dashes.
	in, err := signIn(strings.ToUpper(strings.ReplaceAll(codes[3], "-", "")))
	if err != nil || !in.UsedRecovery || in.RecoveryLeft != RecoveryCodeCount-1 {
		t.Fatalf("CompleteSecondFactor(recovery code) = %+v, %v, want signed in with %d left", in, err, RecoveryCodeCount-1)
	}
	if st, err := d.StaffSessionOf(ctx, in.Token); err != nil || st.AuthMethod != AuthPasswordRecovery {
		t.Fatalf("StaffSessionOf() = %+v, %v, want a password+recovery session", st, err)
	}
	_, err = signIn(codes[3])
	wantCode(t, "CompleteSecondFactor(the same recovery code again)", err, EINVALID, "not right")
	if in, err = signIn(codes[4]); err != nil || in.RecoveryLeft != RecoveryCodeCount-2 {
		t.Fatalf("CompleteSecondFactor(another recovery code) = %+v, %v, want %d left", in, err, RecoveryCodeCount-2)
	}
	acts := auditActions(t, d)
	if n := countOf(acts, AuditRecoveryCodeUsed+":"); n != 2 {
		t.Errorf("audit = %v, want 2 recovery_code_used", acts)
	}
	if !slices.Contains(acts, AuditSignIn+":"+AuthPasswordRecovery) || !slices.Contains(acts, AuditSecondFactorEnrolled+":"+FactorTOTP) {
		t.Errorf("audit = %v, want the enrolment and sign-ins with a recovery code", acts)
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func TestWrongCodesLockLikePasswords(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	_, secret, _ := enrolledLead(t, d, "lead@desk.example.com")
	in, err := d.LoginFromClient(ctx, "lead@desk.example.com", goodPassword, ClientInfo{Addr: "198.51.100.9"}, 8*time.Hour)
	if err != nil || !in.SecondFactor {
		t.Fatalf("LoginFromClient() = %+v, %v, want a pending sign-in", in, err)
	}
	locked := false
	for i := range 20 {
		_, err = d.CompleteSecondFactor(ctx, in.Token, "123456", ClientInfo{Addr: "198.51.100.9"}, 8*time.Hour)
		if _, ok := IsLoginLocked(err); ok {
			locked = true
			break
		}
		wantCode(t, "CompleteSecondFactor(wrong code)", err, EINVALID, "not right")
		if i > DefaultLoginFailuresBeforeDelay {
			break
		}
	}
	if !locked {
		t.Fatalf("CompleteSecondFactor() never locked after wrong codes, last err %v", err)
	}
	// Locked: even the right code is refused, unchecked and unaudited.
	d.clock.Advance(30 * time.Second)
	for range 3 {
		if _, err := d.CompleteSecondFactor(ctx, in.Token, totpCode(t, secret, d.clock.Now()), ClientInfo{}, 8*time.Hour); err == nil {
			t.Fatal("CompleteSecondFactor(right code) while locked = nil, want refused")
		}
	}
	acts := auditActions(t, d)
	if n := countOf(acts, AuditSecondFactorFailed+":"); n == 0 || n > DefaultLoginFailuresBeforeDelay {
		t.Errorf("audit has %d second_factor_failed, want 1..%d (bounded by the throttle): %v", n, DefaultLoginFailuresBeforeDelay, acts)
	}
	if !slices.Contains(acts, AuditLoginLocked+":") {
		t.Errorf("audit = %v, want login_locked", acts)
	}
}

// After failed sign-ins up to the limit, the right password and the right
// code still sign the owner in at once: the attempt that reached the limit
// does not lock the second step out. An attempt in between does.
func TestRightPasswordAtTheLimitLeavesTheCodeOpen(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	_, secret, _ := enrolledLead(t, d, "lead@desk.example.com")
	client := ClientInfo{Addr: "198.51.100.9"}
	for i := range DefaultLoginFailuresBeforeDelay - 1 {
		if _, err := d.LoginFromClient(ctx, "lead@desk.example.com", "wrong password", client, 8*time.Hour); ErrorCode(err) != EUNAUTHORIZED {
			t.Fatalf("wrong password %d = %v, want unauthorized", i+1, err)
		}
	}
	in, err := d.LoginFromClient(ctx, "lead@desk.example.com", goodPassword, client, 8*time.Hour)
	if err != nil || !in.SecondFactor {
		t.Fatalf("LoginFromClient(right password, attempt %d) = %+v, %v; want a pending sign-in", DefaultLoginFailuresBeforeDelay, in, err)
	}
	d.clock.Advance(30 * time.Second) // the enrolment used this time step's code
	done, err := d.CompleteSecondFactor(ctx, in.Token, totpCode(t, secret, d.clock.Now()), client, 8*time.Hour)
	if err != nil {
		t.Fatalf("CompleteSecondFactor(right code) after the right password = %v, want signed in", err)
	}
	if done.Failed != DefaultLoginFailuresBeforeDelay-1 {
		t.Errorf("the owner is told of %d failed sign-ins, want %d", done.Failed, DefaultLoginFailuresBeforeDelay-1)
	}

	// The same, with a guess between the password and the code: the guess
	// is refused by the lock, and so is the code until the lock ends.
	d.clock.Advance(time.Minute)
	for range DefaultLoginFailuresBeforeDelay - 1 {
		d.LoginFromClient(ctx, "lead@desk.example.com", "wrong password", client, 8*time.Hour)
	}
	in, err = d.LoginFromClient(ctx, "lead@desk.example.com", goodPassword, client, 8*time.Hour)
	if err != nil || !in.SecondFactor {
		t.Fatalf("LoginFromClient(right password) = %+v, %v; want a pending sign-in", in, err)
	}
	if _, err := d.LoginFromClient(ctx, "lead@desk.example.com", "another guess", ClientInfo{Addr: "203.0.113.5"}, 8*time.Hour); err == nil {
		t.Fatal("a guess after the limit = nil, want refused")
	}
	if _, err := d.CompleteSecondFactor(ctx, in.Token, totpCode(t, secret, d.clock.Now()), client, 8*time.Hour); err == nil {
		t.Fatal("CompleteSecondFactor after another guess locked the account = nil, want refused")
	} else if _, locked := IsLoginLocked(err); !locked {
		t.Errorf("CompleteSecondFactor after another guess = %v, want the lock", err)
	}
}

func TestSecondFactorRemoveAndAdminReset(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SecondFactorRoles: []Role{RoleLead}})
	ctx := context.Background()
	u, secret, codes := enrolledLead(t, d, "lead@desk.example.com")
	admin, err := d.AddUser(ctx, "admin@desk.example.com", RoleAdmin, true, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := d.AddUser(ctx, "agent@desk.example.com", RoleAgent, true, goodPassword)
	if err != nil {
		t.Fatal(err)
	}

	// Removal by its owner needs a code.
	d.clock.Advance(time.Minute)
	wantCode(t, "RemoveTOTP(wrong code)", d.RemoveTOTP(ctx, Actor{User: &u}, goodPassword, "999999"), EINVALID, "not right")
	if err := d.RemoveTOTP(ctx, Actor{User: &u}, goodPassword, codes[0]); err != nil {
		t.Fatalf("RemoveTOTP(recovery code) = %v", err)
	}
	if st, _ := d.SecondFactor(ctx, Actor{User: &u}); st.TOTP || st.RecoveryLeft != 0 || !st.Required {
		t.Fatalf("SecondFactor() after removal = %+v, want none, required", st)
	}
	in, err := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	if err != nil || in.SecondFactor {
		t.Fatalf("LoginFromClient() after removal = %+v, %v, want a full session", in, err)
	}
	if st, _ := d.StaffSessionOf(ctx, in.Token); !st.MustEnrol {
		t.Fatalf("StaffSessionOf() after removal = %+v, want MustEnrol", st)
	}

	// Enrol again, then the admin resets it (a lost phone).
	e, err := d.StartTOTP(ctx, Actor{User: &u})
	if err != nil || e.Secret == secret {
		t.Fatalf("StartTOTP() after removal = %v, new secret %v; want a new secret", err, e.Secret != secret)
	}
	conf, err := d.ConfirmTOTP(ctx, Actor{User: &u}, in.Token, goodPassword, totpCode(t, e.Secret, d.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "ResetSecondFactor(by an agent)", d.ResetSecondFactor(ctx, Actor{User: &agent}, u.ID), EFORBIDDEN, "")
	wantCode(t, "ResetSecondFactor(own)", d.ResetSecondFactor(ctx, Actor{User: &admin}, admin.ID), EINVALID, "another admin")
	if err := d.ResetSecondFactor(ctx, Actor{User: &admin}, u.ID); err != nil {
		t.Fatalf("ResetSecondFactor() = %v", err)
	}
	if _, err := d.UserBySession(ctx, conf.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("UserBySession() after the reset = %v, want the person's sessions ended", err)
	}
	in, err = d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	if err != nil || in.SecondFactor {
		t.Fatalf("LoginFromClient() after the reset = %+v, %v, want a full session that must enrol", in, err)
	}
	acts := auditActions(t, d)
	for _, want := range []string{AuditSecondFactorRemoved + ":" + FactorTOTP, AuditSecondFactorReset + ":",
		AuditSessionsEnded + ":" + EndedSecondFactorReset} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit = %v, want %s", acts, want)
		}
	}
}
