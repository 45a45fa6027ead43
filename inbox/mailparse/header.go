package mailparse

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// field is one header field, unfolded (RFC 5322 section 2.2.3), its value
// still raw: RFC 2047 words are decoded by the caller that needs the text.
type field struct {
	key   string // lower-cased name
	value string
}

type header []field

func (h header) get(key string) string {
	for _, f := range h {
		if f.key == key {
			return f.value
		}
	}
	return ""
}

func (h header) has(key string) bool {
	for _, f := range h {
		if f.key == key {
			return true
		}
	}
	return false
}

func (h header) all(key string) []string {
	var out []string
	for _, f := range h {
		if f.key == key {
			out = append(out, f.value)
		}
	}
	return out
}

// nextLine returns the line starting at i without its line ending (LF or
// CRLF) and the index after the line ending.
func nextLine(b []byte, i int) (line []byte, next int) {
	j := i
	for j < len(b) && b[j] != '\n' {
		j++
	}
	line = b[i:j]
	if j < len(b) {
		j++
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, j
}

func validFieldName(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// readHeader reads the header block at the start of b leniently and returns
// it and the body. It accepts bare LF, skips mbox "From " and ">From " lines
// (Yahoo puts one before an ARF report's original), and ends the header at
// the first line that cannot be a field when the blank line is missing.
// where names the part in problems; part is false for a whole message.
func (p *parser) readHeader(b []byte, where string, part bool) (header, []byte) {
	var h header
	var last *strings.Builder
	lastLen := 0
	limited := false
	flush := func() {
		if last != nil {
			h[len(h)-1].value = last.String()
			last = nil
		}
	}
	i := 0
	for i < len(b) {
		line, next := nextLine(b, i)
		if len(line) == 0 {
			flush()
			return h, b[next:]
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h) == 0 && !limited {
			// White space before the first field: a mangled first field
			// (" From: x"), or a part with no header whose body is indented.
			t := trimLeftWSP(line)
			if c := indexByte(t, ':'); c > 0 && validFieldName(trimRightWSP(t[:c])) {
				p.problem("malformed header: white space before the first field in " + where)
				line = t
			} else if part {
				return nil, b[i:]
			} else {
				i = next
				continue
			}
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 5322 section 2.2.3: a folded continuation.
			if limited {
				i = next
				continue
			}
			if lastLen+len(line) > p.o.MaxHeaderLen {
				if lastLen <= p.o.MaxHeaderLen {
					p.problem(fmt.Sprintf("header limit: field %s longer than %d bytes in %s", h[len(h)-1].key, p.o.MaxHeaderLen, where))
					lastLen = p.o.MaxHeaderLen + 1
				}
				i = next
				continue
			}
			if last == nil {
				last = &strings.Builder{}
				last.WriteString(h[len(h)-1].value)
			}
			last.Write(line)
			lastLen += len(line)
			i = next
			continue
		}
		if hasPrefixFold(line, "From ") || hasPrefixFold(line, ">From ") {
			// mbox separator or its escaped form, not a field.
			if !isFieldLine(line) {
				i = next
				continue
			}
		}
		colon := indexByte(line, ':')
		if colon < 0 || !validFieldName(trimRightWSP(line[:colon])) {
			flush()
			if len(h) > 0 {
				p.problem("malformed header: no blank line between header and body in " + where)
			}
			return h, b[i:]
		}
		flush()
		if len(h) >= p.o.MaxHeaders {
			if !limited {
				p.problem(fmt.Sprintf("header limit: more than %d fields in %s", p.o.MaxHeaders, where))
				limited = true
			}
			i = next
			continue
		}
		limited = false
		key := strings.ToLower(string(trimRightWSP(line[:colon])))
		v := trimLeftWSP(line[colon+1:])
		if len(v) > p.o.MaxHeaderLen {
			p.problem(fmt.Sprintf("header limit: field %s longer than %d bytes in %s", key, p.o.MaxHeaderLen, where))
			v = v[:p.o.MaxHeaderLen]
		}
		h = append(h, field{key: key, value: string(v)})
		lastLen = len(v)
		i = next
	}
	flush()
	return h, nil
}

// isFieldLine reports whether a line that starts with "From " is in fact a
// field with white space before the colon ("From : x"), which RFC 5322's
// obsolete syntax allows.
func isFieldLine(line []byte) bool {
	s := strings.TrimLeft(string(line), ">")
	s = strings.TrimSpace(s[len("From"):])
	return strings.HasPrefix(s, ":")
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimRightWSP(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func trimLeftWSP(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// parseMediaType parses a Content-Type or Content-Disposition value
// leniently: a missing subtype, duplicate parameters (the first wins),
// unquoted special characters and RFC 2231 continuations and charsets are
// all accepted. The type and parameter names are lower-cased.
func parseMediaType(v string) (string, map[string]string) {
	typ, params := parseParams(v)
	if typ != "" && !strings.Contains(typ, "/") {
		switch typ {
		case "text":
			typ = "text/plain"
		case "multipart":
			typ = "multipart/mixed"
		case "message":
			typ = "message/rfc822"
		default:
			typ = "application/octet-stream"
		}
	}
	return typ, params
}

// parseParams splits "value; name=param; …" (Content-Type,
// Content-Disposition) with parseMediaType's leniency.
func parseParams(v string) (string, map[string]string) {
	v = strings.TrimSpace(v)
	semi := strings.IndexByte(v, ';')
	typ := v
	rest := ""
	if semi >= 0 {
		typ, rest = v[:semi], v[semi+1:]
	}
	typ = strings.ToLower(strings.TrimSpace(stripComment(typ)))
	typ = strings.Trim(typ, "\"")
	params := map[string]string{}
	type piece struct {
		n        int
		v        string
		extended bool
	}
	var pieces map[string][]piece
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t\r\n;")
		if rest == "" {
			break
		}
		eq := strings.IndexAny(rest, "=;")
		if eq < 0 || rest[eq] == ';' {
			// a parameter without a value: skip it
			if eq < 0 {
				break
			}
			rest = rest[eq+1:]
			continue
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t\r\n")
		var val string
		if strings.HasPrefix(rest, "\"") {
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) {
					i++
					b.WriteByte(rest[i])
					continue
				}
				if c == '"' {
					break
				}
				b.WriteByte(c)
			}
			val = b.String()
			if i < len(rest) {
				rest = rest[i+1:]
			} else {
				rest = ""
			}
			if semi := strings.IndexByte(rest, ';'); semi >= 0 {
				rest = rest[semi:]
			} else {
				rest = ""
			}
		} else {
			end := strings.IndexByte(rest, ';')
			if end < 0 {
				end = len(rest)
			}
			val = strings.TrimSpace(rest[:end])
			rest = rest[end:]
		}
		if key == "" {
			continue
		}
		// RFC 2231: name*=charset'lang'value, name*0=..., name*1*=...
		if star := strings.IndexByte(key, '*'); star >= 0 {
			base := key[:star]
			suffix := key[star+1:]
			ext := strings.HasSuffix(suffix, "*") || suffix == ""
			suffix = strings.TrimSuffix(suffix, "*")
			n := 0
			if suffix != "" {
				if _, err := fmt.Sscanf(suffix, "%d", &n); err != nil {
					continue
				}
			}
			if pieces == nil {
				pieces = map[string][]piece{}
			}
			if len(pieces[base]) < 100 {
				pieces[base] = append(pieces[base], piece{n: n, v: val, extended: ext})
			}
			continue
		}
		if _, dup := params[key]; !dup {
			params[key] = val
		}
	}
	for base, ps := range pieces {
		if _, ok := params[base]; ok {
			continue
		}
		// Order by section number; sections are few.
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && ps[j].n < ps[j-1].n; j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
		var raw []byte
		charset := ""
		for i, pc := range ps {
			v := pc.v
			if pc.extended {
				if i == 0 {
					if parts := strings.SplitN(v, "'", 3); len(parts) == 3 {
						charset, v = parts[0], parts[2]
					}
				}
				raw = append(raw, percentDecode(v)...)
			} else {
				raw = append(raw, v...)
			}
		}
		params[base] = decodeCharsetString(charset, raw)
	}
	return typ, params
}

func stripComment(s string) string {
	if i := strings.IndexByte(s, '('); i >= 0 {
		return s[:i]
	}
	return s
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodeWords decodes RFC 2047 encoded words in a header value. Adjacent
// words in one charset are joined before conversion, because Japanese
// mailers split multi-byte characters across words. Raw 8-bit or ISO-2022-JP
// text outside words is converted as best it can be. Problems go to p.
func (p *parser) decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return p.rawHeaderText(s)
	}
	var out strings.Builder
	var pend []byte
	pendCharset := ""
	pending := false
	flush := func() {
		if pending {
			out.WriteString(p.convert(pendCharset, pend, "a header"))
			pend, pendCharset, pending = pend[:0], "", false
		}
	}
	cached := -2 // index of the next "?=", -1 for none
	next := func(from int) int {
		if cached == -1 || cached >= from {
			return cached
		}
		if k := strings.Index(s[from:], "?="); k >= 0 {
			cached = from + k
		} else {
			cached = -1
		}
		return cached
	}
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			flush()
			out.WriteString(p.rawHeaderText(s[i:]))
			break
		}
		cs, data, end, ok := parseEncodedWord(s, i+j, next)
		if !ok {
			flush()
			out.WriteString(p.rawHeaderText(s[i : i+j+2]))
			i += j + 2
			continue
		}
		between := s[i : i+j]
		if !(pending && strings.TrimLeft(between, " \t\r\n") == "") {
			flush()
			out.WriteString(p.rawHeaderText(between))
		}
		if pending && !strings.EqualFold(cs, pendCharset) {
			flush()
		}
		pend = append(pend, data...)
		pendCharset, pending = cs, true
		i = end
	}
	flush()
	return out.String()
}

