package cases

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// The WebAuthn ceremony is the caller's (ui, with go-webauthn, and the
// browser test with Chromium's virtual authenticator); these tests play
// its part with functions that check the state cases kept and answer as a
// verified assertion would.

var passkeyID = []byte("credential-1")

// addPasskey registers a passkey for u, signed in as session, and returns
// the session's new cookie value and the owner's user handle.
func addPasskey(t *testing.T, d *testDesk, u User, session, name string) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	var handle []byte
	h, err := d.BeginPasskeyRegistration(ctx, Actor{User: &u}, session, goodPassword, func(o PasskeyOwner) ([]byte, error) {
		if o.UserID != u.ID || len(o.Handle) != 32 {
			t.Errorf("begin got owner %+v, want user %d with a 32-byte handle", o, u.ID)
		}
		handle = o.Handle
		return []byte("registration state"), nil
	})
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration() = %v", err)
	}
	finish := func(state []byte, o PasskeyOwner) (PasskeyCredential, error) {
		if string(state) != "registration state" || !bytes.Equal(o.Handle, handle) {
			return PasskeyCredential{}, errors.New("not the kept state")
		}
		return PasskeyCredential{ID: append([]byte(name), passkeyID...), PublicKey: []byte("key"), AAGUID: make([]byte, 16),
			SignCount: 1, Transports: []string{"internal", "hybrid"}, Flags: 0x45}, nil
	}
	token, err := d.FinishPasskeyRegistration(ctx, Actor{User: &u}, session, h, "  "+name+" ", finish)
	if err != nil || token == "" || token == session {
		t.Fatalf("FinishPasskeyRegistration() = %q, %v, want a new session id", token, err)
	}
	// One use: the same answer again finds no ceremony.
	_, err = d.FinishPasskeyRegistration(ctx, Actor{User: &u}, token, h, name, finish)
	if !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("FinishPasskeyRegistration(the same ceremony again) = %v, want ErrPasskeyFailed", err)
	}
	return token, handle
}

// assertWith answers a second-factor ceremony with credential cred and
// counter n, checking that the state is the one begun.
func assertWith(cred []byte, n uint32) func([]byte, PasskeyOwner) (PasskeyAssertion, error) {
	return func(state []byte, o PasskeyOwner) (PasskeyAssertion, error) {
		if string(state) != "assertion state" {
			return PasskeyAssertion{}, errors.New("not the kept state")
		}
		found := slices.ContainsFunc(o.Credentials, func(c PasskeyCredential) bool { return bytes.Equal(c.ID, cred) })
		if !found {
			return PasskeyAssertion{}, errors.New("no such credential")
		}
		return PasskeyAssertion{CredentialID: cred, SignCount: n, UserVerified: true}, nil
	}
}

// newPolicyDeskOn is another desk on d's database, under policy p.
func newPolicyDeskOn(t *testing.T, d *testDesk, p SessionPolicy) *testDesk {
	t.Helper()
	svc, err := NewService(Options{Store: d.store.Store, Sealer: svcSealer(t, d.clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: d.clock.Now, Sessions: p})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	return &testDesk{Service: svc, store: d.store, clock: d.clock}
}

func beginAssertion(o PasskeyOwner) ([]byte, error) { return []byte("assertion state"), nil }

// passkeySecondFactor signs u in with the password, then the passkey.
func passkeySecondFactor(t *testing.T, d *testDesk, u User, verify func([]byte, PasskeyOwner) (PasskeyAssertion, error)) (SignedIn, error) {
	t.Helper()
	ctx := context.Background()
	in, err := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{Addr: "192.0.2.9"}, 8*time.Hour)
	if err != nil || !in.SecondFactor {
		t.Fatalf("LoginFromClient() with a passkey = %+v, %v, want a pending sign-in", in, err)
	}
	f, err := d.PendingSignInFactors(ctx, in.Token)
	if err != nil || !f.Passkey || f.TOTP {
		t.Fatalf("PendingSignInFactors() = %+v, %v, want the passkey alone", f, err)
	}
	if _, err := d.UserBySession(ctx, in.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("UserBySession(pending) = %v, want no session before the passkey", err)
	}
	h, err := d.BeginPasskeySecondFactor(ctx, in.Token, beginAssertion)
	if err != nil {
		t.Fatalf("BeginPasskeySecondFactor() = %v", err)
	}
	return d.CompletePasskeySecondFactor(ctx, in.Token, h, verify, ClientInfo{Addr: "192.0.2.9"}, 8*time.Hour)
}

