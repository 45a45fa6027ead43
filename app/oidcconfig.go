package app

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"notme/cases"
	"notme/ui"
)

// validateOIDC checks auth.oidc: off (no issuer) it must not half-exist;
// on, it needs a client, a secret, a name to show, and groups that give
// someone a role, and password sign-in may be turned off only with a
// way back in (docs/sign-in.md).
func (c *Config) validateOIDC(v *validator) {
	o := c.Auth.OIDC
	if !slices.Contains([]string{"all", "breakglass", "off"}, o.PasswordLogin) {
		v.add("auth.oidc.password_login", "must be all, breakglass or off")
	}
	if o.SessionRecheck < Duration(time.Minute) || o.SessionRecheck > Duration(24*time.Hour) {
		v.add("auth.oidc.session_recheck", "must be from 1m to 24h")
	}
	if !o.Enabled() {
		if o.ClientID != "" || o.PasswordLogin != "all" {
			v.add("auth.oidc.issuer", "is required when auth.oidc is configured (client_id or password_login set)")
		}
		return
	}
	u, err := url.Parse(o.Issuer)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		v.add("auth.oidc.issuer", fmt.Sprintf("%q is not a URL like https://login.example.com/realms/staff", o.Issuer))
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())):
		v.add("auth.oidc.issuer", "must be https (http only for a provider on loopback)")
	}
	if strings.TrimSpace(o.Name) == "" || len(o.Name) > 60 || strings.ContainsAny(o.Name, "\r\n") {
		v.add("auth.oidc.name", "must name the provider as staff know it, one line of at most 60 bytes (\"Sign in with <name>\")")
	}
	if o.ClientID == "" {
		v.add("auth.oidc.client_id", "is required")
	}
	if o.ClientSecret == "" {
		v.add("auth.oidc.client_secret", "is required: NOTME_AUTH_OIDC_CLIENT_SECRET_FILE (a file holding it) or NOTME_AUTH_OIDC_CLIENT_SECRET")
	}
	if !slices.Contains(o.Scopes, "openid") {
		v.add("auth.oidc.scopes", "must include openid")
	}
	if strings.TrimSpace(o.GroupsClaim) == "" {
		v.add("auth.oidc.groups_claim", "must name the claim that carries the groups, like groups")
	}
	if len(o.Groups.Agent)+len(o.Groups.Lead)+len(o.Groups.Admin) == 0 {
		v.add("auth.oidc.groups", "no group gives a role: list at least one under agent, lead or admin, or nobody can sign in")
	}
	for _, g := range append(append(append(append([]string{}, o.Groups.Agent...), o.Groups.Lead...), o.Groups.Admin...), o.Groups.SecurityTrained...) {
		if strings.TrimSpace(g) == "" {
			v.add("auth.oidc.groups", "a group name is empty")
			break
		}
	}
	if o.PasswordLogin == "breakglass" && !plainAddress(o.BreakGlassAdmin) {
		v.add("auth.oidc.breakglass_admin", "must be the email address of the admin who may still sign in with a password")
	}
	if o.PasswordLogin != "breakglass" && o.BreakGlassAdmin != "" {
		v.add("auth.oidc.breakglass_admin", "is used only with password_login: breakglass")
	}
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

// sessionPolicy is how the domain bounds sessions and password sign-in.
func (c Config) sessionPolicy() cases.SessionPolicy {
	o := c.Auth.OIDC
	p := cases.SessionPolicy{Idle: c.HTTP.SessionIdle.D(), SSORecheck: o.SessionRecheck.D(), PasskeysOff: !c.Auth.Passkeys}
	if o.Enabled() {
		p.PasswordLogin, p.BreakGlass = cases.PasswordLogin(o.PasswordLogin), o.BreakGlassAdmin
	}
	for _, r := range c.Auth.SecondFactorRoles {
		p.SecondFactorRoles = append(p.SecondFactorRoles, cases.Role(r))
	}
	return p
}

// uiOIDC is the web server's single sign-on, for a config where it is
// Enabled.
func (c Config) uiOIDC() ui.OIDC {
	o := c.Auth.OIDC
	return ui.OIDC{Name: o.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(),
		Scopes: o.Scopes, GroupsClaim: o.GroupsClaim, Mapping: o.Mapping()}
}
