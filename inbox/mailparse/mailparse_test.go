package mailparse

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from Parse's output")

// testOptions are the desk's settings the fixtures were written for.
var testOptions = Options{
	OwnAddresses: []string{"notme@desk.example.com"},
	LinkHosts:    []string{"desk.example.com"},
}

func fixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata: %v", err)
	}
	return files
}

func resultJSON(t testing.TB, r Result) []byte {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatalf("json.Marshal(Result) = %v", err)
	}
	return append(b, '\n')
}

// TestGolden compares Parse's JSON for every fixture with its golden file;
// `go test ./inbox/mailparse -update` rewrites them.
func TestGolden(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := resultJSON(t, Parse(raw, testOptions))
			golden := strings.TrimSuffix(f, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Parse(%s) differs from %s (go test -update rewrites it):\n got: %s\nwant: %s", f, golden, got, want)
			}
		})
	}
}

func parseFile(t *testing.T, name string) Result {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(raw, testOptions)
}

// TestFixtureFacts states, beside the golden files, what each fixture is
// there to show, so that a careless -update cannot hide a regression.
func TestFixtureFacts(t *testing.T) {
	type want struct {
		class     Class
		auto      string
		lang      string
		firstID   string // prefix of MessageIDs[0]
		firstSrc  string
		tokenSrc  string // Sources[Tokens[0]]
		origFrom  string
		origSubj  string // prefix
		noIDs     bool
		problem   string // a substring of one problem
		textHas   string
		textLacks string
	}
	tests := map[string]want{
		"reply_gmail_en.eml":         {class: ClassReport, lang: "en", firstID: "nm1.", firstSrc: SourceInReplyTo, tokenSrc: SourceMessageIDToken, origFrom: "no-reply@mail.shop.example.com"},
		"reply_thread_en.eml":        {class: ClassReport, lang: "en", firstID: "20240301101500.4F3A2B@mail.shop.example.com", firstSrc: SourceReferences},
		"reply_docomo_ja.eml":        {class: ClassReport, lang: "ja", firstID: "20240301.103000.778899@", firstSrc: SourceInReplyTo, tokenSrc: SourceAddress},
		"fwd_gmail_en.eml":           {class: ClassReport, lang: "en", tokenSrc: SourceLink, origFrom: "no-reply@mail.shop.example.com", origSubj: "Welcome to Example Shop", noIDs: true},
		"fwd_gmail_ja.eml":           {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】会員登録完了", noIDs: true},
		"fwd_outlook_desktop_en.eml": {class: ClassReport, lang: "en", tokenSrc: SourceLink, origFrom: "no-reply@mail.shop.example.com", origSubj: "Your Example Shop membership card"},
		"fwd_outlook_web_en.eml":     {class: ClassReport, lang: "en", origFrom: "orders@mail.shop.example.com", origSubj: "Order confirmation #44817", noIDs: true},
		"fwd_outlook_mobile_en.eml":  {class: ClassReport, lang: "en", tokenSrc: SourceLink, origFrom: "no-reply@mail.shop.example.com", origSubj: "Reset your Example Shop password"},
		"fwd_apple_en.eml":           {class: ClassReport, lang: "en", firstSrc: SourceBody, tokenSrc: SourceAddress, origFrom: "no-reply@mail.shop.example.com", origSubj: "Your Example Shop account"},
		"fwd_outlook_mobile_ja.eml":  {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】メールアドレス確認", noIDs: true},
		"fwd_android_samsung_en.eml": {class: ClassReport, lang: "en", tokenSrc: SourceLink, origFrom: "no-reply@mail.shop.example.com", origSubj: "Verify your email", noIDs: true},
		"fwd_apple_ios_en.eml":       {class: ClassReport, lang: "en", tokenSrc: SourceAddress, origFrom: "no-reply@mail.shop.example.com", origSubj: "Your Example Shop order has shipped", noIDs: true},
		"fwd_apple_ios_ja.eml":       {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】会員カード発送"},
		"fwd_apple_mac_ja.eml":       {class: ClassReport, lang: "ja", origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】ご注文ありがとう", noIDs: true},
		"fwd_thunderbird_en.eml":     {class: ClassReport, lang: "en", tokenSrc: SourceAddress, origFrom: "no-reply@mail.shop.example.com", origSubj: "Your Example Shop password was changed"},
		"fwd_thunderbird_ja.eml":     {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】パスワード再設定"},
		"fwd_outlook_desktop_ja.eml": {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】会員登録完了"},
		"fwd_outlook_web_ja.eml":     {class: ClassReport, lang: "ja", origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】ご注文の確認", noIDs: true},
		// Links rewritten by mail filters (issue 12): Safe Links around
		// Proofpoint v3, and Proofpoint v2, each around a token ending in
		// '_' or '-'.
		"fwd_outlook_safelinks_proofpoint_en.eml": {class: ClassReport, lang: "en", tokenSrc: SourceLink, origFrom: "no-reply@mail.shop.example.com", origSubj: "Your Example Shop membership card"},
		"fwd_thunderbird_proofpoint_v2_en.eml":    {class: ClassReport, lang: "en", tokenSrc: SourceLink, origFrom: "no-reply@mail.shop.example.com", origSubj: "Welcome to Example Shop", noIDs: true},
		"fwd_docomo_ja.eml":                       {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】会員登録完了"},
		"fwd_au_ja.eml":                           {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】ポイント付与"},
		"fwd_yahoo_japan_ja.eml":                  {class: ClassReport, lang: "ja", tokenSrc: SourceLink, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】会員登録完了"},
		"fwd_attached_en.eml":                     {class: ClassReport, lang: "en", firstID: "nm1.", firstSrc: SourceAttachment, tokenSrc: SourceMessageIDToken, origFrom: "no-reply@mail.shop.example.com"},
		"fwd_attached_ja.eml":                     {class: ClassReport, lang: "ja", firstID: "20240301.103000.445566@", firstSrc: SourceAttachment, origFrom: "noreply@shop.example.jp", origSubj: "【ショップ例】会員登録完了"},
		"fwd_nested_attached.eml":                 {class: ClassReport, lang: "en", firstID: "aa11bb22cc33@example.net", firstSrc: SourceAttachment, tokenSrc: SourceMessageIDToken, origFrom: "lee@example.net"},
		"arf_en.eml":                              {class: ClassARF, auto: "arf", firstID: "nm1.", firstSrc: SourceARF, tokenSrc: SourceMessageIDToken, origFrom: "no-reply@mail.shop.example.com"},
		"xarf_en.eml":                             {class: ClassARF, auto: "arf", firstID: "nm1.", firstSrc: SourceARF, tokenSrc: SourceMessageIDToken},
		"dsn_postfix_en.eml":                      {class: ClassBounce, auto: "dsn", firstID: "nm1.", firstSrc: SourceHeaders, tokenSrc: SourceMessageIDToken},
		"bounce_carrier_ja.eml":                   {class: ClassBounce, auto: "dsn", lang: "ja", firstID: "20240301.103000.990011@", firstSrc: SourceHeaders, origFrom: "noreply@shop.example.jp"},
		"autoreply_oof_en.eml":                    {class: ClassAutoReply, auto: "auto-submitted: auto-generated", firstID: "nm1.", tokenSrc: SourceMessageIDToken},
		"vacation_ja.eml":                         {class: ClassAutoReply, auto: "vacation", lang: "ja", noIDs: true},
		"qp_split_link_en.eml":                    {class: ClassReport, tokenSrc: SourceLink, noIDs: true},
		"html_only_en.eml":                        {class: ClassReport, tokenSrc: SourceLink, noIDs: true, textHas: "I am not the person named", textLacks: "color:red"},
		"unknown_charset.eml":                     {class: ClassReport, tokenSrc: SourceLink, problem: "unknown charset x-unknown-2024"},
		"bom_lf.eml":                              {class: ClassReport, firstID: "20240301101500.4F3A2B@", firstSrc: SourceBody},
		// New mail, no reply nor forward: the parser finds nothing of an
		// original; the desk makes it a report when the sender is a ledger
		// recipient (cases.IngestMail).
		"new_mail_en.eml": {class: ClassUnrelated, lang: "en", noIDs: true, textHas: "I keep getting your emails"},
		"new_mail_ja.eml": {class: ClassUnrelated, lang: "ja", noIDs: true, textHas: "何度も届きます"},
	}
	for _, f := range fixtures(t) {
		if _, ok := tests[filepath.Base(f)]; !ok {
			t.Errorf("fixture %s has no entry in TestFixtureFacts", f)
		}
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			r := parseFile(t, name)
			if r.Class != w.class {
				t.Errorf("Class = %q, want %q", r.Class, w.class)
			}
			if r.Auto != w.auto && !(w.auto == "" && w.class == ClassReport && r.Auto == "") {
				t.Errorf("Auto = %q, want %q", r.Auto, w.auto)
			}
			if w.lang != "" && r.Lang != w.lang {
				t.Errorf("Lang = %q, want %q", r.Lang, w.lang)
			}
			if w.noIDs && len(r.MessageIDs) > 0 {
				t.Errorf("MessageIDs = %q, want none", r.MessageIDs)
			}
			if w.firstID != "" || w.firstSrc != "" {
				if len(r.MessageIDs) == 0 {
					t.Fatalf("MessageIDs empty, want first %q from %q", w.firstID, w.firstSrc)
				}
				if !strings.HasPrefix(r.MessageIDs[0], w.firstID) {
					t.Errorf("MessageIDs[0] = %q, want prefix %q", r.MessageIDs[0], w.firstID)
				}
				if w.firstSrc != "" && r.Sources[r.MessageIDs[0]] != w.firstSrc {
					t.Errorf("Sources[%q] = %q, want %q", r.MessageIDs[0], r.Sources[r.MessageIDs[0]], w.firstSrc)
				}
			}
			if w.tokenSrc != "" {
				if len(r.Tokens) == 0 {
					t.Fatalf("Tokens empty, want one from %q", w.tokenSrc)
				}
				if r.Sources[r.Tokens[0]] != w.tokenSrc {
					t.Errorf("Sources[Tokens[0]] = %q, want %q", r.Sources[r.Tokens[0]], w.tokenSrc)
				}
			}
			if w.origFrom != "" && (r.Original == nil || r.Original.From != w.origFrom) {
				t.Errorf("Original = %+v, want From %q", r.Original, w.origFrom)
			}
			if w.origSubj != "" && (r.Original == nil || !strings.HasPrefix(r.Original.Subject, w.origSubj)) {
				t.Errorf("Original = %+v, want Subject starting %q", r.Original, w.origSubj)
			}
			if w.problem != "" && !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, w.problem) }) {
				t.Errorf("Problems = %q, want one containing %q", r.Problems, w.problem)
			}
			if w.textHas != "" && !strings.Contains(r.Text, w.textHas) {
				t.Errorf("Text = %q, want it to contain %q", r.Text, w.textHas)
			}
			if w.textLacks != "" && strings.Contains(r.Text, w.textLacks) {
				t.Errorf("Text = %q, want it without %q", r.Text, w.textLacks)
			}
			checkInvariants(t, r)
		})
	}
}

// checkInvariants is what every Result must satisfy, whatever the input.
func checkInvariants(t testing.TB, r Result) {
	t.Helper()
	if r.Parser != Version {
		t.Errorf("Parser = %d, want %d", r.Parser, Version)
	}
	if r.MessageIDs == nil || r.Tokens == nil || r.Sources == nil {
		t.Errorf("MessageIDs, Tokens, Sources = %v, %v, %v; want none nil", r.MessageIDs == nil, r.Tokens == nil, r.Sources == nil)
	}
	switch r.Class {
	case ClassReport, ClassAutoReply, ClassBounce, ClassARF, ClassUnrelated:
	default:
		t.Errorf("Class = %q, not one of the five", r.Class)
	}
	if r.Lang != "ja" && r.Lang != "en" {
		t.Errorf("Lang = %q, want ja or en", r.Lang)
	}
	seen := map[string]bool{}
	for _, id := range r.MessageIDs {
		if r.Sources[id] == "" {
			t.Errorf("MessageIDs has %q without a Sources entry", id)
		}
		if id == r.MessageID {
			t.Errorf("MessageIDs has the report's own Message-ID %q", id)
		}
		if seen[id] || strings.HasPrefix(id, "<") || strings.HasSuffix(id, ">") {
			t.Errorf("MessageIDs has %q twice or with brackets", id)
		}
		seen[id] = true
	}
	for _, tok := range r.Tokens {
		if r.Sources[tok] == "" {
			t.Errorf("Tokens has %q without a Sources entry", tok)
		}
		if !looksLikeToken(tok) || seen[tok] {
			t.Errorf("Tokens has %q twice or not token-shaped", tok)
		}
		seen[tok] = true
	}
	if r.Class == ClassBounce && (r.Bounce == nil || r.Bounce.Recipients == nil) {
		t.Errorf("Class bounce with Bounce = %+v", r.Bounce)
	}
	if len(r.Text) > maxText {
		t.Errorf("len(Text) = %d, want at most %d", len(r.Text), maxText)
	}
	for _, p := range r.Problems {
		if strings.HasPrefix(p, internalError) {
			t.Errorf("Problems has %q: Parse recovered from a panic", p)
		}
	}
}

// TestReferencesOrder checks the reply ladder: In-Reply-To first, then
// References nearest parent first, the reporter's own domain last.
func TestReferencesOrder(t *testing.T) {
	raw := "From: Jo <jo@gmail.com>\r\n" +
		"Message-ID: <own-3@mail.gmail.com>\r\n" +
		"In-Reply-To: <own-2@mail.gmail.com>\r\n" +
		"References: <shop-1@mail.shop.example.com> <desk-ack@desk.example.com>\r\n <own-2@mail.gmail.com>\r\n" +
		"Subject: Re: Re: hello\r\n\r\nbody\r\n"
	r := Parse([]byte(raw), Options{})
	want := []string{"desk-ack@desk.example.com", "shop-1@mail.shop.example.com", "own-2@mail.gmail.com"}
	if !slices.Equal(r.MessageIDs, want) {
		t.Errorf("MessageIDs = %q, want %q", r.MessageIDs, want)
	}
	if r.Sources["own-2@mail.gmail.com"] != SourceInReplyTo {
		t.Errorf("Sources[own-2] = %q, want in-reply-to", r.Sources["own-2@mail.gmail.com"])
	}
	checkInvariants(t, r)
}

// TestTokenOrder checks that tokens are ordered address and In-Reply-To,
// then attachment, then link, then bare text.
func TestTokenOrder(t *testing.T) {
	tk := func(c byte) string { return "AQ" + strings.Repeat(string(c), 86) }
	bare, link, att, addr := tk('b'), tk('l'), tk('a'), tk('r')
	raw := "From: x@example.org\r\nTo: notme+" + addr + "@desk.example.com\r\nSubject: fwd\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n" +
		"bare " + bare + "\r\nlink https://desk.example.com/r/" + link + "\r\n" +
		"--B\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <nm1." + att + "@shop.example>\r\nSubject: orig\r\n\r\nhi\r\n--B--\r\n"
	r := Parse([]byte(raw), Options{})
	want := []string{addr, att, link, bare}
	if !slices.Equal(r.Tokens, want) {
		t.Errorf("Tokens = %q, want %q", r.Tokens, want)
	}
	checkInvariants(t, r)
}

func TestLinkHosts(t *testing.T) {
	tok := "AQ" + strings.Repeat("x", 86)
	raw := []byte("From: x@example.org\r\nSubject: s\r\n\r\nhttps://evil.example/r/" + tok + "\r\n")
	if r := Parse(raw, Options{LinkHosts: []string{"desk.example.com"}}); len(r.Tokens) != 0 {
		t.Errorf("Parse with LinkHosts desk.example.com: Tokens = %q, want none from evil.example", r.Tokens)
	}
	if r := Parse(raw, Options{}); !slices.Equal(r.Tokens, []string{tok}) {
		t.Errorf("Parse without LinkHosts: Tokens = %q, want the link's token", r.Tokens)
	}
	// a configured host with scheme or port matches the link's host
	raw = []byte("From: x@example.org\r\nSubject: s\r\n\r\nhttps://Desk.Example.com:8443/r/" + tok + "\r\n")
	if r := Parse(raw, Options{LinkHosts: []string{"https://desk.example.com:8443"}}); !slices.Equal(r.Tokens, []string{tok}) {
		t.Errorf("Parse with LinkHosts https://desk.example.com:8443: Tokens = %q, want the link's token", r.Tokens)
	}
}

func TestOwnAddress(t *testing.T) {
	raw := []byte("From: Desk <NotMe@Desk.Example.com>\r\nTo: jane@example.org\r\nSubject: Your report\r\n\r\nThanks\r\n")
	r := Parse(raw, testOptions)
	if r.Class != ClassAutoReply || r.Auto != "own-address" {
		t.Errorf("Parse(mail from the desk) = class %q auto %q, want auto-reply own-address", r.Class, r.Auto)
	}
}

// TestWrappedLink: a client broke the URL in angle brackets across lines
// and quoted the continuation.
func TestWrappedLink(t *testing.T) {
	tok := "AQ" + strings.Repeat("Zk3", 20) + "x9_-Q2"
	raw := "From: a@example.org\r\nSubject: Fw: x\r\n\r\n> Not you? <https://desk.example.com/r/" + tok[:40] + "\r\n> " + tok[40:] + ">\r\n"
	r := Parse([]byte(raw), Options{})
	if len(r.Tokens) == 0 || r.Tokens[0] != tok {
		t.Errorf("Tokens = %q, want %q first", r.Tokens, tok)
	}
	// a word on the next line is not part of the token
	raw = "From: a@example.org\r\nSubject: x\r\n\r\nhttps://desk.example.com/r/" + tok + "\r\nThanks\r\n"
	r = Parse([]byte(raw), Options{})
	if !slices.Equal(r.Tokens, []string{tok}) {
		t.Errorf("Tokens = %q, want only %q", r.Tokens, tok)
	}
}

// TestResent: a message redirected with Resent-* fields is the original.
func TestResent(t *testing.T) {
	raw := "Resent-From: jo@example.org\r\nResent-Message-ID: <resent-1@example.org>\r\nResent-To: notme@desk.example.com\r\n" +
		"From: Shop <no-reply@shop.example>\r\nTo: jo@example.org\r\nMessage-ID: <orig-1@shop.example>\r\nSubject: Welcome\r\n\r\nhi\r\n"
	r := Parse([]byte(raw), Options{})
	if r.MessageID != "resent-1@example.org" || r.From != "jo@example.org" {
		t.Errorf("MessageID, From = %q, %q; want resent-1@example.org, jo@example.org", r.MessageID, r.From)
	}
	if !slices.Equal(r.MessageIDs, []string{"orig-1@shop.example"}) || r.Sources["orig-1@shop.example"] != SourceResent {
		t.Errorf("MessageIDs = %q (sources %v), want orig-1@shop.example from resent", r.MessageIDs, r.Sources)
	}
}

// TestLimits: beyond each limit the result still comes, with a problem.
func TestLimits(t *testing.T) {
	tok := "AQ" + strings.Repeat("q", 86)
	t.Run("size", func(t *testing.T) {
		raw := "From: a@example.org\r\nSubject: big\r\n\r\nlink https://desk.example.com/r/" + tok + "\r\n" + strings.Repeat("x", 5000)
		r := Parse([]byte(raw), Options{MaxSize: 1000})
		if !slices.Equal(r.Tokens, []string{tok}) || !slices.Contains(r.Problems, "truncated at 1000 bytes") {
			t.Errorf("Parse(5 KB, MaxSize 1000) = tokens %q problems %q", r.Tokens, r.Problems)
		}
	})
	t.Run("headers", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.org\r\nIn-Reply-To: <x@shop.example>\r\n")
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&b, "X-Junk-%d: %s\r\n", i, strings.Repeat("y", 10))
		}
		b.WriteString("Subject: " + strings.Repeat("s", 300) + "\r\n\r\nbody\r\n")
		r := Parse([]byte(b.String()), Options{MaxHeaders: 20, MaxHeaderLen: 100})
		if !slices.Contains(r.MessageIDs, "x@shop.example") {
			t.Errorf("MessageIDs = %q, want x@shop.example found before the limit", r.MessageIDs)
		}
		if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.HasPrefix(p, "header limit: more than 20 fields") }) {
			t.Errorf("Problems = %q, want the header count limit", r.Problems)
		}
		checkInvariants(t, r)
	})
	t.Run("field length", func(t *testing.T) {
		raw := "From: a@example.org\r\nSubject: " + strings.Repeat("s", 300) + "\r\n\r\nbody\r\n"
		r := Parse([]byte(raw), Options{MaxHeaderLen: 100})
		if len(r.Subject) != 100 || !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, "field subject longer than 100") }) {
			t.Errorf("Subject length %d, problems %q; want 100 and the length limit", len(r.Subject), r.Problems)
		}
	})
}

