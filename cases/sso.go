package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Staff who sign in through an OpenID Connect provider (ui/oidc.go speaks
// the protocol): the verified claims arrive here as an SSOIdentity, and the
// provider's groups decide the person's role and training at every
// sign-in.

// SSOIdentity is what a provider's verified ID token and userinfo say of
// the person signing in.
type SSOIdentity struct {
	Issuer, Subject string
	Email           string
	EmailVerified   bool
	Groups          []string
}

// SSOMapping maps the provider's groups to a role and to the
// security-trained flag. A person in several role groups gets the highest
// role; a person in none is refused.
type SSOMapping struct {
	Roles   map[string]Role
	Trained []string
}

// Resolve returns the role and training groups give; ok is false when no
// group maps to a role.
func (m SSOMapping) Resolve(groups []string) (role Role, trained, ok bool) {
	for _, g := range groups {
		if r, found := m.Roles[g]; found && roleRank(r) > roleRank(role) {
			role = r
		}
		if slices.Contains(m.Trained, g) {
			trained = true
		}
	}
	return role, trained, role != ""
}

func roleRank(r Role) int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleLead:
		return 2
	case RoleAgent:
		return 1
	}
	return 0
}

// SSORefusal is a single sign-on that the desk refuses although the
// provider vouched for the person; Reason is a code the sign-in page words
// and the audit log records.
type SSORefusal struct{ Reason string }

func (e *SSORefusal) Error() string { return "single sign-on refused: " + e.Reason }

// Reasons of an SSORefusal.
const (
	SSOEmailUnverified = "email_unverified" // the provider has not verified the address
	SSONoEmail         = "no_email"         // no usable email claim
	SSONoGroup         = "no_group"         // no group maps to a role
	SSOOtherSubject    = "other_subject"    // the address belongs to another person at the provider
	SSODisabled        = RefusedDisabled    // the staff member is disabled here
)

// IsSSORefusal returns the refusal behind err, if there is one.
func IsSSORefusal(err error) (*SSORefusal, bool) {
	var e *SSORefusal
	return e, errors.As(err, &e)
}

// SignInSSO opens a session for the person a provider vouched for: it
// creates them at their first sign-in, sets their role and training from
// their groups (each change audited, as the provider's doing), and ends
// their other sessions when the groups took something away. It refuses an
// unverified address, a person with no mapped group, an address that
// belongs to another subject of the provider, and a disabled person.
func (s *Service) SignInSSO(ctx context.Context, id SSOIdentity, m SSOMapping, ci ClientInfo, ttl time.Duration) (SignedIn, error) {
	if ttl <= 0 {
		return SignedIn{}, fmt.Errorf("sso sign-in: session length %v must be positive", ttl)
	}
	email := strings.ToLower(strings.TrimSpace(id.Email))
	refuse := func(reason string) (SignedIn, error) {
		if email != "" {
			s.auditRefused(ctx, email, AuthOIDC, reason)
		}
		return SignedIn{}, &SSORefusal{Reason: reason}
	}
	switch {
	case email == "" || !validAddress(email) || len(email) > maxRecipient:
		email = ""
		return refuse(SSONoEmail)
	case !id.EmailVerified:
		return refuse(SSOEmailUnverified)
	}
	role, trained, ok := m.Resolve(id.Groups)
	if !ok {
		return refuse(SSONoGroup)
	}
	subject := id.Issuer + " " + id.Subject
	var u User
	var token string
	var refusal string
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("oidc_subject = ?", subject).Limit(1).Find(&u).Error; err != nil {
			return fmt.Errorf("look up user by subject: %w", err)
		}
		if u.ID == 0 {
			if err := tx.Where("email = ?", email).Limit(1).Find(&u).Error; err != nil {
				return fmt.Errorf("look up user by email: %w", err)
			}
			if u.ID != 0 && u.OIDCSubject != nil && *u.OIDCSubject != subject {
				refusal = SSOOtherSubject
				return nil
			}
		}
		now := s.clock()
		if u.ID == 0 {
			u = User{Email: email, Role: role, SecurityTrained: trained, CreatedAt: now, OIDCSubject: &subject}
			if err := tx.Create(&u).Error; err != nil {
				return fmt.Errorf("add user from single sign-on: %w", err)
			}
			if err := tx.Create(&AuditEntry{At: now, Actor: ActorSSO, Action: AuditSSOUser, Subject: "user:" + email,
				Detail: fmt.Sprintf("added from single sign-on as %s", role), Args: Args{"to": string(role)}}).Error; err != nil {
				return err
			}
			if trained {
				if err := tx.Create(&AuditEntry{At: now, Actor: ActorSSO, Action: AuditGrantTrained, Subject: "user:" + email}).Error; err != nil {
					return err
				}
			}
		} else {
			if u.Disabled {
				refusal = SSODisabled
				return nil
			}
			lost, err := s.applyGroups(tx, &u, email, subject, role, trained)
			if err != nil {
				return err
			}
			if lost {
				why := EndedUntrained
				if roleRank(role) < roleRank(u.Role) {
					why = EndedRoleLowered
				}
				if _, err := s.endSessions(tx, ActorSSO, u, why, 0); err != nil {
					return err
				}
			}
			u.Role, u.SecurityTrained, u.Email = role, trained, email
		}
		var sess Session
		var err error
		token, err = s.openSession(tx, &sess, u, AuthOIDC, ci, ttl)
		return err
	})
	if err != nil {
		return SignedIn{}, fmt.Errorf("sso sign-in: %w", err)
	}
	if refusal != "" {
		return refuse(refusal)
	}
	s.log.Info("staff login", "user_id", u.ID, "role", u.Role, "method", AuthOIDC)
	return SignedIn{Token: token, User: u}, nil
}

// applyGroups brings u's role, training, address and subject in line with
// what the provider said, auditing role and training changes; lost
// reports whether something was taken away.
func (s *Service) applyGroups(tx *gorm.DB, u *User, email, subject string, role Role, trained bool) (lost bool, err error) {
	now := s.clock()
	set := map[string]any{}
	if u.OIDCSubject == nil || *u.OIDCSubject != subject {
		set["oidc_subject"] = subject
	}
	if u.Email != email {
		set["email"] = email
	}
	if u.Role != role {
		set["role"] = role
		if err := tx.Create(&AuditEntry{At: now, Actor: ActorSSO, Action: AuditSSORole, Subject: "user:" + email,
			Detail: fmt.Sprintf("role %s → %s from the provider's groups", u.Role, role),
			Args:   Args{"from": string(u.Role), "to": string(role)}}).Error; err != nil {
			return false, err
		}
		lost = roleRank(role) < roleRank(u.Role)
	}
	if u.SecurityTrained != trained {
		set["security_trained"] = trained
		action := AuditGrantTrained
		if !trained {
			action, lost = AuditRevokeTrained, true
		}
		if err := tx.Create(&AuditEntry{At: now, Actor: ActorSSO, Action: action, Subject: "user:" + email}).Error; err != nil {
			return false, err
		}
	}
	if len(set) == 0 {
		return false, nil
	}
	if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(set).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return false, Errorf(ECONFLICT, "another staff member has the address %s", email)
		}
		return false, fmt.Errorf("update user %d from single sign-on: %w", u.ID, err)
	}
	return lost, nil
}
