package cases

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

const goodPassword = "correct horse battery"

func TestAddUser(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	u, err := d.AddUser(ctx, " Agent@Desk.Example.com ", RoleAgent, true, goodPassword)
	if err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	if u.ID == 0 || u.Email != "agent@desk.example.com" || u.Role != RoleAgent || !u.SecurityTrained || u.Disabled {
		t.Errorf("AddUser() = %+v, want a trained agent agent@desk.example.com", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, goodPassword) {
		t.Errorf("AddUser().PasswordHash = %q, want an argon2id hash", u.PasswordHash)
	}
	if !u.CreatedAt.Equal(d.clock.Now()) {
		t.Errorf("AddUser().CreatedAt = %v, want the clock's %v", u.CreatedAt, d.clock.Now())
	}

	tests := []struct {
		email    string
		role     Role
		password string
		code     Code
		mention  string
	}{
		{"not-an-address", RoleAgent, goodPassword, EINVALID, "email"},
		{"", RoleAgent, goodPassword, EINVALID, "email"},
		{"a b@example.com", RoleAgent, goodPassword, EINVALID, "email"},
		{"x@example.com", "boss", goodPassword, EINVALID, "role"},
		{"x@example.com", "", goodPassword, EINVALID, "role"},
		{"x@example.com", RoleLead, "short", EINVALID, "password"},
		{"x@example.com", RoleLead, "elevenchars", EINVALID, "12"},
		{"AGENT@desk.example.com", RoleLead, goodPassword, ECONFLICT, "agent@desk.example.com"},
	}
	for _, tt := range tests {
		_, err := d.AddUser(ctx, tt.email, tt.role, false, tt.password)
		wantCode(t, fmt.Sprintf("AddUser(%q, %q, %q)", tt.email, tt.role, tt.password), err, tt.code, tt.mention)
	}
	// Twelve characters, counted as characters, not bytes.
	if _, err := d.AddUser(ctx, "ja@example.com", RoleAdmin, false, "パスワードはとても長いです"); err != nil {
		t.Errorf("AddUser(12-character Japanese password) = %v", err)
	}
	users, err := d.Users(ctx)
	if err != nil {
		t.Fatalf("Users() = %v", err)
	}
	if len(users) != 2 || users[0].Email != "agent@desk.example.com" || users[1].Email != "ja@example.com" {
		t.Errorf("Users() = %+v, want agent@ and ja@ in that order", users)
	}
}

func TestLogin(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	u, err := d.AddUser(ctx, "lead@desk.example.com", RoleLead, true, goodPassword)
	if err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	off, err := d.AddUser(ctx, "gone@desk.example.com", RoleAgent, true, goodPassword)
	if err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	if err := d.store.w.Model(&User{}).Where("id = ?", off.ID).Update("disabled", true).Error; err != nil {
		t.Fatalf("disable user: %v", err)
	}

	tests := []struct{ name, email, password string }{
		{"wrong password", "lead@desk.example.com", goodPassword + "!"},
		{"empty password", "lead@desk.example.com", ""},
		{"unknown user", "nobody@desk.example.com", goodPassword},
		{"disabled user", "gone@desk.example.com", goodPassword},
	}
	for _, tt := range tests {
		tok, _, err := d.Login(ctx, tt.email, tt.password, time.Hour)
		wantCode(t, "Login("+tt.name+")", err, EUNAUTHORIZED, "wrong email or password")
		if tok != "" {
			t.Errorf("Login(%s) gave a session token", tt.name)
		}
	}
	if n := countRows(t, d.store, "sessions"); n != 0 {
		t.Errorf("%d sessions after failed logins, want 0", n)
	}

	tok, got, err := d.Login(ctx, " LEAD@desk.example.com", goodPassword, time.Hour)
	if err != nil {
		t.Fatalf("Login(right password) = %v", err)
	}
	if got.ID != u.ID || tok == "" {
		t.Errorf("Login() = %q, user %d; want a token for user %d", tok, got.ID, u.ID)
	}
	var stored Session
	if err := d.store.w.Take(&stored).Error; err != nil {
		t.Fatalf("read session: %v", err)
	}
	if strings.Contains(string(stored.TokenHash), tok) || len(stored.TokenHash) != 32 {
		t.Errorf("stored session token_hash %x, want a SHA-256 of the token", stored.TokenHash)
	}

	if who, err := d.UserBySession(ctx, tok); err != nil || who.ID != u.ID {
		t.Errorf("UserBySession(token) = %d, %v; want user %d", who.ID, err, u.ID)
	}
	for _, bad := range []string{"", "x", tok + "x", strings.Repeat("a", 200)} {
		_, err := d.UserBySession(ctx, bad)
		wantCode(t, fmt.Sprintf("UserBySession(%.8q…)", bad), err, EUNAUTHORIZED, "")
	}

	// The session ends with its time.
	d.clock.Advance(59 * time.Minute)
	if _, err := d.UserBySession(ctx, tok); err != nil {
		t.Errorf("UserBySession(after 59m of 1h) = %v, want the user", err)
	}
	d.clock.Advance(time.Minute)
	_, err = d.UserBySession(ctx, tok)
	wantCode(t, "UserBySession(after 1h of 1h)", err, EUNAUTHORIZED, "")

	// The next login sweeps the expired session away.
	tok2, _, err := d.Login(ctx, "lead@desk.example.com", goodPassword, time.Hour)
	if err != nil {
		t.Fatalf("Login(again) = %v", err)
	}
	if n := countRows(t, d.store, "sessions"); n != 1 {
		t.Errorf("%d sessions after a login with one expired, want 1", n)
	}

	// Disabling a user ends their live sessions.
	if err := d.store.w.Model(&User{}).Where("id = ?", u.ID).Update("disabled", true).Error; err != nil {
		t.Fatalf("disable user: %v", err)
	}
	_, err = d.UserBySession(ctx, tok2)
	wantCode(t, "UserBySession(disabled user)", err, EUNAUTHORIZED, "")
}

func TestLogout(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	if _, err := d.AddUser(ctx, "a@desk.example.com", RoleAgent, true, goodPassword); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	tok1, _, err := d.Login(ctx, "a@desk.example.com", goodPassword, time.Hour)
	if err != nil {
		t.Fatalf("Login() = %v", err)
	}
	tok2, _, err := d.Login(ctx, "a@desk.example.com", goodPassword, time.Hour)
	if err != nil {
		t.Fatalf("Login() = %v", err)
	}
	if err := d.Logout(ctx, tok1); err != nil {
		t.Fatalf("Logout() = %v", err)
	}
	_, err = d.UserBySession(ctx, tok1)
	wantCode(t, "UserBySession(after Logout)", err, EUNAUTHORIZED, "")
	if _, err := d.UserBySession(ctx, tok2); err != nil {
		t.Errorf("UserBySession(other session after Logout) = %v, want it kept", err)
	}
	if err := d.Logout(ctx, tok1); err != nil {
		t.Errorf("Logout() twice = %v, want nil", err)
	}
	if err := d.Logout(ctx, "never-was"); err != nil {
		t.Errorf("Logout(unknown) = %v, want nil", err)
	}
}

func TestAPIKeys(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	key, k, err := d.AddAPIKey(ctx, " sender ", []Scope{ScopeMessagesWrite, ScopeMint})
	if err != nil {
		t.Fatalf("AddAPIKey() = %v", err)
	}
	if !strings.HasPrefix(key, "nmk_"+k.Prefix+"_") || len(key) != 4+8+1+32 || key != strings.ToLower(key) {
		t.Errorf("AddAPIKey() key %q prefix %q, want nmk_<8>_<32> in lower case", key, k.Prefix)
	}
	if k.Name != "sender" || k.Scopes != "messages:write mint" {
		t.Errorf("AddAPIKey() = name %q scopes %q, want sender, \"messages:write mint\"", k.Name, k.Scopes)
	}

	got, err := d.APIKeyByKey(ctx, key)
	if err != nil {
		t.Fatalf("APIKeyByKey(key) = %v", err)
	}
	if got.ID != k.ID || !got.HasScope(ScopeMessagesWrite) || !got.HasScope(ScopeMint) ||
		got.HasScope(ScopeCasesRead) || got.HasScope(ScopeReportsWrite) || got.HasScope("messages") {
		t.Errorf("APIKeyByKey(key) = %+v, want key %d with exactly messages:write and mint", got, k.ID)
	}

	other, _, err := d.AddAPIKey(ctx, "reader", []Scope{ScopeCasesRead})
	if err != nil {
		t.Fatalf("AddAPIKey(reader) = %v", err)
	}
	wrongSecret := key[:len(key)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(key, "a")]
	bad := []struct{ name, key string }{
		{"empty", ""},
		{"wrong secret, right prefix", wrongSecret},
		{"other key's prefix with this secret", "nmk_" + other[4:12] + key[12:]},
		{"unknown prefix", "nmk_zzzzzzzz_" + key[13:]},
		{"upper case", strings.ToUpper(key)},
		{"no nmk", "xyz_" + key[4:]},
		{"short prefix", "nmk_abc_" + key[13:]},
		{"too long", key + strings.Repeat("a", 200)},
		{"trailing space", key + " "},
	}
	for _, tt := range bad {
		_, err := d.APIKeyByKey(ctx, tt.key)
		wantCode(t, "APIKeyByKey("+tt.name+")", err, EUNAUTHORIZED, "")
	}

	now := d.clock.Now()
	if err := d.store.w.Model(&APIKey{}).Where("id = ?", k.ID).Update("revoked_at", now).Error; err != nil {
		t.Fatalf("revoke key: %v", err)
	}
	_, err = d.APIKeyByKey(ctx, key)
	wantCode(t, "APIKeyByKey(revoked)", err, EUNAUTHORIZED, "")
	if _, err := d.APIKeyByKey(ctx, other); err != nil {
		t.Errorf("APIKeyByKey(other key after revoking one) = %v", err)
	}

	invalid := []struct {
		name    string
		scopes  []Scope
		mention string
	}{
		{"", []Scope{ScopeMint}, "name"},
		{strings.Repeat("n", 65), []Scope{ScopeMint}, "name"},
		{"bell\a", []Scope{ScopeMint}, "name"},
		{"noscope", nil, "scope"},
		{"badscope", []Scope{ScopeMint, "admin"}, "admin"},
	}
	for _, tt := range invalid {
		_, _, err := d.AddAPIKey(ctx, tt.name, tt.scopes)
		wantCode(t, fmt.Sprintf("AddAPIKey(%q, %v)", tt.name, tt.scopes), err, EINVALID, tt.mention)
	}
	if n := countRows(t, d.store, "api_keys"); n != 2 {
		t.Errorf("%d API keys stored, want 2", n)
	}
	var stored APIKey
	if err := d.store.w.Where("id = ?", k.ID).Take(&stored).Error; err != nil {
		t.Fatalf("read key: %v", err)
	}
	if strings.Contains(string(stored.KeyHash), key[13:]) || len(stored.KeyHash) != 32 {
		t.Errorf("stored key_hash %x, want a SHA-256, not the key", stored.KeyHash)
	}
}
