package cases

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/passwd"
)

// Passkeys (WebAuthn): a second factor after the password, or a sign-in
// of their own (a discoverable credential that verified its user). The
// WebAuthn ceremony itself (options, attestation and assertion checks)
// is the caller's, done with a maintained library; cases keeps what a
// ceremony must not take from the browser: its state, one use, bound to
// the person and the session that began it, the credentials, their
// signature counters, the sign-in rules and the audit. The caller's part
// comes in as a function over plain bytes, so that cases imports no HTTP.

// How a session was authenticated, with a passkey.
const (
	AuthPasswordPasskey = "password+passkey"
	AuthPasskey         = "passkey"
)

// FactorPasskey is the method argument of the second-factor audit entries.
const FactorPasskey = "passkey"

// Ceremony kinds.
const (
	ceremonyRegister     = "register"
	ceremonySecondFactor = "second_factor"
	ceremonySignIn       = "sign_in"
)

const (
	// passkeyCeremonyTTL bounds a ceremony from its options to the
	// browser's answer: long enough to find a key and touch it.
	passkeyCeremonyTTL = 5 * time.Minute
	// passkeyNameMax bounds the name a person gives a passkey.
	passkeyNameMax = 64
	// maxPasskeys bounds one person's passkeys.
	maxPasskeys = 20
)

// passkeyRow is a stored credential (table passkeys).
type passkeyRow struct {
	ID                int64
	UserID            int64
	UserHandle        []byte
	CredentialID      []byte
	PublicKey         []byte
	AAGUID            []byte `gorm:"column:aaguid"`
	SignCount         int64
	Transports        string
	Flags             int
	AttestationFormat string
	Name              string
	CreatedAt         time.Time
	LastUsedAt        *time.Time
}

func (passkeyRow) TableName() string { return "passkeys" }

type passkeyCeremony struct {
	ID          int64
	HandleHash  []byte
	Kind        string
	UserID      *int64
	SessionHash []byte
	UserHandle  []byte
	State       []byte
	ExpiresAt   time.Time
}

func (passkeyCeremony) TableName() string { return "passkey_ceremonies" }

// PasskeyCredential is a stored passkey as a WebAuthn ceremony needs it.
type PasskeyCredential struct {
	ID                []byte
	PublicKey         []byte
	AAGUID            []byte
	SignCount         uint32
	Transports        []string
	Flags             uint8 // the authenticator data flags at registration
	AttestationFormat string
}

// PasskeyOwner is the person a ceremony is for: their WebAuthn user
// handle (random, the same for all their passkeys) and their passkeys.
type PasskeyOwner struct {
	UserID      int64
	Email       string
	Handle      []byte
	Credentials []PasskeyCredential
}

// PasskeyAssertion is what a verified assertion says: which credential
// signed, its counter, and whether the authenticator verified its user.
type PasskeyAssertion struct {
	CredentialID []byte
	SignCount    uint32
	UserVerified bool
}

// PasskeyView is one of a person's passkeys, as they see it.
type PasskeyView struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Errors of passkeys; their words are the catalogs' (ui).
var (
	// ErrPasskeysOff: auth.passkeys is false.
	ErrPasskeysOff = Errorf(EFORBIDDEN, "Passkeys are turned off on this desk.")
	// ErrPasskeyFailed: the browser's answer did not verify, was not for
	// this ceremony, or came too late.
	ErrPasskeyFailed = Errorf(EUNAUTHORIZED, "The passkey was not accepted. Try again.")
	// ErrPasskeyCounter: the authenticator's signature counter went back,
	// which a copied (cloned) key would do.
	ErrPasskeyCounter = Errorf(EUNAUTHORIZED, "This passkey was refused: it may have been copied. Tell an admin.")
	// ErrWrongPassword: the password typed to confirm a change to a
	// second factor is not the person's.
	ErrWrongPassword = Errorf(EINVALID, "That is not your password.")
	// ErrNoPassword: a person without a password (single sign-on) has
	// the provider's second factor, not the desk's.
	ErrNoPassword = Errorf(EFORBIDDEN, "You sign in through single sign-on: your provider asks for your second factor, not the desk.")
)

