package ui_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// Issue 12: /report's first step is no oracle for the ledger. A pasted
// Message-ID the desk sent and an unknown one of the same shape give
// previews that differ only in the pasted id itself: no "found", no sent
// date, no kind.
func TestReportPreviewIsNoOracle(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	sent := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	d.register(t, cases.LedgerMessage{MessageID: "<order-1002@shop.example>", AccountRef: "acct-oracle",
		Recipient: "someone@example.net", Kind: "order_confirmation", SentAt: &sent})
	submission := regexp.MustCompile(`name="submission" value="[^"]*"`)
	csrf := regexp.MustCompile(`name="_csrf" value="[^"]*"`)

	for _, lang := range []string{"en", "ja"} {
		preview := func(id string) string {
			b := d.browser(t)
			form := formOf(b.get(t, "/report?lang="+lang).body)
			form.Set("text", "From: Shop <no-reply@shop.example>\nMessage-ID: <"+id+">\nSubject: Your order\n")
			r := b.post(t, "/report", form)
			r.wantStatus(t, http.StatusOK)
			body := submission.ReplaceAllString(r.body, `name="submission" value=""`)
			body = csrf.ReplaceAllString(body, `name="_csrf" value=""`)
			return body
		}
		known := preview("order-1002@shop.example")
		unknown := preview("order-1003@shop.example")
		if !strings.Contains(known, "order-1002@shop.example") {
			t.Errorf("lang=%s: the preview does not show the pasted Message-ID:\n%s", lang, clip(known))
		}
		if strings.ReplaceAll(known, "order-1002@", "order-100X@") != strings.ReplaceAll(unknown, "order-1003@", "order-100X@") {
			t.Errorf("lang=%s: previews of a ledger and an unknown Message-ID differ beyond the id:\n--- ledger\n%s\n--- unknown\n%s", lang, clip(known), clip(unknown))
		}
	}
	if n := len(d.allCases(t, key)); n != 0 {
		t.Fatalf("after previews only: %d cases, want none filed", n)
	}
}
