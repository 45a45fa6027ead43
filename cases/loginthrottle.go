package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"notme/cases/ident"
)

// A throttle per account on staff sign-in, shared by every desk instance
// on the database. The per-client rate limit alone lets an attacker with
// many addresses guess one account's password without end; this counts the
// failed sign-ins of the account itself. After FailuresBeforeDelay of them
// in a row the account is locked for sign-in for FirstDelay, and each
// further failure after a lock doubles it, up to MaxDelay. A locked account
// is refused whatever the password, so the answer never says whether a
// password was right; a successful sign-in clears the count. An address
// that names no account is counted the same, so neither the words nor the
// timing of the answer say whether an account exists.
//
// An attempt is counted before its password is checked: concurrent guesses
// from many clients each take a number from the same counter, and only the
// ones numbered below the limit get their password checked at all.

// LoginThrottle configures the throttle; zero values take the defaults.
type LoginThrottle struct {
	// FailuresBeforeDelay failed sign-ins in a row lock the account.
	FailuresBeforeDelay int
	// FirstDelay is the first lock; each failure after a lock doubles it.
	FirstDelay time.Duration
	// MaxDelay caps the lock.
	MaxDelay time.Duration
}

// Defaults of LoginThrottle.
const (
	DefaultLoginFailuresBeforeDelay = 5
	DefaultLoginFirstDelay          = time.Minute
	DefaultLoginMaxDelay            = time.Hour
)

func (o LoginThrottle) withDefaults() LoginThrottle {
	if o.FailuresBeforeDelay <= 0 {
		o.FailuresBeforeDelay = DefaultLoginFailuresBeforeDelay
	}
	if o.FirstDelay <= 0 {
		o.FirstDelay = DefaultLoginFirstDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultLoginMaxDelay
	}
	if o.MaxDelay < o.FirstDelay {
		o.MaxDelay = o.FirstDelay
	}
	return o
}

// delay is the lock after the failures-th failure in a row: none below
// the limit, then FirstDelay doubling per failure, capped at MaxDelay.
func (o LoginThrottle) delay(failures int64) time.Duration {
	if failures < int64(o.FailuresBeforeDelay) {
		return 0
	}
	d := o.FirstDelay
	for i := int64(o.FailuresBeforeDelay); i < failures && d < o.MaxDelay; i++ {
		d *= 2
	}
	return min(d, o.MaxDelay)
}

// loginForgetAfter: an account's count untouched for this long is
// forgotten, so addresses typed by strangers do not pile up.
const loginForgetAfter = 30 * 24 * time.Hour

// loginSweepOdds: about one failed sign-in in this many also forgets the
// counts untouched for loginForgetAfter.
const loginSweepOdds = 64

// AuditLoginLocked is the audit action of an account locked for sign-in.
const AuditLoginLocked = "login_locked" // failures, addresses, until

// LoginLockedError refuses a sign-in to an account locked after failed
// sign-ins; Until is when the next attempt is taken.
type LoginLockedError struct{ Until time.Time }

func (e *LoginLockedError) Error() string {
	return fmt.Sprintf("sign-in to this account is locked until %s after failed sign-ins", e.Until.UTC().Format(time.RFC3339))
}

// IsLoginLocked returns the lock that refused a sign-in, if one did.
func IsLoginLocked(err error) (*LoginLockedError, bool) {
	var e *LoginLockedError
	return e, errors.As(err, &e)
}

// SignedIn is a successful sign-in.
type SignedIn struct {
	Token string // the session's cookie value
	User  User
	// Failed counts the sign-ins to the account that failed or were
	// refused since its last successful one, from FailedFrom client
	// addresses (networks).
	Failed, FailedFrom int
	// SecondFactor: Token is a pending sign-in that waits for the
	// person's second factor (CompleteSecondFactor), not a session.
	SecondFactor bool
	// UsedRecovery: a recovery code completed the sign-in, and
	// RecoveryLeft are left.
	UsedRecovery bool
	RecoveryLeft int
}

// LoginNotice is what a session's owner is told when it opens: the failed
// sign-ins to their account since the sign-in before.
type LoginNotice struct{ Failed, FailedFrom int }

// loginAccountKey names an account in the throttle: the normalised
// address, hashed, whether or not a user has it.
func loginAccountKey(email string) string {
	sum := sha256.Sum256([]byte("login\x00" + email))
	return hex.EncodeToString(sum[:16])
}

func loginClientKey(client string) string {
	sum := sha256.Sum256([]byte("client\x00" + client))
	return hex.EncodeToString(sum[:16])
}