func (s *Service) passkeysOn() error {
	if s.sessions.PasskeysOff {
		return ErrPasskeysOff
	}
	return nil
}

// PasskeysEnabled reports whether passkeys may be added and used.
func (s *Service) PasskeysEnabled() bool { return !s.sessions.PasskeysOff }

// recheckPassword asks u for their password again before a second
// factor changes: a stolen session cookie alone cannot add the thief's
// factor or remove the owner's. Attempts count in the sign-in throttle,
// so a cookie thief guessing here is locked out as at the login page.
func (s *Service) recheckPassword(ctx context.Context, u User, password string) error {
	if len(u.PasswordHash) == 0 {
		return ErrNoPassword
	}
	now := s.clock()
	account := loginAccountKey(u.Email)
	n, err := s.reserveLoginAttempt(ctx, account, "", now)
	if err != nil {
		return err
	}
	if !passwd.Check(u.PasswordHash, password) {
		ferr := s.recordLoginFailure(ctx, account, "", n, u, now)
		if _, locked := IsLoginLocked(ferr); locked || ErrorCode(ferr) != EUNAUTHORIZED {
			return ferr
		}
		return ErrWrongPassword
	}
	// Right: this attempt is not a failure to remember.
	if err := s.store.w.WithContext(ctx).Exec(`UPDATE login_throttles SET failures = failures - 1
		WHERE account_key = ? AND failures > 0`, account).Error; err != nil {
		return fmt.Errorf("uncount a right password: %w", err)
	}
	return nil
}