func TestPasskeyAsSecondFactor(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SecondFactorRoles: []Role{RoleLead, RoleAdmin}})
	ctx := context.Background()
	u, err := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := d.StaffSessionOf(ctx, in.Token); !st.MustEnrol {
		t.Fatalf("StaffSessionOf() of a lead without a factor = %+v, want MustEnrol", st)
	}
	token, handle := addPasskey(t, d, u, in.Token, "YubiKey 5")
	if _, err := d.UserBySession(ctx, in.Token); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("UserBySession(the session before the passkey) = %v, want it ended: the id changes", err)
	}
	st, err := d.StaffSessionOf(ctx, token)
	if err != nil || st.MustEnrol {
		t.Fatalf("StaffSessionOf() after adding a passkey = %+v, %v; a passkey satisfies the role's requirement", st, err)
	}
	list, err := d.Passkeys(ctx, Actor{User: &u})
	if err != nil || len(list) != 1 || list[0].Name != "YubiKey 5" || list[0].LastUsedAt != nil {
		t.Fatalf("Passkeys() = %+v, %v, want the one named passkey, never used", list, err)
	}
	var row passkeyRow
	if err := d.store.r.Where("user_id = ?", u.ID).First(&row).Error; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.UserHandle, handle) || row.Transports != "internal,hybrid" || row.Flags != 0x45 || row.SignCount != 1 || len(row.AAGUID) != 16 {
		t.Fatalf("stored passkey = %+v, want handle, transports, flags, counter and AAGUID kept", row)
	}
	if err := d.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}

	cred := append([]byte("YubiKey 5"), passkeyID...)
	signed, err := passkeySecondFactor(t, d, u, assertWith(cred, 5))
	if err != nil {
		t.Fatalf("CompletePasskeySecondFactor() = %v", err)
	}
	if st, err := d.StaffSessionOf(ctx, signed.Token); err != nil || st.AuthMethod != AuthPasswordPasskey || st.MustEnrol {
		t.Fatalf("StaffSessionOf(after the passkey) = %+v, %v, want a password+passkey session", st, err)
	}
	if list, _ := d.Passkeys(ctx, Actor{User: &u}); len(list) != 1 || list[0].LastUsedAt == nil {
		t.Fatalf("Passkeys() after use = %+v, want last used set", list)
	}

	// Each failure below counts twice in the account's throttle (the
	// password, then the passkey), and a success clears the count, so a
	// success comes between them before the account would lock.
	// Another credential than the person's does not verify.
	_, err = passkeySecondFactor(t, d, u, assertWith([]byte("someone else's"), 9))
	if !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("CompletePasskeySecondFactor(a credential not theirs) = %v, want ErrPasskeyFailed", err)
	}
	if _, err := passkeySecondFactor(t, d, u, assertWith(cred, 6)); err != nil {
		t.Fatalf("CompletePasskeySecondFactor(counter 6) = %v, want a session", err)
	}
	// A counter that goes back: a cloned key. Refused and audited.
	_, err = passkeySecondFactor(t, d, u, assertWith(cred, 4))
	if !errors.Is(err, ErrPasskeyCounter) {
		t.Fatalf("CompletePasskeySecondFactor(counter 4 after 6) = %v, want ErrPasskeyCounter", err)
	}
	if _, err := passkeySecondFactor(t, d, u, assertWith(cred, 7)); err != nil {
		t.Fatalf("CompletePasskeySecondFactor(counter 7) = %v, want a session", err)
	}
	_, err = passkeySecondFactor(t, d, u, assertWith(cred, 0))
	if !errors.Is(err, ErrPasskeyCounter) {
		t.Fatalf("CompletePasskeySecondFactor(counter 0 after 7) = %v, want ErrPasskeyCounter", err)
	}
	acts := auditActions(t, d)
	for _, want := range []string{AuditPasskeyAdded + ":", AuditPasskeyUsed + ":", AuditPasskeyFailed + ":", AuditPasskeyCounterRegressed + ":",
		AuditSignIn + ":" + AuthPasswordPasskey} {
		if !slices.ContainsFunc(acts, func(a string) bool { return strings.HasPrefix(a, want) }) {
			t.Errorf("audit = %v, want %s", acts, want)
		}
	}
}

