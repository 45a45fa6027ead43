package mailparse

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// parser holds what one Parse call has found so far.
type parser struct {
	o               Options
	ownAddrs        map[string]bool // lower-cased
	ownLocal        map[string]bool // local parts whose +TOKEN subaddress carries a token
	ownDomains      map[string]bool
	ownIDs          map[string]bool // Message-IDs of the report mail itself (Message-ID, Resent-Message-ID)
	linkHosts       map[string]bool // Options.LinkHosts, lower-cased, without scheme or port
	trustedAuthserv map[string]bool // Options.TrustedAuthservIDs, lower-cased
	dkimPass        []string        // signing domains a trusted server verified on the report mail

	ids, toks candidates
	seq       int

	problems    []string
	problemSeen map[string]bool

	parts   int
	decoded int64 // bytes produced by decoding, against a budget of 2×MaxSize
	stopped bool  // the part limit was hit: no more parts are looked at

	// the report mail
	msgID, from, fromDomain, subject string
	text                             strings.Builder
	textCut                          bool
	contentLangJa                    bool
	jaCharset                        bool

	original     *Original
	originalRank int

	replyOrForward bool
	attachedCount  int

	// loop protection and classification
	auto             string // first reason found in the headers
	autoClass        bool   // the reason makes the mail an auto-reply (not only "do not answer")
	ownAddress       bool
	nullSender       bool
	dmarcPass        bool // a trusted Authentication-Results says dmarc=pass for the From's domain
	daemonSender     bool
	bounceSubject    bool
	bounceText       bool
	arf, xarf, mdn   bool
	dsn              bool
	failedRecipients []string

	dsnFinal, dsnOriginal []string
	dsnStatus             string
	textRecipients        []string
	textStatus            string
}

func newParser(o Options) *parser {
	p := &parser{
		o:           o.withDefaults(),
		ownAddrs:    map[string]bool{},
		ownLocal:    map[string]bool{"notme": true},
		ownDomains:  map[string]bool{},
		ownIDs:      map[string]bool{},
		problemSeen: map[string]bool{},
	}
	for _, h := range p.o.LinkHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if i := strings.Index(h, "://"); i >= 0 {
			h = h[i+3:]
		}
		h, _, _ = strings.Cut(h, "/")
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
			h = h[:i]
		}
		if h != "" {
			if p.linkHosts == nil {
				p.linkHosts = map[string]bool{}
			}
			p.linkHosts[h] = true
		}
	}
	for _, id := range p.o.TrustedAuthservIDs {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			if p.trustedAuthserv == nil {
				p.trustedAuthserv = map[string]bool{}
			}
			p.trustedAuthserv[id] = true
		}
	}
	for _, a := range p.o.OwnAddresses {
		a = strings.ToLower(strings.TrimSpace(firstAddressOr(a)))
		if a == "" {
			continue
		}
		p.ownAddrs[a] = true
		if d := domainOf(a); d != "" {
			p.ownDomains[d] = true
		}
		if at := strings.LastIndexByte(a, '@'); at > 0 {
			local := a[:at]
			if plus := strings.IndexByte(local, '+'); plus > 0 {
				local = local[:plus]
			}
			p.ownLocal[local] = true
		}
	}
	return p
}

func firstAddressOr(s string) string {
	if a := firstAddress(s); a != "" {
		return a
	}
	return s
}

func (p *parser) problem(s string) {
	if p.problemSeen[s] {
		return
	}
	p.problemSeen[s] = true
	if len(p.problems) < maxProblems {
		p.problems = append(p.problems, s)
	}
}

// budget returns how many decoded bytes may still be produced, at most n.
func (p *parser) budget(n int) int64 {
	left := 2*p.o.MaxSize - p.decoded
	if left <= 0 {
		p.problem("decoded size limit: the rest of the parts were not decoded")
		return 0
	}
	if int64(n) < left {
		return int64(n)
	}
	return left
}

func (p *parser) spend(n int) { p.decoded += int64(n) }

func (p *parser) nextSeq() int {
	p.seq++
	return p.seq
}