func (s *Service) hasPasskey(db *gorm.DB, userID int64) (bool, error) {
	if s.sessions.PasskeysOff {
		return false, nil
	}
	var n int64
	if err := db.Model(&passkeyRow{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up the passkeys of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// Passkeys lists a's own passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, a Actor) ([]PasskeyView, error) {
	if a.User == nil {
		return nil, Errorf(EUNAUTHORIZED, "not logged in")
	}
	var rows []passkeyRow
	if err := s.store.r.WithContext(ctx).Where("user_id = ?", a.User.ID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list the passkeys of user %d: %w", a.User.ID, err)
	}
	out := make([]PasskeyView, len(rows))
	for i, r := range rows {
		out[i] = PasskeyView{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt}
	}
	return out, nil
}

// passkeyOwner loads u's passkeys; a person without any gets a new
// random user handle, kept with the ceremony until their first passkey.
func (s *Service) passkeyOwner(db *gorm.DB, u User) (PasskeyOwner, error) {
	var rows []passkeyRow
	if err := db.Where("user_id = ?", u.ID).Order("id").Find(&rows).Error; err != nil {
		return PasskeyOwner{}, fmt.Errorf("read the passkeys of user %d: %w", u.ID, err)
	}
	o := PasskeyOwner{UserID: u.ID, Email: u.Email}
	for _, r := range rows {
		o.Handle = r.UserHandle
		o.Credentials = append(o.Credentials, r.credential())
	}
	if o.Handle == nil {
		o.Handle = make([]byte, 32)
		rand.Read(o.Handle)
	}
	return o, nil
}

func (r passkeyRow) credential() PasskeyCredential {
	c := PasskeyCredential{ID: r.CredentialID, PublicKey: r.PublicKey, AAGUID: r.AAGUID, SignCount: uint32(r.SignCount),
		Flags: uint8(r.Flags), AttestationFormat: r.AttestationFormat}
	if r.Transports != "" {
		c.Transports = strings.Split(r.Transports, ",")
	}
	return c
}

// saveCeremony keeps a ceremony's state and returns its handle.
func (s *Service) saveCeremony(tx *gorm.DB, c passkeyCeremony) (string, error) {
	now := s.clock()
	// Ceremonies left unfinished go whenever another begins.
	if err := tx.Where("expires_at <= ?", now).Delete(&passkeyCeremony{}).Error; err != nil {
		return "", fmt.Errorf("forget old passkey ceremonies: %w", err)
	}
	handle := ident.RandomToken(24)
	c.HandleHash, c.ExpiresAt = ident.HashSecret(handle), now.Add(passkeyCeremonyTTL)
	if err := tx.Create(&c).Error; err != nil {
		return "", fmt.Errorf("keep the passkey ceremony: %w", err)
	}
	return handle, nil
}

// takeCeremony finds the live ceremony of handle of kind, bound to
// userID and session where they are given, and deletes it: each is used
// once, whatever the answer. ok is false when there is none.
func (s *Service) takeCeremony(ctx context.Context, handle, kind string, userID int64, session string) (passkeyCeremony, bool, error) {
	if handle == "" || len(handle) > 128 {
		return passkeyCeremony{}, false, nil
	}
	var got passkeyCeremony
	ok := false
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("handle_hash = ? AND kind = ? AND expires_at > ?", ident.HashSecret(handle), kind, s.clock())
		if userID != 0 {
			q = q.Where("user_id = ?", userID)
		}
		if session != "" {
			q = q.Where("session_hash = ?", ident.HashSecret(session))
		}
		var rows []passkeyCeremony
		if err := q.Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("read the passkey ceremony: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		res := tx.Delete(&passkeyCeremony{}, rows[0].ID)
		if res.Error != nil {
			return fmt.Errorf("end the passkey ceremony: %w", res.Error)
		}
		got, ok = rows[0], res.RowsAffected == 1
		return nil
	})
	return got, ok, err
}

// BeginPasskeyRegistration starts adding a passkey for a, whose session
// is session, after their password (recheckPassword). begin makes the
// ceremony's options for the owner and returns its state, kept here; the
// returned handle names it at FinishPasskeyRegistration.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, a Actor, session, password string,
	begin func(PasskeyOwner) ([]byte, error)) (string, error) {
	if a.User == nil {
		return "", Errorf(EUNAUTHORIZED, "not logged in")
	}
	if err := s.passkeysOn(); err != nil {
		return "", err
	}
	u := *a.User
	if err := s.recheckPassword(ctx, u, password); err != nil {
		return "", err
	}
	owner, err := s.passkeyOwner(s.store.r.WithContext(ctx), u)
	if err != nil {
		return "", err
	}
	if len(owner.Credentials) >= maxPasskeys {
		return "", Errorf(ECONFLICT, "You have %d passkeys; remove one to add another.", maxPasskeys)
	}
	state, err := begin(owner)
	if err != nil {
		return "", fmt.Errorf("begin a passkey registration: %w", err)
	}
	var handle string
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		handle, err = s.saveCeremony(tx, passkeyCeremony{Kind: ceremonyRegister, UserID: &u.ID,
			SessionHash: ident.HashSecret(session), UserHandle: owner.Handle, State: state})
		return err
	})
	return handle, err
}

// FinishPasskeyRegistration ends the ceremony of handle: finish checks
// the browser's answer against the kept state and returns the new
// credential, stored under name. The session moves to a new id, as at
// every change of a second factor; the new cookie value is returned.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, a Actor, session, handle, name string,
	finish func(state []byte, owner PasskeyOwner) (PasskeyCredential, error)) (string, error) {
	if a.User == nil {
		return "", Errorf(EUNAUTHORIZED, "not logged in")
	}
	if err := s.passkeysOn(); err != nil {
		return "", err
	}
	u := *a.User
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "", Errorf(EINVALID, "Give the passkey a name.")
	}
	if utf8.RuneCountInString(name) > passkeyNameMax {
		return "", Errorf(EINVALID, "A passkey's name is at most %d characters.", passkeyNameMax)
	}
	c, ok, err := s.takeCeremony(ctx, handle, ceremonyRegister, u.ID, session)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrPasskeyFailed
	}
	owner, err := s.passkeyOwner(s.store.r.WithContext(ctx), u)
	if err != nil {
		return "", err
	}
	owner.Handle = c.UserHandle
	cred, err := finish(c.State, owner)
	if err != nil {
		s.log.Info("passkey registration refused", "user_id", u.ID, "err", err)
		return "", ErrPasskeyFailed
	}
	var token string
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		row := passkeyRow{UserID: u.ID, UserHandle: c.UserHandle, CredentialID: cred.ID, PublicKey: cred.PublicKey,
			AAGUID: cred.AAGUID, SignCount: int64(cred.SignCount), Transports: strings.Join(cred.Transports, ","),
			Flags: int(cred.Flags), AttestationFormat: cred.AttestationFormat, Name: name, CreatedAt: now}
		var dup int64
		if err := tx.Model(&passkeyRow{}).Where("credential_id = ?", cred.ID).Count(&dup).Error; err != nil {
			return fmt.Errorf("look for the credential: %w", err)
		}
		if dup > 0 {
			return Errorf(ECONFLICT, "This passkey is added already.")
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store the passkey: %w", err)
		}
		if err := tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditPasskeyAdded, Subject: "user:" + u.Email,
			Detail: "passkey added: " + name, Args: Args{"name": name}}).Error; err != nil {
			return err
		}
		var err error
		token, err = s.rotateSession(tx, u, session, "")
		return err
	})
	return token, err
}

