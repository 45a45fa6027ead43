package mailparse

import (
	"encoding/base64"
	"fmt"
	stdhtml "html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type rewriteSample struct {
	format, link, want, source string
}

// rewriteSamples reads testdata/rewrites.tsv: rewritten links from public
// sources (testdata/README.md names them) and the URL each stands for.
func rewriteSamples(tb testing.TB) []rewriteSample {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rewrites.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []rewriteSample
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			tb.Fatalf("rewrites.tsv line %q: %d fields, want 4", l, len(f))
		}
		out = append(out, rewriteSample{f[0], f[1], f[2], f[3]})
	}
	return out
}

// TestRewriteSamples: every real rewritten link gives back its original
// URL exactly, alone and inside text.
func TestRewriteSamples(t *testing.T) {
	formats := map[string]bool{}
	for _, smp := range rewriteSamples(t) {
		formats[smp.format] = true
		for _, s := range []string{smp.link, "See <" + smp.link + "> now.", "(" + smp.link + ")\r\nnext line"} {
			rws := findRewrites(s)
			if len(rws) != 1 || rws[0].url != smp.want {
				t.Errorf("findRewrites(%q) = %+v, want one giving %q (%s)", s, rws, smp.want, smp.source)
				continue
			}
			if got := s[rws[0].start:rws[0].end]; got != smp.link {
				t.Errorf("findRewrites(%q) spans %q, want the link", s, got)
			}
		}
	}
	for _, f := range []string{"v1", "v2", "v3", "safelinks"} {
		if !formats[f] {
			t.Errorf("rewrites.tsv has no %s sample", f)
		}
	}
}

// TestRewriteRules: each format's own rules, where the samples do not
// reach.
func TestRewriteRules(t *testing.T) {
	for _, tc := range []struct{ name, link, want string }{
		{"v3 single slash put back", "https://urldefense.com/v3/__https:/desk.example.com/r/AQ__;!!x!y$", "https://desk.example.com/r/AQ"},
		{"v3 run of 65 then one", "https://urldefense.com/v3/__a**_*b__;" + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("#", 66))) + "!!x!y$", "a" + strings.Repeat("#", 66) + "b"},
		{"v3 padded table", "https://urldefense.com/v3/__a*b__;Iw==!!x!y$", "a#b"},
		{"v3 on urldefense.proofpoint.com", "https://urldefense.proofpoint.com/v3/__https://x.example/*a__;Iw!!x!y$", "https://x.example/#a"},
		{"v2 html-escaped", "https://urldefense.proofpoint.com/v2/url?u=https-3A__x.example_a-3Fb-3D1-26amp-3Bc-3D2&amp;d=DwMF&amp;c=x", "https://x.example/a?b=1&c=2"},
		{"v1 up to &k=", "https://urldefense.proofpoint.com/v1/url?u=https://x.example/a?b=1&c=2&k=K&r=R", "https://x.example/a?b=1&c=2"},
		{"safelinks encoded twice", "https://eur01.safelinks.protection.outlook.com/?url=https%253A%252F%252Fx.example%252Fa%253Fq%253Da%252520b&data=1", "https://x.example/a?q=a%20b"},
		{"safelinks percent kept", "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fx.example%2Fa%3Fq%3Da%2520b&data=1", "https://x.example/a?q=a%20b"},
		{"safelinks gcc high", "https://gcc02.safelinks.protection.office365.us/?url=https%3A%2F%2Fx.example%2F&data=1", "https://x.example/"},
	} {
		rws := findRewrites(tc.link)
		if len(rws) != 1 || rws[0].url != tc.want {
			t.Errorf("%s: findRewrites(%q) = %+v, want %q", tc.name, tc.link, rws, tc.want)
		}
	}
	for _, bad := range []string{
		"https://urldefense.com/v3/__https://x.example/*a__;!!x!y$",   // a '*' with no byte for it
		"https://urldefense.com/v3/__https://x.example/**!a__;Iw!!x$", // no such run length
		"https://urldefense.com/v3/__https://x.example/a",             // cut short
		"https://urldefense.com/v3/__https://x.example/a b__;!!x!y$",  // two things, not one link
		"https://urldefense.com/v9/url?u=x",
		"https://evil.example/safelinks.protection.outlook.com.evil.example/?url=https%3A%2F%2Fx",
	} {
		if rws := findRewrites(bad); len(rws) != 0 {
			t.Errorf("findRewrites(%q) = %+v, want none", bad, rws)
		}
	}
}