func TestPasskeyCeremonyIsBoundAndShortLived(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	u, _ := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	other, _ := d.AddUser(ctx, "other@desk.example.com", RoleLead, true, goodPassword)
	in, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	in2, _ := d.LoginFromClient(ctx, other.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	begin := func(PasskeyOwner) ([]byte, error) { return []byte("s"), nil }
	finish := func([]byte, PasskeyOwner) (PasskeyCredential, error) {
		return PasskeyCredential{ID: []byte("c"), PublicKey: []byte("k")}, nil
	}
	h, err := d.BeginPasskeyRegistration(ctx, Actor{User: &u}, in.Token, goodPassword, begin)
	if err != nil {
		t.Fatal(err)
	}
	// Another person's session cannot finish it.
	if _, err := d.FinishPasskeyRegistration(ctx, Actor{User: &other}, in2.Token, h, "x", finish); !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("FinishPasskeyRegistration(another person) = %v, want ErrPasskeyFailed", err)
	}
	h, _ = d.BeginPasskeyRegistration(ctx, Actor{User: &u}, in.Token, goodPassword, begin)
	d.clock.Advance(passkeyCeremonyTTL + time.Second)
	if _, err := d.FinishPasskeyRegistration(ctx, Actor{User: &u}, in.Token, h, "x", finish); !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("FinishPasskeyRegistration(after %v) = %v, want ErrPasskeyFailed", passkeyCeremonyTTL, err)
	}
	if list, _ := d.Passkeys(ctx, Actor{User: &u}); len(list) != 0 {
		t.Fatalf("Passkeys() = %+v, want none", list)
	}
}

func TestSecondFactorChangesNeedThePassword(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	u, _ := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	in, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	never := func(PasskeyOwner) ([]byte, error) {
		t.Error("begin called without the password")
		return nil, errors.New("no")
	}
	// A stolen session cookie alone cannot add the thief's own factor.
	if _, err := d.BeginPasskeyRegistration(ctx, Actor{User: &u}, in.Token, "", never); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("BeginPasskeyRegistration(no password) = %v, want ErrWrongPassword", err)
	}
	e, err := d.StartTOTP(ctx, Actor{User: &u})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ConfirmTOTP(ctx, Actor{User: &u}, in.Token, "guess", totpCode(t, e.Secret, d.clock.Now())); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("ConfirmTOTP(wrong password) = %v, want ErrWrongPassword", err)
	}
	if st, _ := d.SecondFactor(ctx, Actor{User: &u}); st.TOTP {
		t.Fatal("an authenticator app was added without the password")
	}
	token, _ := addPasskey(t, d, u, in.Token, "Laptop")
	list, _ := d.Passkeys(ctx, Actor{User: &u})
	if err := d.RemovePasskey(ctx, Actor{User: &u}, list[0].ID, "guess"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("RemovePasskey(wrong password) = %v, want ErrWrongPassword", err)
	}
	// Guessing here counts in the sign-in throttle: the account locks.
	var err2 error
	for range DefaultLoginFailuresBeforeDelay + 1 {
		err2 = d.RemovePasskey(ctx, Actor{User: &u}, list[0].ID, "guess")
	}
	if _, locked := IsLoginLocked(err2); !locked {
		t.Fatalf("RemovePasskey() after %d wrong passwords = %v, want the account locked", DefaultLoginFailuresBeforeDelay+2, err2)
	}
	d.clock.Advance(24 * time.Hour)
	if err := d.RemovePasskey(ctx, Actor{User: &u}, list[0].ID, goodPassword); err != nil {
		t.Fatalf("RemovePasskey(password) = %v", err)
	}
	if list, _ := d.Passkeys(ctx, Actor{User: &u}); len(list) != 0 {
		t.Fatalf("Passkeys() after removal = %+v", list)
	}
	if !slices.Contains(auditActions(t, d), AuditPasskeyRemoved+":") {
		t.Errorf("audit = %v, want passkey_removed", auditActions(t, d))
	}
	_ = token

	// A person who signs in only through single sign-on has no password
	// to confirm with: the desk's factors are not for them.
	sso := User{ID: u.ID, Email: u.Email, Role: RoleLead}
	if _, err := d.BeginPasskeyRegistration(ctx, Actor{User: &sso}, in.Token, "", never); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("BeginPasskeyRegistration(single sign-on person) = %v, want ErrNoPassword", err)
	}
}