// RemovePasskey removes one of a's passkeys, after their password.
func (s *Service) RemovePasskey(ctx context.Context, a Actor, id int64, password string) error {
	if a.User == nil {
		return Errorf(EUNAUTHORIZED, "not logged in")
	}
	u := *a.User
	var rows []passkeyRow
	if err := s.store.r.WithContext(ctx).Where("id = ? AND user_id = ?", id, u.ID).Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("read passkey %d: %w", id, err)
	}
	if len(rows) == 0 {
		return Errorf(ENOTFOUND, "no such passkey")
	}
	if err := s.recheckPassword(ctx, u, password); err != nil {
		return err
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ?", id, u.ID).Delete(&passkeyRow{})
		if res.Error != nil {
			return fmt.Errorf("remove passkey %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ENOTFOUND, "no such passkey")
		}
		if err := s.dropSpareRecoveryCodes(tx, u.ID); err != nil {
			return err
		}
		return tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: AuditPasskeyRemoved, Subject: "user:" + u.Email,
			Detail: "passkey removed: " + rows[0].Name, Args: Args{"name": rows[0].Name}}).Error
	})
}

// PendingFactors is what a pending sign-in may finish with.
type PendingFactors struct {
	TOTP    bool
	Passkey bool
}

// pendingSignIn finds the live pending sign-in of token and its person.
func (s *Service) pendingSignIn(ctx context.Context, pending string) (Session, User, error) {
	ended := Errorf(EUNAUTHORIZED, "The sign-in took too long; please sign in again.")
	if pending == "" || len(pending) > 128 {
		return Session{}, User{}, ended
	}
	var found []Session
	if err := s.store.r.WithContext(ctx).Where("token_hash = ? AND pending_second_factor = ? AND expires_at > ?",
		ident.HashSecret(pending), true, s.clock()).Limit(1).Find(&found).Error; err != nil {
		return Session{}, User{}, fmt.Errorf("look up the pending sign-in: %w", err)
	}
	if len(found) == 0 {
		return Session{}, User{}, ended
	}
	var u User
	if err := s.store.r.WithContext(ctx).Where("id = ? AND disabled = ?", found[0].UserID, false).Limit(1).Find(&u).Error; err != nil {
		return Session{}, User{}, fmt.Errorf("look up the pending sign-in's user: %w", err)
	}
	if u.ID == 0 {
		return Session{}, User{}, ended
	}
	return found[0], u, nil
}

// PendingSignInFactors says which second factors the pending sign-in of
// pending can finish with, for its page to offer.
func (s *Service) PendingSignInFactors(ctx context.Context, pending string) (PendingFactors, error) {
	_, u, err := s.pendingSignIn(ctx, pending)
	if err != nil {
		return PendingFactors{}, err
	}
	db := s.store.r.WithContext(ctx)
	var f PendingFactors
	if f.TOTP, err = s.hasTOTP(db, u.ID); err != nil {
		return PendingFactors{}, err
	}
	if f.Passkey, err = s.hasPasskey(db, u.ID); err != nil {
		return PendingFactors{}, err
	}
	return f, nil
}

