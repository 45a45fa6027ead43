package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"notme/cases"
)

// The disk fills while reporters file (SQLite's max_page_count on the
// writer's one connection answers SQLITE_FULL exactly as a full disk
// does; on PostgreSQL the database turns read-only, SQLSTATE 25006, as a
// standby's does). Every reporter whose report could not be saved is told so with a
// 503 and Retry-After, in their language, and nothing of it is stored;
// the API and the ledger batch answer 503 the same way; a signed-in staff
// member gets a calm 503; /readyz fails and names the cause. Once space
// is back, the same form files the report and /readyz is ready again.
func TestDiskFullReporterIsToldNotSaved(t *testing.T) {
	ctx := context.Background()
	var handler http.Handler
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer web.Close()
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.PublicURL = web.URL
	cfg.HTTP.InsecureCookies = true
	cfg.HTTP.ReportRate.PerMinute, cfg.HTTP.ReportRate.Burst = 100000, 100000
	a, err := Open(ctx, cfg, discardLogger())
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer a.Close()
	handler = a.Server
	ops := httptest.NewServer(a.Server.Ops())
	defer ops.Close()

	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	// A reporter's browser, and a member of staff's.
	reporter, staff := browser(), browser()
	client := reporter
	do := func(req *http.Request) (*http.Response, string) {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	get := func(u string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return do(req)
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, web.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(req)
	}
	hidden := func(page, name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s field in the page", name)
		}
		return m[1]
	}
	// linkForm is what a reporter's browser sends from /r/{token}.
	linkForm := func(token string) url.Values {
		t.Helper()
		resp, page := get(web.URL + "/r/" + token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /r/{token} = %d", resp.StatusCode)
		}
		return url.Values{"_csrf": {hidden(page, "_csrf")}, "lang": {"en"}, "submission": {hidden(page, "submission")},
			"never_signed_up": {"1"}, "note": {strings.Repeat("Not my account. ", 30)}}
	}
	mint := func(i int) string {
		m, err := a.Service.Mint(fmt.Sprintf("ACC-FULL-%d", i), "registration", "")
		if err != nil {
			t.Fatalf("Mint() = %v", err)
		}
		return m.Token
	}
	reports := func() int64 {
		var n int64
		if err := a.DB.writer.Table("reports").Count(&n).Error; err != nil {
			t.Fatalf("count reports: %v", err)
		}
		return n
	}
	readyz := func() (int, string) {
		resp, body := get(ops.URL + "/readyz")
		return resp.StatusCode, body
	}
	waitReady := func(want int) string {
		t.Helper()
		// The write check answers from its cache for 2 s: ask again until
		// it probes anew.
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			code, body := readyz()
			if code == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET /readyz = %d %q for 10s, want %d", code, body, want)
			}
			<-tick.C
		}
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Fatalf("GET /readyz before the disk fills = %d %q, want 200", code, body)
	}

	// A member of staff signed in before the disk filled.
	if _, err := a.Service.AddUser(ctx, "agent@example.com", cases.RoleAgent, true, "a long enough password 1"); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	client = staff
	_, loginPage := get(web.URL + "/login")
	if resp, _ := post("/login", url.Values{"_csrf": {hidden(loginPage, "_csrf")}, "email": {"agent@example.com"},
		"password": {"a long enough password 1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login = %d, want 303", resp.StatusCode)
	}
	_, queuePage := get(web.URL + "/queue")
	staffCSRF := hidden(queuePage, "_csrf")
	client = reporter
	key, _, err := a.Service.AddAPIKey(ctx, "sender", []cases.Scope{cases.ScopeMessagesWrite, cases.ScopeReportsWrite})
	if err != nil {
		t.Fatalf("AddAPIKey() = %v", err)
	}

	// A case for the member of staff to work on.
	if _, err := a.Service.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelLink, Token: mint(999999)}); err != nil {
		t.Fatalf("FileReport() = %v", err)
	}
	before := reports()

	// The disk fills while reporters keep filing.
	free, cause := fillDisk(t, a, cfg)
	wantNotSaved := func(what string, resp *http.Response, body string, words ...string) {
		t.Helper()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "120" {
			t.Errorf("%s on a full disk = %d, Retry-After %q; want 503, 120", what, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		for _, w := range words {
			if !strings.Contains(body, w) {
				t.Errorf("%s on a full disk: the answer lacks %q:\n%s", what, w, body)
			}
		}
		if strings.Contains(body, "safe with us") || strings.Contains(body, "受け付けています") {
			t.Errorf("%s on a full disk says the report is safe:\n%s", what, body)
		}
	}
	// untilRefused sends fresh requests while the disk fills, as people
	// keep working, and returns the first that is not accepted and how
	// many were. A full page refuses one row and may still take a shorter
	// one, so each kind of write is sent until it is refused.
	n := 0
	untilRefused := func(what string, send func(i int) (*http.Response, string)) (resp *http.Response, body string, accepted int64) {
		t.Helper()
		for range 3000 {
			n++
			if resp, body = send(n); resp.StatusCode >= 400 {
				t.Logf("%s: %d accepted, then %d", what, accepted, resp.StatusCode)
				return resp, body, accepted
			}
			accepted++
		}
		t.Fatalf("%s: 3000 accepted on a full disk", what)
		return nil, "", 0
	}
	var form url.Values
	var token string
	resp, body, filed := untilRefused("POST /r/{token}", func(i int) (*http.Response, string) {
		token = mint(i)
		form = linkForm(token)
		return post("/r/"+token, form)
	})
	wantNotSaved("POST /r/{token}", resp, body, "Your report was not saved", "did NOT reach us", "try again in a few minutes", `href="/r/`+token+`?lang=en"`)
	resp, body, more := untilRefused("POST /r/{token} in Japanese", func(i int) (*http.Response, string) {
		tok := mint(i)
		f := linkForm(tok)
		f.Set("lang", "ja")
		return post("/r/"+tok, f)
	})
	filed += more
	wantNotSaved("POST /r/{token} in Japanese", resp, body, "ご報告は保存されていません", "何も保存されていません", "数分後にもう一度お試しください")
	resp, body, more = untilRefused("POST /report", func(i int) (*http.Response, string) {
		_, page := get(web.URL + "/report")
		return post("/report", url.Values{"_csrf": {hidden(page, "_csrf")}, "lang": {"en"}, "step": {"send"},
			"token": {mint(i)}, "note": {strings.Repeat("Not mine. ", i%60)}})
	})
	filed += more
	wantNotSaved("POST /report", resp, body, "Your report was not saved", `href="/report?lang=en"`)

	api := func(path, contentType string, payload []byte) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, web.URL+path, bytes.NewReader(payload))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", contentType)
		return do(req)
	}
	var report []byte
	resp, body, more = untilRefused("POST /api/v1/reports", func(i int) (*http.Response, string) {
		report, _ = json.Marshal(map[string]any{"token": mint(i), "note": strings.Repeat("Not mine. ", i%60)})
		return api("/api/v1/reports", "application/json", report)
	})
	filed += more
	wantNotSaved("POST /api/v1/reports", resp, body, `"error":"Storage is unavailable: nothing was saved`)
	resp, body, _ = untilRefused("POST /api/v1/messages/batch", func(i int) (*http.Response, string) {
		var ledger bytes.Buffer
		for j := range 50 {
			fmt.Fprintf(&ledger, `{"message_id":"full-%d-%d@mail.example.com","account_ref":"ACC-L-%d","recipient":"r%d@example.net","kind":"registration","subject":"Set your password"}`+"\n", i, j, j, j)
		}
		return api("/api/v1/messages/batch", "application/x-ndjson", ledger.Bytes())
	})
	wantNotSaved("POST /api/v1/messages/batch", resp, body, "storage unavailable", "resend the rest")

	var ref string
	if err := a.DB.reader.Raw("SELECT ref FROM cases ORDER BY id LIMIT 1").Scan(&ref).Error; err != nil || ref == "" {
		t.Fatalf("a case's ref = %q, %v", ref, err)
	}
	client = staff
	resp, body, _ = untilRefused("POST /cases/{ref}/note (staff)", func(i int) (*http.Response, string) {
		return post("/cases/"+ref+"/note", url.Values{"_csrf": {staffCSRF}, "note": {strings.Repeat("Called the owner. ", 1+i%30)}})
	})
	wantNotSaved("POST /cases/{ref}/note (staff)", resp, body, "Nothing was saved", "/readyz")
	client = reporter

	if n := reports(); n != before+filed {
		t.Errorf("reports on a full disk = %d, want %d and the %d accepted: a refused report must not be stored", n, before, filed)
	}
	if body := waitReady(http.StatusServiceUnavailable); !strings.Contains(body, "not ready\n") || !strings.Contains(body, cause) {
		t.Errorf("GET /readyz on a full disk = %q, want not ready and the cause", body)
	}

	// Space comes back: the reporter's same form files the report.
	free()
	resp, body = post("/r/"+token, form)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/s/") {
		t.Errorf("POST /r/{token} again once space is back = %d to %q, want 303 to the status page\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if n := reports(); n != before+filed+1 {
		t.Errorf("reports once space is back = %d, want %d", n, before+filed+1)
	}
	waitReady(http.StatusOK)
	if resp, body := api("/api/v1/reports", "application/json", report); resp.StatusCode >= 300 {
		t.Errorf("POST /api/v1/reports once space is back = %d %s, want it filed", resp.StatusCode, body)
	}
}