// signInWith answers a passwordless ceremony as the authenticator
// holding cred for the person of userHandle would.
func signInWith(userHandle, cred []byte, n uint32, uv bool) func([]byte, func([]byte) (PasskeyOwner, error)) (PasskeyAssertion, error) {
	return func(state []byte, lookup func([]byte) (PasskeyOwner, error)) (PasskeyAssertion, error) {
		if string(state) != "discoverable" {
			return PasskeyAssertion{}, errors.New("not the kept state")
		}
		o, err := lookup(userHandle)
		if err != nil {
			return PasskeyAssertion{}, err
		}
		if !slices.ContainsFunc(o.Credentials, func(c PasskeyCredential) bool { return bytes.Equal(c.ID, cred) }) {
			return PasskeyAssertion{}, errors.New("no such credential")
		}
		return PasskeyAssertion{CredentialID: cred, SignCount: n, UserVerified: uv}, nil
	}
}

func TestPasswordlessPasskeySignIn(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SecondFactorRoles: []Role{RoleLead}})
	ctx := context.Background()
	admin, _ := d.AddUser(ctx, "admin@desk.example.com", RoleAdmin, true, goodPassword)
	u, _ := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	in, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	_, handle := addPasskey(t, d, u, in.Token, "Phone")
	cred := append([]byte("Phone"), passkeyID...)
	signIn := func(verify func([]byte, func([]byte) (PasskeyOwner, error)) (PasskeyAssertion, error)) (SignedIn, error) {
		h, err := d.BeginPasskeySignIn(ctx, []byte("discoverable"))
		if err != nil {
			t.Fatalf("BeginPasskeySignIn() = %v", err)
		}
		return d.PasskeySignIn(ctx, h, verify, ClientInfo{Addr: "192.0.2.3"}, 8*time.Hour)
	}
	got, err := signIn(signInWith(handle, cred, 2, true))
	if err != nil || got.User.ID != u.ID {
		t.Fatalf("PasskeySignIn() = %+v, %v, want a session of %s", got, err, u.Email)
	}
	if st, err := d.StaffSessionOf(ctx, got.Token); err != nil || st.AuthMethod != AuthPasskey || st.MustEnrol {
		t.Fatalf("StaffSessionOf(passwordless) = %+v, %v, want a full passkey session", st, err)
	}
	if _, err := signIn(signInWith(handle, cred, 3, false)); !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("PasskeySignIn(no user verification) = %v, want ErrPasskeyFailed", err)
	}
	if _, err := signIn(signInWith([]byte("nobody"), cred, 4, true)); !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("PasskeySignIn(unknown handle) = %v, want ErrPasskeyFailed", err)
	}
	// A ceremony's handle works once.
	h, _ := d.BeginPasskeySignIn(ctx, []byte("discoverable"))
	if _, err := d.PasskeySignIn(ctx, h, signInWith(handle, cred, 5, true), ClientInfo{}, time.Hour); err != nil {
		t.Fatalf("PasskeySignIn() = %v", err)
	}
	if _, err := d.PasskeySignIn(ctx, h, signInWith(handle, cred, 6, true), ClientInfo{}, time.Hour); !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("PasskeySignIn(the same ceremony again) = %v, want ErrPasskeyFailed", err)
	}
	// A disabled person is refused.
	if _, err := d.SetDisabled(ctx, Actor{User: &admin}, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := signIn(signInWith(handle, cred, 7, true)); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("PasskeySignIn(disabled) = %v, want refused", err)
	}
	if !slices.Contains(auditActions(t, d), AuditSignInRefused+":"+RefusedDisabled+AuthPasskey) {
		t.Errorf("audit = %v, want the refused sign-in", auditActions(t, d))
	}
}

