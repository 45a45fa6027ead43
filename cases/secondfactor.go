package cases

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/sealed"
)

// A second factor for password sign-in: a TOTP authenticator app
// (RFC 6238) and ten one-time recovery codes. A person with a confirmed
// app who signs in with a password gets a pending session, good only for
// the second-factor page; the right code ends it and opens the full
// session under a new id. Single sign-on sessions never ask: the provider
// does its own.

// How a session was authenticated, with a second factor.
const (
	AuthPasswordTOTP     = "password+totp"
	AuthPasswordRecovery = "password+recovery"
)

// Second-factor methods, the method argument of its audit entries.
const (
	FactorTOTP     = "totp"
	FactorRecovery = "recovery"
)

// RecoveryCodeCount is how many recovery codes a person gets at enrolment.
const RecoveryCodeCount = 10

const (
	// totpPeriod and six SHA-1 digits are what every authenticator app
	// reads from an otpauth URI without asking.
	totpPeriod = 30
	// totpSkew accepts the step before and after the server's: a phone's
	// clock a little off, or a code typed as it turned over.
	totpSkew = 1
	// pendingSecondFactorTTL bounds the wait between the password and
	// the code.
	pendingSecondFactorTTL = 10 * time.Minute
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpSecret is a person's authenticator app (table totp_secrets).
type totpSecret struct {
	UserID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Sealed      string
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	LastStep    int64
}

func (totpSecret) TableName() string { return "totp_secrets" }

type recoveryCode struct {
	ID       int64
	UserID   int64
	CodeHash []byte
	UsedAt   *time.Time
}

func (recoveryCode) TableName() string { return "recovery_codes" }

// SecondFactorStatus is a person's second factor as they see it.
type SecondFactorStatus struct {
	TOTP         bool // a confirmed authenticator app
	Passkeys     []PasskeyView
	RecoveryLeft int // unused recovery codes
	// Required: the person's role must have a second factor to sign in
	// with a password (SessionPolicy.SecondFactorRoles).
	Required bool
}

// TOTPEnrolment is what a person needs to add the desk to their
// authenticator app; it is shown only until the app is confirmed.
type TOTPEnrolment struct {
	Secret string // base32, to type in
	URI    string // otpauth://totp/…
	QRPNG  []byte // URI as a QR code
}

// TOTPConfirmed is the end of enrolment: the session under its new id and
// the recovery codes, shown this once.
type TOTPConfirmed struct {
	Token         string
	RecoveryCodes []string
}

// SecondFactorRequired reports whether u must have a second factor to
// use a password session.
func (p SessionPolicy) SecondFactorRequired(u User) bool {
	return slices.Contains(p.SecondFactorRoles, u.Role)
}

// StaffSession is a live session's person and how they signed in.
type StaffSession struct {
	User       User
	AuthMethod string
	// MustEnrol: the person's role needs a second factor they lack; every
	// staff page but enrolment sends them to enrol.
	MustEnrol bool
}

// StaffSessionOf returns the live session of token, its person, and
// whether they must enrol a second factor before anything else.
func (s *Service) StaffSessionOf(ctx context.Context, token string) (StaffSession, error) {
	sess, err := s.liveSession(ctx, token)
	if err != nil {
		return StaffSession{}, err
	}
	var u User
	if err := s.store.r.WithContext(ctx).Where("id = ? AND disabled = ?", sess.UserID, false).Limit(1).Find(&u).Error; err != nil {
		return StaffSession{}, fmt.Errorf("look up the session's user: %w", err)
	}
	if u.ID == 0 {
		return StaffSession{}, Errorf(EUNAUTHORIZED, "your session has ended; please log in again")
	}
	out := StaffSession{User: u, AuthMethod: sess.AuthMethod}
	if sess.AuthMethod != AuthOIDC && s.sessions.SecondFactorRequired(u) {
		has, err := s.hasSecondFactor(s.store.r.WithContext(ctx), u.ID)
		if err != nil {
			return StaffSession{}, err
		}
		out.MustEnrol = !has
	}
	return out, nil
}

// hasSecondFactor: a confirmed authenticator app or a passkey.
func (s *Service) hasSecondFactor(db *gorm.DB, userID int64) (bool, error) {
	has, err := s.hasTOTP(db, userID)
	if err != nil || has {
		return has, err
	}
	return s.hasPasskey(db, userID)
}

func (s *Service) hasTOTP(db *gorm.DB, userID int64) (bool, error) {
	var n int64
	if err := db.Model(&totpSecret{}).Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up the second factor of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// SecondFactor is a's own second factor.
func (s *Service) SecondFactor(ctx context.Context, a Actor) (SecondFactorStatus, error) {
	if a.User == nil {
		return SecondFactorStatus{}, Errorf(EUNAUTHORIZED, "not logged in")
	}
	st := SecondFactorStatus{Required: s.sessions.SecondFactorRequired(*a.User)}
	db := s.store.r.WithContext(ctx)
	var err error
	if st.TOTP, err = s.hasTOTP(db, a.User.ID); err != nil {
		return SecondFactorStatus{}, err
	}
	if !s.sessions.PasskeysOff {
		if st.Passkeys, err = s.Passkeys(ctx, a); err != nil {
			return SecondFactorStatus{}, err
		}
	}
	var left int64
	if err := db.Model(&recoveryCode{}).Where("user_id = ? AND used_at IS NULL", a.User.ID).Count(&left).Error; err != nil {
		return SecondFactorStatus{}, fmt.Errorf("count recovery codes: %w", err)
	}
	st.RecoveryLeft = int(left)
	return st, nil
}

// StartTOTP returns the secret a's authenticator app is to hold. Until a
// code confirms it the same secret is shown again (a reload does not
// break an app already scanned); a confirmed one is never shown.
func (s *Service) StartTOTP(ctx context.Context, a Actor) (TOTPEnrolment, error) {
	if a.User == nil {
		return TOTPEnrolment{}, Errorf(EUNAUTHORIZED, "not logged in")
	}
	u := *a.User
	var secret string
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []totpSecret
		if err := tx.Where("user_id = ?", u.ID).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("read the authenticator of user %d: %w", u.ID, err)
		}
		if len(rows) > 0 {
			if rows[0].ConfirmedAt != nil {
				return Errorf(ECONFLICT, "You have an authenticator app already; remove it first to add another.")
			}
			var err error
			secret, err = s.openTOTPSecret(rows[0])
			return err
		}
		raw := make([]byte, 20) // RFC 4226 §4: 160 bits
		rand.Read(raw)
		secret = b32.EncodeToString(raw)
		sealedSecret, err := s.sealer.Seal(sealed.Claims{AccountRef: secret, Kind: totpKind(u.ID), IssuedAt: s.clock()})
		if err != nil {
			return fmt.Errorf("seal the authenticator secret: %w", err)
		}
		return tx.Create(&totpSecret{UserID: u.ID, Sealed: sealedSecret, CreatedAt: s.clock()}).Error
	})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return s.enrolment(u, secret)
}