// parseEncodedWord parses "=?charset?B|Q?text?=" at s[at:] and returns
// the charset (RFC 2231 language dropped), the decoded bytes and the end of
// the word. next(i) is the index of the first "?=" at or after i, or -1;
// decodeWords caches it so that a header of broken words stays linear.
func parseEncodedWord(s string, at int, next func(int) int) (charset string, data []byte, end int, ok bool) {
	w := s[at:]
	if !strings.HasPrefix(w, "=?") {
		return "", nil, 0, false
	}
	q1 := strings.IndexByte(w[2:min(len(w), 80)], '?')
	if q1 <= 0 {
		return "", nil, 0, false
	}
	charset = w[2 : 2+q1]
	if star := strings.IndexByte(charset, '*'); star >= 0 {
		charset = charset[:star]
	}
	rest := w[2+q1+1:]
	if len(rest) < 2 || rest[1] != '?' {
		return "", nil, 0, false
	}
	enc := rest[0]
	start := at + 2 + q1 + 1 + 2
	stop := next(start)
	// RFC 2047 allows 75 characters; some mailers write longer words,
	// none near 1000.
	if stop < 0 || stop-start > 1000 {
		return "", nil, 0, false
	}
	text := s[start:stop]
	switch enc {
	case 'B', 'b':
		data = decodeBase64([]byte(text))
	case 'Q', 'q':
		data = make([]byte, 0, len(text))
		for i := 0; i < len(text); i++ {
			c := text[i]
			switch {
			case c == '_':
				data = append(data, ' ')
			case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
				data = append(data, unhex(text[i+1])<<4|unhex(text[i+2]))
				i += 2
			default:
				data = append(data, c)
			}
		}
	default:
		return "", nil, 0, false
	}
	return charset, data, stop + 2, true
}

