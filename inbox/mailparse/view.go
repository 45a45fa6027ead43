package mailparse

import (
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
	Data      []byte // transfer-decoded
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
}

const (
	maxViewText  = 1 << 20 // per text or HTML body
	maxViewField = 8 << 10 // per header value shown
)

// View reads raw for the evidence viewer.
func View(raw []byte, o Options) (v MailView) {
	p := newParser(o)
	defer func() {
		if r := recover(); r != nil {
			v = MailView{Problems: []string{fmt.Sprintf("%s: %v", internalError, r)}}
		}
	}()
	vw := &viewer{p: p}
	vw.view(raw)
	vw.v.Problems = p.problems
	return vw.v
}

type viewer struct {
	p *parser
	v MailView
}

// viewBody collects one message's readable bodies while its parts are
// walked: the mail's own, or the forwarded original's.
type viewBody struct {
	text, html *strings.Builder
	hasHTML    bool
	forwarded  bool
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
		if fw.Text == "" && fw.HTML != "" {
			fw.Text, _ = htmlToText(fw.HTML)
		}

	case !attachment && (typ == "text/plain" || typ == "text/html" || typ == "text/enriched"):
		b := vw.decoded(h, body, where)
		if b == nil {
			return
		}
		html := typ == "text/html"
		var s string
		if params["charset"] == "" && html && !isUTF8(b) {
			s = htmlCharset(b)
		} else {
			s = p.convert(params["charset"], b, where)
		}
		s = strings.ReplaceAll(s, "\r\n", "\n")
		switch {
		case html && !vb.hasHTML:
			vb.hasHTML = true
			appendClipped(vb.html, s)
		case html:
			vw.attach(orName(name, "message.html"), typ, b, vb.forwarded)
		case inAlt && vb.text.Len() > 0:
			// the same content again; the first plain text stays
		default:
			if vb.text.Len() > 0 {
				appendClipped(vb.text, "\n\n")
			}
			appendClipped(vb.text, s)
		}

	default:
		b := vw.decoded(h, body, where)
		if b == nil {
			return
		}
		vw.attach(name, typ, b, vb.forwarded)
	}
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
	vw.v.Attachments = append(vw.v.Attachments, Attachment{Name: name, Type: typ, Data: b, Forwarded: forwarded})
}

func appendClipped(b *strings.Builder, s string) {
	left := maxViewText - b.Len()
	if left <= 0 {
		return
	}
	if len(s) > left {
		s = s[:left]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	b.WriteString(s)
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
