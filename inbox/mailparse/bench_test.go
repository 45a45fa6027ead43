package mailparse

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchmarkParse parses raw b.N times and reports MB/s (SetBytes) and
// mails/s.
func benchmarkParse(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(raw, testOptions)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
}

// BenchmarkParse4KB: a typical report, the Gmail forward with text and HTML
// alternatives, padded to 4 KB with more of its own quoted text.
func BenchmarkParse4KB(b *testing.B) {
	benchmarkParse(b, sizedFixture(b, "fwd_gmail_en.eml", 4<<10))
}

// BenchmarkParse100KB: the Outlook forward with its HTML part grown to
// 100 KB, as Outlook's markup makes it.
func BenchmarkParse100KB(b *testing.B) {
	benchmarkParse(b, sizedFixture(b, "fwd_outlook_desktop_en.eml", 100<<10))
}

// sizedFixture pads a fixture's first text part to size bytes with lines of
// quoted text before its final boundary.
func sizedFixture(b *testing.B, name string, size int) []byte {
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	if len(raw) >= size {
		return raw
	}
	end := bytes.LastIndex(raw, []byte("\r\n--"))
	if end < 0 {
		b.Fatalf("%s has no closing boundary to pad before", name)
	}
	line := "> Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
	pad := strings.Repeat(line, (size-len(raw))/len(line)+1)
	out := append([]byte{}, raw[:end]...)
	out = append(out, "\r\n"+pad[:size-len(raw)-2]...)
	return append(out, raw[end:]...)
}

// BenchmarkParseRewriteLookalikes: 1 MB of text that starts a rewritten
// link over and over and never finishes one ("<https://urldefense.com/v3/__…"
// with no "__;", "safelinks." with no "?url="); the work stays linear.
func BenchmarkParseRewriteLookalikes(b *testing.B) {
	unit := "<https://urldefense.com/v3/__https://desk.example.com/r/AQ\r\n> nam1.safelinks.protection.outlook.com/x urldefense.proofpoint.com/v2/url?d=1 "
	raw := "From: a@example.org\r\nTo: notme@desk.example.com\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat(unit, (1<<20)/len(unit))
	benchmarkParse(b, []byte(raw))
}