func (s *Service) enrolment(u User, secret string) (TOTPEnrolment, error) {
	raw, err := b32.DecodeString(secret)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("decode the authenticator secret: %w", err)
	}
	issuer := "notme"
	if pu, err := url.Parse(s.publicURL); err == nil && pu.Host != "" {
		issuer = "notme " + pu.Hostname()
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Secret: raw,
		Period: totpPeriod, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("make the otpauth URI: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("draw the QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("encode the QR code: %w", err)
	}
	return TOTPEnrolment{Secret: secret, URI: key.URL(), QRPNG: buf.Bytes()}, nil
}

// totpKind binds a sealed secret to its owner: a sealed value copied to
// another person's row does not open as theirs.
func totpKind(userID int64) string { return "totp:" + strconv.FormatInt(userID, 10) }

func (s *Service) openTOTPSecret(row totpSecret) (string, error) {
	c, err := s.sealer.Open(row.Sealed)
	if err != nil || c.Kind != totpKind(row.UserID) {
		// A token key removed from the config while secrets sealed under
		// it remain: the person needs an admin to reset their factor.
		return "", fmt.Errorf("open the authenticator secret of user %d: %w", row.UserID, sealed.ErrInvalid)
	}
	return c.AccountRef, nil
}

// totpStep finds the time step whose code is code, within totpSkew steps
// of now and after last (a step used once is never accepted again).
func totpStep(secret, code string, now time.Time, last int64) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != totpOpts.Digits.Length() {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if step <= last {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// useTOTP accepts code for userID's confirmed app and records its step,
// in one statement so that two requests cannot both use one code.
func (s *Service) useTOTP(tx *gorm.DB, row totpSecret, code string) (bool, error) {
	secret, err := s.openTOTPSecret(row)
	if err != nil {
		return false, err
	}
	step, ok := totpStep(secret, code, s.clock(), row.LastStep)
	if !ok {
		return false, nil
	}
	res := tx.Model(&totpSecret{}).Where("user_id = ? AND last_step < ?", row.UserID, step).Update("last_step", step)
	if res.Error != nil {
		return false, fmt.Errorf("note the code's time step: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// normalizeRecoveryCode accepts a code as shown (xxxx-xxxx-xxxx-xxxx) or
// typed without dashes, in either case.
func normalizeRecoveryCode(code string) string {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(code) != 16 {
		return ""
	}
	return code
}

// useRecoveryCode spends one of userID's unused recovery codes.
func (s *Service) useRecoveryCode(tx *gorm.DB, userID int64, code string) (bool, error) {
	code = normalizeRecoveryCode(code)
	if code == "" {
		return false, nil
	}
	res := tx.Model(&recoveryCode{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, ident.HashSecret(code)).
		Update("used_at", s.clock())
	if res.Error != nil {
		return false, fmt.Errorf("spend a recovery code: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// newRecoveryCodes replaces userID's recovery codes with RecoveryCodeCount
// new ones and returns them as shown. Each is 80 random bits, so SHA-256
// is enough to store it (ident.HashSecret): nothing to brute-force, and a
// code is found by its hash rather than checked against ten slow hashes.
func (s *Service) newRecoveryCodes(tx *gorm.DB, userID int64) ([]string, error) {
	if err := tx.Where("user_id = ?", userID).Delete(&recoveryCode{}).Error; err != nil {
		return nil, fmt.Errorf("remove old recovery codes: %w", err)
	}
	out := make([]string, RecoveryCodeCount)
	for i := range out {
		raw := make([]byte, 10)
		rand.Read(raw)
		c := strings.ToLower(b32.EncodeToString(raw))
		if err := tx.Create(&recoveryCode{UserID: userID, CodeHash: ident.HashSecret(c)}).Error; err != nil {
			return nil, fmt.Errorf("store a recovery code: %w", err)
		}
		out[i] = c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
	}
	return out, nil
}

// NewRecoveryCodes gives a RecoveryCodeCount new recovery codes in place
// of their old ones, after their password: a person whose factor is a
// passkey gets theirs here, and anyone who has used or lost some renews
// them. a must have a second factor.
func (s *Service) NewRecoveryCodes(ctx context.Context, a Actor, password string) ([]string, error) {
	if a.User == nil {
		return nil, Errorf(EUNAUTHORIZED, "not logged in")
	}
	u := *a.User
	has, err := s.hasSecondFactor(s.store.r.WithContext(ctx), u.ID)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, Errorf(ECONFLICT, "Add a second factor first: recovery codes stand in for it.")
	}
	if err := s.recheckPassword(ctx, u, password); err != nil {
		return nil, err
	}
	var codes []string
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if codes, err = s.newRecoveryCodes(tx, u.ID); err != nil {
			return err
		}
		return tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditRecoveryCodesRenewed, Subject: "user:" + u.Email,
			Detail: "recovery codes renewed"}).Error
	})
	return codes, err
}

// ErrWrongCode refuses a code that is not right now: mistyped, from
// another app, too old, or used already.
var ErrWrongCode = Errorf(EINVALID, "That code is not right. Type the code your app shows now.")

// ConfirmTOTP confirms a's authenticator app with a code from it, after
// their password (recheckPassword), gives a the recovery codes, and
// moves the session of current (a's) to a new id: a second factor is a
// privilege change.
func (s *Service) ConfirmTOTP(ctx context.Context, a Actor, current, password, code string) (TOTPConfirmed, error) {
	if a.User == nil {
		return TOTPConfirmed{}, Errorf(EUNAUTHORIZED, "not logged in")
	}
	u := *a.User
	if err := s.recheckPassword(ctx, u, password); err != nil {
		return TOTPConfirmed{}, err
	}
	var out TOTPConfirmed
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []totpSecret
		if err := tx.Where("user_id = ?", u.ID).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("read the authenticator of user %d: %w", u.ID, err)
		}
		if len(rows) == 0 {
			return Errorf(ENOTFOUND, "Start again: no authenticator app is being added.")
		}
		if rows[0].ConfirmedAt != nil {
			return Errorf(ECONFLICT, "You have an authenticator app already.")
		}
		ok, err := s.useTOTP(tx, rows[0], code)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWrongCode
		}
		now := s.clock()
		if err := tx.Model(&totpSecret{}).Where("user_id = ?", u.ID).Update("confirmed_at", now).Error; err != nil {
			return fmt.Errorf("confirm the authenticator: %w", err)
		}
		if out.RecoveryCodes, err = s.newRecoveryCodes(tx, u.ID); err != nil {
			return err
		}
		if err := tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditSecondFactorEnrolled, Subject: "user:" + u.Email,
			Detail: "authenticator app added", Args: Args{"method": FactorTOTP}}).Error; err != nil {
			return err
		}
		out.Token, err = s.rotateSession(tx, u, current, AuthPasswordTOTP)
		return err
	})
	return out, err
}