func TestPasskeysFollowThePasswordRules(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{SecondFactorRoles: []Role{RoleLead}})
	ctx := context.Background()
	u, _ := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	in, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	_, handle := addPasskey(t, d, u, in.Token, "Phone")
	cred := append([]byte("Phone"), passkeyID...)

	// Password sign-in off (single sign-on only): passkeys are local
	// credentials like passwords, off too.
	off := newPolicyDeskOn(t, d, SessionPolicy{PasswordLogin: PasswordLoginOff})
	h, _ := off.BeginPasskeySignIn(ctx, []byte("discoverable"))
	if _, err := off.PasskeySignIn(ctx, h, signInWith(handle, cred, 2, true), ClientInfo{}, time.Hour); !errors.Is(err, ErrPasswordLoginOff) {
		t.Fatalf("PasskeySignIn(password_login off) = %v, want ErrPasswordLoginOff", err)
	}
	// auth.passkeys false: no ceremony, and a stored passkey is not a
	// factor (the person must enrol an app again).
	none := newPolicyDeskOn(t, d, SessionPolicy{PasskeysOff: true, SecondFactorRoles: []Role{RoleLead}})
	if _, err := none.BeginPasskeySignIn(ctx, []byte("x")); !errors.Is(err, ErrPasskeysOff) {
		t.Fatalf("BeginPasskeySignIn(passkeys off) = %v, want ErrPasskeysOff", err)
	}
	in2, err := none.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, time.Hour)
	if err != nil || in2.SecondFactor {
		t.Fatalf("LoginFromClient(passkeys off) = %+v, %v, want a full session", in2, err)
	}
	if st, _ := none.StaffSessionOf(ctx, in2.Token); !st.MustEnrol {
		t.Fatalf("StaffSessionOf(passkeys off) = %+v, want MustEnrol", st)
	}
}

// TestPasskeyFailuresAreBounded: wrong answers count in the account's
// sign-in throttle with wrong passwords and codes, and are audited only
// until the account locks.
func TestPasskeyFailuresAreBounded(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	u, _ := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	in, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	addPasskey(t, d, u, in.Token, "Phone")
	in, err := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	if err != nil || !in.SecondFactor {
		t.Fatalf("LoginFromClient() = %+v, %v", in, err)
	}
	bad := func([]byte, PasskeyOwner) (PasskeyAssertion, error) {
		return PasskeyAssertion{}, errors.New("bad signature")
	}
	var last error
	for range 3 * DefaultLoginFailuresBeforeDelay {
		h, err := d.BeginPasskeySecondFactor(ctx, in.Token, beginAssertion)
		if err != nil {
			t.Fatal(err)
		}
		_, last = d.CompletePasskeySecondFactor(ctx, in.Token, h, bad, ClientInfo{}, time.Hour)
	}
	if _, locked := IsLoginLocked(last); !locked {
		t.Fatalf("CompletePasskeySecondFactor() after many bad answers = %v, want the account locked", last)
	}
	acts := auditActions(t, d)
	if n := countOf(acts, AuditPasskeyFailed+":"); n == 0 || n > DefaultLoginFailuresBeforeDelay {
		t.Errorf("audit has %d passkey_failed, want 1..%d (bounded by the throttle): %v", n, DefaultLoginFailuresBeforeDelay, acts)
	}
}

