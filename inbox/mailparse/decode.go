package mailparse

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
)

// charsetAliases maps names seen in Japanese mail that the IANA index does
// not know to the encodings they mean.
var charsetAliases = map[string]string{
	"cp932":           "shift_jis", // x/text's Shift_JIS is Windows-31J (CP932)
	"ms932":           "shift_jis",
	"windows-31j":     "shift_jis",
	"x-sjis":          "shift_jis",
	"sjis":            "shift_jis",
	"shift-jis":       "shift_jis",
	"x-shift_jis":     "shift_jis",
	"x-euc-jp":        "euc-jp",
	"eucjp":           "euc-jp",
	"euc_jp":          "euc-jp",
	"iso-2022-jp-1":   "iso-2022-jp",
	"iso-2022-jp-2":   "iso-2022-jp",
	"iso-2022-jp-3":   "iso-2022-jp",
	"iso-2022-jp-ms":  "iso-2022-jp",
	"cp50220":         "iso-2022-jp",
	"cp50221":         "iso-2022-jp",
	"csiso2022jp":     "iso-2022-jp",
	"utf8":            "utf-8",
	"ascii":           "us-ascii",
	"ansi_x3.4-1968":  "us-ascii",
	"iso-8859-8-i":    "iso-8859-8",
	"unicode-1-1-utf": "utf-8",
}

func normCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), "\"'"))
	if a, ok := charsetAliases[cs]; ok {
		return a
	}
	return cs
}

// isJapaneseCharset reports a charset that only Japanese mail uses.
func isJapaneseCharset(cs string) bool {
	switch normCharset(cs) {
	case "iso-2022-jp", "shift_jis", "euc-jp":
		return true
	}
	return false
}

// convert returns b, in charset cs, as UTF-8. An unknown charset is a
// problem, not a failure: the bytes are kept as best-effort text.
func (p *parser) convert(cs string, b []byte, where string) string {
	cs = normCharset(cs)
	if isJapaneseCharset(cs) {
		p.jaCharset = true
	}
	switch cs {
	case "", "utf-8", "us-ascii":
		if utf8.Valid(b) {
			return string(b)
		}
		return bestEffort(b)
	}
	var h message.Header
	h.SetContentType("text/plain", map[string]string{"charset": cs})
	e, err := message.New(h, bytes.NewReader(b))
	if message.IsUnknownCharset(err) || e == nil {
		p.problem(fmt.Sprintf("unknown charset %s in %s", clip(cs, 40), where))
		return bestEffort(b)
	}
	// A conversion may grow the text (ISO-2022-JP to UTF-8 by half); the
	// limit reader keeps a hostile part within the decoded-size budget.
	out, err := io.ReadAll(io.LimitReader(e.Body, p.budget(len(b)*3+16)))
	p.spend(len(out))
	if err != nil {
		p.problem(fmt.Sprintf("charset %s: %v in %s", clip(cs, 40), err, where))
	}
	text := strings.ToValidUTF8(string(out), "\uFFFD")
	if bad := strings.Count(text, "\uFFFD"); bad > 0 {
		// Mislabelled: Japanese mailers send Shift_JIS marked ISO-2022-JP.
		if guess := bestEffort(b); strings.Count(guess, "\uFFFD") < bad {
			p.problem(fmt.Sprintf("charset %s does not fit the bytes in %s", clip(cs, 40), where))
			return guess
		}
	}
	return text
}

// decodeCharsetString is convert without a parser, for RFC 2231 parameter
// values.
func decodeCharsetString(cs string, b []byte) string {
	cs = normCharset(cs)
	if cs == "" || cs == "utf-8" || cs == "us-ascii" || utf8.Valid(b) && !bytes.Contains(b, []byte{0x1b}) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return bestEffort(b)
	}
	out, _ := io.ReadAll(io.LimitReader(r, int64(len(b))*3+16))
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// bestEffort turns bytes of unknown or wrong charset into UTF-8. Japanese
// mail is the usual case: ISO-2022-JP is recognised by its escapes, and
// Shift_JIS and EUC-JP are told apart by which decodes with fewer errors.
// Anything else is read as Windows-1252, so no byte is lost.
func bestEffort(b []byte) string {
	if utf8.Valid(b) && !bytes.Contains(b, []byte{0x1b}) {
		return string(b)
	}
	try := func(cs string) (string, int) {
		r, err := charset.Reader(cs, bytes.NewReader(b))
		if err != nil {
			return "", len(b) + 1
		}
		out, _ := io.ReadAll(io.LimitReader(r, int64(len(b))*3+16))
		s := strings.ToValidUTF8(string(out), "\uFFFD")
		return s, strings.Count(s, "\uFFFD")
	}
	if bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) || bytes.Contains(b, []byte("\x1b(J")) {
		if s, bad := try("iso-2022-jp"); bad <= len(b)/20 {
			return s
		}
	}
	best, bestBad := "", len(b)+1
	for _, cs := range []string{"shift_jis", "euc-jp"} {
		if s, bad := try(cs); bad < bestBad {
			best, bestBad = s, bad
		}
	}
	if bestBad <= len(b)/50 {
		return best
	}
	if s, bad := try("windows-1252"); bad <= len(b) {
		return s
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 section 6)
// leniently: broken quoted-printable and base64 yield what can be read. An
// unknown encoding leaves the bytes as they are, with a problem.
func (p *parser) decodeTransfer(cte string, b []byte, where string) []byte {
	enc := strings.ToLower(strings.Trim(strings.TrimSpace(stripComment(cte)), "\"';"))
	var out []byte
	switch {
	case enc == "" || enc == "7bit" || enc == "8bit" || enc == "binary" ||
		enc == "7-bit" || enc == "8-bit" || enc == "8bits" || enc == "7bits" || enc == "plain" || enc == "text":
		return b
	case strings.Contains(enc, "base64"):
		out = decodeBase64(b)
	case strings.Contains(enc, "quoted-printable") || enc == "qp" || strings.HasPrefix(enc, "quoted"):
		out = decodeQP(b)
	default:
		p.problem(fmt.Sprintf("unknown transfer encoding %s in %s", clip(enc, 40), where))
		return b
	}
	return out
}

// decodeQP decodes quoted-printable (RFC 2045 section 6.7) without failing:
// "=" not followed by two hex digits or a line break is kept, soft line
// breaks with trailing white space are honoured, and control bytes (raw
// ISO-2022-JP escapes in mislabelled parts) pass through.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		// soft line break: "=" [white space] CRLF or LF
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
			i = j + 1
			continue
		}
		if j < len(b) && b[j] == '\n' {
			i = j
			continue
		}
		if j == len(b) {
			break
		}
		out = append(out, c)
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