// TestMIMEBomb: deep nesting and many parts end in a result with a problem,
// not in exhausted memory or a stack overflow, and what came before the
// limits is found.
func TestMIMEBomb(t *testing.T) {
	tok := "AQ" + strings.Repeat("m", 86)
	t.Run("deep", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: bomb@example.org\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		const depth = 2000
		for i := 0; i < depth; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\nlevel %d https://desk.example.com/r/%s\r\n", i, i, tok)
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: message/rfc822\r\n\r\nSubject: nested\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
		}
		for i := depth; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		r := Parse([]byte(b.String()), Options{})
		if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.HasPrefix(p, "depth limit") }) {
			t.Errorf("Problems = %q, want a depth limit", r.Problems)
		}
		if !slices.Equal(r.Tokens, []string{tok}) {
			t.Errorf("Tokens = %q, want the token found above the limit", r.Tokens)
		}
		checkInvariants(t, r)
	})
	t.Run("wide", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: bomb@example.org\r\nSubject: wide\r\nContent-Type: multipart/mixed; boundary=w\r\n\r\n")
		b.WriteString("--w\r\nContent-Type: text/plain\r\n\r\nhttps://desk.example.com/r/" + tok + "\r\n")
		for i := 0; i < 20000; i++ {
			b.WriteString("--w\r\nContent-Type: text/plain\r\n\r\nx\r\n")
		}
		b.WriteString("--w--\r\n")
		r := Parse([]byte(b.String()), Options{})
		if !slices.Contains(r.Problems, "part limit: more than 500 MIME parts") {
			t.Errorf("Problems = %q, want the part limit", r.Problems)
		}
		if !slices.Equal(r.Tokens, []string{tok}) {
			t.Errorf("Tokens = %q, want the first part's token", r.Tokens)
		}
		checkInvariants(t, r)
	})
}