// BeginPasskeySecondFactor starts the passkey ceremony of a pending
// sign-in; begin makes its options for the person's passkeys.
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, pending string, begin func(PasskeyOwner) ([]byte, error)) (string, error) {
	if err := s.passkeysOn(); err != nil {
		return "", err
	}
	_, u, err := s.pendingSignIn(ctx, pending)
	if err != nil {
		return "", err
	}
	owner, err := s.passkeyOwner(s.store.r.WithContext(ctx), u)
	if err != nil {
		return "", err
	}
	if len(owner.Credentials) == 0 {
		return "", Errorf(ENOTFOUND, "You have no passkey.")
	}
	state, err := begin(owner)
	if err != nil {
		return "", fmt.Errorf("begin a passkey sign-in: %w", err)
	}
	var handle string
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		handle, err = s.saveCeremony(tx, passkeyCeremony{Kind: ceremonySecondFactor, UserID: &u.ID,
			SessionHash: ident.HashSecret(pending), UserHandle: owner.Handle, State: state})
		return err
	})
	return handle, err
}

// errCounterRegressed is usePasskey's refusal of a counter that went
// back; name is the passkey's.
type errCounterRegressed struct {
	name        string
	stored, got uint32
}

func (e *errCounterRegressed) Error() string {
	return fmt.Sprintf("passkey %q: signature counter %d after %d", e.name, e.got, e.stored)
}

// usePasskey records a verified assertion of one of userID's passkeys:
// its counter and when it was used. A counter that does not go up (when
// either is non-zero: authenticators without a counter send 0) is
// refused, as WebAuthn §6.1.1 suggests of a possible clone.
func (s *Service) usePasskey(tx *gorm.DB, userID int64, as PasskeyAssertion) (passkeyRow, error) {
	var rows []passkeyRow
	if err := tx.Where("user_id = ? AND credential_id = ?", userID, as.CredentialID).Limit(1).Find(&rows).Error; err != nil {
		return passkeyRow{}, fmt.Errorf("read the passkey: %w", err)
	}
	if len(rows) == 0 {
		return passkeyRow{}, ErrPasskeyFailed
	}
	row := rows[0]
	stored := uint32(row.SignCount)
	if (as.SignCount != 0 || stored != 0) && as.SignCount <= stored {
		return row, &errCounterRegressed{name: row.Name, stored: stored, got: as.SignCount}
	}
	// Conditional on the counter read, so two answers racing cannot both pass.
	res := tx.Model(&passkeyRow{}).Where("id = ? AND sign_count = ?", row.ID, row.SignCount).
		Updates(map[string]any{"sign_count": int64(as.SignCount), "last_used_at": s.clock()})
	if res.Error != nil {
		return passkeyRow{}, fmt.Errorf("note the passkey's use: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return row, &errCounterRegressed{name: row.Name, stored: stored, got: as.SignCount}
	}
	return row, nil
}

// passkeyRefused audits a passkey that was refused for u and counts it
// in the account's sign-in throttle (n is the attempt's number), and
// returns the error the person is given.
func (s *Service) passkeyRefused(ctx context.Context, u User, n int64, client string, cause error) error {
	now := s.clock()
	e := AuditEntry{At: now, Actor: ActorAnonymous, Action: AuditPasskeyFailed, Subject: "user:" + u.Email,
		Detail: "passkey refused", Args: Args{"failures": argInt(n)}}
	out := ErrPasskeyFailed
	if cr, ok := errors.AsType[*errCounterRegressed](cause); ok {
		e.Action, e.Detail = AuditPasskeyCounterRegressed, "passkey refused: "+cr.Error()
		e.Args = Args{"name": cr.name, "stored": argInt(int64(cr.stored)), "got": argInt(int64(cr.got))}
		out = ErrPasskeyCounter
	}
	if err := s.store.w.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("audit a refused passkey: %w", err)
	}
	ferr := s.recordLoginFailure(ctx, loginAccountKey(u.Email), client, n, u, now)
	if _, locked := IsLoginLocked(ferr); locked || ErrorCode(ferr) != EUNAUTHORIZED {
		return ferr
	}
	return out
}

