package ui_test

import (
	"testing"

	"notme/app"
	"notme/internal/testop"
)

// provider is the in-process OpenID Provider (internal/testop) the single
// sign-on tests sign in through.
type provider struct {
	*testop.Provider
	users *testop.Users
}

func newProvider(t testing.TB) *provider {
	p := testop.Start(t)
	return &provider{Provider: p, users: p.Users}
}

func (p *provider) register(deskURL string) { p.Register(deskURL) }

// configure points a desk's config at the provider.
func (p *provider) configure(cfg *app.Config) { oidcConfigFor(p.Provider, cfg) }

// oidcConfigFor sets cfg's auth.oidc to sign in through p, with the
// groups the tests use.
func oidcConfigFor(p *testop.Provider, cfg *app.Config) {
	o := &cfg.Auth.OIDC
	o.Issuer, o.Name, o.ClientID, o.ClientSecret = p.Issuer, "Example SSO", p.ClientID, app.Secret(p.Secret)
	o.Groups.Agent, o.Groups.Lead, o.Groups.Admin = []string{"desk-agents"}, []string{"desk-leads"}, []string{"desk-admins"}
	o.Groups.SecurityTrained = []string{"security"}
}
