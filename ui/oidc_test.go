package ui_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/app"
	"notme/cases"
	"notme/internal/testop"
	"notme/ui"
)

// ssoDesk is a desk with single sign-on through a fresh provider.
func ssoDesk(t *testing.T, configure ...func(*app.Config)) (*desk, *provider) {
	t.Helper()
	p := newProvider(t)
	d := newDesk(t, append([]func(*app.Config){p.configure}, configure...)...)
	p.register(d.url)
	return d, p
}

// hop is one answer on the way through the provider, with its URL.
type hop struct {
	response
	url *url.URL
}

// visit makes one request without following redirects and names it.
func (b *browser) visit(t testing.TB, method, target string, form url.Values) hop {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return hop{send(t, b.c, req, method+" "+target), req.URL}
}

var providerLoginIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// ssoSignIn does what a person does: "Sign in with…" on the login page,
// the provider's own login form with their username and password, and
// back to the desk. It returns the desk's last answer.
func (b *browser) ssoSignIn(t testing.TB, p *provider, email, next string) hop {
	t.Helper()
	login := b.get(t, "/login?next="+url.QueryEscape(next))
	login.wantStatus(t, http.StatusOK)
	if !strings.Contains(login.body, `id="sso" href="/login/oidc?next=`) || !strings.Contains(login.body, "Example SSO") {
		t.Fatalf("%s: no link to sign in with Example SSO:\n%s", login.call, clip(login.body))
	}
	r := b.follow(t, b.visit(t, http.MethodGet, b.d.url+"/login/oidc?next="+url.QueryEscape(next), nil))
	if r.url.Host != strings.TrimPrefix(p.Issuer, "http://") || !strings.HasPrefix(r.url.Path, "/login/username") {
		return r // the desk answered without the provider's form
	}
	m := providerLoginIDRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s: no auth request id in the provider's login page:\n%s", r.call, clip(r.body))
	}
	return b.follow(t, b.visit(t, http.MethodPost, p.Issuer+"/login/username",
		url.Values{"id": {m[1]}, "username": {email}, "password": {testop.Password}}))
}

// follow follows redirects across the desk and the provider, as a browser.
func (b *browser) follow(t testing.TB, r hop) hop {
	t.Helper()
	for range 10 {
		if r.status < 300 || r.status > 399 {
			return r
		}
		next, err := r.url.Parse(r.location())
		if err != nil {
			t.Fatalf("%s: Location %q: %v", r.call, r.location(), err)
		}
		r = b.visit(t, http.MethodGet, next.String(), nil)
	}
	t.Fatalf("%s: too many redirects", r.call)
	return r
}

