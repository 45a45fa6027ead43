package mailparse

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func headerValue(hs []HeaderField, name string) string {
	for _, h := range hs {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func TestViewHTMLAndAttachments(t *testing.T) {
	v := View(readFixture(t, "view/html_attachments_en.eml"), Options{})
	if got := headerValue(v.Headers, "Subject"); got != "Not mine – Ihre Bestellung" {
		t.Errorf("View().Headers Subject = %q, want the RFC 2047 decoded subject", got)
	}
	if got := headerValue(v.Headers, "Message-ID"); got != "<evidence-html-1@example.net>" {
		t.Errorf("View().Headers Message-ID = %q", got)
	}
	if !strings.HasPrefix(v.Text, "Hello, this is not my order.") || strings.Contains(v.Text, "<p>") {
		t.Errorf("View().Text = %q, want the text/plain alternative only", v.Text)
	}
	if !strings.Contains(v.HTML, "Dear Hanako Yamada") {
		t.Errorf("View().HTML = %q, want the text/html alternative", v.HTML)
	}
	want := []struct{ name, typ string }{{"invoice.exe", "application/x-msdownload"}, {"receipt.html", "text/html"}, {"領収書.svg", "image/svg+xml"}}
	if len(v.Attachments) != len(want) {
		t.Fatalf("View().Attachments = %d, want %d", len(v.Attachments), len(want))
	}
	for i, w := range want {
		a := v.Attachments[i]
		if a.Name != w.name || a.Type != w.typ || len(a.Data) == 0 {
			t.Errorf("View().Attachments[%d] = %q %s (%d bytes), want %q %s", i, a.Name, a.Type, len(a.Data), w.name, w.typ)
		}
	}
	if !bytes.HasPrefix(v.Attachments[0].Data, []byte("MZ")) {
		t.Errorf("View() invoice.exe = % x…, want the base64-decoded bytes", v.Attachments[0].Data[:4])
	}
	if v.Forwarded != nil {
		t.Errorf("View().Forwarded = %+v, want nil for a mail that forwards nothing", v.Forwarded)
	}
}

func TestViewForwardedOriginal(t *testing.T) {
	for _, tc := range []struct {
		file, from, subject, text string
		inline                    bool
	}{
		{"fwd_attached_ja.eml", "ショップ例 <noreply@shop.example.jp>", "【ショップ例】会員登録完了のお知らせ", "健様\nご登録ありがとうございます。", false},
		{"fwd_thunderbird_ja.eml", "ショップ例 <noreply@shop.example.jp>", "【ショップ例】パスワード再設定のご案内", "パスワード再設定はこちら", true},
		{"fwd_gmail_ja.eml", "ショップ例 <noreply@shop.example.jp>", "【ショップ例】会員登録完了のお知らせ", "鈴木一郎 様", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			v := View(readFixture(t, tc.file), Options{})
			f := v.Forwarded
			if f == nil {
				t.Fatalf("View(%s).Forwarded = nil, want the forwarded original", tc.file)
			}
			if f.Inline != tc.inline {
				t.Errorf("View(%s).Forwarded.Inline = %v, want %v", tc.file, f.Inline, tc.inline)
			}
			if got := headerValue(f.Headers, "From"); got != tc.from {
				t.Errorf("View(%s).Forwarded From = %q, want %q", tc.file, got, tc.from)
			}
			if got := headerValue(f.Headers, "Subject"); got != tc.subject {
				t.Errorf("View(%s).Forwarded Subject = %q, want %q", tc.file, got, tc.subject)
			}
			if !strings.HasPrefix(f.Text, tc.text) {
				t.Errorf("View(%s).Forwarded.Text = %q, want it to start %q", tc.file, f.Text, tc.text)
			}
		})
	}
}

func TestViewLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=a\r\n\r\n")
	for range 100 {
		b.WriteString("--a\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n")
	}
	b.WriteString("--a--\r\n")
	v := View([]byte(b.String()), Options{MaxParts: 10})
	if len(v.Attachments) > 10 {
		t.Errorf("View(100 parts, MaxParts 10).Attachments = %d, want at most 10", len(v.Attachments))
	}
	if !strings.Contains(strings.Join(v.Problems, "\n"), "part limit") {
		t.Errorf("View(100 parts, MaxParts 10).Problems = %q, want a part limit problem", v.Problems)
	}
	var deep strings.Builder
	for i := range 50 {
		deep.WriteString("Content-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n--b" + strconv.Itoa(i) + "\r\n")
	}
	deep.WriteString("\r\nbottom")
	v = View([]byte(deep.String()), Options{MaxDepth: 4})
	if !strings.Contains(strings.Join(v.Problems, "\n"), "depth limit") || strings.Contains(v.Text, "bottom") {
		t.Errorf("View(50 nested multiparts, MaxDepth 4) = text %q, problems %q; want a depth limit problem and no text", v.Text, v.Problems)
	}
}

