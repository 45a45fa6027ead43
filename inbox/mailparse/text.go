package mailparse

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textPart reads one text part: links and tokens, pasted Message-IDs,
// inline forwards, and the report mail's own text for staff.
func (p *parser) textPart(s string, html, plain bool, c ctx) {
	if html {
		var hrefs []string
		s, hrefs = htmlToText(s)
		for _, h := range hrefs {
			p.scanLinks(h, 0)
		}
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	p.scanText(s)
	p.scanMessageIDLines(s, c)
	machine := c.report != "" && !c.main // a report's machine-readable parts
	if !machine {
		p.forwards(lines)
	}
	if c.main && (p.daemonSender || p.nullSender || p.bounceSubject) {
		p.bounceWords(s, lines)
	}
	if c.main && !c.attachment {
		switch {
		case c.alt == nil:
			p.addText(s)
		case html:
			if c.alt.html == "" {
				c.alt.html = s
			}
		case plain:
			if c.alt.plain == "" {
				c.alt.plain = s
			}
		}
	}
}

func (p *parser) addText(s string) {
	s = strings.TrimSpace(s)
	if s == "" || p.textCut {
		return
	}
	if p.text.Len() > 0 {
		p.text.WriteString("\n\n")
	}
	if left := maxText - p.text.Len(); len(s) > left {
		s = s[:max(left, 0)]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		p.textCut = true
	}
	p.text.WriteString(s)
}

// scanText finds tokens: /r/TOKEN links, nm1.TOKEN@ Message-IDs,
// notme+TOKEN@ addresses and bare tokens.
func (p *parser) scanText(s string) {
	p.scanLinks(s, 0)
	for i := 0; i < len(s); {
		if !isTokenChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		if j-i >= 64 {
			p.tokenRun(s, i, j)
		}
		i = j
	}
}

// tokenRun classifies a run of token characters s[i:j] by what surrounds it.
func (p *parser) tokenRun(s string, i, j int) {
	tok := s[i:j]
	var prev, next byte
	if i > 0 {
		prev = s[i-1]
	}
	if j < len(s) {
		next = s[j]
	}
	switch {
	case i >= 3 && s[i-3:i] == "/r/", i >= 3 && strings.EqualFold(s[i-3:i], "%2f"):
		return // a link: scanLinks has it
	case prev == '.' && next == '@' && i >= 4 && s[i-4:i] == "nm1." && (i == 4 || !isTokenChar(s[i-5])):
		e := j + 1
		for e < len(s) && isDomainChar(s[e]) {
			e++
		}
		if dom := strings.TrimRight(s[j+1:e], ".-"); dom != "" {
			p.addID("nm1."+tok+"@"+dom, SourceBody, idBody)
		}
		return
	case prev == '+' && next == '@':
		k := i - 1
		for k > 0 && i-k < 64 && isLocalChar(s[k-1]) && s[k-1] != '+' {
			k--
		}
		if p.ownLocal[strings.ToLower(s[k:i-1])] && looksLikeToken(tok) {
			p.addToken(tok, SourceAddress, tokBody)
		}
		return
	}
	if next == '@' || !looksLikeToken(tok) {
		return
	}
	if prev != 0 && !(prev <= ' ' || prev >= 0x80 || strings.IndexByte("\"'([{<:,;>*|", prev) >= 0) {
		return // part of a URL or another word
	}
	p.addToken(tok, SourceBody, tokBody)
}

// scanLinks finds not-me links (…/r/TOKEN). A client that wrapped the URL
// across lines ("<https://desk/r/AQ\n  Fx…>") is undone; a link rewritten
// by a mail filter (Proofpoint URL Defense, Safe Links, one inside the
// other) is read for the URL it stands for, never for its own text; a
// percent-encoded link inside another redirector is decoded.
func (p *parser) scanLinks(s string, depth int) {
	var rws []rewrite
	if depth < 4 {
		rws = findRewrites(s)
		for _, rw := range rws {
			p.scanLinks(rw.url, depth+1)
		}
	}
	lastK, lastStart := -1, 0
	for off := 0; off < len(s); {
		k := strings.Index(s[off:], "/r/")
		if k < 0 {
			break
		}
		k += off
		for len(rws) > 0 && rws[0].end <= k {
			rws = rws[1:]
		}
		if len(rws) > 0 && rws[0].start <= k {
			// "__https://desk/r/TOKEN__;…" is no link to TOKEN__: the
			// rewrite's decoded URL gave the token.
			off, lastK = rws[0].end, -1
			continue
		}
		start := k + 3
		end := start
		for end < len(s) && isTokenChar(s[end]) {
			end++
		}
		off = start
		urlStart := -1
		if lastK >= 0 && strings.IndexFunc(s[lastK:k], func(r rune) bool { return r < 0x80 && isURLStop(byte(r)) }) < 0 {
			urlStart = lastStart // another "/r/" in the same URL
		}
		urlStart, ok := p.linkHost(s, k, urlStart)
		lastK, lastStart = k, urlStart
		if !ok {
			continue
		}
		tok := s[start:end]
		if joined := joinWrapped(s, urlStart, start, end); joined != tok && looksLikeToken(joined) {
			p.addToken(joined, SourceLink, tokLink)
		}
		if looksLikeToken(tok) && (end == len(s) || s[end] != '@') {
			p.addToken(tok, SourceLink, tokLink)
		}
	}
	if depth < 3 && (strings.Contains(s, "%2F") || strings.Contains(s, "%2f")) {
		for _, f := range strings.Fields(s) {
			lf := strings.ToLower(f)
			if strings.Contains(lf, "%2fr%2f") {
				if u, err := url.QueryUnescape(f); err == nil {
					p.scanLinks(u, depth+1)
				}
			}
		}
	}
}

func isURLStop(c byte) bool {
	return c <= ' ' || strings.IndexByte("<>\"'()[]{}=|\\^`", c) >= 0
}

// linkHost finds where the URL holding s[k:] ("/r/…") starts, unless b
// already says, and whether its host is one of Options.LinkHosts (any host
// when none is set). A URL longer than 2 KB before its path is no link.
func (p *parser) linkHost(s string, k, b int) (int, bool) {
	if b < 0 {
		b = k
		for b > 0 && k-b < 2048 && !isURLStop(s[b-1]) {
			b--
		}
	}
	if len(p.o.LinkHosts) == 0 {
		return b, true
	}
	if k-b > 2048 {
		return b, false
	}
	u := s[b:k]
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 && !strings.Contains(u[i:], "]") {
		u = u[:i]
	}
	return b, p.linkHosts[strings.ToLower(u)]
}

// joinWrapped undoes a line break inside a link's token: the client broke
// the URL at its line length and may have quoted or indented the
// continuation. Without angle brackets around the URL, a continuation is
// taken only when it looks like base64 rather than a word.
func joinWrapped(s string, urlStart, start, end int) string {
	if end >= len(s) || (s[end] != '\n' && s[end] != '\r') {
		return s[start:end]
	}
	bracketed := urlStart > 0 && s[urlStart-1] == '<'
	var b strings.Builder
	b.WriteString(s[start:end])
	pos := end
	for lines := 0; lines < 8 && b.Len() <= 368; lines++ {
		if pos >= len(s) || (s[pos] != '\n' && s[pos] != '\r') {
			break
		}
		q := pos
		if s[q] == '\r' {
			q++
		}
		if q < len(s) && s[q] == '\n' {
			q++
		}
		for q < len(s) && (s[q] == ' ' || s[q] == '\t' || s[q] == '>') {
			q++
		}
		r := q
		for r < len(s) && isTokenChar(s[r]) {
			r++
		}
		if r == q {
			break
		}
		piece := s[q:r]
		closing := r < len(s) && s[r] == '>'
		endsLine := r >= len(s) || strings.IndexByte("\r\n \t)\"]", s[r]) >= 0
		if !closing && !endsLine {
			break
		}
		if !bracketed && !looksRandom(piece) {
			break
		}
		b.WriteString(piece)
		if closing || r >= len(s) || (s[r] != '\n' && s[r] != '\r') {
			break
		}
		pos = r
	}
	return b.String()
}

// looksRandom tells a base64 fragment from a word: a digit, '-', '_' or a
// capital after the first letter.
func looksRandom(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' || c == '-' || c == '_' || i > 0 && 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// trimQuote drops what clients put before a line of quoted or converted
// text: white space, '>' quote marks, '|' and '*' (Outlook's bold).
func trimQuote(l string) string {
	return strings.TrimLeft(strings.TrimSpace(l), " \t>|*\u3000")
}

// scanMessageIDLines finds Message-IDs pasted into text: header lines of a
// returned or pasted original ("Message-ID: <…>"), JSON and YAML keys in
// X-ARF reports, and AOL's "message-id of …" prose.
func (p *parser) scanMessageIDLines(s string, c ctx) {
	if !containsFold(s, "message") {
		return
	}
	for off := 0; off < len(s); {
		nl := strings.IndexByte(s[off:], '\n')
		var line string
		next := len(s)
		if nl < 0 {
			line = s[off:]
		} else {
			line = s[off : off+nl]
			next = off + nl + 1
		}
		off = next
		t := strings.TrimLeft(trimQuote(line), "\"'")
		if len(t) < 11 || !containsFold(t, "message") {
			continue
		}
		for _, pre := range []string{"original-message-id", "x-original-message-id"} {
			if hasPrefixFoldS(t, pre) {
				t = t[len(pre)-len("message-id"):]
				break
			}
		}
		rest, keyed := "", false
		if hasPrefixFoldS(t, "message-id") || hasPrefixFoldS(t, "message id") || hasPrefixFoldS(t, "message_id") {
			rest = strings.TrimLeft(t[len("message-id"):], " \t\"'*")
			switch {
			case strings.HasPrefix(rest, ":"):
				rest, keyed = rest[1:], true
			case strings.HasPrefix(rest, "："):
				rest, keyed = rest[len("："):], true
			}
		}
		if !keyed {
			// prose: "the Message-ID of the mail I got is <…>"
			k := indexFold(t, "message-id")
			if k < 0 {
				k = indexFold(t, "message id")
			}
			if k < 0 {
				continue
			}
			lt := strings.IndexByte(t[k:], '<')
			if lt < 0 || strings.IndexByte(t[k+lt:], '@') < 0 {
				continue
			}
			rest = t[k+lt:]
		}
		if strings.TrimSpace(rest) == "" && next < len(s) {
			// folded: the id is on the next line
			end := strings.IndexByte(s[next:], '\n')
			if end < 0 {
				end = len(s) - next
			}
			rest = s[next : next+end]
		}
		ids := messageIDs(rest)
		if len(ids) > 3 {
			ids = ids[:3]
		}
		for _, id := range ids {
			p.addID(id, SourceBody, idBody)
		}
	}
	// AOL: "…an email message with the message-id of X-0000@YZ received from…"
	for off := 0; ; {
		k := indexFold(s[off:], "message-id of ")
		if k < 0 {
			break
		}
		k += off + len("message-id of ")
		off = k
		e := k
		for e < len(s) && s[e] > ' ' {
			e++
		}
		if id := cleanMessageID(strings.TrimRight(s[k:e], ".,;)")); id != "" {
			p.addID(id, SourceBody, idBody)
		}
	}
}

// indexFold is strings.Index for an ASCII word w in any case.
func indexFold(s, w string) int {
	if len(w) == 0 {
		return 0
	}
	lo, up := w[0]|0x20, w[0]&^0x20
	if w[0] < 'A' || w[0] > 'z' {
		lo, up = w[0], w[0]
	}
	for i := 0; i+len(w) <= len(s); i++ {
		if c := s[i]; (c == lo || c == up) && strings.EqualFold(s[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}

func hasPrefixFoldS(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold reports whether s contains the ASCII word w in any case.
func containsFold(s, w string) bool { return indexFold(s, w) >= 0 }

// bounceWords reads a non-standard bounce's human text: does it say the
// mail was not delivered, to whom, with which status code.
func (p *parser) bounceWords(s string, lines []string) {
	head := s
	if len(head) > 16<<10 {
		head = head[:16<<10]
	}
	lh := strings.ToLower(head)
	for _, w := range bounceTexts {
		if strings.Contains(lh, w) {
			p.bounceText = true
			break
		}
	}
	for _, l := range lines {
		if len(p.textRecipients) >= 20 {
			break
		}
		t := strings.TrimSpace(l)
		t = strings.TrimSuffix(t, ":")
		if strings.HasPrefix(t, "<") {
			if gt := strings.IndexByte(t, '>'); gt > 0 {
				rest := strings.TrimSpace(t[gt+1:])
				if rest == "" || rest == ":" || strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "...") || strings.HasPrefix(rest, "(") {
					t = t[1:gt]
				}
			}
		}
		if at := strings.IndexByte(t, '@'); at > 0 && !strings.ContainsAny(t, " \t<>:;,()\"") && strings.Count(t, "@") == 1 {
			p.textRecipients = append(p.textRecipients, strings.ToLower(t))
		}
	}
	if p.textStatus == "" {
		p.textStatus = statusCode(head)
	}
}

var bounceTexts = []string{
	"could not be delivered", "couldn't be delivered", "was not delivered", "wasn't able to deliver", "not able to deliver",
	"delivery to the following recipient", "delivery has failed", "permanent error", "permanent fatal error",
	"undeliverable", "undelivered", "unable to deliver", "delivery failed", "returned to sender", "user unknown",
	"mailbox unavailable", "mailbox is full", "mailbox full", "was rejected", "message was rejected", "this is the qmail-send program", "could not deliver",
	"配信できません", "配信できませんでした", "届きませんでした", "送信できませんでした", "宛先不明", "エラーが発生",
	"送信できません", "配送できません",
}

// statusCode finds an RFC 3463 status code in text, preferring a permanent
// failure (5.x.x) to a transient one.
func statusCode(s string) string {
	best := ""
	for i := 0; i+4 < len(s); i++ {
		c := s[i]
		if c != '5' && c != '4' || s[i+1] != '.' {
			continue
		}
		if i > 0 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == '.') {
			continue
		}
		j := i + 2
		n1 := j
		for j < len(s) && j-n1 < 3 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == n1 || j >= len(s) || s[j] != '.' {
			continue
		}
		j++
		n2 := j
		for j < len(s) && j-n2 < 3 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == n2 || j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9') {
			continue
		}
		code := s[i:j]
		if c == '5' {
			return code
		}
		if best == "" {
			best = code
		}
	}
	return best
}

// reportFields reads a message/delivery-status, message/feedback-report or
// message/disposition-notification body (RFC 3464, 5965, 8098): recipient
// and status of a bounce, and the original's Message-ID where the report
// names it. Broken MIME leaves the original's header here, so Message-ID
// lines are taken too.
func (p *parser) reportFields(b []byte, c ctx) {
	s := bestEffort(b)
	best := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		colon := strings.IndexByte(l, ':')
		if colon <= 0 {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(l[:colon]))
		val := strings.TrimSpace(l[colon+1:])
		switch key {
		case "final-recipient":
			if a := typedAddress(val); a != "" && len(p.dsnFinal) < maxCandidates {
				p.dsnFinal = append(p.dsnFinal, a)
			}
		case "original-recipient":
			if a := typedAddress(val); a != "" && len(p.dsnOriginal) < maxCandidates {
				p.dsnOriginal = append(p.dsnOriginal, a)
			}
		case "status":
			if code := statusCode(val + " "); code != "" {
				rank := 1
				if code[0] == '5' {
					rank = 2
				}
				if rank > best {
					p.dsnStatus, best = code, rank
				}
			} else if p.dsnStatus == "" && len(val) < 16 {
				p.dsnStatus = val
			}
		case "original-message-id", "x-original-message-id": // RFC 8098 section 3.2.5
			for _, id := range messageIDs(val) {
				p.addID(id, SourceAttachment, idAttached)
			}
		}
	}
	p.scanMessageIDLines(s, c)
}

// typedAddress reads "rfc822; user@example.com" (RFC 3464 section 2.3.2).
func typedAddress(v string) string {
	if semi := strings.IndexByte(v, ';'); semi >= 0 {
		v = v[semi+1:]
	}
	v = strings.Trim(strings.TrimSpace(v), "<>")
	if strings.IndexByte(v, '@') <= 0 || strings.ContainsAny(v, " \t") {
		return ""
	}
	return strings.ToLower(v)
}

// lang guesses the language to answer in: the reporter's own words first,
// then the charset, Content-Language, subject and the rest of the text.
func (p *parser) lang() string {
	text := p.text.String()
	own := ownText(text)
	if hasJapanese(own) {
		return "ja"
	}
	if latinLetters(own) >= 20 {
		return "en"
	}
	head := text
	if len(head) > 8<<10 {
		head = head[:8<<10]
	}
	if p.contentLangJa || p.jaCharset || hasJapanese(p.subject) || hasJapanese(head) {
		return "ja"
	}
	return "en"
}

// ownText is the start of a mail's text before what it quotes or forwards.
func ownText(s string) string {
	end := 0
	for off := 0; off < len(s) && off < 8<<10; {
		nl := strings.IndexByte(s[off:], '\n')
		line := s[off:]
		if nl >= 0 {
			line = s[off : off+nl]
		}
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") || isSeparator(t) || attribution(t) != "" {
			break
		}
		if _, _, ok := forwardMarker(t); ok {
			break
		}
		if k, _ := fieldLine(t); k == "from" {
			break
		}
		if nl < 0 {
			end = len(s)
			break
		}
		off += nl + 1
		end = off
	}
	return s[:end]
}

func hasJapanese(s string) bool {
	kanji := 0
	for _, r := range s {
		switch {
		case r >= 0x3040 && r <= 0x30ff, r >= 0xff66 && r <= 0xff9f: // kana
			return true
		case r >= 0x4e00 && r <= 0x9fff:
			kanji++
			if kanji >= 2 {
				return true
			}
		}
	}
	return false
}

func latinLetters(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x80 && unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