// TestTotal: inputs that are not mail at all still give a Result.
func TestTotal(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":         "",
		"blank":         "\r\n\r\n",
		"binary":        "\x00\x01\x02\xff\xfe",
		"no header":     "just some words\nand more",
		"only header":   "Subject: x",
		"open encoded":  "Subject: =?utf-8?B?",
		"bad multipart": "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--",
		"cr only":       "Subject: mac\rFrom: a@b\r\rbody",
	} {
		t.Run(name, func(t *testing.T) {
			checkInvariants(t, Parse([]byte(raw), Options{}))
		})
	}
}

// TestNoForbiddenImports keeps the package pure: no cases, no IMAP, no
// other notme package.
func TestNoForbiddenImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{`"notme/`, `go-imap`} {
			if bytes.Contains(src, []byte(bad)) {
				t.Errorf("%s imports %s…: mailparse must stay pure", f, bad)
			}
		}
	}
}

// TestLinear feeds patterns that make a careless parser quadratic; each
// 1 MB input must parse in well under the time a quadratic walk would
// need (minutes), with room for -race.
func TestLinear(t *testing.T) {
	const n = 1 << 20
	tok := "AQ" + strings.Repeat("t", 86)
	rep := func(s string) string { return strings.Repeat(s, n/len(s)) }
	hdr := "From: a@example.org\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\n"
	inputs := map[string]string{
		"link paths":       hdr + rep("/r/"),
		"link tokens":      hdr + rep("x/r/"+tok),
		"field lines":      hdr + rep("From: x@example.org\n"),
		"date lines":       hdr + rep("Date: today\n"),
		"marker lines":     hdr + rep("----- Forwarded Message ----- From: a\n"),
		"inline keys":      hdr + "From: a" + rep("To:From:") + "\n",
		"plus addresses":   hdr + rep("a.a.a.a.a.+"+tok+"@x "),
		"message-id lines": hdr + rep("Message-ID:\n"),
		"message-id prose": hdr + rep("message-id of message-id of "),
		"angle brackets":   "References: " + rep("<") + "\r\n\r\n",
		"at signs":         "To: " + rep("a@") + "\r\n\r\n",
		"encoded words":    rep("Subject: "+strings.Repeat("=?a?B?", 10000)+"\r\n") + "\r\n",
		"boundaries":       "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + rep("--bx\n--b\n"),
		"html nesting":     "Content-Type: text/html\r\n\r\n" + rep("<div><a href=\"/r/\">"),
		"base64":           "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + rep("QUFB\n"),
		"header lines":     rep("X: y\r\n"),
		"continuations":    "Subject: x\r\n" + rep(" y\r\n"),
	}
	for name, raw := range inputs {
		t.Run(name, func(t *testing.T) {
			for _, o := range []Options{{MaxHeaders: 1 << 20}, {MaxHeaders: 1 << 20, LinkHosts: []string{"desk.example.com"}}} {
				start := time.Now()
				r := Parse([]byte(raw), o)
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("Parse(%s, %d bytes, %+v) took %v: not linear", name, len(raw), o, d)
				}
				checkInvariants(t, r)
			}
		})
	}
}
