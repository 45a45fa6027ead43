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

// ingestFixture takes a mail of the parser's corpus in through the real
// pipeline and returns its mail id and case.
func (d *desk) ingestFixture(t *testing.T, name string) (mailID int64, ref string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "inbox", "mailparse", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.app.Pipeline.Ingest(context.Background(), []cases.InboundMail{{Raw: raw}})
	if err != nil || len(got) != 1 {
		t.Fatalf("Pipeline.Ingest(%s) = %v, %v", name, got, err)
	}
	if got[0].CaseRef == "" {
		t.Fatalf("Pipeline.Ingest(%s) = %+v, want a report on a case", name, got[0])
	}
	return got[0].MailID, got[0].CaseRef
}

func (d *desk) audit(t *testing.T, action string) []cases.AuditEntry {
	t.Helper()
	all, err := d.app.Service.AuditLog(context.Background(), cases.Actor{User: &cases.User{Role: cases.RoleAdmin}}, 100)
	if err != nil {
		t.Fatalf("AuditLog() = %v", err)
	}
	var out []cases.AuditEntry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func wantIn(t *testing.T, r response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.body, w) {
			t.Errorf("%s lacks %q", r.call, w)
		}
	}
}

func wantNotIn(t *testing.T, r response, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(r.body, w) {
			t.Errorf("%s shows %q", r.call, w)
		}
	}
}

// TestEvidenceViewer: staff read a report mail's headers, text, sanitized
// HTML and attachments; the HTML cannot load or run anything, downloads
// are saved rather than opened and are audited.
func TestEvidenceViewer(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	id, ref := d.ingestFixture(t, "view/html_attachments_en.eml")
	base := "/cases/" + ref + "/mail/" + itoa(id)
	agent := d.login(t, "agent@desk.example")

	c := agent.get(t, "/cases/"+ref)
	wantIn(t, c, `href="`+base+`"`)

	r := agent.get(t, base)
	r.wantStatus(t, http.StatusOK)
	r.wantHTML(t)
	wantIn(t, r,
		"<th scope=\"row\">Subject</th><td>Not mine – Ihre Bestellung</td>", // RFC 2047 decoded
		"m***@example.net",                    // the reporter, masked
		"&lt;evidence-html-1@example.net&gt;", // Message-IDs stay readable
		"Hello, this is not my order. Link: https://shop.example.com/set-password?t=secret123</pre>",
		`<iframe class="ev-frame" sandbox src="`+base+`/html"`,
		"invoice.exe", "receipt.html", "領収書.svg", `href="`+base+`/attachments/1"`)
	wantNotIn(t, r, "max@example.net", `href="https://shop.example.com`, "Forwarded original")
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("%s: Content-Security-Policy = %q, want the strict policy plus frame-src 'self' only", r.call, csp)
	}

	// The HTML part: sanitized, sandboxed, framable by this site only.
	h := agent.get(t, base+"/html")
	h.wantStatus(t, http.StatusOK)
	wantIn(t, h, "Dear Hanako Yamada", "Set your password", "3,000 yen", `<meta charset="utf-8">`)
	wantNotIn(t, h, "tracker.example.net", "evil.example.net", "secret123", "<script", "<img", "href", "<form", "<input",
		"<iframe", "<style", "style=", "onload", "document.cookie")
	hcsp := h.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "sandbox", "frame-ancestors 'self'"} {
		if !strings.Contains(hcsp, want) {
			t.Errorf("%s: Content-Security-Policy = %q, want %q", h.call, hcsp, want)
		}
	}
	if strings.Contains(hcsp, "allow-scripts") || strings.Contains(hcsp, "allow-same-origin") || strings.Contains(hcsp, "unsafe") {
		t.Errorf("%s: Content-Security-Policy = %q loosens the sandbox", h.call, hcsp)
	}
	if xfo := h.header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
		t.Errorf("%s: X-Frame-Options = %q, want SAMEORIGIN", h.call, xfo)
	}

	// Downloads: saved, never sniffed or rendered; each one audited.
	for _, tc := range []struct {
		n, disposition, typ, prefix string
	}{
		{"1", `attachment; filename=invoice.exe`, "application/octet-stream", "MZ"},
		{"2", `attachment; filename=receipt.html`, "application/octet-stream", "<html><script>"},
		{"3", `attachment; filename*=utf-8''%E9%A0%98%E5%8F%8E%E6%9B%B8.svg`, "application/octet-stream", "<svg"},
	} {
		a := agent.get(t, base+"/attachments/"+tc.n)
		a.wantStatus(t, http.StatusOK)
		if got := a.header.Get("Content-Disposition"); got != tc.disposition {
			t.Errorf("%s: Content-Disposition = %q, want %q", a.call, got, tc.disposition)
		}
		if got := a.header.Get("Content-Type"); got != tc.typ {
			t.Errorf("%s: Content-Type = %q, want %q", a.call, got, tc.typ)
		}
		if got := a.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", a.call, got)
		}
		if !strings.HasPrefix(a.body, tc.prefix) {
			t.Errorf("%s: body %q, want the decoded attachment starting %q", a.call, clip(a.body), tc.prefix)
		}
	}
	log := d.audit(t, cases.AuditDownloadAttachment)
	if len(log) != 3 {
		t.Fatalf("audit log holds %d downloads after 3, want 3: %+v", len(log), log)
	}
	last := log[len(log)-1] // newest first: the first download is last
	if last.Actor != "user:agent@desk.example" || last.Subject != "case:"+ref ||
		!strings.Contains(last.Detail, "mail "+itoa(id)) || !strings.Contains(last.Detail, `"invoice.exe"`) {
		t.Errorf("audit entry of the first download = %+v, want who, the case, the mail and invoice.exe", last)
	}
	agent.get(t, base+"/attachments/4").wantStatus(t, http.StatusNotFound)
	agent.get(t, base+"/attachments/0").wantStatus(t, http.StatusNotFound)

	// Staff without the security-trained flag see nothing and download
	// nothing; nobody logged out sees anything.
	parcel := d.login(t, "parcel@desk.example")
	for _, p := range []string{base, base + "/html", base + "/attachments/1"} {
		parcel.get(t, p).wantStatus(t, http.StatusForbidden)
		if r := d.browser(t).get(t, p); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/login") {
			t.Errorf("%s logged out = %d to %q, want 303 to /login", r.call, r.status, r.location())
		}
	}
	if n := len(d.audit(t, cases.AuditDownloadAttachment)); n != 3 {
		t.Errorf("audit log holds %d downloads after a refused one, want 3", n)
	}

	// A mail is only reachable through its own case.
	otherID, otherRef := d.ingestFixture(t, "fwd_attached_ja.eml")
	if otherRef == ref {
		t.Fatalf("both fixtures landed on case %s; the test needs two cases", ref)
	}
	for _, p := range []string{"", "/html", "/attachments/1"} {
		agent.get(t, "/cases/"+ref+"/mail/"+itoa(otherID)+p).wantStatus(t, http.StatusNotFound)
	}
	agent.get(t, "/cases/"+ref+"/mail/x").wantStatus(t, http.StatusNotFound)

	// Revealing the sender on the case page shows it in the headers too,
	// to this session only.
	form := url.Values{"field": {"mail:" + itoa(id)}, "reason": {"check the sender against the ledger"}}
	form.Set("_csrf", agent.csrf(t, "/cases/"+ref))
	agent.post(t, "/cases/"+ref+"/reveal", form).wantStatus(t, http.StatusSeeOther)
	wantIn(t, agent.get(t, base), "max@example.net")
	wantNotIn(t, d.login(t, "agent@desk.example").get(t, base), "max@example.net")

	// Retention: the page says when the raw mail went; nothing else is left.
	if n, err := d.app.Service.PurgeEvidence(context.Background(), time.Nanosecond, 0); err != nil || n == 0 {
		t.Fatalf("PurgeEvidence() = %d, %v", n, err)
	}
	r = agent.get(t, base)
	r.wantStatus(t, http.StatusOK)
	if !regexp.MustCompile(`Raw mail purged on \d{4}-\d\d-\d\d \d\d:\d\d UTC`).MatchString(r.body) {
		t.Errorf("%s after retention lacks \"Raw mail purged on DATE\":\n%s", r.call, clip(r.body))
	}
	wantNotIn(t, r, "invoice.exe", "Hello, this is not my order")
	agent.get(t, base+"/html").wantStatus(t, http.StatusNotFound)
	agent.get(t, base+"/attachments/1").wantStatus(t, http.StatusNotFound)
}