// CompletePasskeySecondFactor finishes a pending password sign-in with a
// passkey: verify checks the browser's answer against the ceremony's
// kept state and the person's passkeys. Like a code, each answer counts
// in the account's sign-in throttle until the sign-in succeeds.
func (s *Service) CompletePasskeySecondFactor(ctx context.Context, pending, handle string,
	verify func(state []byte, owner PasskeyOwner) (PasskeyAssertion, error), ci ClientInfo, ttl time.Duration) (SignedIn, error) {
	if ttl <= 0 {
		return SignedIn{}, fmt.Errorf("passkey: session length %v must be positive", ttl)
	}
	if err := s.passkeysOn(); err != nil {
		return SignedIn{}, err
	}
	sess, u, err := s.pendingSignIn(ctx, pending)
	if err != nil {
		return SignedIn{}, err
	}
	account := loginAccountKey(u.Email)
	n, err := s.reserveLoginAttempt(ctx, account, ci.Addr, s.clock())
	if err != nil {
		return SignedIn{}, err
	}
	c, ok, err := s.takeCeremony(ctx, handle, ceremonySecondFactor, u.ID, pending)
	if err != nil {
		return SignedIn{}, err
	}
	if !ok {
		return SignedIn{}, s.passkeyRefused(ctx, u, n, ci.Addr, nil)
	}
	owner, err := s.passkeyOwner(s.store.r.WithContext(ctx), u)
	if err != nil {
		return SignedIn{}, err
	}
	owner.Handle = c.UserHandle
	as, verr := verify(c.State, owner)
	if verr != nil {
		s.log.Info("passkey refused", "user_id", u.ID, "err", verr)
		return SignedIn{}, s.passkeyRefused(ctx, u, n, ci.Addr, nil)
	}
	// Both the password and the passkey were counted as attempts.
	return s.openPasskeySession(ctx, u, n, as, sess.ID, 2, AuthPasswordPasskey, ci, ttl)
}

// BeginPasskeySignIn keeps the state of a passwordless sign-in's
// ceremony (options for any of the desk's discoverable passkeys).
func (s *Service) BeginPasskeySignIn(ctx context.Context, state []byte) (string, error) {
	if err := s.passkeysOn(); err != nil {
		return "", err
	}
	var handle string
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		handle, err = s.saveCeremony(tx, passkeyCeremony{Kind: ceremonySignIn, State: state})
		return err
	})
	return handle, err
}

