package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
)

// desk is one running notme: the real app on a fresh SQLite file (or a
// fresh PostgreSQL database with NOTME_TEST_POSTGRES set), served
// over TLS by httptest so that Secure cookies travel like in a browser.
type desk struct {
	app *app.App
	srv *httptest.Server
	url string // the public URL, which is the test server's
	cfg app.Config
}

// staffPassword is every test user's password: long enough for AddUser.
const staffPassword = "correct horse battery staple"

// newDesk opens a desk in t.TempDir(). Rate limits default to "never" so
// that tests may post freely; configure changes the config before Open.
func newDesk(t testing.TB, configure ...func(*app.Config)) *desk {
	t.Helper()
	return newDeskWith(t, nil, configure...)
}

// newDeskWith is newDesk with options for the web server, such as a
// hook that holds a render.
func newDeskWith(t testing.TB, opts []app.Option, configure ...func(*app.Config)) *desk {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	publicURL := "https://" + srv.Listener.Addr().String()

	cfg := app.Defaults()
	cfg.DataDir = t.TempDir()
	if testdb.Postgres() {
		cfg.Database.URL = app.Secret(testdb.NewPostgres(t))
	}
	cfg.HTTP.PublicURL = publicURL
	cfg.HTTP.ReportRate = app.RateConfig{PerMinute: 1e6, Burst: 1e6}
	cfg.HTTP.LoginRate = app.RateConfig{PerMinute: 1e6, Burst: 1e6}
	cfg.Auth.SecondFactorRoles = nil // the second factor's tests turn it on
	for _, f := range configure {
		f(&cfg)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		srv.Close()
		t.Fatalf("app.Open() = %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("App.Close() = %v", err)
		}
	})
	srv.Config.Handler = a.Server
	srv.StartTLS()
	t.Cleanup(srv.Close) // runs before a.Close: cleanups are last in, first out
	if srv.URL != publicURL {
		t.Fatalf("test server URL = %s, want %s", srv.URL, publicURL)
	}
	return &desk{app: a, srv: srv, url: publicURL, cfg: cfg}
}

// addUser adds a staff member with staffPassword.
func (d *desk) addUser(t testing.TB, email string, role cases.Role, trained bool) {
	t.Helper()
	if _, err := d.app.Service.AddUser(context.Background(), email, role, trained, staffPassword); err != nil {
		t.Fatalf("AddUser(%s, %s, %v) = %v", email, role, trained, err)
	}
}

// addKey returns a new API key with the given scopes.
func (d *desk) addKey(t *testing.T, scopes ...cases.Scope) string {
	t.Helper()
	key, _, err := d.app.Service.AddAPIKey(context.Background(), "test-"+randomString(6), scopes)
	if err != nil {
		t.Fatalf("AddAPIKey(%v) = %v", scopes, err)
	}
	return key
}

// readKey is a key that may read every case, for counting them.
func (d *desk) readKey(t *testing.T) string { return d.addKey(t, cases.ScopeCasesRead) }

// mint seals a token for an account mail and returns it.
func (d *desk) mint(t *testing.T, account, kind string) cases.Minted {
	t.Helper()
	m, err := d.app.Service.Mint(account, kind, "")
	if err != nil {
		t.Fatalf("Mint(%s, %s) = %v", account, kind, err)
	}
	return m
}

// register puts a message in the ledger and returns the token of its link.
func (d *desk) register(t *testing.T, m cases.LedgerMessage) (token string) {
	t.Helper()
	reg, _, err := d.app.Service.RegisterMessage(context.Background(), m)
	if err != nil {
		t.Fatalf("RegisterMessage(%s) = %v", m.MessageID, err)
	}
	tok, ok := strings.CutPrefix(reg.URL, d.url+"/r/")
	if !ok {
		t.Fatalf("RegisterMessage(%s).URL = %q, want a link under %s/r/", m.MessageID, reg.URL, d.url)
	}
	return tok
}

// response is an answer read to its end.
type response struct {
	status int
	header http.Header
	body   string
	call   string // "GET /path", for failure messages
}

func (r response) location() string { return r.header.Get("Location") }

// jsonBody decodes the body into v.
func (r response) jsonBody(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type = %q, want application/json; body %s", r.call, ct, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%s: body %q is not the expected JSON: %v", r.call, r.body, err)
	}
}

// wantStatus fails the test unless the answer has status want.
func (r response) wantStatus(t testing.TB, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s = %d, want %d; body:\n%s", r.call, r.status, want, clip(r.body))
	}
}

// wantHTML fails the test unless the answer is an HTML page.
func (r response) wantHTML(t *testing.T) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(r.body, "<!doctype html>") {
		t.Fatalf("%s: Content-Type %q, want an HTML page; body:\n%s", r.call, ct, clip(r.body))
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// browser is a client with its own cookie jar that does not follow
// redirects, so tests see each 303 and its Location.
type browser struct {
	d *desk
	c *http.Client
}

func (d *desk) browser(t testing.TB) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *d.srv.Client() // a copy: Client() returns one shared client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{d: d, c: &c}
}

func (b *browser) do(t testing.TB, req *http.Request) response {
	t.Helper()
	return send(t, b.c, req, req.Method+" "+req.URL.RequestURI())
}

// send makes one request with c and reads the whole answer; call names it
// in failures.
func send(t testing.TB, c *http.Client, req *http.Request, call string) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", call, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body), call: call}
}

// get fetches path; header pairs are optional "Name", "value".
func (b *browser) get(t testing.TB, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.d.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	setHeaders(req, header)
	return b.do(t, req)
}