// rotateSession replaces the session of token with one under a new id,
// authenticated by method ("": as the old one was), ending when the old
// one would have.
func (s *Service) rotateSession(tx *gorm.DB, u User, token, method string) (string, error) {
	var old []Session
	if err := tx.Where("token_hash = ? AND user_id = ?", ident.HashSecret(token), u.ID).Limit(1).Find(&old).Error; err != nil {
		return "", fmt.Errorf("read the session: %w", err)
	}
	if len(old) == 0 {
		return "", Errorf(EUNAUTHORIZED, "your session has ended; please log in again")
	}
	if err := tx.Delete(&Session{}, old[0].ID).Error; err != nil {
		return "", fmt.Errorf("end the old session: %w", err)
	}
	if method == "" {
		method = old[0].AuthMethod
	}
	sess := Session{FailedLogins: old[0].FailedLogins, FailedLoginClients: old[0].FailedLoginClients}
	return s.newSession(tx, &sess, u, method, ClientInfo{Addr: old[0].Client, UserAgent: old[0].UserAgent},
		old[0].ExpiresAt.Sub(s.clock()))
}

// RemoveTOTP removes a's authenticator app, and the recovery codes when
// no passkey is left (deleteTOTP); a proves it is them with their
// password and that the app is theirs with a code from it or a recovery
// code.
func (s *Service) RemoveTOTP(ctx context.Context, a Actor, password, code string) error {
	if a.User == nil {
		return Errorf(EUNAUTHORIZED, "not logged in")
	}
	u := *a.User
	if err := s.recheckPassword(ctx, u, password); err != nil {
		return err
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []totpSecret
		if err := tx.Where("user_id = ? AND confirmed_at IS NOT NULL", u.ID).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("read the authenticator of user %d: %w", u.ID, err)
		}
		if len(rows) == 0 {
			return Errorf(ENOTFOUND, "You have no authenticator app to remove.")
		}
		ok, err := s.useTOTP(tx, rows[0], code)
		if err == nil && !ok {
			ok, err = s.useRecoveryCode(tx, u.ID, code)
		}
		if err != nil {
			return err
		}
		if !ok {
			return ErrWrongCode
		}
		if err := s.deleteTOTP(tx, u.ID); err != nil {
			return err
		}
		return tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditSecondFactorRemoved, Subject: "user:" + u.Email,
			Detail: "authenticator app removed", Args: Args{"method": FactorTOTP}}).Error
	})
}

