package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// Issue 12: a browser that sends Sec-Fetch-Site and has no CSRF cookie
// passes the CSRF check without a token of its own. A third party who
// learnt the form's name and posts it the same way must file a report of
// its own and never reach the first reporter's status page.
func TestKnownFormNameWithoutCookieNeverReachesTheStatusPage(t *testing.T) {
	d := newDesk(t)
	tok := d.mint(t, "ACC-NAME", "registration").Token
	nameRE := regexp.MustCompile(`name="submission" value="([A-Za-z0-9_-]{16,})"`)
	fetch := []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate"}

	for _, path := range []string{"/r/" + tok, "/report"} {
		t.Run(path, func(t *testing.T) {
			victim := d.browser(t)
			var form url.Values
			if path == "/report" {
				check := victim.post(t, "/report", url.Values{"text": {"Message-ID: <whatever-1@elsewhere.example>"}}, fetch...)
				check.wantStatus(t, http.StatusOK)
				name := nameRE.FindStringSubmatch(check.body)
				if name == nil {
					t.Fatalf("POST /report (check): no submission field:\n%s", clip(check.body))
				}
				form = url.Values{"step": {"send"}, "submission": {name[1]}, "mid": {"<whatever-1@elsewhere.example>"}}
			} else {
				page := victim.get(t, path, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")
				page.wantStatus(t, http.StatusOK)
				name := nameRE.FindStringSubmatch(page.body)
				if name == nil {
					t.Fatalf("GET %s: no submission field:\n%s", path, clip(page.body))
				}
				form = url.Values{"submission": {name[1]}, "set_password": {"1"}}
			}
			first := victim.post(t, path, form, fetch...)
			first.wantStatus(t, http.StatusSeeOther)
			if !statusPathRE.MatchString(first.location()) {
				t.Fatalf("%s: Location %q, want a status page", first.call, first.location())
			}

			// The same browser sending the form again (a double click)
			// still files once.
			again := victim.post(t, path, form, fetch...)
			if again.status != http.StatusSeeOther || again.location() != first.location() {
				t.Errorf("%s sent twice by the same browser: %d to %q, want 303 to %q", again.call, again.status, again.location(), first.location())
			}

			// The attacker: another client, the same form name and fields,
			// the same fetch metadata, no cookie.
			attacker := d.browser(t)
			r := attacker.post(t, path, form, fetch...)
			r.wantStatus(t, http.StatusSeeOther)
			if r.location() == first.location() {
				t.Fatalf("a third party posting the victim's form name reached the victim's status page %q", r.location())
			}
			if !statusPathRE.MatchString(r.location()) {
				t.Fatalf("%s: Location %q, want a status page of its own", r.call, r.location())
			}
		})
	}
}