// PasskeySignIn signs in with a passkey alone: a discoverable credential
// whose authenticator verified its user (a PIN or biometric), which
// counts as the second factor, so the session is full at once. verify
// checks the answer against the kept state, finding the person by the
// user handle the authenticator returns through lookup. The password
// rules apply: a passkey is a local credential like a password, so a
// person who may not sign in with a password (auth.oidc.password_login)
// may not with a passkey either; a disabled person or a locked account
// is refused.
func (s *Service) PasskeySignIn(ctx context.Context, handle string,
	verify func(state []byte, lookup func(userHandle []byte) (PasskeyOwner, error)) (PasskeyAssertion, error),
	ci ClientInfo, ttl time.Duration) (SignedIn, error) {
	if ttl <= 0 {
		return SignedIn{}, fmt.Errorf("passkey: session length %v must be positive", ttl)
	}
	if err := s.passkeysOn(); err != nil {
		return SignedIn{}, err
	}
	c, ok, err := s.takeCeremony(ctx, handle, ceremonySignIn, 0, "")
	if err != nil {
		return SignedIn{}, err
	}
	if !ok {
		return SignedIn{}, ErrPasskeyFailed
	}
	var (
		u       User
		n       int64
		refused error // the person's refusal, found by lookup
	)
	lookup := func(userHandle []byte) (PasskeyOwner, error) {
		if len(userHandle) == 0 || u.ID != 0 {
			return PasskeyOwner{}, ErrPasskeyFailed
		}
		db := s.store.r.WithContext(ctx)
		var rows []passkeyRow
		if err := db.Where("user_handle = ?", userHandle).Limit(1).Find(&rows).Error; err != nil {
			return PasskeyOwner{}, fmt.Errorf("find the passkey's owner: %w", err)
		}
		if len(rows) == 0 {
			return PasskeyOwner{}, ErrPasskeyFailed
		}
		if err := db.Where("id = ?", rows[0].UserID).Limit(1).Find(&u).Error; err != nil {
			return PasskeyOwner{}, fmt.Errorf("read the passkey's owner: %w", err)
		}
		switch {
		case u.ID == 0:
			refused = ErrPasskeyFailed
		case u.Disabled:
			s.auditRefused(ctx, u.Email, AuthPasskey, RefusedDisabled)
			refused = Errorf(EUNAUTHORIZED, "This account is disabled.")
		case !s.sessions.PasswordAllowed(u.Email):
			refused = ErrPasswordLoginOff
		}
		if refused == nil {
			n, refused = s.reserveLoginAttempt(ctx, loginAccountKey(u.Email), ci.Addr, s.clock())
		}
		if refused != nil {
			return PasskeyOwner{}, refused
		}
		return s.passkeyOwner(db, u)
	}
	as, verr := verify(c.State, lookup)
	if refused != nil {
		return SignedIn{}, refused
	}
	if verr == nil && !as.UserVerified {
		verr = errors.New("the authenticator did not verify its user")
	}
	if verr != nil {
		if u.ID == 0 {
			s.log.Info("passkey sign-in refused", "err", verr)
			return SignedIn{}, ErrPasskeyFailed
		}
		s.log.Info("passkey refused", "user_id", u.ID, "err", verr)
		return SignedIn{}, s.passkeyRefused(ctx, u, n, ci.Addr, nil)
	}
	return s.openPasskeySession(ctx, u, n, as, 0, 1, AuthPasskey, ci, ttl)
}

// openPasskeySession ends u's sign-in with a verified passkey answer, the
// n-th attempt on the account: the counter checked and kept, the failed
// sign-ins before it told and forgotten (own of the counted attempts were
// this sign-in's), the use audited, and a full session opened in place
// of the pending sign-in pendingID (0: none). A counter that went back,
// or a passkey gone meanwhile, is a refused attempt.
func (s *Service) openPasskeySession(ctx context.Context, u User, n int64, as PasskeyAssertion, pendingID, own int64,
	method string, ci ClientInfo, ttl time.Duration) (SignedIn, error) {
	account := loginAccountKey(u.Email)
	var in SignedIn
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.usePasskey(tx, u.ID, as)
		if err != nil {
			return err
		}
		if pendingID != 0 {
			if err := tx.Delete(&Session{}, pendingID).Error; err != nil {
				return fmt.Errorf("end the pending sign-in: %w", err)
			}
		}
		var sess Session
		if err := s.takeLoginFailures(tx, account, &sess, own); err != nil {
			return err
		}
		if err := tx.Create(&AuditEntry{At: s.clock(), Actor: "user:" + u.Email, Action: AuditPasskeyUsed, Subject: "user:" + u.Email,
			Detail: "passkey used: " + row.Name, Args: Args{"name": row.Name}}).Error; err != nil {
			return err
		}
		token, err := s.openSession(tx, &sess, u, method, ci, ttl)
		in.Token, in.User, in.Failed, in.FailedFrom = token, u, sess.FailedLogins, sess.FailedLoginClients
		return err
	})
	if _, ok := errors.AsType[*errCounterRegressed](err); ok || errors.Is(err, ErrPasskeyFailed) {
		return SignedIn{}, s.passkeyRefused(ctx, u, n, ci.Addr, err)
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("sign in with a passkey: %w", err)
	}
	s.log.Info("staff login", "user_id", u.ID, "role", u.Role, "method", method, "failed_before", in.Failed)
	return in, nil
}
