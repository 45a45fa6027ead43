package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/passwd"
)

// Role is what a staff member may do besides working cases.
type Role string

const (
	RoleAgent Role = "agent"
	RoleLead  Role = "lead"
	RoleAdmin Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAgent || r == RoleLead || r == RoleAdmin }

// User is a staff member.
type User struct {
	ID              int64
	Email           string
	Role            Role
	SecurityTrained bool
	PasswordHash    string
	Disabled        bool
	CreatedAt       time.Time
	// OIDCSubject is "ISSUER SUBJECT" of a person who signed in through
	// single sign-on (sso.go): their role and training follow the
	// provider's groups. nil for staff who never did.
	OIDCSubject *string `gorm:"column:oidc_subject"`
}

// Session is a staff login; the cookie holds the token, the table its hash.
type Session struct {
	ID        int64
	TokenHash []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	// FailedLogins failed sign-ins to the account came before this one,
	// from FailedLoginClients client addresses: the owner is told.
	FailedLogins       int
	FailedLoginClients int
	// What the owner sees on their list of sessions (session.go).
	LastSeenAt  time.Time
	ConfirmedAt time.Time // identity (and groups) last confirmed
	UserAgent   string
	Client      string
	AuthMethod  string
	// PendingSecondFactor: a password sign-in waiting for its second
	// factor (secondfactor.go), good for nothing else.
	PendingSecondFactor bool
}

// MinPasswordLen is the shortest password a user may be given.
const MinPasswordLen = 12

// AddUser creates a staff member. The password is hashed with argon2id.
func (s *Service) AddUser(ctx context.Context, email string, role Role, trained bool, password string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	switch {
	case !validAddress(email) || len(email) > maxRecipient:
		return User{}, Errorf(EINVALID, "%q is not an email address", email)
	case !role.Valid():
		return User{}, Errorf(EINVALID, "role must be agent, lead or admin")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return User{}, Errorf(EINVALID, "the password must be at least %d characters", MinPasswordLen)
	}
	u := User{Email: email, Role: role, SecurityTrained: trained, PasswordHash: passwd.Hash(password), CreatedAt: s.clock()}
	err := s.store.w.WithContext(ctx).Create(&u).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return User{}, Errorf(ECONFLICT, "a user %s exists already", email)
	}
	if err != nil {
		return User{}, fmt.Errorf("add user: %w", err)
	}
	return u, nil
}

// Users lists the staff, by email.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.store.r.WithContext(ctx).Order("email").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// Login checks a staff member's password and opens a session of the given
// length; it is LoginFrom with no client address.
func (s *Service) Login(ctx context.Context, email, password string, ttl time.Duration) (string, User, error) {
	in, err := s.LoginFrom(ctx, email, password, "", ttl)
	return in.Token, in.User, err
}

// LoginFrom checks a staff member's password and opens a session of the
// given length. client names where the attempt came from (a client
// address or network) for the count of addresses the owner is told about.
// The account's throttle (loginthrottle.go) comes first: a locked account
// is refused with a *LoginLockedError whatever the password.
func (s *Service) LoginFrom(ctx context.Context, email, password, client string, ttl time.Duration) (SignedIn, error) {
	return s.LoginFromClient(ctx, email, password, ClientInfo{Addr: client}, ttl)
}