// fillDisk makes the database refuse writes the way each engine does when
// it has no room: SQLite's file may grow by a few pages only; PostgreSQL's
// database turns read-only for every new session. It returns what frees
// it again and the words of the cause on /readyz.
func fillDisk(t *testing.T, a *App, cfg Config) (free func(), cause string) {
	t.Helper()
	db := a.DB.writer
	if a.DB.Driver == "sqlite" {
		var pages int64
		if err := db.Raw("PRAGMA page_count").Scan(&pages).Error; err != nil {
			t.Fatal(err)
		}
		setMaxPages(t, a, pages+16)
		return func() { setMaxPages(t, a, 1<<30) }, "database or disk is full"
	}
	var name string
	if err := db.Raw("SELECT current_database()").Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`ALTER DATABASE ` + name + ` SET default_transaction_read_only = on`).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxIdleConns(0) // closes the idle sessions: new ones read the setting
	return func() {
		err := db.Connection(func(db *gorm.DB) error {
			if err := db.Exec(`SET default_transaction_read_only = off`).Error; err != nil {
				return err
			}
			return db.Exec(`ALTER DATABASE ` + name + ` RESET default_transaction_read_only`).Error
		})
		if err != nil {
			t.Fatalf("make the database writable again: %v", err)
		}
		sqlDB.SetMaxIdleConns(cfg.Database.MaxIdleConns)
	}, "read-only transaction"
}

// setMaxPages sets max_page_count on the SQLite writer's one connection
// (app/db.go keeps it open for good, so the setting stays).
func setMaxPages(t *testing.T, a *App, n int64) {
	t.Helper()
	if err := a.DB.writer.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", n)).Error; err != nil {
		t.Fatalf("PRAGMA max_page_count = %d: %v", n, err)
	}
}
