package mailparse

import (
	"encoding/base64"
	"fmt"
	"net/textproto"
	"strings"
	"unicode/utf8"
)

// MailView is a stored mail as staff read it in the evidence viewer: its
// header fields decoded, its text, its HTML (not sanitized: the viewer
// sanitizes it once, where it is served), its attachments, and the
// forwarded original when the mail carries one. View builds it; like
// Parse, View is pure, bounded by Options and never panics.
type MailView struct {
	Headers     []HeaderField
	Text        string // the text/plain part(s), UTF-8
	HTML        string // the first text/html part, UTF-8, unsanitized
	Attachments []Attachment
	Forwarded   *Forwarded
	Problems    []string
	// TextClipped and HTMLClipped: the body was longer than
	// ViewLimits.MaxText and only its start is in Text or HTML.
	TextClipped, HTMLClipped bool
}

// ViewLimits bound what View keeps of a mail, so that the evidence
// viewer's memory does not grow with the mail's size.
type ViewLimits struct {
	// MaxText bounds each text or HTML body kept, in bytes (default and
	// at most 1 MB); the rest is cut at a character boundary and the
	// view says so (TextClipped, HTMLClipped).
	MaxText int
	// Keep says which attachments, numbered from 1 in the order of
	// MailView.Attachments, keep their decoded bytes; the others have
	// only their Size. nil keeps every attachment's bytes.
	Keep func(n int) bool
}

// HeaderField is one header field with its value unfolded and RFC 2047
// decoded.
type HeaderField struct {
	Name, Value string
}

// Attachment is one part that is not the mail's text: a file, an attached
// message, an image.
type Attachment struct {
	Name      string // from Content-Disposition filename or Content-Type name, RFC 2047/2231 decoded; may be ""
	Type      string // the declared media type, lower-cased
	Data      []byte // transfer-decoded; nil unless ViewLimits.Keep wants it
	Size      int    // the decoded size, kept or not
	Forwarded bool   // inside the forwarded original
}

// Forwarded is the original the reporter forwarded: an attached
// message/rfc822, or an inline forward (a marker line and a header block
// in the text) that the parser recognises.
type Forwarded struct {
	Inline  bool // an inline forward: Headers are the block's fields, Text what follows it
	Headers []HeaderField
	Text    string
	HTML    string // for an attached original only
	// TextClipped, HTMLClipped: as in MailView.
	TextClipped, HTMLClipped bool
}

const (
	maxViewText  = 1 << 20 // per text or HTML body
	maxViewField = 8 << 10 // per header value shown
)

// View reads raw for the evidence viewer, keeping every attachment's
// bytes and up to 1 MB of each body.
func View(raw []byte, o Options) MailView { return ViewLimited(raw, o, ViewLimits{}) }

// ViewLimited is View within l: the viewer keeps only the start of each
// body and the bytes of the attachment it serves.
func ViewLimited(raw []byte, o Options, l ViewLimits) (v MailView) {
	p := newParser(o)
	defer func() {
		if r := recover(); r != nil {
			v = MailView{Problems: []string{fmt.Sprintf("%s: %v", internalError, r)}}
		}
	}()
	if l.MaxText <= 0 || l.MaxText > maxViewText {
		l.MaxText = maxViewText
	}
	vw := &viewer{p: p, l: l}
	vw.view(raw)
	vw.v.Problems = p.problems
	return vw.v
}

type viewer struct {
	p *parser
	l ViewLimits
	v MailView
}

// keeps reports whether attachment n keeps its bytes.
func (vw *viewer) keeps(n int) bool { return vw.l.Keep == nil || vw.l.Keep(n) }

// viewBody collects one message's readable bodies while its parts are
// walked: the mail's own, or the forwarded original's.
type viewBody struct {
	text, html               *strings.Builder
	hasHTML                  bool
	forwarded                bool
	textClipped, htmlClipped bool
}

func (vw *viewer) view(raw []byte) {
	p := vw.p
	if int64(len(raw)) > p.o.MaxSize {
		raw = raw[:p.o.MaxSize]
		p.problem("truncated at " + sizeString(p.o.MaxSize))
	}
	raw = trimMessageStart(raw)
	h, body := p.readHeader(raw, "the message header", false)
	vw.v.Headers = vw.fields(h)
	var text, html strings.Builder
	vb := &viewBody{text: &text, html: &html}
	vw.part(h, body, 0, vb, false)
	vw.v.Text = strings.TrimSpace(text.String())
	vw.v.HTML = html.String()
	vw.v.TextClipped, vw.v.HTMLClipped = vb.textClipped, vb.htmlClipped
	if vw.v.Forwarded == nil {
		vw.v.Forwarded = inlineForward(p, vw.v.Text)
	}
}