// ctx is where in the MIME tree a part is.
type ctx struct {
	path       string // IMAP-style part number: "1", "2.1"; "" for the whole message
	depth      int
	msgRoot    bool   // the part is the body of a message (the root or an attached one)
	attached   int    // how many attached messages enclose it
	report     string // report-type of the enclosing multipart/report, or "x-arf"
	defType    string // default Content-Type (message/rfc822 inside multipart/digest)
	main       bool   // its text is the report mail's own text
	alt        *altText
	attachment bool // Content-Disposition: attachment
}

// altText collects the text of one multipart/alternative, which gives the
// same content twice: the plain text wins, the HTML is the fallback.
type altText struct{ plain, html string }

func (c ctx) where() string {
	if c.path == "" {
		return "the message body"
	}
	return "part " + c.path
}

func (c ctx) child(i int) ctx {
	n := ctx{depth: c.depth + 1, attached: c.attached, report: c.report, main: c.main, alt: c.alt, defType: "text/plain"}
	if c.path == "" {
		n.path = strconv.Itoa(i + 1)
	} else {
		n.path = c.path + "." + strconv.Itoa(i+1)
	}
	return n
}

func (p *parser) parse(raw []byte) {
	if int64(len(raw)) > p.o.MaxSize {
		raw = raw[:p.o.MaxSize]
		p.problem("truncated at " + sizeString(p.o.MaxSize))
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') >= 0 {
		raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n")) // classic Mac OS line ends
	}
	for len(raw) > 0 && (raw[0] == '\n' || raw[0] == '\r') {
		raw = raw[1:]
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		p.problem("empty message")
		return
	}
	h, body := p.readHeader(raw, "the message header", false)
	if len(h) == 0 {
		p.problem("malformed message: no header fields")
	}
	p.topHeader(h)
	p.part(h, body, ctx{msgRoot: true, main: true, defType: "text/plain"})
}

func sizeString(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// enterPart counts one more MIME part and reports whether the walk may
// read it: false once the walk stopped or the part limit is passed (which
// stops it, with the problem noted once).
func (p *parser) enterPart() bool {
	if p.stopped {
		return false
	}
	p.parts++
	if p.parts > p.o.MaxParts {
		p.problem(fmt.Sprintf("part limit: more than %d MIME parts", p.o.MaxParts))
		p.stopped = true
		return false
	}
	return true
}

// part handles one MIME entity whose header has been read.
func (p *parser) part(h header, body []byte, c ctx) {
	if !p.enterPart() {
		return
	}
	typ, params := parseMediaType(h.get("content-type"))
	if typ == "" {
		typ = c.defType
	}
	disp, dparams := parseParams(h.get("content-disposition"))
	c.attachment = disp == "attachment"
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	isMultipart := strings.HasPrefix(typ, "multipart/")
	if c.msgRoot && !isMultipart {
		// IMAP numbers a message's single body part as its first part.
		if c.path == "" {
			c.path = "1"
		} else {
			c.path += ".1"
		}
	}
	cte := h.get("content-transfer-encoding")

	switch {
	case isMultipart:
		p.multipart(typ, params, body, c)

	case typ == "message/rfc822" || typ == "message/global" ||
		(typ == "application/octet-stream" || typ == "application/x-message" || typ == "message/x-emlx") && strings.HasSuffix(strings.ToLower(name), ".eml"):
		if c.depth >= p.o.MaxDepth {
			p.problem(fmt.Sprintf("depth limit: MIME nesting deeper than %d at %s", p.o.MaxDepth, c.where()))
			return
		}
		if p.budget(len(body)) <= 0 {
			return
		}
		b := p.decodeTransfer(cte, body, c.where())
		p.spend(len(b))
		p.attachedMessage(b, c)

	case typ == "text/rfc822-headers" || typ == "text/rfc822-header" || typ == "message/rfc822-headers":
		b := p.decodeTransfer(cte, body, c.where())
		hh, rest := p.readHeader(b, c.where(), true)
		p.originalHeader(hh, c, p.headersSource(c))
		// Broken MIME leaves the rest of a report here: look for the
		// original's Message-ID in it too.
		if len(rest) > 0 && p.inReport(c) {
			p.scanMessageIDLines(p.convert(params["charset"], rest, c.where()), c)
		}

	case typ == "message/feedback-report":
		p.arf = true
		p.reportFields(p.decodeTransfer(cte, body, c.where()), c)

	case typ == "message/delivery-status" || typ == "message/global-delivery-status":
		p.dsn = true
		p.reportFields(p.decodeTransfer(cte, body, c.where()), c)

	case typ == "message/disposition-notification" || typ == "message/global-disposition-notification":
		p.mdn = true
		p.reportFields(p.decodeTransfer(cte, body, c.where()), c)

	case strings.HasPrefix(typ, "text/") || typ == "application/json" || typ == "application/yaml" ||
		typ == "application/x-yaml" || typ == "application/xhtml+xml":
		if p.budget(len(body)) <= 0 {
			return
		}
		b := p.decodeTransfer(cte, body, c.where())
		p.spend(len(b))
		cs := params["charset"]
		html := typ == "text/html" || typ == "application/xhtml+xml"
		var s string
		if cs == "" && html && !isUTF8(b) {
			s = htmlCharset(b)
		} else {
			s = p.convert(cs, b, c.where())
		}
		if lang := h.get("content-language"); c.main && strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "ja") {
			p.contentLangJa = true
		}
		p.textPart(s, html, typ == "text/plain" || typ == "text/enriched", c)

	default:
		// images, archives, calendars: nothing a report needs.
	}
}

