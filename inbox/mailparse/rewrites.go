package mailparse

import (
	"encoding/base64"
	stdhtml "html"
	"strings"
)

// Mail filters rewrite every link of a mail they let through, so a reporter
// at a company that runs one forwards the not-me link rewritten. Proofpoint
// URL Defense (v1, v2, v3) and Microsoft Safe Links keep the original URL
// inside the rewritten one; each is undone here by the format's own rules,
// with no network, so the sealed token comes back exactly as it was sent.
//
// The rules follow Proofpoint's own offline decoder (urldecoder.py, "URL
// Defense Decode" 3.0.1 by Eric Van Cleve, Proofpoint) and, for multi-byte
// runs in v3, the test vectors of cardi/proofpoint-url-decoder; Safe Links
// is Microsoft's documented "?url=" parameter, percent-encoded.

// rewrite is one rewritten link found in a text: where it lies and the URL
// it stands for.
type rewrite struct {
	start, end int
	url        string
}

const (
	maxRewriteTries = 200     // wrapper look-alikes examined per text; the rest are left to the plain link scan
	maxRewriteLen   = 8 << 10 // a rewritten link longer than this is no link
)

// findRewrites finds Proofpoint URL Defense and Safe Links links in s,
// in order and apart.
func findRewrites(s string) []rewrite {
	var out []rewrite
	nextA, nextB := -1, -1 // the next "urldefense" and "safelinks." at or after off; -2 = none
	for off, tries := 0, 0; off < len(s) && tries < maxRewriteTries; tries++ {
		if nextA != -2 && nextA < off {
			nextA = nextFold(s, off, "urldefense")
		}
		if nextB != -2 && nextB < off {
			nextB = nextFold(s, off, "safelinks.")
		}
		i := nextA
		if i == -2 || nextB != -2 && nextB < i {
			i = nextB
		}
		if i == -2 {
			break
		}
		rw, ok := rewriteAt(s, i)
		if st := linkStart(s, i); st > off && s[st-1] == '<' {
			// Wrapped across lines inside "<…>", as a plain-text part
			// shows a long link: read it joined.
			if e := bracketEnd(s, st); e > 0 && (!ok || rw.end < e) {
				if jrw, jok := rewriteAt(joinLines(s[st:e]), i-st); jok {
					rw, ok = rewrite{st, e, jrw.url}, true
				}
			}
		}
		if !ok {
			off = i + 1
			continue
		}
		out = append(out, rw)
		off = rw.end
	}
	return out
}

// nextFold is the index of w in s at or after off, or -2.
func nextFold(s string, off int, w string) int {
	if i := indexFold(s[off:], w); i >= 0 {
		return off + i
	}
	return -2
}

// rewriteAt reads the rewritten link whose host starts at s[i:]
// ("urldefense…" or "safelinks.…").
func rewriteAt(s string, i int) (rewrite, bool) {
	if hasPrefixFoldS(s[i:], "urldefense") {
		return urlDefense(s, i)
	}
	return safeLinks(s, i)
}

// linkStart is where the link whose wrapper host is at s[i:] begins:
// Safe Links' region label ("nam12.") and the scheme.
func linkStart(s string, i int) int {
	if !hasPrefixFoldS(s[i:], "urldefense") {
		for h := i; i > 0 && isDomainChar(s[i-1]) && h-i < 64; {
			i--
		}
	}
	return wrapperStart(s, i)
}

// bracketEnd is the index of the '>' that closes a link starting at s[st:]
// and broken across lines, or -1 when the link is on one line or no '>'
// closes it. A continuation line may be indented or quoted ("> "); the
// closing '>' may stand on a line of its own, after the quote marks.
func bracketEnd(s string, st int) int {
	broken, lineStart, lastGT := false, false, -1
	for e := st; e < len(s) && e-st < maxRewriteLen; e++ {
		c := s[e]
		switch {
		case c == '\r':
		case c == '\n':
			if broken && lineStart {
				return lastGT // a line of nothing but quote marks (or nothing) ends the link
			}
			broken, lineStart, lastGT = true, true, -1
		case lineStart && (c == ' ' || c == '\t' || c == '>'):
			if c == '>' {
				lastGT = e
			}
		case c == '>':
			if broken {
				return e
			}
			return -1
		case c <= ' ' || c == '<' || c == '"':
			return -1
		default:
			lineStart = false
		}
	}
	if broken && lineStart {
		return lastGT
	}
	return -1
}

