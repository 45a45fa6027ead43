package cases

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// AuditEntry records a change to who may do what, or a look at personal
// data: who, what, to whom, when. The table is append-only.
type AuditEntry struct {
	ID      int64
	At      time.Time
	Actor   string
	Action  string
	Subject string
	Detail  string
	// Args are the action's facts for any language (Detail is English);
	// entries older than migration 12 have none.
	Args Args
}

func (AuditEntry) TableName() string { return "audit_log" }

// Audit actions.
const (
	AuditGrantTrained  = "grant_security_trained"
	AuditRevokeTrained = "revoke_security_trained"
	// AuditExposureExport: a lead downloaded what the wrong person
	// received (format, mails).
	AuditExposureExport = "exposure_export"

	// A second factor (secondfactor.go).
	AuditSecondFactorEnrolled = "second_factor_enrolled" // method
	AuditSecondFactorRemoved  = "second_factor_removed"  // method; by its owner, with a code
	AuditSecondFactorReset    = "second_factor_reset"    // by an admin, for a lost phone
	AuditSecondFactorFailed   = "second_factor_failed"   // failures (the throttle's count)
	AuditRecoveryCodeUsed     = "recovery_code_used"     // left
	// Passkeys (passkey.go).
	AuditPasskeyAdded            = "passkey_added"             // name
	AuditPasskeyRemoved          = "passkey_removed"           // name
	AuditPasskeyUsed             = "passkey_used"              // name
	AuditPasskeyFailed           = "passkey_failed"            // failures (the throttle's count)
	AuditPasskeyCounterRegressed = "passkey_counter_regressed" // name, stored, got: a possible clone
	AuditRecoveryCodesRenewed    = "recovery_codes_renewed"    // by their owner, with the password
)

// SetSecurityTrained grants or removes a user's security-trained flag; only
// admins may, and each change is audited. Removing it from oneself is
// allowed (an admin who stops working cases) but leaves an audit entry
// like any other.
func (s *Service) SetSecurityTrained(ctx context.Context, a Actor, userID int64, trained bool) (User, error) {
	if a.User == nil || a.User.Role != RoleAdmin || a.User.Disabled {
		return User{}, Errorf(EFORBIDDEN, "Only admins can change who is security-trained.")
	}
	var u User
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", userID).Limit(1).Find(&u).Error; err != nil {
			return fmt.Errorf("read user %d: %w", userID, err)
		}
		if u.ID == 0 {
			return Errorf(ENOTFOUND, "no such user")
		}
		if u.SecurityTrained == trained {
			return nil
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("security_trained", trained).Error; err != nil {
			return fmt.Errorf("update user %d: %w", u.ID, err)
		}
		u.SecurityTrained = trained
		action := AuditGrantTrained
		if !trained {
			action = AuditRevokeTrained
		}
		if err := tx.Create(&AuditEntry{At: s.clock(), Actor: a.String(), Action: action, Subject: "user:" + u.Email}).Error; err != nil {
			return err
		}
		if trained {
			return nil
		}
		// A session opened while trained would keep security cases until
		// it ended; it ends now.
		_, err := s.endSessions(tx, a.String(), u, EndedUntrained, 0)
		return err
	})
	return u, err
}

// AuditLog lists the newest audit entries; admins and leads may read it.
func (s *Service) AuditLog(ctx context.Context, a Actor, limit int) ([]AuditEntry, error) {
	if a.User == nil || (a.User.Role != RoleAdmin && a.User.Role != RoleLead) {
		return nil, Errorf(EFORBIDDEN, "The audit log is for admins and leads.")
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var out []AuditEntry
	if err := s.store.r.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
