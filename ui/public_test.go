package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"notme/app"
	"notme/cases"
)

// normalize blanks what differs between two answers by design: the CSRF
// token, the token in the page's own address, case references, status
// links and times.
// submissionFieldRE is the report form's own random name.
var submissionFieldRE = regexp.MustCompile(`name="submission" value="[A-Za-z0-9_-]*"`)

func normalize(body string, tokens ...string) string {
	body = csrfFieldRE.ReplaceAllString(body, `name="_csrf" value="CSRF"`)
	body = submissionFieldRE.ReplaceAllString(body, `name="submission" value="SUBMISSION"`)
	for _, tok := range tokens {
		body = strings.ReplaceAll(body, tok, "TOKEN")
	}
	body = caseRefRE.ReplaceAllString(body, "REF")
	body = regexp.MustCompile(`/s/[A-Za-z0-9_-]+`).ReplaceAllString(body, "/s/STATUS")
	body = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC`).ReplaceAllString(body, "DATE")
	return body
}

// headerShape lists the header names and values that must not depend on
// the token: everything but the date and the cookie's random value.
func headerShape(h http.Header) string {
	var lines []string
	for name, values := range h {
		switch name {
		case "Date", "Content-Length": // the page carries the token, whose length varies
			continue
		case "Set-Cookie":
			for _, v := range values {
				v = regexp.MustCompile(`^([^=]+)=[^;]*`).ReplaceAllString(v, "$1=VALUE")
				v = regexp.MustCompile(`Expires=[^;]*`).ReplaceAllString(v, "Expires=DATE")
				lines = append(lines, name+": "+v)
			}
			continue
		}
		lines = append(lines, name+": "+strings.Join(values, ", "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// A mail scanner that fetches the link must change nothing, and the page
// must look the same whether the token is real, forged or garbage.
func TestLinkGETCreatesNothingAndRevealsNothing(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	real := d.mint(t, "acct-1001", "registration").Token
	ledger := d.register(t, cases.LedgerMessage{MessageID: "<welcome-1@mail.example.com>", AccountRef: "acct-1002",
		Recipient: "stranger@example.net", Kind: "postal_notice", Subject: "Your card is in the post"})
	forged := flipChar(real)
	tokens := map[string]string{
		"minted":  real,
		"ledger":  ledger,
		"forged":  forged,
		"random":  "A" + randomString(99),
		"garbage": "hello-world",
	}

	var want, wantName, wantHeader string
	for name, tok := range tokens {
		b := d.browser(t) // a fresh visitor each time: its own CSRF cookie
		for range 3 {     // scanners fetch more than once
			r := b.get(t, "/r/"+tok)
			r.wantStatus(t, http.StatusOK)
			r.wantHTML(t)
			if !strings.Contains(r.body, "This email isn’t for me") {
				t.Fatalf("%s (%s token): no report button on the page:\n%s", r.call, name, clip(r.body))
			}
			got, header := normalize(r.body, tok), headerShape(r.header)
			if want == "" {
				want, wantName, wantHeader = got, name, header
			} else if header != wantHeader {
				t.Fatalf("GET /r/{%s token} answers with other headers than GET /r/{%s token}:\n%s\n----\n%s", name, wantName, header, wantHeader)
			} else if got != want {
				t.Fatalf("GET /r/{%s token} differs from GET /r/{%s token} beyond the CSRF token and the URL:\n%s\n----\n%s",
					name, wantName, got, want)
			}
		}
		if r := b.get(t, "/r/"+tok, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"); r.status != http.StatusOK {
			t.Fatalf("%s with Sec-Fetch-Site: none = %d, want 200", r.call, r.status)
		}
		req, _ := http.NewRequest(http.MethodHead, d.url+"/r/"+tok, nil)
		if r := b.do(t, req); r.status >= 500 {
			t.Fatalf("%s = %d, want an answer that is not a server error", r.call, r.status)
		}
	}

	// A token is the visitor's input: the page escapes it.
	xss := d.browser(t).get(t, "/r/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if strings.Contains(xss.body, "<script>") {
		t.Errorf("%s: the page carries the script from the URL:\n%s", xss.call, clip(xss.body))
	}

	if got := d.allCases(t, key); len(got) != 0 {
		t.Fatalf("after only GETs of /r/{token}: GET /api/v1/cases lists %d cases, want 0: %+v", len(got), got)
	}
	if _, err := d.app.Service.StatusByToken(context.Background(), real); cases.ErrorCode(err) != cases.ENOTFOUND {
		t.Fatalf("StatusByToken(link token) = %v, want ENOTFOUND", err)
	}
}

// Filing from the link: POST, then redirect to a status page that shows
// the reference and the private status URL, and nothing of the account.
func TestLinkPOSTFilesReportAndShowsNothingOfTheAccount(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	const (
		account   = "acct-zed-7731"
		recipient = "margarethe.quux@example.net"
		subject   = "Set your initial password, Margarethe"
	)
	tok := d.register(t, cases.LedgerMessage{MessageID: "<reg-7731@mail.example.com>", AccountRef: account,
		Recipient: recipient, Kind: "registration", Subject: subject})

	b := d.browser(t)
	r := b.submit(t, "/r/"+tok, url.Values{"opened_link": {"1"}, "note": {"Not my account."}})
	r.wantStatus(t, http.StatusSeeOther)
	m := statusPathRE.FindStringSubmatch(r.location())
	if m == nil {
		t.Fatalf("%s: Location = %q, want /s/{status-token}?filed=1", r.call, r.location())
	}
	statusToken := m[1]

	page := b.get(t, r.location())
	page.wantStatus(t, http.StatusOK)
	page.wantHTML(t)
	if cc := page.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("%s: Cache-Control = %q, want no-store", page.call, cc)
	}
	list := d.cases(t, key, "account_ref="+account)
	if len(list) != 1 {
		t.Fatalf("GET /api/v1/cases?account_ref=%s: %d cases, want 1", account, len(list))
	}
	ref := list[0].Ref
	if !caseRefRE.MatchString(ref) {
		t.Fatalf("case ref %q is not NM-XXXX-XXXX", ref)
	}
	if !strings.Contains(page.body, ref) {
		t.Errorf("%s: the page does not show the case reference %s:\n%s", page.call, ref, page.body)
	}
	if want := d.url + "/s/" + statusToken; !strings.Contains(page.body, want) {
		t.Errorf("%s: the page does not show the private status URL %s:\n%s", page.call, want, page.body)
	}
	if !strings.Contains(page.body, "We have your report") {
		t.Errorf("%s: the page does not thank the reporter for a filed report:\n%s", page.call, page.body)
	}
	lower := strings.ToLower(page.body)
	for _, secret := range []string{account, recipient, "margarethe", subject, "registration", "set your password", "acct-"} {
		if strings.Contains(lower, strings.ToLower(secret)) {
			t.Errorf("%s: the reporter's status page shows %q, something of the account:\n%s", page.call, secret, page.body)
		}
	}

	// The status link alone, without the cookie and without ?filed=1,
	// still shows the status: it is the reporter's way back.
	later := d.browser(t).get(t, "/s/"+statusToken)
	later.wantStatus(t, http.StatusOK)
	if !strings.Contains(later.body, ref) || strings.Contains(later.body, "We have your report") {
		t.Errorf("%s: want the reference %s and no thank-you for a later visit:\n%s", later.call, ref, later.body)
	}
}

// 200 people (or one scanner gone wild) posting the same link at once make
// one case with 200 reports, and every one of them gets its status page.
func TestLinkConcurrentPOSTsMakeOneCase(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	tok := d.mint(t, "acct-busy", "password_reset").Token
	b := d.browser(t)
	csrf := b.csrf(t, "/r/"+tok)
	body := url.Values{"_csrf": {csrf}}.Encode()

	const n = 200
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, d.url+"/r/"+tok, strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				errs <- fmt.Errorf("POST #%d: %w", i, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !statusPathRE.MatchString(resp.Header.Get("Location")) {
				errs <- fmt.Errorf("POST #%d = %d, Location %q; want 303 to /s/…?filed=1", i, resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	all := d.allCases(t, key)
	if len(all) != 1 {
		t.Fatalf("after %d concurrent POSTs: GET /api/v1/cases lists %d cases, want 1", n, len(all))
	}
	if got := len(all[0].Reports); got != n {
		t.Fatalf("after %d concurrent POSTs: case %s has %d reports, want %d", n, all[0].Ref, got, n)
	}
	if all[0].AccountRef != "acct-busy" || all[0].Match != "exact" {
		t.Errorf("case = account %q, match %q; want acct-busy, exact", all[0].AccountRef, all[0].Match)
	}
}

// Further reports on the same account join its open case, and what the
// reporter ticks raises the severity.
func TestLinkReportsJoinTheAccountsCase(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	first := d.mint(t, "acct-join", "registration").Token
	second := d.mint(t, "acct-join", "registration").Token
	if first == second {
		t.Fatal("Mint() twice gave the same token; the test needs two links")
	}

	refA, statusA := d.browser(t).report(t, first, nil)
	refB, statusB := d.browser(t).report(t, first, nil) // the same person again, or a scanner with cookies
	refC, _ := d.browser(t).report(t, second, url.Values{"set_password": {"1"}})
	if refA != refB || refA != refC {
		t.Fatalf("reports on one account got refs %s, %s, %s; want one case", refA, refB, refC)
	}
	if statusA == statusB {
		t.Errorf("two reports got the same status link %s; each reporter needs their own", statusA)
	}
	c := d.caseByRef(t, key, refA)
	if len(c.Reports) != 3 {
		t.Errorf("GET /api/v1/cases/%s: %d reports, want 3", refA, len(c.Reports))
	}
	if c.Severity != "critical" {
		t.Errorf("GET /api/v1/cases/%s: severity %q after a \"set a password\" report on a registration link, want critical", refA, c.Severity)
	}
	if n := len(d.allCases(t, key)); n != 1 {
		t.Errorf("GET /api/v1/cases lists %d cases, want 1", n)
	}
}

// Severity is the kind's, raised by the reporter's ticks.
func TestLinkSeverity(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	for i, tc := range []struct {
		kind  string
		ticks []string
		want  string
	}{
		{"registration", nil, "high"},
		{"registration", []string{"set_password"}, "critical"},
		{"registration", []string{"opened_link"}, "high"},
		{"newsletter", nil, "low"},
		{"newsletter", []string{"set_password"}, "high"},
		{"newsletter", []string{"opened_link", "never_signed_up"}, "low"},
		{"order_confirmation", nil, "normal"},
		{"postal_notice", []string{"set_password"}, "high"},
	} {
		account := fmt.Sprintf("acct-sev-%d", i)
		form := url.Values{}
		for _, tick := range tc.ticks {
			form.Set(tick, "1")
		}
		ref, _ := d.browser(t).report(t, d.mint(t, account, tc.kind).Token, form)
		if got := d.caseByRef(t, key, ref).Severity; got != tc.want {
			t.Errorf("%s link with ticks %v: case severity %q, want %q", tc.kind, tc.ticks, got, tc.want)
		}
	}
}

// flipChar changes one character in the middle of a token.
func flipChar(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'x' {
		b[i] = 'y'
	} else {
		b[i] = 'x'
	}
	return string(b)
}

// A token that does not open gets the same calm flow as a real one and an
// unmatched case for triage; the real account's case is not touched.
func TestForgedTokensGetTheSameFlow(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	real := d.mint(t, "acct-victim", "registration").Token
	realRef, realStatus := d.browser(t).report(t, real, nil)
	before := d.caseByRef(t, key, realRef)

	realPage := d.browser(t).get(t, realStatus)
	for name, tok := range map[string]string{
		"tampered": flipChar(real),
		"random":   "A" + randomString(99),
		"garbage":  "garbage",
	} {
		b := d.browser(t)
		ref, status := b.report(t, tok, url.Values{"set_password": {"1"}})
		if ref == realRef {
			t.Errorf("a %s token joined the real account's case %s", name, realRef)
		}
		c := d.caseByRef(t, key, ref)
		if c.Match != "unmatched" || c.AccountRef != "" {
			t.Errorf("%s token: case %s is %q with account %q, want unmatched with none", name, ref, c.Match, c.AccountRef)
		}
		page := d.browser(t).get(t, status)
		if normalize(page.body) != normalize(realPage.body) {
			t.Errorf("the status page of a %s token differs from a real one's:\n%s\n----\n%s", name, normalize(page.body), normalize(realPage.body))
		}
		// The same forged link again joins its unmatched case.
		if again, _ := d.browser(t).report(t, tok, nil); again != ref {
			t.Errorf("a second report on the same %s token opened %s, want it to join %s", name, again, ref)
		}
	}

	after := d.caseByRef(t, key, realRef)
	if len(after.Reports) != 1 || after.Severity != before.Severity || after.Match != "exact" {
		t.Errorf("the real case %s changed: %d reports, severity %s, match %s; want 1, %s, exact",
			realRef, len(after.Reports), after.Severity, after.Match, before.Severity)
	}
	// One client's forged links share a triage case (cases/triage.go).
	if n := len(d.cases(t, key, "match=unmatched")); n != 1 {
		t.Errorf("GET /api/v1/cases?match=unmatched: %d cases, want 1", n)
	}
}

// A note longer than 2,000 characters is refused with the form kept.
func TestLinkNoteTooLong(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	tok := d.mint(t, "acct-note", "registration").Token
	b := d.browser(t)

	long := strings.Repeat("Sorry, not me. ", 134)[:2001] // 2,001 characters
	r := b.submit(t, "/r/"+tok, url.Values{"note": {long}, "set_password": {"1"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	r.wantHTML(t)
	if !strings.Contains(r.body, long) {
		t.Errorf("%s: the re-rendered form lost the note", r.call)
	}
	if !regexp.MustCompile(`role="alert">[^<]*2,?000`).MatchString(r.body) {
		t.Errorf("%s: no error that names the 2,000-character limit:\n%s", r.call, clip(r.body))
	}
	if !regexp.MustCompile(`name="set_password" value="1" checked`).MatchString(r.body) {
		t.Errorf("%s: the re-rendered form lost the \"set a password\" tick", r.call)
	}
	if !csrfFieldRE.MatchString(r.body) || !strings.Contains(r.body, `action="/r/`+tok+`"`) {
		t.Errorf("%s: the re-rendered form cannot be sent again (no CSRF field or no action)", r.call)
	}
	if n := len(d.allCases(t, key)); n != 0 {
		t.Fatalf("after a refused note: %d cases, want 0", n)
	}

	// Exactly 2,000 characters, counted as characters not bytes, fit.
	ref, _ := b.report(t, tok, url.Values{"note": {strings.Repeat("é", 2000)}})
	if n := len(d.caseByRef(t, key, ref).Reports); n != 1 {
		t.Errorf("a 2,000-character note: case %s has %d reports, want 1", ref, n)
	}
}

// Forms are accepted with the double-submit token, or from a browser that
// says the request is same-origin; everything else is refused with a page.
func TestCSRF(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	tok := d.mint(t, "acct-csrf", "registration").Token
	path := "/r/" + tok

	refused := []struct {
		name   string
		form   func(b *browser) url.Values
		header []string
	}{
		{"no token, no fetch metadata", func(*browser) url.Values { return url.Values{} }, nil},
		{"a wrong token", func(b *browser) url.Values {
			b.csrf(t, path)
			return url.Values{"_csrf": {randomString(32)}}
		}, nil},
		{"a token without its cookie", func(*browser) url.Values {
			return url.Values{"_csrf": {d.browser(t).csrf(t, path)}}
		}, nil},
		{"Sec-Fetch-Site: cross-site", func(*browser) url.Values { return url.Values{} }, []string{"Sec-Fetch-Site", "cross-site"}},
		{"Sec-Fetch-Site: cross-site with a valid token", func(b *browser) url.Values {
			return url.Values{"_csrf": {b.csrf(t, path)}}
		}, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
		{"Sec-Fetch-Site: same-site without a token", func(*browser) url.Values { return url.Values{} }, []string{"Sec-Fetch-Site", "same-site"}},
	}
	for _, tc := range refused {
		b := d.browser(t)
		r := b.post(t, path, tc.form(b), tc.header...)
		if r.status != http.StatusForbidden {
			t.Errorf("%s with %s = %d, want 403", r.call, tc.name, r.status)
			continue
		}
		r.wantHTML(t)
		if !strings.Contains(r.body, "only accepted from this site") {
			t.Errorf("%s with %s: the 403 page does not say why:\n%s", r.call, tc.name, clip(r.body))
		}
	}
	if n := len(d.allCases(t, key)); n != 0 {
		t.Fatalf("after refused POSTs: %d cases, want 0", n)
	}

	// Login is a form too: no login CSRF.
	r := d.browser(t).post(t, "/login", url.Values{"email": {"a@example.com"}, "password": {staffPassword}})
	r.wantStatus(t, http.StatusForbidden)
	r.wantHTML(t)

	// The double-submit token path, as Go's client and old browsers use it.
	d.browser(t).report(t, tok, nil)
	// A browser sending fetch metadata needs no token.
	for _, site := range []string{"same-origin", "none"} {
		r := d.browser(t).post(t, path, url.Values{}, "Sec-Fetch-Site", site)
		r.wantStatus(t, http.StatusSeeOther)
		if !statusPathRE.MatchString(r.location()) {
			t.Errorf("%s with Sec-Fetch-Site: %s: Location %q, want a status page", r.call, site, r.location())
		}
	}
	if c := d.cases(t, key, "account_ref=acct-csrf"); len(c) != 1 || len(c[0].Reports) != 3 {
		t.Fatalf("after 3 accepted POSTs: cases %+v, want one with 3 reports", c)
	}
}

// Over the report rate, a client is told to wait, with Retry-After, and
// what it sent before is kept.
func TestLinkRateLimit(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.HTTP.ReportRate = app.RateConfig{PerMinute: 1, Burst: 2} })
	key := d.readKey(t)
	tok := d.mint(t, "acct-flood", "registration").Token
	b := d.browser(t)
	csrf := b.csrf(t, "/r/"+tok)
	for i := range 2 {
		r := b.post(t, "/r/"+tok, url.Values{"_csrf": {csrf}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("%s #%d = %d, want 303 within the burst", r.call, i+1, r.status)
		}
	}
	r := b.post(t, "/r/"+tok, url.Values{"_csrf": {csrf}, "note": {"third"}})
	r.wantStatus(t, http.StatusTooManyRequests)
	r.wantHTML(t)
	if ra := r.header.Get("Retry-After"); ra == "" {
		t.Errorf("%s = 429 without Retry-After", r.call)
	}
	for _, want := range []string{"Nothing you sent before is lost", "wait a minute"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("%s: the 429 page does not say %q:\n%s", r.call, want, clip(r.body))
		}
	}
	// The pasted-headers form shares the limit.
	if r := b.post(t, "/report", url.Values{"_csrf": {csrf}, "text": {"Message-ID: <x@y.example>"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("%s after the limit = %d, want 429", r.call, r.status)
	}
	// Reading pages is not limited.
	b.get(t, "/r/"+tok).wantStatus(t, http.StatusOK)

	c := d.cases(t, key, "account_ref=acct-flood")
	if len(c) != 1 || len(c[0].Reports) != 2 {
		t.Fatalf("after 2 accepted and 1 refused POSTs: %+v, want one case with 2 reports", c)
	}
}

// An unknown status link is a calm 404 page.
func TestStatusUnknown(t *testing.T) {
	d := newDesk(t)
	b := d.browser(t)
	for _, tok := range []string{randomString(24), "x", randomString(100)} {
		r := b.get(t, "/s/"+tok)
		r.wantStatus(t, http.StatusNotFound)
		r.wantHTML(t)
		if !strings.Contains(r.body, "We can't find this status page") && !strings.Contains(r.body, "We can&#39;t find this status page") {
			t.Errorf("%s: not the calm status 404 page:\n%s", r.call, clip(r.body))
		}
		if !strings.Contains(r.body, "your report is safe") {
			t.Errorf("%s: the 404 page does not reassure the reporter:\n%s", r.call, clip(r.body))
		}
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control = %q, want no-store", r.call, cc)
		}
	}
}

// The same form sent twice, as by a double click or a load balancer that
// retries on another instance, files one report and leads both times to
// its status page; the same form name from another browser files its own.
func TestLinkFormSentTwiceFilesOnce(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	tok := d.mint(t, "ACC-TWICE", "registration").Token
	b := d.browser(t)
	page := b.get(t, "/r/"+tok)
	page.wantStatus(t, http.StatusOK)
	csrf := csrfFieldRE.FindStringSubmatch(page.body)
	name := regexp.MustCompile(`name="submission" value="([A-Za-z0-9_-]{16,})"`).FindStringSubmatch(page.body)
	if csrf == nil || name == nil {
		t.Fatalf("GET /r/{token}: want _csrf and submission fields in the form:\n%s", clip(page.body))
	}
	form := url.Values{"_csrf": {csrf[1]}, "submission": {name[1]}, "set_password": {"1"}}
	first := b.post(t, "/r/"+tok, form)
	first.wantStatus(t, http.StatusSeeOther)
	again := b.post(t, "/r/"+tok, form)
	again.wantStatus(t, http.StatusSeeOther)
	if !statusPathRE.MatchString(first.location()) || again.location() != first.location() {
		t.Fatalf("sent twice: Location %q then %q; want the same status page", first.location(), again.location())
	}
	ref := caseRefRE.FindString(b.get(t, first.location()).body)
	if c := d.caseByRef(t, key, ref); len(c.Reports) != 1 {
		t.Fatalf("case %s has %d reports after one form sent twice, want 1", ref, len(c.Reports))
	}

	// Someone else who learnt the form's name, with their own CSRF cookie,
	// files a report of their own and never reaches the first status page.
	other := d.browser(t)
	form.Set("_csrf", other.csrf(t, "/r/"+tok))
	r := other.post(t, "/r/"+tok, form)
	r.wantStatus(t, http.StatusSeeOther)
	if r.location() == first.location() {
		t.Fatalf("another browser with the same form name was sent to the first reporter's status page %q", r.location())
	}
	if c := d.caseByRef(t, key, ref); len(c.Reports) != 2 {
		t.Fatalf("case %s has %d reports, want 2", ref, len(c.Reports))
	}
}

// Back after filing, then the button again (or a reload of the link and
// the button again), within the window: the same browser comes back to
// its first report and status page. Another browser on the same link,
// or the same browser after the window, files a report of its own.
func TestLinkBackThenButtonAgainFilesOnce(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	tok := d.mint(t, "ACC-BACK", "registration").Token
	b := d.browser(t)
	first := pressButton(t, b, tok)
	ref := caseRefRE.FindString(b.get(t, first).body)
	// Back shows the link page again (a fresh GET when the browser does
	// not keep it), and the button is pressed again.
	again := pressButton(t, b, tok)
	if again != first {
		t.Fatalf("POST /r/{token} after Back: Location %q, want the first status page %q", again, first)
	}
	if c := d.caseByRef(t, key, ref); len(c.Reports) != 1 {
		t.Fatalf("case %s has %d reports after Back and the button again, want 1", ref, len(c.Reports))
	}

	// Another browser holds its own form: its own report, its own page.
	ob := d.browser(t)
	other := pressButton(t, ob, tok)
	if ref2 := caseRefRE.FindString(ob.get(t, other).body); other == first || ref2 != ref {
		t.Fatalf("another browser: status %q (case %s), want its own status page on case %s", other, ref2, ref)
	}
	// A link the browser opened since is another form: the first link's
	// form name does not carry over to it.
	tok2 := d.mint(t, "ACC-BACK-2", "registration").Token
	if ref3 := caseRefRE.FindString(b.get(t, pressButton(t, b, tok2)).body); ref3 == ref {
		t.Fatalf("a second link filed on the first link's case %s", ref)
	}
	if c := d.caseByRef(t, key, ref); len(c.Reports) != 2 {
		t.Fatalf("case %s has %d reports, want 2 (one per browser)", ref, len(c.Reports))
	}
}

// pressButton does what a browser does on the link page: GET it and send
// its form as shown (its CSRF token and its name), with "I opened a link"
// ticked. It returns the status page it was sent to.
func pressButton(t *testing.T, b *browser, tok string) string {
	t.Helper()
	return pressButtonWith(t, b, tok, url.Values{"opened_link": {"1"}})
}

// pressButtonWith is pressButton with the form's ticks and note.
func pressButtonWith(t *testing.T, b *browser, tok string, said url.Values) string {
	t.Helper()
	page := b.get(t, "/r/"+tok)
	page.wantStatus(t, http.StatusOK)
	csrf := csrfFieldRE.FindStringSubmatch(page.body)
	name := regexp.MustCompile(`name="submission" value="([A-Za-z0-9_-]{16,})"`).FindStringSubmatch(page.body)
	if csrf == nil || name == nil {
		t.Fatalf("GET /r/{token}: want _csrf and submission fields in the form:\n%s", clip(page.body))
	}
	form := url.Values{"_csrf": {csrf[1]}, "submission": {name[1]}}
	for k, v := range said {
		form[k] = v
	}
	r := b.post(t, "/r/"+tok, form)
	r.wantStatus(t, http.StatusSeeOther)
	if !statusPathRE.MatchString(r.location()) {
		t.Fatalf("%s: Location = %q, want a status page", r.call, r.location())
	}
	return r.location()
}

// Back, a new tick, and the button again: the reporter said more, and
// that is filed (its own report on the case, which it makes critical),
// never dropped as a repeat of the first.
func TestLinkBackWithMoreToSayFilesIt(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	tok := d.mint(t, "ACC-MORE", "registration").Token
	b := d.browser(t)
	first := pressButton(t, b, tok)
	ref := caseRefRE.FindString(b.get(t, first).body)
	more := pressButtonWith(t, b, tok, url.Values{"opened_link": {"1"}, "set_password": {"1"}})
	if more == first {
		t.Fatalf("POST /r/{token} after Back with \"I set a password\" ticked: sent to the first status page %q, its tick dropped", first)
	}
	c := d.caseByRef(t, key, ref)
	if len(c.Reports) != 2 || c.Severity != "critical" {
		t.Fatalf("case %s after Back and a new tick: %d reports, severity %s; want 2 and critical", ref, len(c.Reports), c.Severity)
	}
	if again := pressButtonWith(t, b, tok, url.Values{"opened_link": {"1"}, "set_password": {"1"}}); again != more {
		t.Errorf("the second form sent once more as it was: Location %q, want %q", again, more)
	}
}

// The window is configurable, and 0 turns it off: then every rendering
// of the link page is a new form.
func TestLinkSameBrowserWindowOff(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.Reports.SameBrowserWindow = 0 })
	key := d.readKey(t)
	tok := d.mint(t, "ACC-OFF", "registration").Token
	b := d.browser(t)
	first := pressButton(t, b, tok)
	ref := caseRefRE.FindString(b.get(t, first).body)
	again := pressButton(t, b, tok)
	if again == first {
		t.Fatalf("window 0: POST /r/{token} again led to the first status page %q, want a new one", first)
	}
	if c := d.caseByRef(t, key, ref); len(c.Reports) != 2 {
		t.Fatalf("case %s has %d reports, want 2", ref, len(c.Reports))
	}
}