// joinLines joins a link broken across lines, without the indentation or
// quote marks that start each continuation.
func joinLines(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, "\r")
		if i > 0 {
			l = strings.TrimLeft(l, " \t>")
		}
		b.WriteString(l)
	}
	return b.String()
}

// wrapperStart is where the URL whose host starts at s[i:] begins: its
// scheme, when written.
func wrapperStart(s string, i int) int {
	for _, sch := range []string{"https://", "http://"} {
		if i >= len(sch) && strings.EqualFold(s[i-len(sch):i], sch) {
			return i - len(sch)
		}
	}
	return i
}

// queryEnd is where a v1, v2 or Safe Links URL starting at s[i:] ends:
// white space, quotes or brackets (their query values are
// percent-encoded, so none of these is inside).
func queryEnd(s string, i int) int {
	e := i
	for e < len(s) && e-i < maxRewriteLen && !(s[e] <= ' ' || strings.IndexByte("<>\"'()[]{}|\\^`", s[e]) >= 0) {
		e++
	}
	return e
}

// urlDefense reads a Proofpoint URL Defense link whose host starts at s[i:]:
//
//	v1 https://urldefense.proofpoint.com/v1/url?u=<percent-encoded>&k=…
//	v2 https://urldefense.proofpoint.com/v2/url?u=<"-XX" for "%XX", "_" for "/">&d=…&c=…
//	v3 https://urldefense.com/v3/__<URL, some bytes as "*" or "**X">__;<those bytes, base64url>!!<customer>!<signature>$
func urlDefense(s string, i int) (rewrite, bool) {
	rest := s[i:]
	var n int
	switch {
	case hasPrefixFoldS(rest, "urldefense.proofpoint.com/"):
		n = len("urldefense.proofpoint.com/")
	case hasPrefixFoldS(rest, "urldefense.com/"):
		n = len("urldefense.com/")
	default:
		return rewrite{}, false
	}
	rest = rest[n:]
	switch {
	case strings.HasPrefix(rest, "v3/__"):
		return urlDefenseV3(s, i, i+n+len("v3/__"))
	case strings.HasPrefix(rest, "v1/url?"), strings.HasPrefix(rest, "v2/url?"):
		q := i + n + len("v1/url?")
		e := queryEnd(s, q)
		u, ok := queryValue(s[q:e], "u")
		if !ok {
			return rewrite{}, false
		}
		if rest[1] == '1' {
			// The reference takes u up to "&k=": v1 leaves some of the
			// URL as it was, '&' included.
			if k := strings.Index(s[q:e], "&k="); k >= 0 && strings.HasPrefix(s[q:e], "u=") {
				u = s[q+2 : q+k]
			}
			return rewrite{wrapperStart(s, i), e, stdhtml.UnescapeString(unquote(u))}, true
		}
		v := strings.NewReplacer("-", "%", "_", "/").Replace(u)
		return rewrite{wrapperStart(s, i), e, stdhtml.UnescapeString(unquote(v))}, true
	}
	return rewrite{}, false
}

// urlDefenseV3 reads a v3 link whose munged URL starts at s[m:].
func urlDefenseV3(s string, i, m int) (rewrite, bool) {
	lim := min(len(s), m+maxRewriteLen)
	d := strings.Index(s[m:lim], "__;") // the reference's non-greedy "__(.+?)__;"
	if d < 0 {
		return rewrite{}, false
	}
	munged := s[m : m+d]
	if strings.IndexFunc(munged, func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r == '"' }) >= 0 {
		return rewrite{}, false // munged bytes never stand as they are: this is two links, or text
	}
	e := m + d + len("__;")
	b := e
	for e < len(s) && (isTokenChar(s[e]) || s[e] == '=') {
		e++
	}
	if e >= len(s) || s[e] != '!' {
		return rewrite{}, false
	}
	enc := s[b:e]
	for e < len(s) && (isTokenChar(s[e]) || s[e] == '!') { // !!customer!signature
		e++
	}
	if e < len(s) && s[e] == '$' {
		e++
	}
	u, ok := decodeV3(munged, enc)
	if !ok {
		return rewrite{}, false
	}
	return rewrite{wrapperStart(s, i), e, u}, true
}

