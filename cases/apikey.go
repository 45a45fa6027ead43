package cases

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"notme/cases/ident"
)

// Scope is what an API key may do.
type Scope string

const (
	ScopeMessagesWrite Scope = "messages:write"
	ScopeMint          Scope = "mint"
	ScopeReportsWrite  Scope = "reports:write"
	ScopeCasesRead     Scope = "cases:read"
	ScopeCasesWrite    Scope = "cases:write"
	// The suppression list (suppression.go): reading it, and adding or
	// taking off entries.
	ScopeSuppressionsRead  Scope = "suppressions:read"
	ScopeSuppressionsWrite Scope = "suppressions:write"
	// The address guard (guard.go): its answer tells whether an address
	// is on the suppression list.
	ScopeAddressesCheck Scope = "addresses:check"
	// The audit log (auditexport.go), for a SIEM.
	ScopeAuditRead Scope = "audit:read"
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeMessagesWrite, ScopeMint, ScopeReportsWrite, ScopeCasesRead, ScopeCasesWrite, ScopeSuppressionsRead, ScopeSuppressionsWrite, ScopeAddressesCheck, ScopeAuditRead}

// APIKey is a key for the company's systems. The key itself is shown once;
// the table keeps its prefix (to find it) and its hash (to check it).
type APIKey struct {
	ID        int64
	Name      string
	Prefix    string
	KeyHash   []byte
	Scopes    string // space-separated
	CreatedAt time.Time
	RevokedAt *time.Time
}

// HasScope reports whether the key grants sc.
func (k APIKey) HasScope(sc Scope) bool {
	for _, s := range strings.Fields(k.Scopes) {
		if Scope(s) == sc {
			return true
		}
	}
	return false
}

// AddAPIKey creates a key and returns it; it cannot be shown again.
// The format is "nmk_" + 8-character prefix + "_" + 32 random characters,
// all from Crockford's base 32 in lower case.
func (s *Service) AddAPIKey(ctx context.Context, name string, scopes []Scope) (string, APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || !printable(name) {
		return "", APIKey{}, Errorf(EINVALID, "the key needs a name of at most 64 printable characters")
	}
	if len(scopes) == 0 {
		return "", APIKey{}, Errorf(EINVALID, "the key needs at least one scope")
	}
	var names []string
	for _, sc := range scopes {
		if !validScope(sc) {
			return "", APIKey{}, Errorf(EINVALID, "unknown scope %q (known: %s)", sc, scopeNames())
		}
		names = append(names, string(sc))
	}
	prefix := strings.ToLower(ident.CrockfordRandom(5))
	key := "nmk_" + prefix + "_" + strings.ToLower(ident.CrockfordRandom(20))
	k := APIKey{Name: name, Prefix: prefix, KeyHash: ident.HashSecret(key), Scopes: strings.Join(names, " "), CreatedAt: s.clock()}
	if err := s.store.w.WithContext(ctx).Create(&k).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return "", APIKey{}, Errorf(ECONFLICT, "key prefix collision; try again")
		}
		return "", APIKey{}, fmt.Errorf("add api key: %w", err)
	}
	return key, k, nil
}

func validScope(sc Scope) bool {
	for _, x := range Scopes {
		if sc == x {
			return true
		}
	}
	return false
}

func scopeNames() string {
	var n []string
	for _, sc := range Scopes {
		n = append(n, string(sc))
	}
	return strings.Join(n, ", ")
}

// APIKeyByKey checks a presented key. Every failure is EUNAUTHORIZED.
func (s *Service) APIKeyByKey(ctx context.Context, key string) (APIKey, error) {
	bad := Errorf(EUNAUTHORIZED, "a valid API key is required")
	parts := strings.SplitN(key, "_", 3)
	if len(parts) != 3 || parts[0] != "nmk" || len(parts[1]) != 8 || len(key) > 128 {
		return APIKey{}, bad
	}
	var k APIKey
	if err := s.store.r.WithContext(ctx).Where("prefix = ?", parts[1]).Limit(1).Find(&k).Error; err != nil {
		return APIKey{}, fmt.Errorf("look up api key: %w", err)
	}
	if k.ID == 0 || k.RevokedAt != nil || subtle.ConstantTimeCompare(k.KeyHash, ident.HashSecret(key)) != 1 {
		return APIKey{}, bad
	}
	return k, nil
}