// LoginFromClient is LoginFrom with the browser's name kept for the
// owner's list of sessions. A password sign-in the policy does not allow
// (SessionPolicy.PasswordLogin) is refused with ErrPasswordLoginOff
// before the password is looked at.
func (s *Service) LoginFromClient(ctx context.Context, email, password string, ci ClientInfo, ttl time.Duration) (SignedIn, error) {
	client := ci.Addr
	if ttl <= 0 {
		return SignedIn{}, fmt.Errorf("login: session length %v must be positive", ttl)
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !s.sessions.PasswordAllowed(email) {
		return SignedIn{}, ErrPasswordLoginOff
	}
	var u User
	if err := s.store.r.WithContext(ctx).Where("email = ?", email).Limit(1).Find(&u).Error; err != nil {
		return SignedIn{}, fmt.Errorf("look up user: %w", err)
	}
	account, at := loginAccountKey(email), s.clock()
	n, err := s.reserveLoginAttempt(ctx, account, client, at)
	if err != nil {
		return SignedIn{}, err
	}
	if u.ID == 0 {
		passwd.Check(passwd.Dummy(), password)
		return SignedIn{}, s.recordLoginFailure(ctx, account, client, n, u, at)
	}
	if !passwd.Check(u.PasswordHash, password) || u.Disabled {
		// Wrong passwords are audited as the lock they lead to
		// (login_locked), not one by one: a guesser would flood the log.
		if u.Disabled && passwd.Check(u.PasswordHash, password) {
			s.auditRefused(ctx, u.Email, AuthPassword, RefusedDisabled)
		}
		return SignedIn{}, s.recordLoginFailure(ctx, account, client, n, u, at)
	}
	var sess Session
	var token string
	pending := false
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if pending, err = s.hasSecondFactor(tx, u.ID); err != nil {
			return err
		}
		if pending {
			// The password is right, but the throttle's count stands
			// until the second factor is (CompleteSecondFactor): codes
			// are guessed under the same lock as passwords. A lock this
			// attempt set on reaching the limit is lifted, as a right
			// password lifts it, unless an attempt came after this one:
			// else the second step would find the account locked by
			// the right password.
			if s.loginThrottle.delay(n) > 0 {
				if err := tx.Exec(`UPDATE login_throttles SET locked_until = NULL WHERE account_key = ? AND failures = ?`,
					account, n).Error; err != nil {
					return fmt.Errorf("lift the lock of a right password: %w", err)
				}
			}
			sess.PendingSecondFactor = true
			token, err = s.newSession(tx, &sess, u, AuthPassword, ci, pendingSecondFactorTTL)
			return err
		}
		if err := s.takeLoginFailures(tx, account, &sess, 1); err != nil {
			return err
		}
		token, err = s.openSession(tx, &sess, u, AuthPassword, ci, ttl)
		return err
	})
	if err != nil {
		return SignedIn{}, fmt.Errorf("open session: %w", err)
	}
	if pending {
		return SignedIn{Token: token, User: u, SecondFactor: true}, nil
	}
	s.log.Info("staff login", "user_id", u.ID, "role", u.Role, "failed_before", sess.FailedLogins)
	return SignedIn{Token: token, User: u, Failed: sess.FailedLogins, FailedFrom: sess.FailedLoginClients}, nil
}

// takeLoginFailures tells sess the failed sign-ins to account before
// this one and forgets them; own is how many of the counted attempts
// were this sign-in's own.
func (s *Service) takeLoginFailures(tx *gorm.DB, account string, sess *Session, own int64) error {
	var before []struct{ Failures, Refused int64 }
	if err := tx.Raw(`SELECT failures, refused FROM login_throttles WHERE account_key = ?`, account).Scan(&before).Error; err != nil {
		return err
	}
	var clients int64
	if err := tx.Table("login_failure_clients").Where("account_key = ?", account).Count(&clients).Error; err != nil {
		return err
	}
	if len(before) > 0 {
		if n := before[0].Failures - own + before[0].Refused; n > 0 {
			sess.FailedLogins, sess.FailedLoginClients = int(n), int(clients)
		}
	}
	if err := tx.Exec(`DELETE FROM login_failure_clients WHERE account_key = ?`, account).Error; err != nil {
		return err
	}
	return tx.Exec(`DELETE FROM login_throttles WHERE account_key = ?`, account).Error
}

// UserBySession returns the user of a live session (liveSession: within
// its absolute, idle and single sign-on bounds).
func (s *Service) UserBySession(ctx context.Context, token string) (User, error) {
	st, err := s.StaffSessionOf(ctx, token)
	return st.User, err
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	if err := s.store.w.WithContext(ctx).Where("token_hash = ?", ident.HashSecret(token)).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Actor is whoever acts on the desk: a staff member or an API key.
type Actor struct {
	User   *User
	APIKey *APIKey
}

// String names the actor on the timeline.
func (a Actor) String() string {
	switch {
	case a.User != nil:
		return "user:" + a.User.Email
	case a.APIKey != nil:
		return "api:" + a.APIKey.Name
	}
	return "anonymous"
}

// canReadCases: security cases are for security-trained staff, and for API
// keys with the cases:read scope (the call centre's status look-up).
func (a Actor) canReadCases() bool {
	switch {
	case a.User != nil:
		return a.User.SecurityTrained && !a.User.Disabled
	case a.APIKey != nil:
		return a.APIKey.HasScope(ScopeCasesRead)
	}
	return false
}

var errNotTrained = Errorf(EFORBIDDEN, "Security cases are handled by security-trained staff only. Ask an admin if you should have access.")

// SetPassword gives an existing staff member a new password. The demo
// uses it to hand out working logins again on each start, since stored
// passwords are hashes and cannot be shown a second time.
func (s *Service) SetPassword(ctx context.Context, email, password string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return User{}, Errorf(EINVALID, "the password must be at least %d characters", MinPasswordLen)
	}
	var u User
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("email = ?", email).Limit(1).Find(&u).Error; err != nil {
			return fmt.Errorf("look up user: %w", err)
		}
		if u.ID == 0 {
			return Errorf(ENOTFOUND, "no user %s", email)
		}
		u.PasswordHash = passwd.Hash(password)
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("password_hash", u.PasswordHash).Error; err != nil {
			return fmt.Errorf("set password of user %d: %w", u.ID, err)
		}
		return nil
	})
	return u, err
}