// testToken is a sealed-token-shaped string ending in last.
func testToken(last byte) string {
	return "AQ" + strings.Repeat("b7-Xk_9z", 8) + "Q" + string(last)
}

// TestRewrittenLinkToken (issue 12, "Links the mail filters rewrite"): a
// reporter behind Proofpoint or Safe Links forwards the not-me link
// rewritten; whatever character the token ends with, the parser finds that
// token, exactly, and no other.
func TestRewrittenLinkToken(t *testing.T) {
	for _, last := range []byte("-_09AQw") {
		tok := testToken(last)
		for _, suffix := range []string{"", ".", ")", "~", "!", "&x=1"} {
			link := "https://desk.example.com/r/" + tok + suffix
			for _, w := range wrappers {
				for _, html := range []bool{false, true} {
					name := fmt.Sprintf("%s/%q/%q/html=%v", w.name, last, suffix, html)
					r := Parse(forwardWith(w.wrap(link), html), testOptions)
					if !slices.Equal(r.Tokens, []string{tok}) || r.Sources[tok] != SourceLink {
						t.Errorf("%s: Parse() Tokens = %q (sources %v), want exactly [%s] from %q\nlink: %s", name, r.Tokens, r.Sources, tok, SourceLink, w.wrap(link))
					}
				}
			}
		}
	}
}

// forwardWith is a reporter's forward whose only link is link, in a text
// or an HTML part.
func forwardWith(link string, html bool) []byte {
	body, ctype := "I never signed up for this.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Example Shop <no-reply@mail.shop.example.com>\r\nSubject: Welcome\r\n\r\nNot you? "+link+"\r\n", "text/plain"
	if html {
		body, ctype = "<p>I never signed up for this.</p><blockquote>Not you? <a href=\""+stdhtml.EscapeString(link)+"\">Tell us</a></blockquote>\r\n", "text/html"
	}
	return []byte("From: Jane <jane@example.org>\r\nTo: notme@desk.example.com\r\nSubject: Fwd: Welcome\r\nMessage-ID: <fwd1@example.org>\r\n" +
		"Content-Type: " + ctype + "; charset=utf-8\r\n\r\n" + body)
}

// wrappers rewrite a URL the way each filter does; the nested ones are
// Safe Links around a Proofpoint link, as when both companies filter.
var wrappers = []struct {
	name string
	wrap func(string) string
}{
	{"plain", func(u string) string { return u }},
	{"v1", encodeV1},
	{"v2", encodeV2},
	{"v3", encodeV3},
	{"safelinks", encodeSafeLinks},
	{"safelinks(v1)", func(u string) string { return encodeSafeLinks(encodeV1(u)) }},
	{"safelinks(v2)", func(u string) string { return encodeSafeLinks(encodeV2(u)) }},
	{"safelinks(v3)", func(u string) string { return encodeSafeLinks(encodeV3(u)) }},
	{"v3(safelinks)", func(u string) string { return encodeV3(encodeSafeLinks(u)) }},
}

