package app

import (
	"context"
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

	"notme/cases"
	"notme/ui"
)

// The console says how long is left on a case by the desk's clock (on
// PostgreSQL the database's), not by the host's: two instances on hosts
// whose clocks differ show a case the same. Here the desk's clock stands
// months behind the host's, by which every deadline would be overdue.
func TestConsoleTimeLeftByDeskClock(t *testing.T) {
	ctx := context.Background()
	svc, clock, filed := clockedCase(t)
	const password = "correct horse battery staple"
	if _, err := svc.AddUser(ctx, "agent@example.com", cases.RoleAgent, true, password); err != nil {
		t.Fatalf("AddUser() = %v", err)
	}
	srv, err := ui.New(ui.Options{Service: svc, Logger: discardLogger(), PublicURL: "http://desk.example.com",
		ReportRate: ui.Rate{PerMinute: 1e6, Burst: 1e6}, LoginRate: ui.Rate{PerMinute: 1e6, Burst: 1e6}})
	if err != nil {
		t.Fatalf("ui.New() = %v", err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get(ts.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, resp.StatusCode)
		}
		return string(b)
	}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindStringSubmatch(get("/login"))
	if csrf == nil {
		t.Fatal("GET /login: no _csrf field")
	}
	resp, err := client.PostForm(ts.URL+"/login", url.Values{"_csrf": {csrf[1]}, "email": {"agent@example.com"}, "password": {password}})
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login = %d, want 303", resp.StatusCode)
	}

	left := filed.Case.ContainBy.Sub(clock.Now())
	want := fmt.Sprintf("(%d h %d min left)", int(left.Hours()), int(left.Minutes())%60)
	if left < time.Hour {
		want = fmt.Sprintf("(%d min left)", int(left.Minutes()))
	}
	if page := get("/cases/" + filed.CaseRef); !strings.Contains(page, want) || strings.Contains(page, "overdue") {
		t.Errorf("case page with %v to contain it: want %q and nothing overdue, by the desk's clock", left, want)
	}
	// An hour at a time with a page between: a session unused for longer
	// than http.session_idle ends.
	for rest := left + 2*time.Hour + 30*time.Second; rest > 0; {
		step := min(rest, time.Hour)
		clock.Advance(step)
		if rest -= step; rest > 0 {
			get("/queue")
		}
	}
	if page := get("/cases/" + filed.CaseRef); !strings.Contains(page, "(2 h 0 min overdue)") {
		t.Errorf("case page 2 h after its containment deadline: want \"(2 h 0 min overdue)\"")
	}
}
