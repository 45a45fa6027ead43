package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"notme/cases/ident"

	"gorm.io/gorm"
)

// How a session was authenticated. A second factor will add its own
// methods ("password+totp"…); the column is free text for that reason.
const (
	AuthPassword = "password"
	AuthOIDC     = "oidc"
)

// PasswordLogin says who may sign in with a password.
type PasswordLogin string

const (
	PasswordLoginAll        PasswordLogin = "all"
	PasswordLoginBreakGlass PasswordLogin = "breakglass" // only SessionPolicy.BreakGlass
	PasswordLoginOff        PasswordLogin = "off"
)

// SessionPolicy bounds staff sessions and says how staff may sign in.
// The absolute length of a session is the ttl its sign-in is given.
type SessionPolicy struct {
	// Idle: a session unused this long ends. Default DefaultSessionIdle.
	Idle time.Duration
	// SSORecheck: a session opened through single sign-on ends this long
	// after the provider last confirmed the person and their groups, so
	// that a person removed from a group at the provider loses what it
	// gave within this time. Default DefaultSSORecheck.
	SSORecheck time.Duration
	// PasswordLogin: "" is all.
	PasswordLogin PasswordLogin
	// BreakGlass is the one address that may still sign in with a
	// password when PasswordLogin is breakglass.
	BreakGlass string
	// SecondFactorRoles must have a second factor to use a password
	// session (secondfactor.go); nil: none.
	SecondFactorRoles []Role
	// PasskeysOff turns passkeys off (auth.passkeys false): none can be
	// added, and those stored neither sign in nor count as a factor.
	PasskeysOff bool
}

// Defaults of SessionPolicy.
const (
	DefaultSessionIdle = 2 * time.Hour
	DefaultSSORecheck  = time.Hour
)

func (p SessionPolicy) withDefaults() SessionPolicy {
	if p.Idle <= 0 {
		p.Idle = DefaultSessionIdle
	}
	if p.SSORecheck <= 0 {
		p.SSORecheck = DefaultSSORecheck
	}
	if p.PasswordLogin == "" {
		p.PasswordLogin = PasswordLoginAll
	}
	p.BreakGlass = strings.ToLower(strings.TrimSpace(p.BreakGlass))
	return p
}

// PasswordAllowed reports whether email may sign in with a password.
func (p SessionPolicy) PasswordAllowed(email string) bool {
	switch p.PasswordLogin {
	case PasswordLoginOff:
		return false
	case PasswordLoginBreakGlass:
		return p.BreakGlass != "" && strings.ToLower(strings.TrimSpace(email)) == p.BreakGlass
	}
	return true
}

// SessionPolicy returns the policy in force, defaults filled in.
func (s *Service) SessionPolicy() SessionPolicy { return s.sessions }

// ErrPasswordLoginOff refuses a password sign-in that the policy does
// not allow; the person signs in through single sign-on.
var ErrPasswordLoginOff = Errorf(EFORBIDDEN, "password sign-in is turned off; sign in through single sign-on")

// ClientInfo is where a sign-in came from, as its owner sees it on their
// list of sessions: a client network (an IPv4 address, an IPv6 /64) and a
// short name of the browser ("Firefox on Linux").
type ClientInfo struct {
	Addr      string
	UserAgent string
}

// SessionView is one of a person's sessions, as they see it.
type SessionView struct {
	ID         int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	Client     string
	AuthMethod string
	Current    bool // the session looking at the list
}

// Audit actions of sign-in and sessions.
const (
	AuditSignIn        = "sign_in"         // method
	AuditSignInRefused = "sign_in_refused" // method, reason
	AuditSessionsEnded = "sessions_ended"  // count, why
	AuditSSORole       = "sso_role_change" // from, to
	AuditSSOUser       = "sso_user_added"  // to (the role)
)

// Why sessions ended, the why argument of AuditSessionsEnded.
const (
	EndedByOwner     = "owner"
	EndedByAdmin     = "admin"
	EndedUntrained   = "untrained"
	EndedRoleLowered = "role_lowered"
	EndedDisabled    = "disabled"
)

