// Package testop runs a real OpenID Provider in a test's process for the
// desk's single sign-on tests: zitadel/oidc's op package (OpenID
// certified) with its example storage and its own login page. The example
// storage has no groups claim; Users adds one, as a provider's directory
// would. It is the provider's storage, not a stand-in for any part of the
// desk. Only tests import it.
package testop

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
)

// Password is every provider user's password.
const Password = "provider-password-1"

// Provider is a running OpenID Provider on loopback.
type Provider struct {
	Issuer   string
	ClientID string
	Secret   string
	Users    *Users
	clients  map[string]*storage.Client
}

// Start starts a provider on loopback, closed when the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	p := &Provider{Issuer: "http://" + srv.Listener.Addr().String(), ClientID: "notme-desk", Secret: "client-secret-of-" + t.Name(),
		Users: &Users{users: map[string]*storage.User{}, groups: map[string][]string{}}, clients: map[string]*storage.Client{}}
	st := groupStorage{Storage: storage.NewStorageWithClients(p.Users, p.clients), users: p.Users}
	srv.Config.Handler = exampleop.SetupServer(p.Issuer, st, nil, false)
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Register registers the desk at deskURL as the provider's client, with
// the redirect URI the desk's docs tell an admin to register. Call it
// before the first sign-in.
func (p *Provider) Register(deskURL string) {
	p.clients[p.ClientID] = storage.WebClient(p.ClientID, p.Secret, deskURL+"/login/oidc/callback")
}

// LoginPath is where the provider's own login form is.
const LoginPath = "/login/username"

// Users is the provider's directory: people and their groups, which a
// test changes as an IT team would.
type Users struct {
	mu     sync.Mutex
	users  map[string]*storage.User
	groups map[string][]string
}

// Add puts a person in the directory; their username is their address.
func (u *Users) Add(email string, verified bool, groups ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := "sub-" + email
	u.users[id] = &storage.User{ID: id, Username: email, Password: Password, FirstName: "Test", LastName: "Person",
		Email: email, EmailVerified: verified, PreferredLanguage: language.English}
	u.groups[id] = groups
}

// SetGroups replaces a person's groups.
func (u *Users) SetGroups(email string, groups ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.groups["sub-"+email] = groups
}

func (u *Users) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.users[id]
}

func (u *Users) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *Users) ExampleClientID() string { return "service" }

func (u *Users) groupsOf(id string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.groups[id])
}

// groupStorage is the example storage with a groups claim in the ID token
// and at userinfo.
type groupStorage struct {
	*storage.Storage
	users *Users
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