// v3Runs are the run lengths of "**X": 'A' is 2 bytes, '_' is 65.
const v3Runs = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// decodeV3 puts the bytes of enc (base64url) back where munged has "*"
// (one byte) or "**X" (a run of strings.IndexByte(v3Runs, X)+2 bytes).
func decodeV3(munged, enc string) (string, bool) {
	// Some v3 links say "https:/host"; the reference puts the slash back
	// (its v3_single_slash).
	if c := strings.Index(munged, ":/"); c > 0 && c+3 < len(munged) && munged[c+2] != '/' && isScheme(munged[:c]) {
		munged = munged[:c+2] + "/" + munged[c+2:]
	}
	munged = unquote(munged)
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(munged) + len(raw))
	for k := 0; k < len(munged); {
		c := munged[k]
		if c != '*' {
			b.WriteByte(c)
			k++
			continue
		}
		n := 1
		k++
		if k+1 < len(munged) && munged[k] == '*' {
			r := strings.IndexByte(v3Runs, munged[k+1])
			if r < 0 {
				return "", false
			}
			n = r + 2
			k += 2
		}
		if n > len(raw) {
			return "", false // more "*" than bytes: not what Proofpoint wrote
		}
		b.Write(raw[:n])
		raw = raw[n:]
	}
	return b.String(), true
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !('a' <= c && c <= 'z' || '0' <= s[i] && s[i] <= '9' || s[i] == '+' || s[i] == '.' || s[i] == '-') {
			return false
		}
	}
	return s != ""
}

// safeLinks reads a Microsoft Safe Links link whose host starts at s[i:]
// ("safelinks."): https://<region>.safelinks.protection.outlook.com/?url=<percent-encoded>&data=…&sdata=…&reserved=0,
// or the same under office365.us (GCC High) or outlook.cn.
func safeLinks(s string, i int) (rewrite, bool) {
	rest := s[i:]
	var n int
	for _, host := range []string{"safelinks.protection.outlook.com", "safelinks.protection.office365.us", "safelinks.protection.outlook.cn"} {
		if hasPrefixFoldS(rest, host) {
			n = len(host)
			break
		}
	}
	if n == 0 {
		return rewrite{}, false
	}
	q := i + n
	if strings.HasPrefix(s[q:], "/?") {
		q += 2
	} else if strings.HasPrefix(s[q:], "?") {
		q++
	} else {
		return rewrite{}, false
	}
	e := queryEnd(s, q)
	u, ok := queryValue(s[q:e], "url")
	if !ok {
		return rewrite{}, false
	}
	// Percent-encoded once; twice when Safe Links wrapped a link that was
	// already encoded. Decode again only while it is not yet a URL: a
	// second pass on a URL would eat its own "%25".
	u = unquote(u)
	for n := 0; n < 2 && (hasPrefixFoldS(u, "https%3a") || hasPrefixFoldS(u, "http%3a")); n++ {
		u = unquote(u)
	}
	return rewrite{linkStart(s, i), e, u}, true
}

// queryValue is the raw value of parameter name in the query q, whether
// its separators are "&" or, copied from HTML source, "&amp;".
func queryValue(q, name string) (string, bool) {
	for _, f := range strings.Split(q, "&") {
		f = strings.TrimPrefix(f, "amp;")
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// unquote undoes percent-encoding as Python's urllib.parse.unquote does,
// which the reference decoders use: a '%' not followed by two hex digits
// stays, and '+' is not a space.
func unquote(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