// TestEvidenceForwardedOriginal: a forwarded original, attached or inline,
// in ISO-2022-JP, is shown as such with its own headers and text.
func TestEvidenceForwardedOriginal(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	agent := d.login(t, "agent@desk.example")
	for _, tc := range []struct {
		file  string
		wants []string
		not   []string
	}{
		{"fwd_attached_ja.eml", []string{
			"添付のメールは私宛てではありません。", // the reporter's own ISO-2022-JP text
			"Forwarded original", "as a message.",
			"【ショップ例】会員登録完了のお知らせ", "ショップ例 &lt;n***@shop.example.jp&gt;", "k***@example.co.jp",
			"健様\nご登録ありがとうございます。", "forwarded.eml",
		}, []string{"ken@example.co.jp"}},
		{"fwd_thunderbird_ja.eml", []string{
			"Forwarded original", "Forwarded inline", "【ショップ例】パスワード再設定のご案内", "m***@example.ne.jp", "パスワード再設定はこちら",
		}, []string{"miki@example.ne.jp"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			id, ref := d.ingestFixture(t, tc.file)
			r := agent.get(t, "/cases/"+ref+"/mail/"+itoa(id))
			r.wantStatus(t, http.StatusOK)
			wantIn(t, r, tc.wants...)
			wantNotIn(t, r, tc.not...)
			wantNotIn(t, r, "<iframe") // no HTML part: no frame
		})
	}
}