// RefusedDisabled is the reason of a refused sign-in of a disabled
// staff member who knew their password or was vouched for by the provider.
const RefusedDisabled = "disabled"

// ActorSSO is the actor of changes the provider's groups made.
const ActorSSO = "sso"

// openSession creates a session for u in tx, audits the sign-in and
// returns the session's cookie value.
func (s *Service) openSession(tx *gorm.DB, sess *Session, u User, method string, client ClientInfo, ttl time.Duration) (string, error) {
	token, err := s.newSession(tx, sess, u, method, client, ttl)
	if err != nil {
		return "", err
	}
	return token, tx.Create(&AuditEntry{At: s.clock(), Actor: "user:" + u.Email, Action: AuditSignIn, Subject: "user:" + u.Email,
		Detail: "signed in with " + method, Args: Args{"method": method}}).Error
}

// newSession creates a session for u in tx and returns its cookie value.
func (s *Service) newSession(tx *gorm.DB, sess *Session, u User, method string, client ClientInfo, ttl time.Duration) (string, error) {
	token := ident.RandomToken(32)
	now := s.clock()
	sess.TokenHash, sess.UserID, sess.CreatedAt, sess.ExpiresAt = ident.HashSecret(token), u.ID, now, now.Add(ttl)
	sess.LastSeenAt, sess.ConfirmedAt, sess.AuthMethod = now, now, method
	sess.Client, sess.UserAgent = truncate(client.Addr, 64), truncate(client.UserAgent, 64)
	// Expired sessions go whenever someone signs in; no sweeper needed.
	if err := tx.Where("expires_at <= ?", now).Delete(&Session{}).Error; err != nil {
		return "", err
	}
	if err := tx.Create(sess).Error; err != nil {
		return "", err
	}
	return token, nil
}

// liveSession finds the live session of token: not past its absolute end,
// used within the idle timeout, and, opened through single sign-on,
// confirmed by the provider within SSORecheck. It notes the use (at most
// once a minute, to spare the writer).
func (s *Service) liveSession(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, Errorf(EUNAUTHORIZED, "not logged in")
	}
	var found []Session
	now := s.clock()
	if err := s.store.r.WithContext(ctx).Where("token_hash = ? AND expires_at > ? AND pending_second_factor = ?", ident.HashSecret(token), now, false).
		Limit(1).Find(&found).Error; err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	ended := len(found) == 0
	if !ended {
		sess := found[0]
		ended = now.Sub(sess.LastSeenAt) >= s.sessions.Idle ||
			(sess.AuthMethod == AuthOIDC && now.Sub(sess.ConfirmedAt) >= s.sessions.SSORecheck)
	}
	if ended {
		return Session{}, Errorf(EUNAUTHORIZED, "your session has ended; please log in again")
	}
	sess := found[0]
	if now.Sub(sess.LastSeenAt) >= time.Minute {
		if err := s.store.w.WithContext(ctx).Model(&Session{}).Where("id = ?", sess.ID).
			Update("last_seen_at", now).Error; err != nil {
			return Session{}, fmt.Errorf("note the session's use: %w", err)
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// Sessions lists a's own live sessions, newest first; current is the
// cookie of the session asking, marked on the list.
func (s *Service) Sessions(ctx context.Context, a Actor, current string) ([]SessionView, error) {
	if a.User == nil {
		return nil, Errorf(EUNAUTHORIZED, "not logged in")
	}
	var ss []Session
	if err := s.store.r.WithContext(ctx).Where("user_id = ? AND expires_at > ? AND pending_second_factor = ?", a.User.ID, s.clock(), false).
		Order("created_at DESC, id DESC").Find(&ss).Error; err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", a.User.ID, err)
	}
	mine := ident.HashSecret(current)
	out := make([]SessionView, 0, len(ss))
	for _, x := range ss {
		if s.clock().Sub(x.LastSeenAt) >= s.sessions.Idle ||
			(x.AuthMethod == AuthOIDC && s.clock().Sub(x.ConfirmedAt) >= s.sessions.SSORecheck) {
			continue
		}
		out = append(out, SessionView{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt,
			UserAgent: x.UserAgent, Client: x.Client, AuthMethod: x.AuthMethod, Current: string(x.TokenHash) == string(mine)})
	}
	return out, nil
}

// EndSession ends one of a's own sessions (audited).
func (s *Service) EndSession(ctx context.Context, a Actor, id int64) error {
	if a.User == nil {
		return Errorf(EUNAUTHORIZED, "not logged in")
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ?", id, a.User.ID).Delete(&Session{})
		if res.Error != nil {
			return fmt.Errorf("end session %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ENOTFOUND, "no such session")
		}
		return s.auditSessionsEnded(tx, a.String(), *a.User, 1, EndedByOwner)
	})
}

// EndUserSessions ends every session of a staff member; only admins may
// (audited). It returns how many ended.
func (s *Service) EndUserSessions(ctx context.Context, a Actor, userID int64) (int64, error) {
	if a.User == nil || a.User.Role != RoleAdmin || a.User.Disabled {
		return 0, Errorf(EFORBIDDEN, "Only admins can end another person's sessions.")
	}
	var n int64
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ?", userID).Limit(1).Find(&u).Error; err != nil {
			return fmt.Errorf("read user %d: %w", userID, err)
		}
		if u.ID == 0 {
			return Errorf(ENOTFOUND, "no such user")
		}
		var err error
		n, err = s.endSessions(tx, a.String(), u, EndedByAdmin, 0)
		return err
	})
	return n, err
}

