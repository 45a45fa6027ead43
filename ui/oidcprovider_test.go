package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"notme/app"
)

// provider is a real OpenID Provider in the test's process: zitadel/oidc's
// op package (OpenID certified) with its example storage and login page.
// The example storage has no groups claim; providerUsers adds one, as a
// provider's directory would. It is the provider's storage, not a stand-in
// for any part of the desk.
type provider struct {
	srv      *httptest.Server
	issuer   string
	users    *providerUsers
	clients  map[string]*storage.Client
	clientID string
	secret   string
}

// providerPassword is every provider user's password.
const providerPassword = "provider-password-1"

// providerUsers is the provider's directory: users and their groups, which
// a test changes as an IT team would.
type providerUsers struct {
	mu     sync.Mutex
	users  map[string]*storage.User
	groups map[string][]string
}

func (u *providerUsers) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.users[id]
}

func (u *providerUsers) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *providerUsers) ExampleClientID() string { return "service" }

func (u *providerUsers) groupsOf(id string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.groups[id])
}

// add puts a person in the directory; their username is their address.
func (u *providerUsers) add(email string, verified bool, groups ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := "sub-" + email
	u.users[id] = &storage.User{ID: id, Username: email, Password: providerPassword, FirstName: "Test", LastName: "Person",
		Email: email, EmailVerified: verified, PreferredLanguage: language.English}
	u.groups[id] = groups
}

// setGroups replaces a person's groups.
func (u *providerUsers) setGroups(email string, groups ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.groups["sub-"+email] = groups
}

// groupStorage is the example storage with a groups claim in the ID token
// and at userinfo.
type groupStorage struct {
	*storage.Storage
	users *providerUsers
}

func (s groupStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	if gs := s.users.groupsOf(req.GetSubject()); gs != nil {
		info.AppendClaims("groups", gs)
	}
	return nil
}

func (s groupStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if gs := s.users.groupsOf(info.Subject); gs != nil {
		info.AppendClaims("groups", gs)
	}
	return nil
}

// newProvider starts a provider on loopback.
func newProvider(t testing.TB) *provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	p := &provider{srv: srv, issuer: "http://" + srv.Listener.Addr().String(), clientID: "notme-desk", secret: "client-secret-" + t.Name(),
		users: &providerUsers{users: map[string]*storage.User{}, groups: map[string][]string{}}, clients: map[string]*storage.Client{}}
	st := groupStorage{Storage: storage.NewStorageWithClients(p.users, p.clients), users: p.users}
	srv.Config.Handler = exampleop.SetupServer(p.issuer, st, nil, false)
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// register registers the desk at deskURL as the provider's client, with
// the redirect URI the desk's docs tell an admin to register.
func (p *provider) register(deskURL string) {
	p.clients[p.clientID] = storage.WebClient(p.clientID, p.secret, deskURL+"/login/oidc/callback")
}

// configure points a desk's config at the provider.
func (p *provider) configure(cfg *app.Config) {
	o := &cfg.Auth.OIDC
	o.Issuer, o.Name, o.ClientID, o.ClientSecret = p.issuer, "Example SSO", p.clientID, app.Secret(p.secret)
	o.Groups.Agent, o.Groups.Lead, o.Groups.Admin = []string{"desk-agents"}, []string{"desk-leads"}, []string{"desk-admins"}
	o.Groups.SecurityTrained = []string{"security"}
}