// deleteSecondFactor removes all of userID's second factors.
func (s *Service) deleteSecondFactor(tx *gorm.DB, userID int64) error {
	if err := tx.Where("user_id = ?", userID).Delete(&passkeyRow{}).Error; err != nil {
		return fmt.Errorf("remove passkeys: %w", err)
	}
	return s.deleteTOTP(tx, userID)
}

// deleteTOTP removes userID's authenticator app, and the recovery codes
// when no passkey is left for them to stand in for.
func (s *Service) deleteTOTP(tx *gorm.DB, userID int64) error {
	if err := tx.Where("user_id = ?", userID).Delete(&totpSecret{}).Error; err != nil {
		return fmt.Errorf("remove the authenticator: %w", err)
	}
	return s.dropSpareRecoveryCodes(tx, userID)
}

// dropSpareRecoveryCodes removes userID's recovery codes once they have no
// second factor left: a code stands in for a factor, and a person without
// one signs in with the password alone.
func (s *Service) dropSpareRecoveryCodes(tx *gorm.DB, userID int64) error {
	has, err := s.hasSecondFactor(tx, userID)
	if err != nil || has {
		return err
	}
	if err := tx.Where("user_id = ?", userID).Delete(&recoveryCode{}).Error; err != nil {
		return fmt.Errorf("remove recovery codes: %w", err)
	}
	return nil
}