// decodeBase64 decodes leniently: characters outside the alphabet are
// skipped, padding and what follows it end the data, a partial last group
// is kept.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '-':
			clean = append(clean, '+')
		case c == '_':
			clean = append(clean, '/')
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// rawHeaderText returns header text that is not an encoded word as UTF-8:
// raw ISO-2022-JP and 8-bit Shift_JIS or EUC-JP in headers are common in
// old Japanese mail.
func (p *parser) rawHeaderText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x1b") {
		return s
	}
	return bestEffort([]byte(s))
}

// messageIDs returns the msg-ids (RFC 5322 section 3.6.4) in a header
// value, without angle brackets. Ids without brackets, which broken mailers
// write, are taken when they contain an @.
func messageIDs(v string) []string {
	var out []string
	if strings.IndexByte(v, '<') >= 0 {
		rest := v
		for len(out) < maxCandidates {
			lt := strings.IndexByte(rest, '<')
			if lt < 0 {
				break
			}
			gt := strings.IndexByte(rest[lt:], '>')
			if gt < 0 {
				break
			}
			id := cleanMessageID(rest[lt+1 : lt+gt])
			if id != "" {
				out = append(out, id)
			}
			rest = rest[lt+gt+1:]
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == '\r' || r == '\n' || r == '"' || r == '(' || r == ')' || r == '<' || r == '>'
	}) {
		if id := cleanMessageID(w); id != "" && len(out) < maxCandidates {
			out = append(out, id)
		}
	}
	return out
}

// cleanMessageID checks one id-left@id-right, dropping white space that
// folding left inside it.
func cleanMessageID(s string) string {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Join(strings.Fields(s), "")
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if mailto := "mailto:"; strings.HasPrefix(strings.ToLower(s), mailto) {
		return ""
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 998 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' {
			return ""
		}
	}
	if !utf8.ValidString(s) {
		return ""
	}
	return s
}

// addresses returns the addresses in an address-list value, original case
// kept (a sealed token's case matters). Bracketed addresses win; without
// them, every local@domain word is taken.
func addresses(v string) []string {
	var out []string
	if strings.IndexByte(v, '@') < 0 {
		return nil
	}
	rest := v
	for len(out) < maxCandidates {
		lt := strings.IndexByte(rest, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(rest[lt:], '>')
		if gt < 0 {
			break
		}
		a := strings.TrimSpace(rest[lt+1 : lt+gt])
		a = strings.TrimPrefix(a, "mailto:")
		if at := strings.LastIndexByte(a, '@'); at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " \t<>") {
			out = append(out, a)
		}
		rest = rest[lt+gt+1:]
	}
	if len(out) > 0 {
		return out
	}
	for i := 0; i < len(v) && len(out) < maxCandidates; i++ {
		if v[i] != '@' {
			continue
		}
		s := i
		for s > 0 && isLocalChar(v[s-1]) {
			s--
		}
		e := i + 1
		for e < len(v) && isDomainChar(v[e]) {
			e++
		}
		local, domain := v[s:i], strings.TrimRight(v[i+1:e], ".-")
		local = strings.TrimLeft(local, ".")
		if local != "" && domain != "" {
			out = append(out, local+"@"+domain)
		}
		i = e - 1
	}
	return out
}

func isLocalChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0
}

func isDomainChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-'
}

func firstAddress(v string) string {
	if a := addresses(v); len(a) > 0 {
		return a[0]
	}
	return ""
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return strings.ToLower(strings.TrimRight(addr[at+1:], ">. "))
	}
	return ""
}
