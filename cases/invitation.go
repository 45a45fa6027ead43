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

// Admins add staff on /admin with an invitation rather than a password
// they choose: the desk has no page to change a password, so a password
// an admin typed or was shown would stay known to the admin for good. The
// invitation is a single-use link that expires; the person who opens it
// sets their own password, and only then does the user exist. The token is
// shown once to the admin and kept only as its hash, like API keys and
// sessions.

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 72 * time.Hour

// Invitation is an admin's offer of a staff login.
type Invitation struct {
	ID              int64
	TokenHash       []byte
	Email           string
	Role            Role
	SecurityTrained bool
	InvitedBy       string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	RevokedAt       *time.Time
}

// Audit actions of invitations.
const (
	AuditInviteUser       = "invite_user"
	AuditAcceptInvitation = "accept_invitation"
)

// Errors of adding staff that the console words for the person at the
// form; compare with errors.Is.
var (
	ErrNotAnAddress      = Errorf(EINVALID, "that is not an email address")
	ErrUnknownRole       = Errorf(EINVALID, "role must be agent, lead or admin")
	ErrUserExists        = Errorf(ECONFLICT, "a staff member with this address exists already")
	ErrPasswordShort     = Errorf(EINVALID, "the password must be at least %d characters", MinPasswordLen)
	ErrInvitationInvalid = Errorf(ENOTFOUND, "this invitation link does not work")
)

// InviteUser records an admin's invitation and returns it with its token,
// which cannot be shown again. A new invitation for the same address
// replaces an earlier one that was not used (the admin lost the link, or
// got the role wrong). The audit log names who invited whom, with which
// role and training; never the token.
func (s *Service) InviteUser(ctx context.Context, a Actor, email string, role Role, trained bool) (Invitation, string, error) {
	if a.User == nil || a.User.Role != RoleAdmin || a.User.Disabled {
		return Invitation{}, "", Errorf(EFORBIDDEN, "Only admins can add staff.")
	}
	email = strings.ToLower(strings.TrimSpace(email))
	switch {
	case !validAddress(email) || len(email) > maxRecipient:
		return Invitation{}, "", ErrNotAnAddress
	case !role.Valid():
		return Invitation{}, "", ErrUnknownRole
	}
	token := ident.RandomToken(32)
	now := s.clock()
	inv := Invitation{TokenHash: ident.HashSecret(token), Email: email, Role: role, SecurityTrained: trained,
		InvitedBy: a.String(), CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("email = ?", email).Count(&n).Error; err != nil {
			return fmt.Errorf("look up user: %w", err)
		}
		if n > 0 {
			return ErrUserExists
		}
		if err := tx.Model(&Invitation{}).Where("email = ? AND used_at IS NULL AND revoked_at IS NULL", email).
			Update("revoked_at", now).Error; err != nil {
			return fmt.Errorf("replace earlier invitations: %w", err)
		}
		if err := tx.Create(&inv).Error; err != nil {
			return fmt.Errorf("store invitation: %w", err)
		}
		return tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditInviteUser, Subject: "user:" + email,
			Detail: fmt.Sprintf("role=%s security_trained=%t", role, trained)}).Error
	})
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, token, nil
}

// PendingInvitations lists the invitations that still work, newest first.
func (s *Service) PendingInvitations(ctx context.Context) ([]Invitation, error) {
	var out []Invitation
	err := s.store.r.WithContext(ctx).Where("used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", s.clock()).
		Order("id DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// InvitationByToken returns the invitation a link carries while it works.
// Unknown, used, replaced and expired links are one ErrInvitationInvalid:
// whoever holds a dead link learns nothing from it.
func (s *Service) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	if token == "" || len(token) > 128 {
		return Invitation{}, ErrInvitationInvalid
	}
	var inv Invitation
	err := s.store.r.WithContext(ctx).Where("token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
		ident.HashSecret(token), s.clock()).Limit(1).Find(&inv).Error
	if err != nil {
		return Invitation{}, fmt.Errorf("look up invitation: %w", err)
	}
	if inv.ID == 0 {
		return Invitation{}, ErrInvitationInvalid
	}
	return inv, nil
}

// AcceptInvitation uses an invitation: the invited person's password is
// set, the user made, and the link stops working, in one transaction.
func (s *Service) AcceptInvitation(ctx context.Context, token, password string) (User, error) {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return User{}, ErrPasswordShort
	}
	inv, err := s.InvitationByToken(ctx, token)
	if err != nil {
		return User{}, err
	}
	now := s.clock()
	u := User{Email: inv.Email, Role: inv.Role, SecurityTrained: inv.SecurityTrained, PasswordHash: passwd.Hash(password), CreatedAt: now}
	err = s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The condition makes a second use of the same link (two tabs, a
		// double click) find nothing to update.
		res := tx.Model(&Invitation{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", inv.ID, now).
			Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("use invitation: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrInvitationInvalid
		}
		if err := tx.Create(&u).Error; errors.Is(err, gorm.ErrDuplicatedKey) {
			return ErrUserExists // added meanwhile with notme user add
		} else if err != nil {
			return fmt.Errorf("add user: %w", err)
		}
		return tx.Create(&AuditEntry{At: now, Actor: "user:" + u.Email, Action: AuditAcceptInvitation, Subject: "user:" + u.Email,
			Detail: "invited_by=" + inv.InvitedBy}).Error
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("invitation accepted", "user_id", u.ID, "role", u.Role)
	return u, nil
}
