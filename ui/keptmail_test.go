package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// keptMail takes in, through the real pipeline, a mail that becomes no
// report: the evidence fixture as a new mail (no In-Reply-To) from an
// address the company never wrote to.
func (d *desk) keptMail(t *testing.T) int64 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "inbox", "mailparse", "testdata", "view", "html_attachments_en.eml"))
	if err != nil {
		t.Fatal(err)
	}
	raw = regexp.MustCompile(`(?m)^In-Reply-To: .*\r?\n`).ReplaceAll(raw, nil)
	got, err := d.app.Pipeline.Ingest(context.Background(), []cases.InboundMail{{Raw: raw}})
	if err != nil || len(got) != 1 {
		t.Fatalf("Pipeline.Ingest() = %v, %v", got, err)
	}
	if g := got[0]; g.Disposition != cases.DispositionIgnored || g.Reason != cases.ReasonUnrelated || g.CaseRef != "" {
		t.Fatalf("Pipeline.Ingest() = %+v, want kept as unrelated, on no case", g)
	}
	return got[0].MailID
}

// TestKeptMailViewer: every mail the desk keeps can be read from /mail
// before anyone opens a case from it, under the evidence viewer's rules:
// security-trained staff only, addresses masked, the HTML sanitized in a
// sandboxed frame, downloads saved and audited; in English and Japanese.
func TestKeptMailViewer(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	id := d.keptMail(t)
	base := "/mail/" + itoa(id)
	agent := d.login(t, "agent@desk.example")

	list := agent.get(t, "/mail")
	wantIn(t, list, `<a href="`+base+`">Not mine – Ihre Bestellung</a>`)

	r := agent.get(t, base)
	r.wantStatus(t, http.StatusOK)
	r.wantHTML(t)
	wantIn(t, r,
		`<a href="/mail">← Mail without a report</a>`,
		"<th scope=\"row\">Subject</th><td>Not mine – Ihre Bestellung</td>",
		"m***@example.net",
		"Hello, this is not my order. Link: https://shop.example.com/set-password?t=secret123</pre>",
		`<iframe class="ev-frame" sandbox src="`+base+`/html"`,
		"invoice.exe", `href="`+base+`/attachments/1"`,
		"none yet: this mail did not become a report",
		`action="`+base+`/case"`, "Open a case",
		"once a case is opened from this mail, they can be revealed",
		"<dt>Class</dt><dd>unrelated</dd>")
	wantNotIn(t, r, "max@example.net", `href="https://shop.example.com`, "#addresses", "?ev.", "(unrelated)")
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("%s: Content-Security-Policy = %q, want the strict policy plus frame-src 'self' only", r.call, csp)
	}

	h := agent.get(t, base+"/html")
	h.wantStatus(t, http.StatusOK)
	wantIn(t, h, "Set your password")
	wantNotIn(t, h, "tracker.example.net", "secret123", "<script", "<img", "href", "onload")
	if hcsp := h.header.Get("Content-Security-Policy"); hcsp != "default-src 'none'; sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'" {
		t.Errorf("%s: Content-Security-Policy = %q, want the sandboxed mail policy", h.call, hcsp)
	}
	if xfo := h.header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
		t.Errorf("%s: X-Frame-Options = %q, want SAMEORIGIN", h.call, xfo)
	}

	a := agent.get(t, base+"/attachments/1")
	a.wantStatus(t, http.StatusOK)
	if cd, ct := a.header.Get("Content-Disposition"), a.header.Get("Content-Type"); cd != "attachment; filename=invoice.exe" || ct != "application/octet-stream" {
		t.Errorf("%s: Content-Disposition %q, Content-Type %q; want a download of invoice.exe as bytes", a.call, cd, ct)
	}
	log := d.audit(t, cases.AuditDownloadAttachment)
	if len(log) != 1 || log[0].Actor != "user:agent@desk.example" || log[0].Subject != "mail:"+itoa(id) ||
		!strings.Contains(log[0].Detail, `"invoice.exe"`) {
		t.Fatalf("audit log of downloads = %+v, want one entry: the agent, mail:%d, invoice.exe", log, id)
	}

	// In Japanese, every word of the page.
	ja := agent.get(t, base+"?lang=ja")
	ja.wantStatus(t, http.StatusOK)
	wantJapanese(t, ja, "Not mine", "Ihre Bestellung", "invoice.exe", "receipt.html")
	wantIn(t, ja, "← 報告にならなかったメール", "メールの証跡", "なし（このメールは報告として扱われていません）", "案件を起票する", "添付ファイル")
	agent.get(t, "/mail?lang=en")

	// Nobody else reads it; unknown mail is not found.
	parcel := d.login(t, "parcel@desk.example")
	for _, p := range []string{base, base + "/html", base + "/attachments/1"} {
		parcel.get(t, p).wantStatus(t, http.StatusForbidden)
		if r := d.browser(t).get(t, p); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/login") {
			t.Errorf("%s logged out = %d to %q, want 303 to /login", r.call, r.status, r.location())
		}
	}
	for _, p := range []string{"/mail/999999", "/mail/999999/html", "/mail/999999/attachments/1", "/mail/x", "/mail/0",
		base + "/attachments/9", base + "/html?part=forwarded"} {
		agent.get(t, p).wantStatus(t, http.StatusNotFound)
	}
	if n := len(d.audit(t, cases.AuditDownloadAttachment)); n != 1 {
		t.Errorf("audit log holds %d downloads after refused ones, want 1", n)
	}

	// Read, then decided: a case is opened from the viewer. The mail now
	// belongs to it; its downloads are the case's in the audit log.
	open := agent.post(t, base+"/case", url.Values{"_csrf": {agent.csrf(t, base)}})
	open.wantStatus(t, http.StatusSeeOther)
	ref := strings.TrimPrefix(open.location(), "/cases/")
	if !strings.HasPrefix(ref, "NM-") {
		t.Fatalf("%s: Location = %q, want the new case", open.call, open.location())
	}
	r = agent.get(t, base)
	wantIn(t, r, `<a href="/cases/`+ref+`">`+ref+`</a>`, `<a href="/cases/`+ref+`#addresses">`)
	wantNotIn(t, r, `action="`+base+`/case"`)
	agent.get(t, base+"/attachments/2").wantStatus(t, http.StatusOK)
	if log := d.audit(t, cases.AuditDownloadAttachment); len(log) != 2 || log[0].Subject != "case:"+ref {
		t.Errorf("audit log of downloads = %+v, want the newest on case:%s", log, ref)
	}

	// Retention: the page of a kept mail says what is left of it.
	other := d.keptMail(t)
	if n, err := d.app.Service.PurgeEvidence(context.Background(), time.Nanosecond, 0); err != nil || n == 0 {
		t.Fatalf("PurgeEvidence() = %d, %v", n, err)
	}
	r = agent.get(t, "/mail/"+itoa(other))
	r.wantStatus(t, http.StatusOK)
	if !regexp.MustCompile(`Raw mail purged on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Retention removed the mail itself; what the desk recorded of it`).MatchString(r.body) {
		t.Errorf("%s after retention lacks what is left of the mail:\n%s", r.call, clip(r.body))
	}
	wantNotIn(t, r, "invoice.exe", "Hello, this is not my order")
	agent.get(t, "/mail/"+itoa(other)+"/attachments/1").wantStatus(t, http.StatusNotFound)
}
