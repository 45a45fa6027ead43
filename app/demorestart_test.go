package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runningDemo is one `notme demo` started by a test, read from what it
// printed.
type runningDemo struct {
	out, errs *syncBuffer
	base, key string
}

// startDemo runs `notme demo --addr 127.0.0.1:0 --data dir [extra…]` until
// the test (or stop) ends it, and waits for its printed instructions.
func startDemo(t *testing.T, dir string, extra ...string) (*runningDemo, func()) {
	t.Helper()
	d := &runningDemo{out: &syncBuffer{}, errs: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--data", dir}, extra...),
			Env{Stdin: strings.NewReader(""), Stdout: d.out, Stderr: d.errs, Getenv: func(string) (string, bool) { return "", false }})
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d after Ctrl-C; stderr:\n%s", code, d.errs.String())
		}
	}
	t.Cleanup(stop)
	awaitDemo(t, "the demo's instructions", d, func() bool { return strings.Contains(d.out.String(), "Press Ctrl-C") }, done)
	s := d.out.String()
	if m := regexp.MustCompile(`the desk is at (http://\S+)`).FindStringSubmatch(s); m != nil {
		d.base = m[1]
	}
	d.key = regexp.MustCompile(`nmk_[a-z0-9_]+`).FindString(s)
	if d.base == "" || d.key == "" {
		t.Fatalf("demo printed no URL or key:\n%s", s)
	}
	return d, stop
}

// awaitDemo polls cond until it holds, failing after 20 s or when the demo
// exits first.
func awaitDemo(t *testing.T, what string, d *runningDemo, cond func() bool, done chan int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo exited %d before %s; stdout:\n%s\nstderr:\n%s", code, what, d.out.String(), d.errs.String())
		case <-deadline:
			t.Fatalf("no %s within 20s; stdout:\n%s\nstderr:\n%s", what, d.out.String(), d.errs.String())
		case <-tick.C:
		}
	}
}

// password is the password the demo printed for email.
func (d *runningDemo) password(t *testing.T, email string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(email) + `\s+password (\S+)`).FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("demo printed no password for %s:\n%s", email, d.out.String())
	}
	return m[1]
}