// FuzzView: whatever the bytes, View returns without panicking, its text
// is valid UTF-8 and within bounds.
func FuzzView(f *testing.F) {
	for _, name := range fixtures(f) {
		f.Add(readFixture(f, filepath.Base(name)))
	}
	f.Add(readFixture(f, "view/html_attachments_en.eml"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\n--a--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v := View(raw, Options{MaxSize: 1 << 20, MaxParts: 50, MaxDepth: 6})
		for _, p := range v.Problems {
			if strings.HasPrefix(p, internalError) {
				t.Fatalf("View() panicked: %s", p)
			}
		}
		if len(v.Text) > maxViewText || len(v.HTML) > maxViewText {
			t.Fatalf("View() text %d, HTML %d bytes, want at most %d", len(v.Text), len(v.HTML), maxViewText)
		}
		total := 0
		for _, a := range v.Attachments {
			total += len(a.Data)
		}
		if total > 2<<20 {
			t.Fatalf("View() attachments hold %d bytes, want at most the decoded budget", total)
		}
	})
}

// TestViewLimited: the viewer's view keeps the start of each body, says
// so, and keeps only the bytes of the attachment it serves, while every
// attachment has the size and number View gives it.
func TestViewLimited(t *testing.T) {
	for _, file := range []string{"view/html_attachments_en.eml", "fwd_attached_ja.eml"} {
		raw := readFixture(t, file)
		full := View(raw, Options{})
		if len(full.Attachments) == 0 {
			t.Fatalf("View(%s) has no attachments; the test needs some", file)
		}
		none := ViewLimited(raw, Options{}, ViewLimits{MaxText: 16, Keep: func(int) bool { return false }})
		if len(none.Attachments) != len(full.Attachments) {
			t.Fatalf("ViewLimited(%s) has %d attachments, View %d", file, len(none.Attachments), len(full.Attachments))
		}
		for i, a := range none.Attachments {
			w := full.Attachments[i]
			if a.Data != nil || a.Size != len(w.Data) || a.Size != w.Size || a.Name != w.Name || a.Type != w.Type {
				t.Errorf("ViewLimited(%s) attachment %d = %q %s %d bytes (data %d), want %q %s %d bytes, no data",
					file, i+1, a.Name, a.Type, a.Size, len(a.Data), w.Name, w.Type, len(w.Data))
			}
		}
		if full.Text != "" && (len(none.Text) > 16 || !none.TextClipped || full.TextClipped) {
			t.Errorf("ViewLimited(%s, MaxText 16).Text = %q clipped %v (View: clipped %v), want 16 bytes at most, clipped",
				file, none.Text, none.TextClipped, full.TextClipped)
		}
		if full.HTML != "" && (len(none.HTML) > 16 || !none.HTMLClipped) {
			t.Errorf("ViewLimited(%s, MaxText 16).HTML = %q clipped %v, want 16 bytes at most, clipped", file, none.HTML, none.HTMLClipped)
		}
		last := len(full.Attachments)
		one := ViewLimited(raw, Options{}, ViewLimits{Keep: func(n int) bool { return n == last }})
		if got := one.Attachments[last-1].Data; !bytes.Equal(got, full.Attachments[last-1].Data) {
			t.Errorf("ViewLimited(%s, Keep %d) attachment %d = %d bytes, want View's %d", file, last, last, len(got), len(full.Attachments[last-1].Data))
		}
		if last > 1 && one.Attachments[0].Data != nil {
			t.Errorf("ViewLimited(%s, Keep %d) kept attachment 1's bytes", file, last)
		}
	}
}
