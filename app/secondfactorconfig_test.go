package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"notme/cases"
)

// TestSecondFactorRolesConfig: leads and admins by default; a file's []
// requires it of nobody; an unknown role is named by its key.
func TestSecondFactorRolesConfig(t *testing.T) {
	if p := Defaults().sessionPolicy(); !slices.Equal(p.SecondFactorRoles, []cases.Role{cases.RoleLead, cases.RoleAdmin}) {
		t.Errorf("Defaults().sessionPolicy().SecondFactorRoles = %v, want [lead admin]", p.SecondFactorRoles)
	}
	noEnv := func(string) (string, bool) { return "", false }
	for _, c := range []struct {
		yaml string
		want []cases.Role
	}{
		{"auth:\n  second_factor_roles: []\n", nil},
		{"auth:\n  second_factor_roles: [agent, lead, admin]\n", []cases.Role{cases.RoleAgent, cases.RoleLead, cases.RoleAdmin}},
	} {
		path := filepath.Join(t.TempDir(), "notme.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, noEnv)
		if err != nil {
			t.Fatalf("Load(%q) = %v", c.yaml, err)
		}
		if got := cfg.sessionPolicy().SecondFactorRoles; !slices.Equal(got, c.want) {
			t.Errorf("Load(%q): SecondFactorRoles = %v, want %v", c.yaml, got, c.want)
		}
	}
	cfg := Defaults()
	cfg.Auth.SecondFactorRoles = []string{"lead", "boss"}
	if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "auth.second_factor_roles: ") || !strings.Contains(err.Error(), `"boss"`) {
		t.Errorf("Validate() with role boss = %v, want an auth.second_factor_roles error naming it", err)
	}
}