// endSessions ends u's sessions but keep (0: all) and audits it as
// actor's doing when any ended.
func (s *Service) endSessions(tx *gorm.DB, actor string, u User, why string, keep int64) (int64, error) {
	res := tx.Where("user_id = ? AND id <> ?", u.ID, keep).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("end the sessions of user %d: %w", u.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, nil
	}
	return res.RowsAffected, s.auditSessionsEnded(tx, actor, u, res.RowsAffected, why)
}

func (s *Service) auditSessionsEnded(tx *gorm.DB, actor string, u User, n int64, why string) error {
	return tx.Create(&AuditEntry{At: s.clock(), Actor: actor, Action: AuditSessionsEnded, Subject: "user:" + u.Email,
		Detail: fmt.Sprintf("%d sessions ended (%s)", n, why), Args: Args{"count": argInt(n), "why": why}}).Error
}

// auditRefused records a refused sign-in to a known account.
func (s *Service) auditRefused(ctx context.Context, email, method, reason string) {
	err := s.store.w.WithContext(ctx).Create(&AuditEntry{At: s.clock(), Actor: ActorAnonymous, Action: AuditSignInRefused,
		Subject: "user:" + email, Detail: "sign-in with " + method + " refused: " + reason,
		Args: Args{"method": method, "why": reason}}).Error
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("audit a refused sign-in", "method", method, "reason", reason, "err", err)
	}
}

// Audit actions of disabling a staff member.
const (
	AuditDisableUser = "disable_user"
	AuditEnableUser  = "enable_user"
)

// SetDisabled disables or enables a staff member; only admins may, never
// themselves (a desk could lose its last admin), and each change is
// audited. Disabling ends the person's sessions.
func (s *Service) SetDisabled(ctx context.Context, a Actor, userID int64, disabled bool) (User, error) {
	if a.User == nil || a.User.Role != RoleAdmin || a.User.Disabled {
		return User{}, Errorf(EFORBIDDEN, "Only admins can disable staff.")
	}
	if a.User.ID == userID {
		return User{}, Errorf(EINVALID, "You cannot disable yourself.")
	}
	var u User
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", userID).Limit(1).Find(&u).Error; err != nil {
			return fmt.Errorf("read user %d: %w", userID, err)
		}
		if u.ID == 0 {
			return Errorf(ENOTFOUND, "no such user")
		}
		if u.Disabled == disabled {
			return nil
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("disabled", disabled).Error; err != nil {
			return fmt.Errorf("update user %d: %w", u.ID, err)
		}
		u.Disabled = disabled
		action := AuditEnableUser
		if disabled {
			action = AuditDisableUser
		}
		if err := tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: action, Subject: "user:" + u.Email}).Error; err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		_, err := s.endSessions(tx, a.String(), u, EndedDisabled, 0)
		return err
	})
	return u, err
}