// EndedSecondFactorReset is why sessions ended when an admin reset a
// person's second factor.
const EndedSecondFactorReset = "second_factor_reset"

// ResetSecondFactor removes a staff member's authenticator app, recovery
// codes and passkeys (a lost phone or key) and ends their sessions; only admins may,
// never their own (that would skip the code RemoveTOTP asks for).
func (s *Service) ResetSecondFactor(ctx context.Context, a Actor, userID int64) error {
	if a.User == nil || a.User.Role != RoleAdmin || a.User.Disabled {
		return Errorf(EFORBIDDEN, "Only admins can reset a second factor.")
	}
	if a.User.ID == userID {
		return Errorf(EINVALID, "Ask another admin to reset your own second factor.")
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ?", userID).Limit(1).Find(&u).Error; err != nil {
			return fmt.Errorf("read user %d: %w", userID, err)
		}
		if u.ID == 0 {
			return Errorf(ENOTFOUND, "no such user")
		}
		if err := s.deleteSecondFactor(tx, u.ID); err != nil {
			return err
		}
		if err := tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditSecondFactorReset, Subject: "user:" + u.Email,
			Detail: "second factor reset"}).Error; err != nil {
			return err
		}
		_, err := s.endSessions(tx, a.String(), u, EndedSecondFactorReset, 0)
		return err
	})
}