var continueRE = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`)

// signedIn checks that r is the desk's "signed in" page and goes on to
// where it leads, as the browser's refresh does.
func (b *browser) signedIn(t testing.TB, r hop, wantNext string) response {
	t.Helper()
	r.wantStatus(t, http.StatusOK)
	m := continueRE.FindStringSubmatch(r.body)
	if m == nil || m[1] != wantNext {
		t.Fatalf("%s: want the signed-in page moving on to %s, got:\n%s", r.call, wantNext, clip(r.body))
	}
	return b.get(t, m[1])
}

// TestOIDCSignIn signs in through the provider as an agent, a lead and a
// person without the security group; a person in no desk group is
// refused with a calm page.
func TestOIDCSignIn(t *testing.T) {
	d, p := ssoDesk(t)
	p.users.Add("agent@corp.example", true, "desk-agents", "security")
	p.users.Add("lead@corp.example", true, "desk-leads", "security")
	p.users.Add("parcel@corp.example", true, "desk-agents")
	p.users.Add("visitor@corp.example", true, "marketing")
	p.users.Add("unverified@corp.example", false, "desk-agents", "security")

	agent := d.browser(t)
	q := agent.signedIn(t, agent.ssoSignIn(t, p, "agent@corp.example", "/queue"), "/queue")
	q.wantStatus(t, http.StatusOK)
	if !strings.Contains(q.body, "agent@corp.example") {
		t.Errorf("%s as the SSO agent: want the queue, signed in as agent@corp.example:\n%s", q.call, clip(q.body))
	}

	lead := d.browser(t)
	l := lead.signedIn(t, lead.ssoSignIn(t, p, "lead@corp.example", "/leads"), "/leads")
	l.wantStatus(t, http.StatusOK)

	parcel := d.browser(t)
	pq := parcel.signedIn(t, parcel.ssoSignIn(t, p, "parcel@corp.example", "/queue"), "/queue")
	if pq.status != http.StatusForbidden || !strings.Contains(pq.body, "security-trained") {
		t.Errorf("%s as an agent without the security group: want the untrained notice:\n%s", pq.call, clip(pq.body))
	}
	if r := parcel.get(t, "/leads"); r.status != http.StatusForbidden {
		t.Errorf("%s as an agent = %d, want 403", r.call, r.status)
	}

	users, err := d.app.Service.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users {
		got[u.Email] = string(u.Role) + map[bool]string{true: "+trained", false: ""}[u.SecurityTrained]
	}
	want := map[string]string{"agent@corp.example": "agent+trained", "lead@corp.example": "lead+trained", "parcel@corp.example": "agent"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("user %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	for _, tc := range []struct{ email, says string }{
		{"visitor@corp.example", "not in a group that gives access"},
		{"unverified@corp.example", "no verified email address"},
	} {
		b := d.browser(t)
		r := b.ssoSignIn(t, p, tc.email, "/queue")
		r.wantStatus(t, http.StatusForbidden)
		r.wantHTML(t)
		if !strings.Contains(r.body, tc.says) || !strings.Contains(r.body, `href="/login"`) {
			t.Errorf("%s as %s: want a calm page saying %q with the way back:\n%s", r.call, tc.email, tc.says, clip(r.body))
		}
		if q := b.get(t, "/queue"); q.status != http.StatusSeeOther {
			t.Errorf("%s after a refused sign-in = %d, want 303 to the login page", q.call, q.status)
		}
	}
}

// TestOIDCStateAndNonce: a callback whose state is not the one this
// browser started, and an ID token whose nonce is not the one it sent,
// open no session.
func TestOIDCStateAndNonce(t *testing.T) {
	d, p := ssoDesk(t)
	p.users.Add("agent@corp.example", true, "desk-agents", "security")

	// A callback with a made-up state, and one with no flow at all.
	b := d.browser(t)
	b.visit(t, http.MethodGet, d.url+"/login/oidc", nil)
	for _, cb := range []string{"/login/oidc/callback?code=abc&state=forged", "/login/oidc/callback?code=abc&state=forged"} {
		r := b.get(t, cb)
		r.wantStatus(t, http.StatusBadRequest)
		r.wantHTML(t)
		if !strings.Contains(r.body, "start again") {
			t.Errorf("%s: want a calm page asking to start again:\n%s", r.call, clip(r.body))
		}
	}

	// The flow cookie's nonce changed under a real sign-in: the provider's
	// ID token carries the nonce sent, which is no longer the browser's.
	b = d.browser(t)
	start := b.visit(t, http.MethodGet, d.url+"/login/oidc", nil)
	deskURL, _ := url.Parse(d.url)
	var flow *http.Cookie
	for _, ck := range b.c.Jar.Cookies(deskURL) {
		if strings.HasSuffix(ck.Name, "notme_oidc") {
			flow = ck
		}
	}
	if flow == nil {
		t.Fatalf("%s set no flow cookie", start.call)
	}
	parts := strings.Split(flow.Value, ".")
	parts[1] = "not-the-nonce-sent"
	b.c.Jar.SetCookies(deskURL, []*http.Cookie{{Name: flow.Name, Value: strings.Join(parts, "."), Path: "/", Secure: true}})
	r := b.follow(t, start)
	m := providerLoginIDRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s: no provider login page:\n%s", r.call, clip(r.body))
	}
	r = b.follow(t, b.visit(t, http.MethodPost, p.Issuer+"/login/username",
		url.Values{"id": {m[1]}, "username": {"agent@corp.example"}, "password": {testop.Password}}))
	r.wantStatus(t, http.StatusBadGateway)
	r.wantHTML(t)
	if q := b.get(t, "/queue"); q.status != http.StatusSeeOther {
		t.Errorf("%s after a token with the wrong nonce = %d, want 303 to the login page", q.call, q.status)
	}
}

// TestOIDCGroupRemoval: a person taken out of the security group at the
// provider loses security cases at their next sign-in, which also ends
// their other sessions, and an open session of theirs ends within
// auth.oidc.session_recheck.
func TestOIDCGroupRemoval(t *testing.T) {
	d, p := ssoDesk(t)
	p.users.Add("agent@corp.example", true, "desk-agents", "security")
	const queue = "/queue"

	open := d.browser(t)
	open.signedIn(t, open.ssoSignIn(t, p, "agent@corp.example", queue), queue).wantStatus(t, http.StatusOK)

	// Within the bound: the session ends once its groups are older than
	// session_recheck (here moved back rather than waited for), and the
	// next sign-in through the provider brings the new groups.
	p.users.SetGroups("agent@corp.example", "desk-agents")
	d.exec(t, `UPDATE sessions SET confirmed_at = ?`, time.Now().Add(-d.cfg.Auth.OIDC.SessionRecheck.D()-time.Second).UTC())
	if r := open.get(t, queue); r.status != http.StatusSeeOther || !strings.Contains(r.location(), "expired=1") {
		t.Fatalf("%s after session_recheck = %d %s, want 303 to the login page", r.call, r.status, r.location())
	}
	c := open.signedIn(t, open.ssoSignIn(t, p, "agent@corp.example", queue), queue)
	if c.status != http.StatusForbidden {
		t.Errorf("%s after the security group was removed = %d, want 403", c.call, c.status)
	}

	// At the next sign-in: the group back, one browser in; removed again,
	// a sign-in elsewhere ends that browser's session at once.
	p.users.SetGroups("agent@corp.example", "desk-agents", "security")
	first := d.browser(t)
	first.signedIn(t, first.ssoSignIn(t, p, "agent@corp.example", queue), queue).wantStatus(t, http.StatusOK)
	p.users.SetGroups("agent@corp.example", "desk-agents")
	second := d.browser(t)
	second.signedIn(t, second.ssoSignIn(t, p, "agent@corp.example", "/queue"), "/queue")
	if r := first.get(t, queue); r.status != http.StatusSeeOther {
		t.Errorf("%s in the older browser after the group was removed = %d, want 303 to the login page", r.call, r.status)
	}

	audit, err := d.app.Service.AuditLog(context.Background(), cases.Actor{User: &cases.User{Role: cases.RoleAdmin}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		if e.Actor == cases.ActorSSO {
			actions = append(actions, e.Action)
		}
	}
	if strings.Count(strings.Join(actions, " "), cases.AuditRevokeTrained) != 2 || !strings.Contains(strings.Join(actions, " "), cases.AuditSessionsEnded) {
		t.Errorf("audit entries by the provider = %q, want two %s and a %s", actions, cases.AuditRevokeTrained, cases.AuditSessionsEnded)
	}
}

// TestPasswordLoginBreakGlass: with password_login breakglass, the login
// page offers the provider first and the password form only as the
// emergency way in, which only the break-glass admin gets through.
func TestPasswordLoginBreakGlass(t *testing.T) {
	d, _ := ssoDesk(t, func(c *app.Config) {
		c.Auth.OIDC.PasswordLogin, c.Auth.OIDC.BreakGlassAdmin = "breakglass", "root@desk.example"
	})
	d.addUser(t, "root@desk.example", cases.RoleAdmin, false)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	page := d.browser(t).get(t, "/login")
	sso, form := strings.Index(page.body, "Sign in with Example SSO"), strings.Index(page.body, `action="/login"`)
	if sso < 0 || form < 0 || sso > form || !strings.Contains(page.body, "Emergency sign-in") {
		t.Fatalf("%s: want the provider first, then the emergency password form:\n%s", page.call, clip(page.body))
	}
	r := d.browser(t).submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {staffPassword}})
	r.wantStatus(t, http.StatusForbidden)
	if !strings.Contains(r.body, "Password sign-in is turned off") {
		t.Errorf("%s as a lead: want the password-off words:\n%s", r.call, clip(r.body))
	}
	d.login(t, "root@desk.example")

	off, _ := ssoDesk(t, func(c *app.Config) { c.Auth.OIDC.PasswordLogin = "off" })
	off.addUser(t, "root@desk.example", cases.RoleAdmin, false)
	page = off.browser(t).get(t, "/login")
	if strings.Contains(page.body, `action="/login"`) {
		t.Errorf("%s with password_login off shows the password form:\n%s", page.call, clip(page.body))
	}
	b := off.browser(t)
	b.get(t, "/login")
	r = b.post(t, "/login", url.Values{"_csrf": {b.csrf(t, "/report")}, "email": {"root@desk.example"}, "password": {staffPassword}})
	r.wantStatus(t, http.StatusForbidden)
}

// TestAccountSessions: a person sees their sessions and ends one; an
// admin ends all of someone's.
func TestAccountSessions(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "admin@desk.example", cases.RoleAdmin, false)
	laptop, phone := d.login(t, "agent@desk.example"), d.login(t, "agent@desk.example")
	page := phone.get(t, "/account/sessions")
	page.wantStatus(t, http.StatusOK)
	ends := regexp.MustCompile(`action="/account/sessions/(\d+)/end"`).FindAllStringSubmatch(page.body, -1)
	if len(ends) != 2 || strings.Count(page.body, "this browser") != 1 {
		t.Fatalf("%s: want two sessions, one marked as this browser:\n%s", page.call, clip(page.body))
	}
	// The list is newest first: the phone's own, then the laptop's.
	r := phone.post(t, "/account/sessions/"+ends[1][1]+"/end", url.Values{"_csrf": {phone.csrf(t, "/account/sessions")}})
	if r.status != http.StatusSeeOther || r.location() != "/account/sessions" {
		t.Fatalf("%s = %d %s, want 303 back to the list", r.call, r.status, r.location())
	}
	if q := laptop.get(t, "/queue"); q.status != http.StatusSeeOther {
		t.Errorf("%s in the ended session = %d, want 303 to the login page", q.call, q.status)
	}
	if q := phone.get(t, "/queue"); q.status != http.StatusOK {
		t.Errorf("%s in the session kept = %d, want 200", q.call, q.status)
	}

	admin := d.login(t, "admin@desk.example")
	users, _ := d.app.Service.Users(context.Background())
	var id int64
	for _, u := range users {
		if u.Email == "agent@desk.example" {
			id = u.ID
		}
	}
	r = admin.post(t, "/admin/users/"+strconv.FormatInt(id, 10)+"/sessions/end", url.Values{"_csrf": {admin.csrf(t, "/admin")}})
	r.wantStatus(t, http.StatusSeeOther)
	if q := phone.get(t, "/queue"); q.status != http.StatusSeeOther {
		t.Errorf("%s after an admin ended the sessions = %d, want 303 to the login page", q.call, q.status)
	}
	// Without the form token, nothing ends.
	again := d.login(t, "agent@desk.example")
	r = admin.post(t, "/admin/users/"+strconv.FormatInt(id, 10)+"/disabled", url.Values{"disabled": {"true"}})
	r.wantStatus(t, http.StatusForbidden)
	r = admin.post(t, "/admin/users/"+strconv.FormatInt(id, 10)+"/disabled", url.Values{"_csrf": {admin.csrf(t, "/admin")}, "disabled": {"true"}})
	r.wantStatus(t, http.StatusSeeOther)
	if q := again.get(t, "/queue"); q.status != http.StatusSeeOther {
		t.Errorf("%s after the person was disabled = %d, want 303 to the login page", q.call, q.status)
	}
}

// syncBuffer is a log destination tests read while the desk writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOIDCMisconfiguredProvider: an unreachable provider, an issuer that
// is not the provider's own, and a provider that sends no groups give the
// person a calm page in their language and the admin the reason in the
// log, which holds no secret.
func TestOIDCMisconfiguredProvider(t *testing.T) {
	p := newProvider(t)
	p.users.Add("agent@corp.example", true, "desk-agents", "security")
	for _, tc := range []struct {
		name      string
		configure func(*app.Config)
		lang      string
		status    int
		says      string
		reason    string
	}{
		{"unreachable", func(c *app.Config) { c.Auth.OIDC.Issuer = "http://127.0.0.1:1" }, "en", http.StatusBadGateway,
			"cannot be reached", "reason=discovery"},
		{"wrong issuer", func(c *app.Config) { c.Auth.OIDC.Issuer = p.Issuer + "/" }, "ja", http.StatusBadGateway,
			"サインインサービスでサインインが完了しませんでした", "reason=issuer_mismatch"},
		{"no groups claim", func(c *app.Config) { c.Auth.OIDC.GroupsClaim = "roles" }, "en", http.StatusForbidden,
			"did not tell the desk your groups", "reason=groups_claim_missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &syncBuffer{}
			d := newDeskWith(t, []app.Option{func(o *ui.Options) { o.Logger = slog.New(slog.NewTextHandler(log, nil)) }},
				p.configure, tc.configure)
			p.register(d.url)
			b := d.browser(t)
			b.get(t, "/login?lang="+tc.lang)
			r := b.ssoSignIn(t, p, "agent@corp.example", "/queue")
			r.wantStatus(t, tc.status)
			r.wantHTML(t)
			if !strings.Contains(r.body, tc.says) || !strings.Contains(r.body, `href="/login"`) {
				t.Errorf("%s: want a calm page saying %q with the way back:\n%s", r.call, tc.says, clip(r.body))
			}
			logged := log.String()
			if !strings.Contains(logged, tc.reason) {
				t.Errorf("log lacks %s:\n%s", tc.reason, logged)
			}
			if strings.Contains(logged, p.Secret) || strings.Contains(logged, "code=") {
				t.Errorf("log holds the client secret or a code:\n%s", logged)
			}
		})
	}
}

// TestOIDCSignInCostsOneAttempt: a sign-in through the provider passes
// two rate-limited legs (the start and the callback), each counted on its
// own, so that the people of one office behind one address get as many
// single sign-ons as password sign-ins: the burst, then 429.
func TestOIDCSignInCostsOneAttempt(t *testing.T) {
	const burst = 3
	d, p := ssoDesk(t, func(c *app.Config) { c.HTTP.LoginRate = app.RateConfig{PerMinute: 0.001, Burst: burst} })
	for i := range burst {
		email := fmt.Sprintf("agent%d@corp.example", i)
		p.users.Add(email, true, "desk-agents", "security")
		b := d.browser(t)
		b.signedIn(t, b.ssoSignIn(t, p, email, "/queue"), "/queue").wantStatus(t, http.StatusOK)
	}
	if r := d.browser(t).visit(t, http.MethodGet, d.url+"/login/oidc?next=%2Fqueue", nil); r.status != http.StatusTooManyRequests {
		t.Errorf("%s after %d sign-ins from one address = %d, want 429", r.call, burst, r.status)
	}
}
