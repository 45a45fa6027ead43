package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"notme/cases"
)

// goodOIDC is a complete single sign-on config.
func goodOIDC(c *Config) {
	o := &c.Auth.OIDC
	o.Issuer, o.Name, o.ClientID, o.ClientSecret = "https://keycloak.example.com/realms/staff", "Example SSO", "notme", "s3cret-value"
	o.Groups.Agent, o.Groups.SecurityTrained = []string{"notme-agents"}, []string{"security-trained"}
}

// TestValidateOIDC: each bad auth.oidc value is named by its key, once,
// and the secret is never repeated.
func TestValidateOIDC(t *testing.T) {
	cfg := Defaults()
	goodOIDC(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(good single sign-on) = %v", err)
	}
	for _, c := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"auth.oidc.issuer", func(c *Config) { c.Auth.OIDC.Issuer = "keycloak.example.com" }},
		{"auth.oidc.issuer", func(c *Config) { c.Auth.OIDC.Issuer = "http://keycloak.example.com/realms/staff" }},
		{"auth.oidc.issuer", func(c *Config) { *c = Defaults(); c.Auth.OIDC.PasswordLogin = "off" }},
		{"auth.oidc.name", func(c *Config) { c.Auth.OIDC.Name = "" }},
		{"auth.oidc.client_id", func(c *Config) { c.Auth.OIDC.ClientID = "" }},
		{"auth.oidc.client_secret", func(c *Config) { c.Auth.OIDC.ClientSecret = "" }},
		{"auth.oidc.scopes", func(c *Config) { c.Auth.OIDC.Scopes = []string{"email"} }},
		{"auth.oidc.groups_claim", func(c *Config) { c.Auth.OIDC.GroupsClaim = " " }},
		{"auth.oidc.groups", func(c *Config) { c.Auth.OIDC.Groups.Agent = nil }},
		{"auth.oidc.password_login", func(c *Config) { c.Auth.OIDC.PasswordLogin = "none" }},
		{"auth.oidc.breakglass_admin", func(c *Config) { c.Auth.OIDC.PasswordLogin = "breakglass" }},
		{"auth.oidc.breakglass_admin", func(c *Config) { c.Auth.OIDC.BreakGlassAdmin = "root@example.com" }},
		{"auth.oidc.session_recheck", func(c *Config) { c.Auth.OIDC.SessionRecheck = 0 }},
		{"http.session_idle", func(c *Config) { c.HTTP.SessionIdle = c.HTTP.SessionTTL + 1 }},
	} {
		cfg := Defaults()
		goodOIDC(&cfg)
		c.mutate(&cfg)
		err := cfg.Validate()
		if err == nil {
			t.Errorf("Validate() with bad %s = nil, want an error", c.key)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], c.key+": ") {
			t.Errorf("Validate() with bad %s = %q, want one error starting %q", c.key, err, c.key+": ")
		}
		if strings.Contains(err.Error(), "s3cret-value") {
			t.Errorf("Validate() = %q, repeats the client secret", err)
		}
	}
}

// TestOIDCConfigFromEnvironment: the client secret comes from the
// environment or a file named there, and the groups become the domain's
// mapping and policy.
func TestOIDCConfigFromEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(file, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	goodOIDC(&cfg)
	cfg.Auth.OIDC.ClientSecret = ""
	cfg.Auth.OIDC.Groups.Lead = []string{"notme-leads", "notme-agents"}
	env := map[string]string{"NOTME_AUTH_OIDC_CLIENT_SECRET_FILE": file, "NOTME_AUTH_OIDC_PASSWORD_LOGIN": "breakglass",
		"NOTME_AUTH_OIDC_BREAKGLASS_ADMIN": "root@example.com"}
	if err := cfg.applyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatalf("applyEnv() = %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if o := cfg.uiOIDC(); o.ClientSecret != "from-a-file" {
		t.Fatalf("uiOIDC() = secret %q, want the file's", o.ClientSecret)
	}
	o := cfg.uiOIDC()
	if role, trained, ok := o.Mapping.Resolve([]string{"notme-agents", "security-trained"}); role != cases.RoleLead || !trained || !ok {
		t.Errorf("Mapping.Resolve() = %s, %t, %t; want a trained lead (a group in two roles gives the higher)", role, trained, ok)
	}
	p := cfg.sessionPolicy()
	if !p.PasswordAllowed("root@example.com") || p.PasswordAllowed("lead@example.com") {
		t.Errorf("sessionPolicy() = %+v, want only the break-glass admin's password", p)
	}
}