// CompleteSecondFactor finishes a password sign-in that waits for its
// second factor (pending is the token LoginFromClient returned): a code
// from the app, or a recovery code, opens the full session under a new
// id. Codes are counted by the account's sign-in throttle like passwords,
// so a guesser who has the password is locked out just the same, and
// each wrong code the throttle lets through is audited.
func (s *Service) CompleteSecondFactor(ctx context.Context, pending, code string, ci ClientInfo, ttl time.Duration) (SignedIn, error) {
	if ttl <= 0 {
		return SignedIn{}, fmt.Errorf("second factor: session length %v must be positive", ttl)
	}
	ended := Errorf(EUNAUTHORIZED, "The sign-in took too long; please sign in again.")
	if pending == "" || len(pending) > 128 {
		return SignedIn{}, ended
	}
	now := s.clock()
	var found []Session
	if err := s.store.r.WithContext(ctx).Where("token_hash = ? AND pending_second_factor = ? AND expires_at > ?",
		ident.HashSecret(pending), true, now).Limit(1).Find(&found).Error; err != nil {
		return SignedIn{}, fmt.Errorf("look up the pending sign-in: %w", err)
	}
	if len(found) == 0 {
		return SignedIn{}, ended
	}
	var u User
	if err := s.store.r.WithContext(ctx).Where("id = ? AND disabled = ?", found[0].UserID, false).Limit(1).Find(&u).Error; err != nil {
		return SignedIn{}, fmt.Errorf("look up the pending sign-in's user: %w", err)
	}
	if u.ID == 0 {
		return SignedIn{}, ended
	}
	account := loginAccountKey(u.Email)
	n, err := s.reserveLoginAttempt(ctx, account, ci.Addr, now)
	if err != nil {
		return SignedIn{}, err
	}
	var in SignedIn
	var factor string
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []totpSecret
		if err := tx.Where("user_id = ? AND confirmed_at IS NOT NULL", u.ID).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("read the authenticator of user %d: %w", u.ID, err)
		}
		ok := false
		if len(rows) > 0 {
			var err error
			if ok, err = s.useTOTP(tx, rows[0], code); err != nil {
				return err
			}
			factor = FactorTOTP
		}
		if !ok {
			var err error
			if ok, err = s.useRecoveryCode(tx, u.ID, code); err != nil {
				return err
			}
			factor = FactorRecovery
		}
		if !ok {
			return ErrWrongCode
		}
		if err := tx.Delete(&Session{}, found[0].ID).Error; err != nil {
			return fmt.Errorf("end the pending sign-in: %w", err)
		}
		var sess Session
		// Both the password and this code were counted as attempts.
		if err := s.takeLoginFailures(tx, account, &sess, 2); err != nil {
			return err
		}
		method := AuthPasswordTOTP
		if factor == FactorRecovery {
			method = AuthPasswordRecovery
			var left int64
			if err := tx.Model(&recoveryCode{}).Where("user_id = ? AND used_at IS NULL", u.ID).Count(&left).Error; err != nil {
				return fmt.Errorf("count recovery codes: %w", err)
			}
			in.RecoveryLeft, in.UsedRecovery = int(left), true
			if err := tx.Create(&AuditEntry{At: now, Actor: "user:" + u.Email, Action: AuditRecoveryCodeUsed, Subject: "user:" + u.Email,
				Detail: fmt.Sprintf("recovery code used, %d left", left), Args: Args{"left": argInt(left)}}).Error; err != nil {
				return err
			}
		}
		token, err := s.openSession(tx, &sess, u, method, ci, ttl)
		in.Token, in.User, in.Failed, in.FailedFrom = token, u, sess.FailedLogins, sess.FailedLoginClients
		return err
	})
	if errors.Is(err, ErrWrongCode) {
		if aerr := s.store.w.WithContext(ctx).Create(&AuditEntry{At: now, Actor: ActorAnonymous, Action: AuditSecondFactorFailed,
			Subject: "user:" + u.Email, Detail: "wrong second-factor code", Args: Args{"failures": argInt(n)}}).Error; aerr != nil {
			return SignedIn{}, fmt.Errorf("audit a wrong code: %w", aerr)
		}
		ferr := s.recordLoginFailure(ctx, account, ci.Addr, n, u, now)
		if _, locked := IsLoginLocked(ferr); locked || ErrorCode(ferr) != EUNAUTHORIZED {
			return SignedIn{}, ferr
		}
		return SignedIn{}, ErrWrongCode
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("complete the second factor: %w", err)
	}
	s.log.Info("staff login", "user_id", u.ID, "role", u.Role, "factor", factor, "failed_before", in.Failed)
	return in, nil
}