// pctEncode percent-encodes every byte but those in keep.
func pctEncode(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// encodeV1: HTML-escaped, then percent-encoded, in u (the reference decodes
// in the other order).
func encodeV1(u string) string {
	return "https://urldefense.proofpoint.com/v1/url?u=" + pctEncode(stdhtml.EscapeString(u), ".~") +
		"&k=oIvRg1%2BdGAgOoM1BIlLLqw%3D%3D%0A&r=IKM5u8%2B%2F%0A&m=Ww6iaHO73m%3D%0A&s=d3583cfa53"
}

// encodeV2: as v1, with '/' kept and then "-XX" for "%XX" and '_' for '/'.
func encodeV2(u string) string {
	e := pctEncode(stdhtml.EscapeString(u), "./~")
	e = strings.NewReplacer("%", "-", "/", "_").Replace(e)
	return "https://urldefense.proofpoint.com/v2/url?u=" + e + "&d=DwMFaQ&c=Vxt5e0Osvvt2&r=MujLDFBJ&m=QJGhloAy&s=ew-rOtBF&e="
}

// encodeV3: bytes outside a plain set become '*' (one) or "**X" (runs of
// 2 to 65), and go, in order, base64url after "__;".
func encodeV3(u string) string {
	const plain = "-._~:/?@!$&'()=,"
	var munged strings.Builder
	var taken []byte
	run := 0
	flush := func() {
		for run > 0 {
			n := min(run, 65)
			if n == 1 {
				munged.WriteByte('*')
			} else {
				munged.WriteString("**")
				munged.WriteByte(v3Runs[n-2])
			}
			run -= n
		}
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || strings.IndexByte(plain, c) >= 0 {
			flush()
			munged.WriteByte(c)
			continue
		}
		taken = append(taken, c)
		run++
	}
	flush()
	return "https://urldefense.com/v3/__" + munged.String() + "__;" + base64.RawURLEncoding.EncodeToString(taken) + "!!LIr3w8kk_Xxm!6BNqFLJ13q7N5_lf3XQ$"
}

func encodeSafeLinks(u string) string {
	return "https://nam12.safelinks.protection.outlook.com/?url=" + pctEncode(u, "-._~") +
		"&data=05%7C02%7Cjane%40example.org%7C0%7C637316317046053155&sdata=8KiErrK4qWtI%2FTMftX%3D&reserved=0"
}

// FuzzRewriteRoundTrip: a URL rewritten in each format, and Safe Links
// around each Proofpoint format, decodes to that URL exactly; a not-me
// link so rewritten gives its token, whatever it ends with.
func FuzzRewriteRoundTrip(f *testing.F) {
	for _, smp := range rewriteSamples(f) {
		f.Add(smp.want, byte(0))
	}
	for i, c := range []byte("-_.~0123456789") {
		f.Add(string(c), byte(i))
		f.Add(string(c)+"?utm=a%20b&x=__;!!", byte(i))
	}
	f.Add("#\x00\xff 世界**A__", byte(3))
	f.Fuzz(func(t *testing.T, tail string, last byte) {
		tok := testToken("-_0123456789AQw"[int(last)%15])
		u := "https://desk.example.com/r/" + tok + tail
		for _, w := range wrappers[1:] {
			link := w.wrap(u)
			rws := findRewrites(link)
			if len(rws) == 0 {
				t.Fatalf("%s: findRewrites(%q) = none, want %q", w.name, link, u)
			}
			got := rws[0].url
			if strings.Contains(w.name, "(") { // nested: one more layer
				inner := findRewrites(got)
				if len(inner) == 0 || inner[0].start != 0 {
					t.Fatalf("%s: findRewrites(%q) = %+v, want the inner link", w.name, got, inner)
				}
				got = inner[0].url
			}
			if got != u {
				t.Fatalf("%s: decoded %q = %q, want %q", w.name, link, got, u)
			}
		}
		if tail != "" && (isTokenChar(tail[0]) || tail[0] == '@') {
			return // the token goes on: another token
		}
		for _, w := range wrappers {
			r := Parse(forwardWith(w.wrap(u), false), testOptions)
			if !slices.Contains(r.Tokens, tok) {
				t.Fatalf("%s: Parse() Tokens = %q, want %s\nlink: %s", w.name, r.Tokens, tok, w.wrap(u))
			}
		}
	})
}

// TestRewrittenLinkBrokenAcrossLines: a plain-text part shows a long
// rewritten link inside "<…>" broken at the line length, quoted or not,
// as Outlook does; it is read joined.
func TestRewrittenLinkBrokenAcrossLines(t *testing.T) {
	for _, last := range []byte("-_7") {
		tok := testToken(last)
		for _, w := range wrappers[1:] {
			for _, quote := range []string{"", "> "} {
				for _, width := range []int{64, 76} {
					text := quote + "Not you? Report it <" + w.wrap("https://desk.example.com/r/"+tok) + ">"
					var b strings.Builder
					for len(text) > width {
						b.WriteString(text[:width] + "\r\n")
						text = quote + text[width:]
					}
					b.WriteString(text + "\r\n")
					raw := "From: Jane <jane@example.org>\r\nTo: notme@desk.example.com\r\nSubject: FW: Welcome\r\nMessage-ID: <fwd2@example.org>\r\n" +
						"Content-Type: text/plain; charset=us-ascii\r\n\r\nNot mine.\r\n\r\n" + b.String()
					r := Parse([]byte(raw), testOptions)
					if !slices.Equal(r.Tokens, []string{tok}) {
						t.Errorf("%s, quote %q, width %d: Parse() Tokens = %q, want [%s]\n%s", w.name, quote, width, r.Tokens, tok, b.String())
					}
				}
			}
		}
	}
}
