package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// The attack of issue 12: 30 wrong passwords for one account from six
// addresses, then the right one from a seventh. The per-client limit never
// sees more than five from one address; the account's own count locks it
// after the fifth, and the right password is refused until the lock ends.
// Then it signs in, and the session says what happened meanwhile.
func TestLoginThrottleLocksAccountAcrossClients(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	if _, err := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	start := d.clock.Now()
	for i := range 30 {
		client := fmt.Sprintf("192.0.2.%d", i%6+1)
		_, err := d.LoginFrom(ctx, "lead@desk.example.com", fmt.Sprintf("guess number %d", i), client, time.Hour)
		lock, locked := IsLoginLocked(err)
		switch {
		case i < DefaultLoginFailuresBeforeDelay-1:
			wantCode(t, fmt.Sprintf("LoginFrom(guess %d)", i+1), err, EUNAUTHORIZED, "wrong email or password")
		case !locked:
			t.Fatalf("LoginFrom(guess %d from %s) = %v, want the account locked", i+1, client, err)
		case !lock.Until.Equal(start.Add(DefaultLoginFirstDelay)):
			t.Fatalf("LoginFrom(guess %d) locked until %v, want %v: refused attempts must not lengthen the lock", i+1, lock.Until, start.Add(DefaultLoginFirstDelay))
		}
	}
	_, err := d.LoginFrom(ctx, " LEAD@desk.example.com", goodPassword, "198.51.100.7", time.Hour)
	lock, locked := IsLoginLocked(err)
	if !locked {
		t.Fatalf("LoginFrom(right password from a seventh address) = %v, want the account locked", err)
	}
	if n := countRows(t, d.store, "sessions"); n != 0 {
		t.Fatalf("%d sessions while the account is locked, want 0", n)
	}

	audit, err := d.AuditLog(ctx, Actor{User: &User{Role: RoleAdmin}}, 10)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	if len(audit) != 1 || audit[0].Action != AuditLoginLocked || audit[0].Subject != "user:lead@desk.example.com" ||
		audit[0].Args["failures"] != "5" || audit[0].Args["addresses"] != "5" || audit[0].Args["until"] != argTime(lock.Until) {
		t.Fatalf("AuditLog() = %+v, want one %s entry for user:lead@desk.example.com with 5 failures from 5 addresses until %v",
			audit, AuditLoginLocked, lock.Until)
	}

	d.clock.Advance(lock.Until.Sub(d.clock.Now()))
	in, err := d.LoginFrom(ctx, "lead@desk.example.com", goodPassword, "198.51.100.7", time.Hour)
	if err != nil {
		t.Fatalf("LoginFrom(right password after the lock) = %v", err)
	}
	// 30 guesses and the refused right password, from 7 addresses.
	if in.Failed != 31 || in.FailedFrom != 7 {
		t.Errorf("LoginFrom() told of %d failed sign-ins from %d addresses, want 31 from 7", in.Failed, in.FailedFrom)
	}
	n, err := d.SessionLoginNotice(ctx, in.Token)
	if err != nil || n != (LoginNotice{Failed: 31, FailedFrom: 7}) {
		t.Errorf("SessionLoginNotice() = %+v, %v; want 31 failed from 7 addresses", n, err)
	}

	// The sign-in cleared the count: the next session is told nothing and
	// a wrong password is a wrong password again.
	in, err = d.LoginFrom(ctx, "lead@desk.example.com", goodPassword, "198.51.100.7", time.Hour)
	if err != nil || in.Failed != 0 || in.FailedFrom != 0 {
		t.Errorf("LoginFrom() again = %+v, %v; want a session told of no failures", in, err)
	}
	_, err = d.LoginFrom(ctx, "lead@desk.example.com", "another guess", "192.0.2.1", time.Hour)
	wantCode(t, "LoginFrom(wrong password after a sign-in)", err, EUNAUTHORIZED, "wrong email or password")
}

