package ui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"notme/app"
	"notme/cases"
	"notme/ui"
)

// longMail is a report mail whose text and HTML bodies are longer than a
// few KB, each ending in a marker, with a binary attachment.
func longMail(t *testing.T, attachment []byte) []byte {
	t.Helper()
	var m bytes.Buffer
	m.WriteString("From: Hanako <hanako@example.net>\r\nTo: report@desk.example\r\nSubject: a long one\r\n" +
		"Message-ID: <long-" + randomString(8) + "@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	m.WriteString("--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n")
	m.WriteString("--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFIRST-WORDS of the text. " +
		strings.Repeat("This is not my order. ", 400) + "END-OF-TEXT\r\n")
	m.WriteString("--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>FIRST-HTML</p>" +
		strings.Repeat("<p>Dear Hanako Yamada, your order is on its way.</p>\r\n", 200) + "<p>END-OF-HTML</p></body></html>\r\n--b2--\r\n")
	m.WriteString("--b1\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"photos.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(attachment)
	for len(enc) > 76 {
		m.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	m.WriteString(enc + "\r\n--b1--\r\n")
	return m.Bytes()
}

// ingestRaw takes raw in through the real pipeline and returns its mail id.
func (d *desk) ingestRaw(t *testing.T, raw []byte) int64 {
	t.Helper()
	got, err := d.app.Pipeline.Ingest(context.Background(), []cases.InboundMail{{Raw: raw}})
	if err != nil || len(got) != 1 || got[0].MailID == 0 {
		t.Fatalf("Pipeline.Ingest() = %+v, %v", got, err)
	}
	return got[0].MailID
}

func binaryBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>8)
	}
	return b
}

// TestEvidenceViewerCapped: with a cap of 1 KB, the viewer shows the
// start of the text and of the HTML and says, in English and Japanese,
// that it shortened them; the attachment still downloads whole and
// byte-exact, and its size on the page is the real one. The mail is
// rendered once for the page, the page again and the HTML frame.
func TestEvidenceViewerCapped(t *testing.T) {
	var renders atomic.Int32
	count := app.Option(func(o *ui.Options) {
		view := o.ViewMail
		o.ViewMail = func(raw []byte, l ui.ViewLimits) ui.MailView {
			if l.Keep == 0 {
				renders.Add(1)
			}
			return view(raw, l)
		}
	})
	d := newDeskWith(t, []app.Option{count}, func(c *app.Config) { c.Evidence.ViewMaxBytes = 1 << 10 })
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	att := binaryBytes(300 << 10)
	base := "/mail/" + itoa(d.ingestRaw(t, longMail(t, att)))
	agent := d.login(t, "agent@desk.example")

	r := agent.get(t, base)
	r.wantStatus(t, http.StatusOK)
	wantIn(t, r, "FIRST-WORDS", "Shown: the first 1 KB of this part only", "photos.zip", "307200 bytes")
	wantNotIn(t, r, "END-OF-TEXT")
	if n := strings.Count(r.body, "Shown: the first 1 KB"); n != 2 {
		t.Errorf("%s says %d times that it shortened a part, want 2 (the text and the HTML)", r.call, n)
	}
	ja := agent.get(t, base+"?lang=ja")
	wantIn(t, ja, "先頭の 1 KB のみ表示しています")

	h := agent.get(t, base+"/html")
	h.wantStatus(t, http.StatusOK)
	wantIn(t, h, "FIRST-HTML")
	wantNotIn(t, h, "END-OF-HTML")

	if n := renders.Load(); n != 1 {
		t.Errorf("the mail was rendered %d times for two pages and its HTML, want once (then cached)", n)
	}

	a := agent.get(t, base+"/attachments/1")
	a.wantStatus(t, http.StatusOK)
	if !bytes.Equal([]byte(a.body), att) {
		t.Errorf("%s = %d bytes, want the whole attachment, byte-exact (%d bytes)", a.call, len(a.body), len(att))
	}
	agent.get(t, base+"/attachments/2").wantStatus(t, http.StatusNotFound)
}

// TestEvidenceViewerBusy: with one render slot, taken by a render that
// the test holds, a viewer of another mail (and a download) waits its
// turn, then gets a calm 503 page with Retry-After in English and
// Japanese; once the render is done, the same viewer gets the mail.
func TestEvidenceViewerBusy(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	hold := app.Option(func(o *ui.Options) {
		view := o.ViewMail
		o.ViewMail = func(raw []byte, l ui.ViewLimits) ui.MailView {
			if bytes.Contains(raw, []byte("HOLD-THIS-ONE")) && l.Keep == 0 {
				entered <- struct{}{}
				<-release
			}
			return view(raw, l)
		}
	})
	d := newDeskWith(t, []app.Option{hold}, func(c *app.Config) {
		c.Evidence.MaxConcurrentViews = 1
		c.Evidence.ViewWait = app.Duration(1) // the shortest wait: the slot is held until the test releases it
	})
	// Released at the latest when the test ends, even failing: the
	// held render must not keep the server from closing.
	done := sync.OnceFunc(func() { close(release) })
	defer done()
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	held := "/mail/" + itoa(d.ingestRaw(t, append([]byte("X-Test: HOLD-THIS-ONE\r\n"), longMail(t, binaryBytes(10))...)))
	other := "/mail/" + itoa(d.ingestRaw(t, longMail(t, binaryBytes(10))))
	agent := d.login(t, "agent@desk.example")

	first := make(chan int, 1)
	go func() {
		resp, err := agent.c.Get(d.url + held)
		if err != nil {
			first <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered // the render of the first mail holds the only slot

	for _, p := range []string{other, other + "/html", other + "/attachments/1"} {
		r := agent.get(t, p)
		r.wantStatus(t, http.StatusServiceUnavailable)
		if got := r.header.Get("Retry-After"); got != "5" {
			t.Errorf("%s: Retry-After = %q, want 5", r.call, got)
		}
		wantIn(t, r, "The evidence viewer is busy", "Nothing is lost: try again in 5 seconds.")
	}
	ja := agent.get(t, other+"?lang=ja")
	ja.wantStatus(t, http.StatusServiceUnavailable)
	wantIn(t, ja, "証拠ビューアーが混み合っています", "何も失われていません")
	if n := len(d.audit(t, cases.AuditDownloadAttachment)); n != 0 {
		t.Errorf("audit log holds %d downloads after a busy answer, want 0", n)
	}

	done()
	if code := <-first; code != http.StatusOK {
		t.Fatalf("GET %s while held = %d, want 200 once released", held, code)
	}
	r := agent.get(t, other)
	r.wantStatus(t, http.StatusOK)
	wantIn(t, r, "FIRST-WORDS")
	agent.get(t, other+"/attachments/1").wantStatus(t, http.StatusOK)
}