// multipart splits a multipart body and walks its parts.
func (p *parser) multipart(typ string, params map[string]string, body []byte, c ctx) {
	if c.depth >= p.o.MaxDepth {
		p.problem(fmt.Sprintf("depth limit: MIME nesting deeper than %d at %s", p.o.MaxDepth, c.where()))
		return
	}
	sub := strings.TrimPrefix(typ, "multipart/")
	if sub == "report" {
		rt := strings.ToLower(strings.TrimSpace(params["report-type"]))
		switch rt {
		case "feedback-report":
			p.arf = true
		case "delivery-status", "global-delivery-status":
			p.dsn = true
		case "disposition-notification":
			p.mdn = true
		}
		c.report = rt
	}
	parts, complaint := splitMultipart(body, params["boundary"])
	if complaint != "" {
		p.problem("malformed MIME: " + complaint + " in " + c.where())
	}
	if parts == nil {
		// No usable boundary: read the body as text, so that a bounce or
		// report whose structure is broken still yields its ids.
		var h header
		p.part(h, body, ctx{path: c.path, depth: c.depth + 1, msgRoot: c.msgRoot, attached: c.attached,
			report: c.report, main: c.main, alt: c.alt, defType: "text/plain"})
		return
	}
	var alt *altText
	if sub == "alternative" && c.alt == nil {
		alt = &altText{}
		c.alt = alt
	}
	for i, pb := range parts {
		if p.stopped {
			break
		}
		cc := c.child(i)
		if sub == "digest" {
			cc.defType = "message/rfc822"
		}
		// In a report, only the first part is for people (RFC 6522).
		if sub == "report" && i > 0 {
			cc.main = false
		}
		hh, rest := p.readHeader(pb, cc.where(), true)
		p.part(hh, rest, cc)
	}
	if alt != nil {
		t := alt.plain
		if strings.TrimSpace(t) == "" {
			t = alt.html
		}
		p.addText(t)
	}
}

// splitMultipart returns the parts of a multipart body (RFC 2046 section
// 5.1.1), each with its header. A missing final boundary is a complaint, not
// a failure. When the declared boundary is absent or never used, a boundary
// is guessed from the first delimiter-like line; nil parts mean none works.
func splitMultipart(body []byte, boundary string) (parts [][]byte, complaint string) {
	boundary = strings.TrimSpace(boundary)
	if boundary != "" {
		parts, closed := splitOn(body, boundary)
		if parts != nil {
			if !closed {
				complaint = "missing final boundary"
			}
			return parts, complaint
		}
	}
	guess := guessBoundary(body)
	if guess == "" {
		if boundary == "" {
			return nil, "multipart without boundary"
		}
		return nil, "boundary not found"
	}
	parts, _ = splitOn(body, guess)
	if boundary == "" {
		return parts, "multipart without boundary, guessed one"
	}
	return parts, "boundary not found, guessed one"
}

