package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"notme/app"
)

// TestForgedLinkFlood is issue 12's forged-link flood through the pages:
// thirty POSTs of distinct forged links from three addresses (behind a
// trusted proxy, which names them in X-Forwarded-For) open one triage
// case per address, and all thirty reports are filed.
func TestForgedLinkFlood(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.HTTP.TrustedProxies = []string{"127.0.0.0/8", "::1/128"} })
	key := d.readKey(t)
	addrs := []string{"198.51.100.7", "203.0.113.9", "2001:db8::1"}
	for i := 0; i < 30; i++ {
		b := d.browser(t)
		path := "/r/forged-" + randomString(24)
		tok := b.csrf(t, path)
		r := b.post(t, path, url.Values{"_csrf": {tok}}, "X-Forwarded-For", addrs[i%3])
		r.wantStatus(t, http.StatusSeeOther)
	}
	all := d.allCases(t, key)
	if len(all) > 3 {
		t.Errorf("cases = %d after 30 forged links from 3 addresses, want at most 3", len(all))
	}
	reports := 0
	for _, c := range all {
		if c.Match != "unmatched" {
			t.Errorf("case %s: match %s, want unmatched", c.Ref, c.Match)
		}
		reports += len(d.caseByRef(t, key, c.Ref).Reports)
	}
	if reports != 30 {
		t.Errorf("reports filed = %d, want all 30", reports)
	}
}