// TestRecoveryCodesForAPasskey: a person whose factor is a passkey makes
// recovery codes after their password, and one signs them in instead.
func TestRecoveryCodesForAPasskey(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	u, _ := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	if _, err := d.NewRecoveryCodes(ctx, Actor{User: &u}, goodPassword); ErrorCode(err) != ECONFLICT {
		t.Fatalf("NewRecoveryCodes() without a factor = %v, want a conflict", err)
	}
	in, _ := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	addPasskey(t, d, u, in.Token, "Phone")
	if _, err := d.NewRecoveryCodes(ctx, Actor{User: &u}, "guess"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("NewRecoveryCodes(wrong password) = %v, want ErrWrongPassword", err)
	}
	codes, err := d.NewRecoveryCodes(ctx, Actor{User: &u}, goodPassword)
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("NewRecoveryCodes() = %d codes, %v; want %d", len(codes), err, RecoveryCodeCount)
	}
	again, err := d.NewRecoveryCodes(ctx, Actor{User: &u}, goodPassword)
	if err != nil || slices.Contains(again, codes[0]) {
		t.Fatalf("NewRecoveryCodes() again = %v, %v; want ten others", again, err)
	}
	pending, err := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	if err != nil || !pending.SecondFactor {
		t.Fatalf("LoginFromClient() = %+v, %v, want a pending sign-in", pending, err)
	}
	if _, err := d.CompleteSecondFactor(ctx, pending.Token, codes[0], ClientInfo{}, time.Hour); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("CompleteSecondFactor(a replaced code) = %v, want ErrWrongCode", err)
	}
	signed, err := d.CompleteSecondFactor(ctx, pending.Token, again[0], ClientInfo{}, time.Hour)
	if err != nil || !signed.UsedRecovery || signed.RecoveryLeft != RecoveryCodeCount-1 {
		t.Fatalf("CompleteSecondFactor(a new code) = %+v, %v, want a session with %d codes left", signed, err, RecoveryCodeCount-1)
	}
	if !slices.Contains(auditActions(t, d), AuditRecoveryCodesRenewed+":") {
		t.Errorf("audit = %v, want recovery_codes_renewed", auditActions(t, d))
	}
}

// Recovery codes stand in for a second factor, so they stay while one is
// left: removing the authenticator app keeps them for the passkey, and
// removing the last passkey takes them away.
func TestRecoveryCodesOutliveOnlyTheLastFactor(t *testing.T) {
	d := newPolicyDesk(t, SessionPolicy{})
	ctx := context.Background()
	u, secret, codes := enrolledLead(t, d, "lead@desk.example.com")
	in, err := d.LoginFromClient(ctx, u.Email, goodPassword, ClientInfo{}, 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(30 * time.Second)
	signed, err := d.CompleteSecondFactor(ctx, in.Token, totpCode(t, secret, d.clock.Now()), ClientInfo{}, 8*time.Hour)
	if err != nil {
		t.Fatalf("CompleteSecondFactor() = %v", err)
	}
	addPasskey(t, d, u, signed.Token, "Phone")

	d.clock.Advance(30 * time.Second)
	if err := d.RemoveTOTP(ctx, Actor{User: &u}, goodPassword, totpCode(t, secret, d.clock.Now())); err != nil {
		t.Fatalf("RemoveTOTP() = %v", err)
	}
	if st, _ := d.SecondFactor(ctx, Actor{User: &u}); st.TOTP || st.RecoveryLeft != len(codes) {
		t.Fatalf("SecondFactor() after removing the app beside a passkey = %+v, want no app and %d recovery codes", st, len(codes))
	}
	keys, err := d.Passkeys(ctx, Actor{User: &u})
	if err != nil || len(keys) != 1 {
		t.Fatalf("Passkeys() = %v, %v; want one", keys, err)
	}
	if err := d.RemovePasskey(ctx, Actor{User: &u}, keys[0].ID, goodPassword); err != nil {
		t.Fatalf("RemovePasskey() = %v", err)
	}
	if st, _ := d.SecondFactor(ctx, Actor{User: &u}); st.RecoveryLeft != 0 {
		t.Errorf("SecondFactor() after removing the last factor = %+v, want no recovery codes", st)
	}
}
