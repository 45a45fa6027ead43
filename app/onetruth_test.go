package app

import (
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

	"notme/cases"
	"notme/ui"
)

// Every surface that shows a deadline asks cases.Case.Deadlines, so they
// agree: the queue, the case page, /leads (its escalations and its
// breaches), the API, /metrics and the breach ticker. A clock stands
// still while five cases in every state are read on all of them, then
// moves three days on and they are read again. The first moment is the
// one that once showed a contained case as "16 min overdue" on /leads
// beside "No deadline has passed unmet".
func TestOneTruthAboutDeadlines(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	svc, clock, _ := clockedService(t, t0, func(o *cases.Options, cfg Config) {
		o.SLA, o.Escalation = cfg.slaOptions(), cfg.escalationRules()
	})
	const password = "correct horse battery staple"
	agentUser, err := svc.AddUser(ctx, "agent@example.com", cases.RoleAgent, true, password)
	if err != nil {
		t.Fatalf("AddUser(agent) = %v", err)
	}
	if _, err := svc.AddUser(ctx, "lead@example.com", cases.RoleLead, true, password); err != nil {
		t.Fatalf("AddUser(lead) = %v", err)
	}
	key, _, err := svc.AddAPIKey(ctx, "truth", []cases.Scope{cases.ScopeCasesRead})
	if err != nil {
		t.Fatalf("AddAPIKey() = %v", err)
	}
	agent := cases.Actor{User: &agentUser}
	file := func(account, kind string) string {
		t.Helper()
		m, err := svc.Mint(account, kind, "")
		if err != nil {
			t.Fatalf("Mint(%s) = %v", account, err)
		}
		f, err := svc.FileReport(ctx, reportFor(m.Token))
		if err != nil {
			t.Fatalf("FileReport(%s) = %v", account, err)
		}
		return f.CaseRef
	}
	status := func(ref string, to cases.Status, reason string) {
		t.Helper()
		if _, err := svc.SetStatus(ctx, agent, ref, to, reason); err != nil {
			t.Fatalf("SetStatus(%s, %s) = %v", ref, to, err)
		}
	}
	mark := func(step string, want int) {
		t.Helper()
		n, _, err := svc.MarkBreaches(ctx)
		if err != nil || n != want {
			t.Fatalf("%s: MarkBreaches() = %d, %v; want %d marked", step, n, err, want)
		}
	}

	// At t0: A and B are credential mails (contain within 1 h), D an
	// order confirmation (personal data: a breach assessment is owed), E a
	// newsletter.
	a, b := file("ACC-A", "registration"), file("ACC-B", "registration")
	d, e := file("ACC-D", "order_confirmation"), file("ACC-E", "newsletter")
	status(d, cases.StatusContained, "")
	status(d, cases.StatusResolved, "")
	status(e, cases.StatusDismissed, "test mail")
	// 1 h 16 min later A and B are overdue and marked; then A is contained,
	// late: its contain-by is met from then on.
	clock.Advance(76 * time.Minute)
	mark("A and B past contain-by", 2)
	status(a, cases.StatusContained, "")
	mark("after A is contained", 0)
	c := file("ACC-C", "newsletter")
	refs := map[string]string{a: "A", b: "B", c: "C", d: "D", e: "E"}

	srv, err := ui.New(ui.Options{Service: svc, Logger: discardLogger(), PublicURL: "http://desk.example.com",
		ReportRate: ui.Rate{PerMinute: 1e6, Burst: 1e6}, LoginRate: ui.Rate{PerMinute: 1e6, Burst: 1e6}})
	if err != nil {
		t.Fatalf("ui.New() = %v", err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	opsTS := httptest.NewServer(srv.Ops())
	defer opsTS.Close()

	type want struct {
		states map[string]map[string]cases.DeadlineState // case letter → deadline kind → state
		next   map[string]string                         // case letter → "kind state", "" when all met
	}
	check := func(moment string, w want) {
		t.Helper()
		// Sessions last 12 h by the desk's clock: log in at each moment.
		agentWeb, leadWeb := staffClient(t, ts.URL, "agent@example.com", password), staffClient(t, ts.URL, "lead@example.com", password)
		// The API.
		var list struct {
			Cases []struct {
				Ref       string `json:"ref"`
				Deadlines []struct {
					Kind  string `json:"kind"`
					State string `json:"state"`
				} `json:"deadlines"`
			} `json:"cases"`
		}
		body := getBody(t, ts.URL+"/api/v1/cases?status=new,contained,resolved,dismissed", nil, "Bearer "+key)
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("%s: GET /api/v1/cases: %v", moment, err)
		}
		for _, jc := range list.Cases {
			got := map[string]cases.DeadlineState{}
			for _, dl := range jc.Deadlines {
				got[dl.Kind] = cases.DeadlineState(dl.State)
			}
			if l := refs[jc.Ref]; fmt.Sprint(got) != fmt.Sprint(w.states[l]) {
				t.Errorf("%s: API case %s deadlines = %v, want %v", moment, l, got, w.states[l])
			}
		}
		if len(list.Cases) != len(refs) {
			t.Errorf("%s: API lists %d cases, want %d", moment, len(list.Cases), len(refs))
		}

		// The case pages.
		dlRE := regexp.MustCompile(`<dt>(Contain by|Resolve by|Assess by)</dt><dd class="deadline dl-(\w+)`)
		kindOf := map[string]string{"Contain by": "contain", "Resolve by": "resolve", "Assess by": "assess"}
		for ref, l := range refs {
			page := getBody(t, ts.URL+"/cases/"+ref, agentWeb, "")
			got := map[string]cases.DeadlineState{}
			for _, m := range dlRE.FindAllStringSubmatch(page, -1) {
				got[kindOf[m[1]]] = cases.DeadlineState(m[2])
			}
			if fmt.Sprint(got) != fmt.Sprint(w.states[l]) {
				t.Errorf("%s: case page of %s shows deadlines %v, want %v", moment, l, got, w.states[l])
			}
		}

		// The queue, every status: each row's next deadline.
		rowRE := regexp.MustCompile(`(?s)<a href="/cases/(NM-[^"]+)">.*?</th>.*?<td>.*?</td>\s*(?:<td class="deadline dl-(\w+)[^"]*">(\w+) ·|<td class="muted">)`)
		queue := getBody(t, ts.URL+"/queue?status=all", agentWeb, "")
		seen := 0
		for _, m := range rowRE.FindAllStringSubmatch(queue, -1) {
			l, ok := refs[m[1]]
			if !ok {
				continue
			}
			seen++
			got := ""
			if m[2] != "" {
				got = m[3] + " " + m[2]
			}
			if got != w.next[l] {
				t.Errorf("%s: queue shows case %s's next deadline as %q, want %q", moment, l, got, w.next[l])
			}
		}
		if seen != len(refs) {
			t.Errorf("%s: read %d rows of the queue, want %d", moment, seen, len(refs))
		}

		// /leads: the escalated cases' next deadline, and the breaches.
		// Without the phone layout's column names, a row is its cells.
		leads := regexp.MustCompile(` data-label="[^"]*"`).ReplaceAllString(getBody(t, ts.URL+"/leads", leadWeb, ""), "")
		escRE := regexp.MustCompile(`<li><a href="/cases/(NM-[^"]+)">[^<]*</a> <span class="sev[^>]*>[^<]*</span>(?: <span class="badge[^>]*>[^<]*</span>)? (?:<span class="deadline dl-(\w+)[^"]*">(\w+) ·|<span class="muted">)`)
		escalated := 0
		for _, m := range escRE.FindAllStringSubmatch(leads, -1) {
			escalated++
			l := refs[m[1]]
			got := ""
			if m[2] != "" {
				got = m[3] + " " + m[2]
			}
			if got != w.next[l] {
				t.Errorf("%s: /leads shows escalated case %s's next deadline as %q, want %q", moment, l, got, w.next[l])
			}
		}
		if escalated == 0 {
			t.Errorf("%s: /leads lists no escalated case; the SLA breaches should have escalated A and B", moment)
		}
		brRE := regexp.MustCompile(`<tr><td><a href="/cases/(NM-[^"]+)">[^<]*</a></td><td>.*?</td><td>(\w+)</td>`)
		shown := map[string]bool{}
		for _, m := range brRE.FindAllStringSubmatch(leads, -1) {
			shown[refs[m[1]]+" "+m[2]] = true
		}
		for l, st := range w.states {
			for kind, s := range st {
				// A breach is listed once the ticker marked it; every
				// overdue deadline here has been marked.
				if (s == cases.DeadlineOverdue) != shown[l+" "+kind] {
					t.Errorf("%s: /leads lists %s's %s deadline as a breach: %v; its state is %s", moment, l, kind, shown[l+" "+kind], s)
				}
			}
		}
		anyOverdue := len(shown) > 0
		if strings.Contains(leads, "No deadline has passed unmet") == anyOverdue {
			t.Errorf("%s: /leads says \"No deadline has passed unmet\": %v, with breaches %v", moment, !anyOverdue, shown)
		}

		// /metrics: the counts of unmet deadlines.
		counts := map[string]int{}
		for _, st := range w.states {
			for kind, s := range st {
				if s != cases.DeadlineMet {
					counts[kind+" "+string(s)]++
				}
			}
		}
		metrics := getBody(t, opsTS.URL+"/metrics", nil, "")
		for _, kind := range []string{"contain", "resolve", "assess"} {
			for _, s := range []string{"pending", "overdue"} {
				line := fmt.Sprintf("notme_case_deadlines{deadline=%q,state=%q} %d\n", kind, s, counts[kind+" "+s])
				if !strings.Contains(metrics, line) {
					t.Errorf("%s: /metrics lacks %q", moment, strings.TrimSpace(line))
				}
			}
		}
	}

	met, pend, over := cases.DeadlineMet, cases.DeadlinePending, cases.DeadlineOverdue
	type ds = map[string]cases.DeadlineState
	check("t0 + 1 h 16 min", want{
		states: map[string]map[string]cases.DeadlineState{
			"A": ds{"contain": met, "resolve": pend},
			"B": ds{"contain": over, "resolve": pend},
			"C": ds{"contain": pend, "resolve": pend},
			"D": ds{"contain": met, "resolve": met, "assess": pend},
			"E": ds{"contain": met, "resolve": met},
		},
		next: map[string]string{"A": "resolve pending", "B": "contain overdue", "C": "contain pending", "D": "assess pending", "E": ""},
	})

	// Three days on, the ticker marks what fell due since: A's and B's
	// resolve-by, C's contain-by and D's breach assessment.
	clock.Advance(72 * time.Hour)
	mark("three days on", 4)
	check("t0 + 73 h 16 min", want{
		states: map[string]map[string]cases.DeadlineState{
			"A": ds{"contain": met, "resolve": over},
			"B": ds{"contain": over, "resolve": over},
			"C": ds{"contain": over, "resolve": pend},
			"D": ds{"contain": met, "resolve": met, "assess": over},
			"E": ds{"contain": met, "resolve": met},
		},
		next: map[string]string{"A": "resolve overdue", "B": "contain overdue", "C": "contain overdue", "D": "assess overdue", "E": ""},
	})
}

// staffClient logs in at base and returns the client holding the session.
func staffClient(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindStringSubmatch(getBody(t, base+"/login", client, ""))
	if csrf == nil {
		t.Fatal("GET /login: no _csrf field")
	}
	resp, err := client.PostForm(base+"/login", url.Values{"_csrf": {csrf[1]}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatalf("POST /login as %s: %v", email, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login as %s = %d, want 303", email, resp.StatusCode)
	}
	return client
}

// getBody GETs u (with the client, or a plain one, and an Authorization
// header if given) and fails the test unless the answer is 200.
func getBody(t *testing.T, u string, client *http.Client, auth string) string {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d (Location %q), want 200:\n%s", u, resp.StatusCode, resp.Header.Get("Location"), b)
	}
	return string(b)
}