// get fetches base+path with the API key or the given cookies.
func (d *runningDemo) get(t *testing.T, path, key string, cookies []*http.Cookie) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.base+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// casesSeen lists the account refs of the cases the API shows.
func (d *runningDemo) casesSeen(t *testing.T) []string {
	t.Helper()
	code, body := d.get(t, "/api/v1/cases", d.key, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/cases with the printed key = %d %s", code, body)
	}
	var list struct {
		Cases []struct {
			AccountRef string `json:"account_ref"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, c := range list.Cases {
		refs = append(refs, c.AccountRef)
	}
	return refs
}

// login logs a staff member in as a browser would (the demo's cookies are
// Secure, which Go's cookie jar keeps from plain HTTP, so they are carried
// by hand) and returns the session's cookies, or nil when refused.
func (d *runningDemo) login(t *testing.T, email, password string) []*http.Cookie {
	t.Helper()
	resp, err := http.Get(d.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("GET /login has no CSRF token:\n%s", b)
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {string(m[1])}}
	req, _ := http.NewRequest(http.MethodPost, d.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil
	}
	return resp.Cookies()
}

// TestDemoStartsAgainOnKeptData starts the demo twice on one folder, as a
// newcomer who stops it and comes back would: the second start works,
// keeps the cases and the API key, hands out logins that work (and the
// old passwords no longer do), and prints links on its own new address,
// even when given the CLI's config file, which names the first start's.
func TestDemoStartsAgainOnKeptData(t *testing.T) {
	dir := t.TempDir()
	first, stop := startDemo(t, dir)
	oldPassword := first.password(t, "admin@example.com")
	awaitDemo(t, "three cases from the sample mail", first, func() bool { return len(first.casesSeen(t)) == 3 }, nil)
	stop()

	second, _ := startDemo(t, dir, "--config", filepath.Join(dir, "cli.yaml"))
	out := second.out.String()
	if !strings.Contains(out, "earlier start") {
		t.Errorf("second start does not say it kept an earlier desk:\n%s", out)
	}
	if second.key != first.key {
		t.Errorf("second start printed key %s, want the kept %s", second.key, first.key)
	}
	if got := second.casesSeen(t); len(got) != 3 {
		t.Errorf("after the second start the API shows cases of %v, want the 3 kept ones and no duplicates", got)
	}
	for _, link := range regexp.MustCompile(`http://\S+/r/\S+`).FindAllString(out, -1) {
		if !strings.HasPrefix(link, second.base+"/r/") {
			t.Errorf("second start printed link %s, want one on its own address %s", link, second.base)
		}
		if code, _ := second.get(t, strings.TrimPrefix(link, second.base), "", nil); code != http.StatusOK {
			t.Errorf("GET printed link %s = %d, want 200", link, code)
		}
	}
	newPassword := second.password(t, "admin@example.com")
	if second.login(t, "admin@example.com", newPassword) == nil {
		t.Errorf("login with the password printed by the second start was refused")
	}
	if newPassword != oldPassword && second.login(t, "admin@example.com", oldPassword) != nil {
		t.Errorf("login with the first start's password still works after the second start reset it")
	}
}

// TestDemoCLI follows the demo's printed advice for the command line: a
// link minted with its --config opens on the demo, an API key added with
// it works on the demo's API, and the acknowledgement the demo mails links
// to the demo's own address (it listens on a random port, not :8080).
func TestDemoCLI(t *testing.T) {
	dir := t.TempDir()
	d, _ := startDemo(t, dir)
	m := regexp.MustCompile(`--config (\S+)`).FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("demo printed no --config for the command line:\n%s", d.out.String())
	}
	cfg := m[1]
	// No NOTME_* variables: the flag alone must be enough.
	noEnv := func(string) (string, bool) { return "", false }
	run := func(args ...string) string {
		t.Helper()
		var out, errs syncBuffer
		if code := Main(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: noEnv}); code != 0 {
			t.Fatalf("notme %s = %d; stderr:\n%s", strings.Join(args, " "), code, errs.String())
		}
		return out.String()
	}

	var minted struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(run("mint", "--config", cfg, "--account", "ACC-2001", "--kind", "registration", "--json")), &minted); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(minted.URL, d.base+"/r/") {
		t.Fatalf("notme mint --config %s gave %s, want a link on the demo's %s", cfg, minted.URL, d.base)
	}
	if code, body := d.get(t, strings.TrimPrefix(minted.URL, d.base), "", nil); code != http.StatusOK || !strings.Contains(body, "<form") {
		t.Errorf("GET minted link on the demo = %d, want the report page", code)
	}

	var added struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(run("apikey", "add", "crm", "--scope", "cases:read", "--config", cfg, "--json")), &added); err != nil {
		t.Fatal(err)
	}
	if code, body := d.get(t, "/api/v1/cases", added.Key, nil); code != http.StatusOK {
		t.Errorf("GET /api/v1/cases with the key from notme apikey add = %d %s, want 200", code, body)
	}

	cookies := d.login(t, "agent@example.com", d.password(t, "agent@example.com"))
	if cookies == nil {
		t.Fatal("the demo refused the printed agent login")
	}
	// The outbox shows full addresses and status links: admins only.
	if code, _ := d.get(t, "/demo/outbox", "", cookies); code != http.StatusForbidden {
		t.Errorf("GET /demo/outbox as the agent = %d, want 403", code)
	}
	cookies = d.login(t, "admin@example.com", d.password(t, "admin@example.com"))
	if cookies == nil {
		t.Fatal("the demo refused the printed admin login")
	}
	var outbox string
	awaitDemo(t, "an acknowledgement in the demo's outbox", d, func() bool {
		_, outbox = d.get(t, "/demo/outbox", "", cookies)
		return strings.Contains(outbox, "/s/")
	}, nil)
	if !strings.Contains(outbox, d.base+"/s/") || strings.Contains(outbox, ":8080") {
		t.Errorf("the acknowledgement's status link is not on the demo's address %s:\n%s", d.base, outbox)
	}
}
