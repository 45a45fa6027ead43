package ui_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
)

// TestQueueFiltersFold: the queue's filters sit in a section a phone folds
// (console.js, data-fold-narrow), sent open so that a desktop and a browser
// without script show them; its summary names the filters in force, so a
// folded, filtered queue still says what it leaves out.
func TestQueueFiltersFold(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.browser(t).report(t, d.mint(t, "ACC-1", "registration").Token, nil)
	agent := d.login(t, "agent@desk.example")
	summary := regexp.MustCompile(`<details class="fold" open data-fold-narrow>\s*<summary>([^<]*)</summary>`)
	for _, tc := range []struct {
		path, want string
	}{
		{"/queue", "Filters"},
		{"/queue?severity=high", "Filters · high"},
		{"/queue?severity=high&status=all", "Filters · high · all"},
		{"/queue?severity=high&lang=ja", "絞り込み · 高"},
	} {
		p := agent.get(t, tc.path)
		p.wantStatus(t, http.StatusOK)
		m := summary.FindStringSubmatch(p.body)
		if m == nil {
			t.Errorf("%s has no open, foldable filters section", p.call)
			continue
		}
		if got := strings.TrimSpace(m[1]); got != tc.want {
			t.Errorf("%s filters summary = %q, want %q", p.call, got, tc.want)
		}
	}
}