// trimMessageStart drops a byte-order mark and blank lines before the
// header, as Parse does.
func trimMessageStart(raw []byte) []byte {
	if len(raw) >= 3 && raw[0] == 0xef && raw[1] == 0xbb && raw[2] == 0xbf {
		raw = raw[3:]
	}
	for len(raw) > 0 && (raw[0] == '\n' || raw[0] == '\r') {
		raw = raw[1:]
	}
	return raw
}

// headerNames spells the fields whose usual spelling is not canonical
// MIME case.
var headerNames = map[string]string{
	"message-id": "Message-ID", "mime-version": "MIME-Version", "dkim-signature": "DKIM-Signature",
	"arc-seal": "ARC-Seal", "arc-message-signature": "ARC-Message-Signature",
	"arc-authentication-results": "ARC-Authentication-Results", "x-ms-exchange-organization-scl": "X-MS-Exchange-Organization-SCL",
	"resent-message-id": "Resent-Message-ID", "list-id": "List-ID", "x-arf": "X-ARF",
}

func (vw *viewer) fields(h header) []HeaderField {
	out := make([]HeaderField, 0, len(h))
	for _, f := range h {
		name := headerNames[f.key]
		if name == "" {
			name = textproto.CanonicalMIMEHeaderKey(f.key)
		}
		val := strings.TrimSpace(vw.p.decodeWords(f.value))
		out = append(out, HeaderField{Name: name, Value: clip(val, maxViewField)})
	}
	return out
}