// Each failure after a lock doubles it, up to the cap; a right password
// during a lock is refused, after it accepted.
func TestLoginThrottleDelayDoubles(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	if _, err := d.AddUser(ctx, "agent@desk.example.com", RoleAgent, true, goodPassword); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	for range DefaultLoginFailuresBeforeDelay - 1 {
		if _, err := d.LoginFrom(ctx, "agent@desk.example.com", "wrong", "192.0.2.1", time.Hour); ErrorCode(err) != EUNAUTHORIZED {
			t.Fatalf("LoginFrom(wrong) = %v, want EUNAUTHORIZED", err)
		}
	}
	for _, want := range []time.Duration{1, 2, 4, 8, 16, 32, 60, 60} {
		want *= time.Minute
		_, err := d.LoginFrom(ctx, "agent@desk.example.com", "wrong", "192.0.2.1", time.Hour)
		lock, ok := IsLoginLocked(err)
		if !ok || lock.Until.Sub(d.clock.Now()) != want {
			t.Fatalf("LoginFrom(wrong) = %v, want a lock of %v", err, want)
		}
		d.clock.Advance(want - time.Second)
		if _, err := d.LoginFrom(ctx, "agent@desk.example.com", goodPassword, "192.0.2.1", time.Hour); err == nil {
			t.Fatalf("LoginFrom(right password) a second before the lock of %v ends = nil, want refused", want)
		}
		d.clock.Advance(time.Second)
	}
	if _, err := d.LoginFrom(ctx, "agent@desk.example.com", goodPassword, "192.0.2.1", time.Hour); err != nil {
		t.Fatalf("LoginFrom(right password after the lock) = %v", err)
	}
	audit, err := d.AuditLog(ctx, Actor{User: &User{Role: RoleAdmin}}, 100)
	audit = slices.DeleteFunc(audit, func(e AuditEntry) bool { return e.Action != AuditLoginLocked })
	if err != nil || len(audit) != 8 {
		t.Errorf("AuditLog() = %d lock entries, %v; want one per lock, 8", len(audit), err)
	}
}

// An address no account has is locked the same, with the same words: the
// answers do not tell whether an account exists. It leaves no audit entry.
func TestLoginThrottleUnknownAccountAnswersTheSame(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	if _, err := d.AddUser(ctx, "real@desk.example.com", RoleAgent, true, goodPassword); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	answers := func(email string) []string {
		var out []string
		for i := range DefaultLoginFailuresBeforeDelay + 2 {
			_, err := d.LoginFrom(ctx, email, fmt.Sprintf("guess %d", i), "192.0.2.9", time.Hour)
			out = append(out, err.Error())
		}
		return out
	}
	real, ghost := answers("real@desk.example.com"), answers("ghost@desk.example.com")
	if fmt.Sprint(real) != fmt.Sprint(ghost) {
		t.Errorf("answers for an account:\n%q\nfor no account:\n%q\nwant the same", real, ghost)
	}
	audit, err := d.AuditLog(ctx, Actor{User: &User{Role: RoleAdmin}}, 100)
	if err != nil || len(audit) != 1 || audit[0].Subject != "user:real@desk.example.com" {
		t.Errorf("AuditLog() = %+v, %v; want only the real account's lock", audit, err)
	}
}

// Guesses sent at once, from many addresses, each take a number before
// their password is checked: no more than the limit are checked at all.
func TestLoginThrottleConcurrentGuesses(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	if _, err := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	const guesses = 24
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			_, errs[i] = d.LoginFrom(ctx, "lead@desk.example.com", fmt.Sprintf("guess %d", i), fmt.Sprintf("192.0.2.%d", i+1), time.Hour)
		})
	}
	wg.Wait()
	wrong, locked := 0, 0
	for _, err := range errs {
		var le *LoginLockedError
		switch {
		case errors.As(err, &le):
			locked++
		case ErrorCode(err) == EUNAUTHORIZED:
			wrong++
		default:
			t.Errorf("LoginFrom(guess) = %v, want wrong or locked", err)
		}
	}
	if wrong != DefaultLoginFailuresBeforeDelay-1 || locked != guesses-wrong {
		t.Errorf("%d concurrent guesses: %d answered wrong and %d locked; want %d wrong, the rest locked",
			guesses, wrong, locked, DefaultLoginFailuresBeforeDelay-1)
	}
}