func splitOn(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start := -1 // content start of the current part
	i := 0
	for i <= len(body) {
		k := bytes.Index(body[i:], delim)
		if k < 0 {
			break
		}
		k += i
		if k > 0 && body[k-1] != '\n' {
			i = k + len(delim)
			continue
		}
		after := k + len(delim)
		isClose := bytes.HasPrefix(body[after:], []byte("--"))
		j := after
		if isClose {
			j += 2
		}
		for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\r') {
			j++
		}
		if j < len(body) && body[j] != '\n' {
			// a longer boundary that starts with this one
			i = after
			continue
		}
		if start >= 0 {
			end := k
			// the line break before a delimiter belongs to the delimiter
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			parts = append(parts, body[start:end])
		}
		if isClose {
			return parts, true
		}
		if j < len(body) {
			j++
		}
		start = j
		i = j
		if parts == nil {
			parts = [][]byte{}
		}
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	if len(parts) == 0 {
		return nil, false
	}
	return parts, false
}

// guessBoundary finds the first line that looks like a delimiter ("--" and
// no space) and appears at least twice.
func guessBoundary(body []byte) string {
	for i, n := 0, 0; i < len(body) && n < 200; n++ {
		line, next := nextLine(body, i)
		i = next
		if len(line) > 3 && len(line) < 200 && line[0] == '-' && line[1] == '-' && !bytes.ContainsAny(line, " \t") {
			b := strings.TrimSuffix(string(line[2:]), "--")
			if bytes.Count(body, []byte("\n--"+b)) >= 2 || bytes.HasPrefix(body, []byte("--"+b)) && bytes.Count(body, []byte("\n--"+b)) >= 1 {
				return b
			}
		}
	}
	return ""
}

func (p *parser) inReport(c ctx) bool { return c.report != "" || p.arf || p.dsn || p.xarf }

func (p *parser) headersSource(c ctx) string {
	if c.report == "feedback-report" || c.report == "x-arf" || p.xarf {
		return SourceARF
	}
	return SourceHeaders
}

func (p *parser) attachmentSource(c ctx) string {
	if c.report == "feedback-report" || c.report == "x-arf" || p.xarf {
		return SourceARF
	}
	return SourceAttachment
}

// attachedMessage handles a message/rfc822 or message/global part: the
// reporter's forward as attachment, a bounce's or an abuse report's
// original. Its own Message-ID is the strongest candidate.
func (p *parser) attachedMessage(b []byte, c ctx) {
	p.attachedCount++
	if !p.inReport(c) && c.attached == 0 {
		p.replyOrForward = true
	}
	h, body := p.readHeader(b, c.where(), false)
	if len(h) == 0 {
		// Some MTAs return the original as text only; scan it.
		if len(body) > 0 {
			p.scanMessageIDLines(bestEffort(body), c)
		}
		return
	}
	p.originalHeader(h, c, p.attachmentSource(c))
	if h.has("x-hmxmroriginalrecipient") {
		p.arf = true // Hotmail's JMRP complaint: not RFC 5965, but an abuse report
	}
	cc := ctx{path: c.path, depth: c.depth + 1, msgRoot: true, attached: c.attached + 1, report: c.report, defType: "text/plain"}
	p.part(h, body, cc)
}