// post sends a form to path as is: add the _csrf field yourself, or use
// submit.
func (b *browser) post(t testing.TB, path string, form url.Values, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.d.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setHeaders(req, header)
	return b.do(t, req)
}

func setHeaders(req *http.Request, header []string) {
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
}

var csrfFieldRE = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// csrf GETs page and returns the _csrf hidden field of its form; the jar
// keeps the matching cookie.
func (b *browser) csrf(t testing.TB, page string) string {
	t.Helper()
	r := b.get(t, page)
	r.wantStatus(t, http.StatusOK)
	m := csrfFieldRE.FindStringSubmatch(r.body)
	if m == nil || m[1] == "" {
		t.Fatalf("GET %s: no _csrf field in the page:\n%s", page, clip(r.body))
	}
	return m[1]
}

// submit does what a person does: opens the page at path, then sends its
// form with the CSRF token it carried.
func (b *browser) submit(t testing.TB, path string, form url.Values) response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf(t, path))
	return b.post(t, path, form)
}

var statusPathRE = regexp.MustCompile(`^/s/([A-Za-z0-9_-]+)\?filed=1$`)

// report files a "not me" report on the link with token and returns the
// case reference and the status page's path, failing unless the desk
// answered with the redirect to a status page.
func (b *browser) report(t *testing.T, token string, form url.Values) (ref, statusPath string) {
	t.Helper()
	r := b.submit(t, "/r/"+token, form)
	r.wantStatus(t, http.StatusSeeOther)
	if !statusPathRE.MatchString(r.location()) {
		t.Fatalf("%s: Location = %q, want /s/{token}?filed=1", r.call, r.location())
	}
	page := b.get(t, r.location())
	page.wantStatus(t, http.StatusOK)
	ref = caseRefRE.FindString(page.body)
	if ref == "" {
		t.Fatalf("GET %s: no case reference NM-XXXX-XXXX on the status page:\n%s", r.location(), clip(page.body))
	}
	return ref, r.location()
}

// caseRefRE is a case reference: NM- and two groups of four characters of
// Crockford's base 32.
var caseRefRE = regexp.MustCompile(`NM-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}`)

// login logs a staff member in and returns their browser.
func (d *desk) login(t testing.TB, email string) *browser {
	t.Helper()
	b := d.browser(t)
	r := b.submit(t, "/login", url.Values{"email": {email}, "password": {staffPassword}})
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() != "/queue" {
		t.Fatalf("%s as %s: Location = %q, want /queue", r.call, email, r.location())
	}
	return b
}

// api calls the JSON API with key ("" for none) and an optional body.
func (d *desk) api(t *testing.T, method, path, key string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, d.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	b := &browser{d: d, c: d.srv.Client()}
	return b.do(t, req)
}

// jsonOf marshals v for a request body.
func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiCase is a case as GET /api/v1/cases answers it.
type apiCase struct {
	Ref        string `json:"ref"`
	AccountRef string `json:"account_ref"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Severity   string `json:"severity"`
	Tier       string `json:"tier"`
	Match      string `json:"match"`
	Escalated  bool   `json:"escalated"`
	Reports    []struct {
		Channel    string `json:"channel"`
		MatchedBy  string `json:"matched_by"`
		Match      string `json:"match"`
		ReceivedAt string `json:"received_at"`
	} `json:"reports"`
	CreatedAt string `json:"created_at"`
	ContainBy string `json:"contain_by"`
}

// cases lists cases through the API; query is a raw query string.
func (d *desk) cases(t *testing.T, key, query string) []apiCase {
	t.Helper()
	r := d.api(t, http.MethodGet, "/api/v1/cases?"+query, key, nil)
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Cases []apiCase `json:"cases"`
	}
	r.jsonBody(t, &out)
	return out.Cases
}

// allCases lists the cases of every status.
func (d *desk) allCases(t *testing.T, key string) []apiCase {
	t.Helper()
	return d.cases(t, key, "status=new,contained,resolved,dismissed&limit=1000")
}

// caseByRef returns the case with ref through the API.
func (d *desk) caseByRef(t *testing.T, key, ref string) apiCase {
	t.Helper()
	r := d.api(t, http.MethodGet, "/api/v1/cases/"+ref, key, nil)
	r.wantStatus(t, http.StatusOK)
	var c apiCase
	r.jsonBody(t, &c)
	return c
}

// randomString returns n characters of base64url.
func randomString(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// exec runs one statement on the desk's own database, SQLite or
// PostgreSQL, with `?` placeholders, and returns the rows it changed: for
// tests that must put the store in a state no route can (an expired
// session, a lost table).
func (d *desk) exec(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	driver, dsn := "sqlite3", "file:"+filepath.Join(d.cfg.DataDir, "notme.db")
	if testdb.Postgres() {
		driver, dsn, query = "pgx", string(d.cfg.Database.URL), dollarPlaceholders(query)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%s) = %v", driver, err)
	}
	defer db.Close()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	n, _ := res.RowsAffected()
	return n
}

// dollarPlaceholders numbers the `?` placeholders of q as PostgreSQL's
// $1, $2, … (q holds no literal question mark).
func dollarPlaceholders(q string) string {
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
	}
	return q
}

var dataLabelRE = regexp.MustCompile(` data-label="[^"]*"`)

// cells is a page without its tables' data-label attributes (the phone
// layout's column names), so a test can look for a row's plain cells.
func cells(body string) string { return dataLabelRE.ReplaceAllString(body, "") }
