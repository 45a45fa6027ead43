package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
)

// countDeliveries is the number of webhook deliveries ever queued.
func (d *desk) countDeliveries(t *testing.T) int64 {
	t.Helper()
	return d.exec(t, `UPDATE webhook_deliveries SET attempts = attempts`)
}

// TestDismissedLinkCycle is issue 12's dismissed-link cycle through the
// pages: a lead dismisses a case as the holder's own address, and the same
// link, clicked again, must open no case and queue no webhook; the report
// lands on the dismissed case and /leads shows it. With the account held,
// another link of the same account does the same.
func TestDismissedLinkCycle(t *testing.T) {
	for _, tt := range []struct {
		hold      string
		otherHeld bool
	}{
		{cases.HoldLink, false},
		{cases.HoldAccount, true},
	} {
		t.Run(tt.hold, func(t *testing.T) {
			d := newDesk(t)
			d.addUser(t, "lead@desk.example", cases.RoleLead, true)
			key := d.readKey(t)
			link := d.mint(t, "ACC-1", "order_confirmation").Token
			ref, _ := d.browser(t).report(t, link, nil)
			if d.countDeliveries(t) == 0 {
				t.Fatalf("the first click queued no webhook; the test needs one")
			}

			lead := d.login(t, "lead@desk.example")
			page := lead.get(t, "/cases/"+ref)
			for _, want := range []string{`name="hold" value="link" checked`, `name="hold" value="account"`} {
				if !strings.Contains(page.body, want) {
					t.Errorf("%s: the dismiss form lacks %q", page.call, want)
				}
			}
			tok := lead.csrf(t, "/cases/"+ref)
			lead.post(t, "/cases/"+ref+"/status", url.Values{"_csrf": {tok}, "status": {"dismissed"},
				"reason": {"the address was the holder's own"}, "hold": {tt.hold}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
			deliveries, n := d.countDeliveries(t), len(d.allCases(t, key))

			for i := 0; i < 3; i++ {
				again, status := d.browser(t).report(t, link, nil)
				if again != ref {
					t.Fatalf("click %d after the dismissal filed on %s, want the dismissed %s", i+1, again, ref)
				}
				// Its reporter is told what any new report's is: received.
				if page := d.browser(t).get(t, status); !strings.Contains(page.body, "stage-received") {
					t.Errorf("GET %s after a held click: not the received stage; the page tells of the hold:\n%s", status, clip(page.body))
				}
			}
			other := d.mint(t, "ACC-1", "order_confirmation").Token
			if got, _ := d.browser(t).report(t, other, nil); (got == ref) != tt.otherHeld {
				t.Errorf("another link of ACC-1 filed on %s; held = %v, want %v", got, got == ref, tt.otherHeld)
			}
			if !tt.otherHeld {
				n++
				deliveries = d.countDeliveries(t)
			}
			if got := d.countDeliveries(t); got != deliveries {
				t.Errorf("webhook deliveries = %d after the held clicks, want %d", got, deliveries)
			}
			if got := len(d.allCases(t, key)); got != n {
				t.Errorf("cases = %d after the held clicks, want %d", got, n)
			}
			c := d.caseByRef(t, key, ref)
			if c.Status != "dismissed" {
				t.Errorf("case %s is %s, want it to stay dismissed", ref, c.Status)
			}

			page = lead.get(t, "/cases/"+ref)
			if got := strings.Count(page.body, "Report on a dismissed case: its "+tt.hold+" is held by the dismissal"); got < 3 {
				t.Errorf("%s: %d held-report events on the timeline, want one per click", page.call, got)
			}
			leads := lead.get(t, "/leads")
			leads.wantStatus(t, http.StatusOK)
			if !strings.Contains(leads.body, `id="on-dismissed"`) || !strings.Contains(leads.body, `href="/cases/`+ref+`#timeline"`) {
				t.Errorf("%s does not list %s among the reports on dismissed cases", leads.call, ref)
			}
		})
	}
}