// originalHeader takes what a header of the original (attached, returned
// or reported) tells: its Message-IDs, thread, recipients with tokens, and
// the Original summary.
func (p *parser) originalHeader(h header, c ctx, src string) {
	var first string
	for _, v := range h.all("message-id") {
		for _, id := range messageIDs(v) {
			if first == "" {
				first = id
			}
			p.addID(id, src, idAttached)
		}
	}
	for _, k := range []string{"in-reply-to", "references"} {
		for _, v := range h.all(k) {
			for _, id := range messageIDs(v) {
				p.addID(id, src, idAttachedThread)
			}
		}
	}
	for _, k := range []string{"reply-to", "to", "cc", "from", "sender", "return-path"} {
		for _, v := range h.all(k) {
			p.addressTokens(v, tokAttached)
		}
	}
	if len(h) > 0 && (h.has("from") || h.has("subject") || first != "") {
		p.setOriginal(&Original{
			MessageID: first,
			From:      p.addrOrText(h.get("from")),
			To:        p.addrList(h.get("to")),
			Subject:   strings.TrimSpace(p.decodeWords(h.get("subject"))),
			Date:      strings.TrimSpace(h.get("date")),
		}, rankAttached)
	}
}

// Ranks of what fills Result.Original: the lower wins, the first of a rank
// wins.
const (
	rankAttached = iota
	rankForward
	rankAttribution
	rankNone
)

func (p *parser) setOriginal(o *Original, rank int) {
	if p.original != nil && p.originalRank <= rank {
		return
	}
	if *o == (Original{}) {
		return
	}
	p.original, p.originalRank = o, rank
}

func (p *parser) addrOrText(v string) string {
	if a := firstAddress(v); a != "" {
		return strings.ToLower(a)
	}
	return clip(strings.TrimSpace(p.decodeWords(v)), 200)
}

func (p *parser) addrList(v string) string {
	as := addresses(v)
	if len(as) == 0 {
		return clip(strings.TrimSpace(p.decodeWords(v)), 200)
	}
	for i := range as {
		as[i] = strings.ToLower(as[i])
	}
	if len(as) > 10 {
		as = as[:10]
	}
	return strings.Join(as, ", ")
}

// addID records a Message-ID candidate and the token inside a minted one.
func (p *parser) addID(id, src string, tier int) {
	if id == "" {
		return
	}
	seq := p.nextSeq()
	p.ids.add(id, src, tier, seq)
	if tok := tokenFromMessageID(id); tok != "" {
		tt := tokBody
		switch tier {
		case idReply:
			tt = tokReply
		case idAttached, idForward, idAttachedThread:
			tt = tokAttached
		}
		p.toks.add(tok, SourceMessageIDToken, tt, seq)
	}
}

func (p *parser) addToken(tok, src string, tier int) {
	p.toks.add(tok, src, tier, p.nextSeq())
}

// addressTokens finds notme+TOKEN@ (or own-local+TOKEN@) in an address
// list.
func (p *parser) addressTokens(v string, tier int) {
	if strings.IndexByte(v, '+') < 0 {
		return
	}
	for _, a := range addresses(v) {
		if tok := p.tokenFromAddress(a); tok != "" {
			p.addToken(tok, SourceAddress, tier)
		}
	}
}

func (p *parser) tokenFromAddress(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return ""
	}
	local := a[:at]
	plus := strings.IndexByte(local, '+')
	if plus <= 0 || !p.ownLocal[strings.ToLower(local[:plus])] {
		return ""
	}
	if tok := local[plus+1:]; looksLikeToken(tok) {
		return tok
	}
	return ""
}

// looksLikeToken duplicates sealed.LooksLikeToken, which mailparse may not
// import: base64url without padding, 64 to 368 characters, never 1 more
// than a multiple of 4, first character 'A' (version byte 0x01).
func looksLikeToken(s string) bool {
	if len(s) < 64 || len(s) > 368 || len(s)%4 == 1 || s[0] != 'A' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// tokenFromMessageID mirrors cases.TokenFromMessageID: nm1.TOKEN@domain.
func tokenFromMessageID(id string) string {
	at := strings.LastIndexByte(id, '@')
	if at < 0 || !strings.HasPrefix(id, "nm1.") {
		return ""
	}
	if tok := id[len("nm1."):at]; looksLikeToken(tok) {
		return tok
	}
	return ""
}