// reserveLoginAttempt counts one attempt on account and returns its number
// since the last successful sign-in, or a LoginLockedError while the
// account is locked (the attempt is then counted as refused, for the
// owner, and does not lengthen the lock). An attempt whose
// number reaches the limit locks the account at once, before its
// password is checked; a right password lifts the lock again.
func (s *Service) reserveLoginAttempt(ctx context.Context, account, client string, now time.Time) (int64, error) {
	var n int64
	var locked *LoginLockedError
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO login_throttles (account_key, failures, updated_at) VALUES (?, 0, ?)
			ON CONFLICT (account_key) DO NOTHING`, account, now).Error; err != nil {
			return err
		}
		// One statement, so concurrent attempts each get their own number
		// and none passes a lock another has just set.
		var got []int64
		if err := tx.Raw(`UPDATE login_throttles SET failures = failures + 1, updated_at = ?
			WHERE account_key = ? AND (locked_until IS NULL OR locked_until <= ?) RETURNING failures`,
			now, account, now).Scan(&got).Error; err != nil {
			return err
		}
		if len(got) == 0 {
			// Refused unchecked; counted for the owner, not for the lock.
			var until []time.Time
			if err := tx.Raw(`UPDATE login_throttles SET refused = refused + 1 WHERE account_key = ? RETURNING locked_until`,
				account).Scan(&until).Error; err != nil {
				return err
			}
			if len(until) == 0 {
				return errors.New("the throttle row is gone")
			}
			if err := s.keepLoginClient(tx, account, client); err != nil {
				return err
			}
			locked = &LoginLockedError{Until: until[0].UTC()}
			return nil
		}
		n = got[0]
		if d := s.loginThrottle.delay(n); d > 0 {
			return tx.Exec(`UPDATE login_throttles SET locked_until = ? WHERE account_key = ?`, now.Add(d), account).Error
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count a sign-in attempt: %w", err)
	}
	if locked != nil {
		return 0, locked
	}
	return n, nil
}

// recordLoginFailure keeps the client of failed attempt number n on
// account, reserved at now, and, when the attempt locked a user's account,
// says so in the audit log. It returns the lock, if the attempt set one,
// or the wrong-password error.
func (s *Service) recordLoginFailure(ctx context.Context, account, client string, n int64, u User, now time.Time) error {
	d := s.loginThrottle.delay(n)
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.keepLoginClient(tx, account, client); err != nil {
			return err
		}
		if d > 0 && u.ID != 0 {
			var clients int64
			if err := tx.Table("login_failure_clients").Where("account_key = ?", account).Count(&clients).Error; err != nil {
				return err
			}
			until := now.Add(d)
			e := AuditEntry{At: now, Actor: actorDesk, Action: AuditLoginLocked, Subject: "user:" + u.Email,
				Detail: fmt.Sprintf("sign-in locked until %s after %d failed sign-ins from %d client addresses", until.Format(time.RFC3339), n, clients),
				Args:   Args{"failures": argInt(n), "addresses": argInt(clients), "until": argTime(until)}}
			if err := tx.Create(&e).Error; err != nil {
				return err
			}
		}
		if rand.IntN(loginSweepOdds) == 0 {
			old := now.Add(-loginForgetAfter)
			if err := tx.Exec(`DELETE FROM login_failure_clients WHERE account_key IN
				(SELECT account_key FROM login_throttles WHERE updated_at < ?)`, old).Error; err != nil {
				return err
			}
			return tx.Exec(`DELETE FROM login_throttles WHERE updated_at < ?`, old).Error
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	if d > 0 {
		return &LoginLockedError{Until: now.Add(d)}
	}
	return Errorf(EUNAUTHORIZED, "wrong email or password")
}

// keepLoginClient keeps that a sign-in to account from client failed or
// was refused.
func (s *Service) keepLoginClient(tx *gorm.DB, account, client string) error {
	return tx.Exec(`INSERT INTO login_failure_clients (account_key, client_key) VALUES (?, ?)
		ON CONFLICT (account_key, client_key) DO NOTHING`, account, loginClientKey(client)).Error
}

// SessionLoginNotice returns what the session's owner is told about the
// failed sign-ins before it: none for a token that is no live session.
func (s *Service) SessionLoginNotice(ctx context.Context, token string) (LoginNotice, error) {
	if token == "" || len(token) > 128 {
		return LoginNotice{}, nil
	}
	var sess []Session
	if err := s.store.r.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", ident.HashSecret(token), s.clock()).
		Limit(1).Find(&sess).Error; err != nil {
		return LoginNotice{}, fmt.Errorf("read the session's sign-in notice: %w", err)
	}
	if len(sess) == 0 {
		return LoginNotice{}, nil
	}
	return LoginNotice{Failed: sess[0].FailedLogins, FailedFrom: sess[0].FailedLoginClients}, nil
}
