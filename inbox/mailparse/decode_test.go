package mailparse

import (
	"maps"
	"strings"
	"testing"
)

func TestDecodeWords(t *testing.T) {
	tests := []struct {
		in, want, problem string
	}{
		{"=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "こんにちは", ""},
		{"Re: =?utf-8?q?caf=C3=A9_au_lait?=", "Re: café au lait", ""},
		// a multi-byte character split across two words (RFC 2047 forbids
		// it, Japanese mailers do it)
		{"=?UTF-8?Q?=E3=81?= =?UTF-8?Q?=82?=", "あ", ""},
		{"=?UTF-8*ja?Q?=E3=81=82?=", "あ", ""},                     // RFC 2231 section 5 language
		{"=?shift_jis?B?gqA=?= x", "あ x", ""},                     // white space after the last word stays
		{"\x1b$B$\"\x1b(B", "あ", ""},                              // raw ISO-2022-JP, no encoded word
		{"\x82\xa0\x82\xa2\x82\xa4\x82\xa6\x82\xa8", "あいうえお", ""}, // raw Shift_JIS
		{"=?x-nope?Q?abc?=", "abc", "unknown charset x-nope in a header"},
		{"=?utf-8?B?broken", "=?utf-8?B?broken", ""},
	}
	for _, tt := range tests {
		p := newParser(Options{})
		if got := p.decodeWords(tt.in); got != tt.want {
			t.Errorf("decodeWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.problem != "" && (len(p.problems) == 0 || p.problems[0] != tt.problem) {
			t.Errorf("decodeWords(%q) problems = %q, want %q", tt.in, p.problems, tt.problem)
		}
	}
}

func TestParseMediaType(t *testing.T) {
	tests := []struct {
		in, typ string
		params  map[string]string
	}{
		{`text/plain; charset="iso-2022-jp"`, "text/plain", map[string]string{"charset": "iso-2022-jp"}},
		{`TEXT`, "text/plain", map[string]string{}},
		{`multipart/mixed; boundary=----=_NextPart_000_0001_01D8=; charset=x`, "multipart/mixed",
			map[string]string{"boundary": "----=_NextPart_000_0001_01D8=", "charset": "x"}},
		{`text/plain; charset=us-ascii; charset=utf-8`, "text/plain", map[string]string{"charset": "us-ascii"}},
		// RFC 2231 sections 3 and 4: continuations and a charset
		{`attachment; filename*0*=UTF-8''%E3%81%82; filename*1*=%E3%81%84.eml`, "attachment", map[string]string{"filename": "あい.eml"}},
		{`attachment; filename*=iso-2022-jp''%1B%24B%24%22%1B%28B.eml`, "attachment", map[string]string{"filename": "あ.eml"}},
		{`multipart/report; report-type="delivery-status";` + "\r\n\t" + `boundary="b/1"`, "multipart/report",
			map[string]string{"report-type": "delivery-status", "boundary": "b/1"}},
	}
	for _, tt := range tests {
		typ, params := parseMediaType(tt.in)
		if !strings.Contains(tt.typ, "/") {
			typ, params = parseParams(tt.in)
		}
		if typ != tt.typ || !maps.Equal(params, tt.params) {
			t.Errorf("parseMediaType(%q) = %q, %v; want %q, %v", tt.in, typ, params, tt.typ, tt.params)
		}
	}
}

func TestDecodeQP(t *testing.T) {
	in := "a=3Db=\r\nc =\nd=ZZ e=  \r\nf\x1b$B"
	if got, want := string(decodeQP([]byte(in))), "a=bc d=ZZ ef\x1b$B"; got != want {
		t.Errorf("decodeQP(%q) = %q, want %q", in, got, want)
	}
}

func TestSafeLinks(t *testing.T) {
	tok := "AQ" + strings.Repeat("s", 86)
	raw := "From: a@example.org\r\nSubject: FW: x\r\nContent-Type: text/html\r\n\r\n" +
		`<a href="https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fdesk.example.com%2Fr%2F` + tok + `&amp;data=05%7C02">Not me</a>`
	r := Parse([]byte(raw), Options{LinkHosts: []string{"desk.example.com"}})
	if len(r.Tokens) != 1 || r.Tokens[0] != tok || r.Sources[tok] != SourceLink {
		t.Errorf("Tokens = %q (sources %v), want the token behind Safe Links", r.Tokens, r.Sources)
	}
}

func TestBareTokenInJapanese(t *testing.T) {
	tok := "AQ" + strings.Repeat("j", 86)
	raw := "From: a@example.jp\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nトークン：" + tok + "です\r\n" +
		"not a bare one: https://other.example/path/" + "AQ" + strings.Repeat("k", 86) + "\r\n"
	r := Parse([]byte(raw), Options{})
	if len(r.Tokens) != 1 || r.Tokens[0] != tok || r.Sources[tok] != SourceBody {
		t.Errorf("Tokens = %q, want only %q from the body", r.Tokens, tok)
	}
	if r.Lang != "ja" {
		t.Errorf("Lang = %q, want ja", r.Lang)
	}
}

// TestDoNotAnswerButRead: some fields forbid an automatic answer without
// making the mail generated; a person's report behind them is still a
// report.
func TestDoNotAnswerButRead(t *testing.T) {
	for field, auto := range map[string]string{
		"X-Auto-Response-Suppress: RN, NRN": "x-auto-response-suppress",
		"Precedence: list":                  "precedence: list",
	} {
		raw := "From: a@example.org\r\n" + field + "\r\nIn-Reply-To: <x@shop.example>\r\nSubject: Re: hi\r\n\r\nnot me\r\n"
		r := Parse([]byte(raw), Options{})
		if r.Class != ClassReport || r.Auto != auto {
			t.Errorf("Parse(%s) = class %q auto %q, want report, %q", field, r.Class, r.Auto, auto)
		}
	}
	// a parcel company's "we called while you were out" is not a vacation reply
	raw := "From: a@example.jp\r\nSubject: =?UTF-8?B?" + "44GU5LiN5Zyo6YCj57Wh56Wo44Gu44GK55+l44KJ44Gb" + "?=\r\n\r\nx\r\n"
	if r := Parse([]byte(raw), Options{}); r.Class == ClassAutoReply {
		t.Errorf("Parse(subject %q) = auto-reply, want a person's mail", r.Subject)
	}
}