// part walks one MIME entity (RFC 2045, 2046) for the view, within the
// parser's part, depth and decoded-size limits.
func (vw *viewer) part(h header, body []byte, depth int, vb *viewBody, inAlt bool) {
	p := vw.p
	if !p.enterPart() {
		return
	}
	typ, params := parseMediaType(h.get("content-type"))
	if typ == "" {
		typ = "text/plain"
	}
	disp, dparams := parseParams(h.get("content-disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = clip(strings.TrimSpace(p.decodeWords(name)), 255)
	attachment := disp == "attachment"
	where := fmt.Sprintf("part %d", p.parts)

	switch {
	case strings.HasPrefix(typ, "multipart/"):
		if depth >= p.o.MaxDepth {
			p.problem(fmt.Sprintf("depth limit: MIME nesting deeper than %d at %s", p.o.MaxDepth, where))
			return
		}
		parts, complaint := splitMultipart(body, params["boundary"])
		if complaint != "" {
			p.problem("malformed MIME: " + complaint + " in " + where)
		}
		if parts == nil {
			vw.part(nil, body, depth+1, vb, inAlt)
			return
		}
		alt := typ == "multipart/alternative"
		for _, pb := range parts {
			if p.stopped {
				break
			}
			hh, rest := p.readHeader(pb, where, true)
			vw.part(hh, rest, depth+1, vb, inAlt || alt)
		}

	case typ == "message/rfc822" || typ == "message/global" ||
		(typ == "application/octet-stream" || typ == "application/x-message" || typ == "message/x-emlx") && strings.HasSuffix(strings.ToLower(name), ".eml"):
		b := vw.decoded(h, body, where)
		if b == nil {
			return
		}
		if name == "" {
			name = "forwarded.eml"
		}
		vw.attach(name, typ, b, vb.forwarded)
		if depth >= p.o.MaxDepth {
			p.problem(fmt.Sprintf("depth limit: MIME nesting deeper than %d at %s", p.o.MaxDepth, where))
			return
		}
		if vw.v.Forwarded != nil || vb.forwarded {
			return // the first attached message is the original; others stay files
		}
		hh, rest := p.readHeader(trimMessageStart(b), where, false)
		var text, html strings.Builder
		fb := &viewBody{text: &text, html: &html, forwarded: true}
		fw := &Forwarded{Headers: vw.fields(hh)}
		vw.v.Forwarded = fw
		vw.part(hh, rest, depth+1, fb, false)
		fw.Text, fw.HTML = strings.TrimSpace(text.String()), html.String()
		fw.TextClipped, fw.HTMLClipped = fb.textClipped, fb.htmlClipped
		if fw.Text == "" && fw.HTML != "" {
			fw.Text, _ = htmlToText(fw.HTML)
		}

	case !attachment && (typ == "text/plain" || typ == "text/html" || typ == "text/enriched"):
		b := vw.decoded(h, body, where)
		if b == nil {
			return
		}
		html := typ == "text/html"
		switch {
		case html && vb.hasHTML:
			vw.attach(orName(name, "message.html"), typ, b, vb.forwarded)
			return
		case !html && inAlt && vb.text.Len() > 0:
			return // the same content again; the first plain text stays
		}
		// Only the start is shown: convert no more than a generous
		// multiple of it (a charset can take four bytes per character).
		cut := len(b) > 4*vw.l.MaxText
		if cut {
			b = b[:4*vw.l.MaxText]
		}
		var s string
		if params["charset"] == "" && html && !isUTF8(b) {
			s = htmlCharset(b)
		} else {
			s = p.convert(params["charset"], b, where)
		}
		s = strings.ReplaceAll(s, "\r\n", "\n")
		if html {
			vb.hasHTML = true
			vb.htmlClipped = vw.appendClipped(vb.html, s) || cut
			return
		}
		if vb.text.Len() > 0 {
			vw.appendClipped(vb.text, "\n\n")
		}
		vb.textClipped = vw.appendClipped(vb.text, s) || cut || vb.textClipped

	default:
		if !vw.keeps(len(vw.v.Attachments)+1) && vw.sizeOnly(h, body, name, typ, vb.forwarded) {
			return
		}
		b := vw.decoded(h, body, where)
		if b == nil {
			return
		}
		vw.attach(name, typ, b, vb.forwarded)
	}
}

// sizeOnly attaches a part whose bytes are not kept by its decoded size
// alone, without decoding it, where its transfer encoding allows (none or
// base64); false leaves it to decoded. It spends the decoded-size budget
// exactly as decoded does, so that the attachments are the same.
func (vw *viewer) sizeOnly(h header, body []byte, name, typ string, forwarded bool) bool {
	n, ok := decodedSize(h.get("content-transfer-encoding"), body)
	if !ok {
		return false
	}
	p := vw.p
	if p.budget(len(body)) <= 0 {
		return true
	}
	if int64(n) > p.budget(n) {
		n = int(p.budget(n))
	}
	p.spend(n)
	vw.v.Attachments = append(vw.v.Attachments, Attachment{Name: name, Type: typ, Size: n, Forwarded: forwarded})
	return true
}

// decodedSize is len(decodeTransfer(cte, b)) for the encodings whose
// size is known without decoding: none, and base64 as decodeBase64 reads
// it.
func decodedSize(cte string, b []byte) (int, bool) {
	enc := strings.ToLower(strings.Trim(strings.TrimSpace(stripComment(cte)), "\"';"))
	switch {
	case enc == "" || enc == "7bit" || enc == "8bit" || enc == "binary":
		return len(b), true
	case strings.Contains(enc, "base64"):
		n := 0
		for _, c := range b {
			if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' {
				n++
			}
		}
		if n%4 == 1 {
			n--
		}
		return base64.RawStdEncoding.DecodedLen(n), true
	}
	return 0, false
}

func orName(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}

// decoded undoes the transfer encoding within the decoded-size budget;
// nil means the budget is spent.
func (vw *viewer) decoded(h header, body []byte, where string) []byte {
	p := vw.p
	if p.budget(len(body)) <= 0 {
		return nil
	}
	b := p.decodeTransfer(h.get("content-transfer-encoding"), body, where)
	if int64(len(b)) > p.budget(len(b)) {
		b = b[:p.budget(len(b))]
	}
	p.spend(len(b))
	return b
}

func (vw *viewer) attach(name, typ string, b []byte, forwarded bool) {
	a := Attachment{Name: name, Type: typ, Size: len(b), Forwarded: forwarded}
	if vw.keeps(len(vw.v.Attachments) + 1) {
		a.Data = b
	}
	vw.v.Attachments = append(vw.v.Attachments, a)
}

// appendClipped appends s to b up to the view's MaxText and reports
// whether it left something out.
func (vw *viewer) appendClipped(b *strings.Builder, s string) bool {
	left := vw.l.MaxText - b.Len()
	if left <= 0 {
		return s != ""
	}
	if len(s) <= left {
		b.WriteString(s)
		return false
	}
	s = s[:left]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	b.WriteString(s)
	return true
}

// inlineForward finds an inline forward in the mail's text: a marker line
// ("---------- Forwarded message ---------", "-------- 転送メッセージ
// --------") and the header block after it. The original is what follows
// the block.
func inlineForward(p *parser, text string) *Forwarded {
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	for i, l := range lines {
		t := trimQuote(l)
		if t == "" {
			continue
		}
		_, rest, ok := forwardMarker(t)
		if !ok {
			continue
		}
		var blk fwdBlock
		next := i + 1
		if rest != "" {
			blk, _ = parseBlock([]string{rest}, 0)
		} else {
			blk, next = parseBlock(lines, i+1)
		}
		fw := &Forwarded{Inline: true}
		for _, k := range []string{"from", "date", "subject", "to", "cc", "reply-to", "message-id"} {
			if v := blk[k]; v != "" {
				name := headerNames[k]
				if name == "" {
					name = textproto.CanonicalMIMEHeaderKey(k)
				}
				fw.Headers = append(fw.Headers, HeaderField{Name: name, Value: clip(strings.TrimSpace(p.decodeWords(v)), maxViewField)})
			}
		}
		fw.Text = strings.TrimSpace(strings.Join(lines[min(next, len(lines)):], "\n"))
		return fw
	}
	return nil
}
