package acksend

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	netmail "net/mail"
	"net/url"
	"notme/cases"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
)

// Compose renders the desk's mail to a reporter: for an ack of kind
// received, the acknowledgement of a report mail (an RFC 3834 auto-reply);
// for kind outcome, the notice that its case is done. It goes from the
// desk to the reporter, in the reporter's language, threaded under the
// report. messageID is the new mail's own Message-ID, with or without
// angle brackets. It is pure: tests and the demo call it with a fixed time
// and id. An error wraps cases.ErrPermanent: the ack can never be sent as
// it is.
func Compose(a cases.Ack, from string, now time.Time, messageID string) ([]byte, error) {
	f, err := netmail.ParseAddress(from)
	if err != nil || !plainAddress(f.Address) {
		return nil, fmt.Errorf("compose ack: from %q is not an address: %w", from, cases.ErrPermanent)
	}
	if _, err := checkRecipient(a.ToAddr); err != nil {
		return nil, err
	}
	return render(a, f, now, messageID)
}

func render(a cases.Ack, from *netmail.Address, now time.Time, messageID string) ([]byte, error) {
	to := a.ToAddr
	id := cases.NormalizeMessageID(messageID)
	if !validMsgID(id) {
		return nil, fmt.Errorf("compose ack: Message-ID %q: %w", messageID, cases.ErrPermanent)
	}
	ref := a.CaseRef
	if ref == "" || len(ref) > 32 || strings.ContainsFunc(ref, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		return nil, fmt.Errorf("compose ack %d: case reference %q: %w", a.ID, ref, cases.ErrPermanent)
	}
	text := textFor(a.Lang)
	statusURL := cleanURL(a.StatusURL)
	// RFC 3834 section 5: the acknowledgement answers the report mail
	// (auto-replied); the outcome notice is set off by the case, not by a
	// mail (auto-generated).
	var body textBody
	var auto string
	switch a.Kind {
	case cases.AckKindReceived, "":
		body, auto = text.received, "auto-replied"
	case cases.AckKindOutcome:
		body, auto = text.outcome, "auto-generated"
	default:
		return nil, fmt.Errorf("compose ack %d: unknown kind %q: %w", a.ID, a.Kind, cases.ErrPermanent)
	}

	// RFC 5322 section 3.6.4: the reply names the report it answers. Only
	// the report's own id is known here (cases does not keep its
	// References); an id that is not one is left out rather than sent on.
	replyTo := cases.NormalizeMessageID(cleanHeader(a.InReplyTo, maxMsgIDLen))
	fields := [][2]string{
		{"Date", now.Format(time.RFC1123Z)},
		{"From", (&mail.Address{Name: cleanHeader(from.Name, 64), Address: from.Address}).String()},
		{"To", "<" + to + ">"},
		{"Subject", subjectLine(body, ref)},
		{"Message-ID", "<" + id + ">"},
	}
	if validMsgID(replyTo) {
		fields = append(fields, [2]string{"In-Reply-To", "<" + replyTo + ">"}, [2]string{"References", "<" + replyTo + ">"})
	}
	// UTF-8 rather than ISO-2022-JP for Japanese: every current Japanese
	// client and carrier mailbox reads it, and ISO-2022-JP cannot carry
	// characters such as ① or half-width kana that subjects quote. Base64
	// keeps Japanese at 4/3 of its size where quoted-printable would triple
	// it; English stays readable as quoted-printable. Both are 7-bit, so no
	// server needs 8BITMIME.
	cte := "quoted-printable"
	if text.lang == "ja" {
		cte = "base64"
	}
	fields = append(fields,
		[2]string{"Auto-Submitted", auto},
		[2]string{"X-Auto-Response-Suppress", "All"}, // Exchange and Outlook: no out-of-office answer to us
		[2]string{"MIME-Version", "1.0"},
		[2]string{"Content-Type", "text/plain; charset=UTF-8"},
		[2]string{"Content-Transfer-Encoding", cte},
		[2]string{"Content-Language", text.lang}, // RFC 3282
	)
	// RFC 3834 section 3.1.8 discourages Precedence: it is left out.
	var h mail.Header
	for i := len(fields) - 1; i >= 0; i-- { // go-message writes the last added field first
		h.Add(fields[i][0], fields[i][1])
	}
	var buf bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("compose ack %d: %w", a.ID, err)
	}
	if _, err := w.Write([]byte(text.render(body, ref, statusURL))); err != nil {
		return nil, fmt.Errorf("compose ack %d: %w", a.ID, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compose ack %d: %w", a.ID, err)
	}
	return buf.Bytes(), nil
}

// subjectLine is the text's fixed subject and the case reference: "Your
// report [NM-7K3Q-9XRD]". It never repeats the report's subject, which its
// sender chose (issue 12, backscatter): In-Reply-To and References thread
// the answer instead. Only the words are RFC 2047-encoded, so the
// reference stays plain text that any tool can match.
func subjectLine(b textBody, ref string) string {
	return encodeWords(b.subject) + " [" + ref + "]"
}

// encodeWords returns s as it may stand in an unstructured header field:
// unchanged when it is plain ASCII, else as RFC 2047 "B" encoded-words of
// UTF-8. Text that merely looks like an encoded-word ("=?") is encoded too,
// so that no client decodes into it what the reporter never wrote. Each
// word holds whole characters (RFC 2047 section 5, rule 3) and is at most
// 75 characters long (section 2).
func encodeWords(s string) string {
	if printableASCII(s) && !strings.Contains(s, "=?") {
		return s
	}
	const maxBytes = 45 // 60 base64 characters, plus "=?UTF-8?B?" and "?=": 72
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxBytes {
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// cleanHeader makes text from mail safe for a header field: valid
// UTF-8, line breaks and tabs turned into spaces, other control and
// invisible formatting characters (which could reorder what is shown)
// dropped, spaces collapsed, and at most limit characters.
func cleanHeader(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\t' || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r) && r < 0x80:
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue // C0, DEL, C1, bidi overrides, zero-width characters
		}
		if n == limit {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// cleanURL keeps the status URL only if it is an absolute http(s) URL with
// nothing that could break the line it stands on.
func cleanURL(s string) string {
	if s == "" || len(s) > 2000 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

// checkRecipient accepts exactly one plain addr-spec, as net/mail parses
// it, and returns it. Lists, display names, comments, quoted or
// header-injected addresses are refused for good: an ack goes to one
// reporter or to nobody.
func checkRecipient(addr string) (string, error) {
	refuse := func(why string) (string, error) {
		return "", fmt.Errorf("recipient refused: %s: %w", why, cases.ErrPermanent)
	}
	if addr == "" {
		return refuse("no address")
	}
	if len(addr) > maxAddrLen {
		return refuse("address too long")
	}
	if strings.ContainsFunc(addr, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return refuse("control characters in the address")
	}
	p, err := netmail.ParseAddress(addr)
	if err != nil {
		return refuse("not a single address")
	}
	if p.Name != "" || p.Address != addr || !plainAddress(addr) {
		return refuse("not a plain addr-spec")
	}
	local := strings.ToLower(addr[:strings.LastIndexByte(addr, '@')])
	if len(local) > maxLocalLen {
		return refuse("local part too long")
	}
	// RFC 3834 section 2 and RFC 5230 section 4.6: never answer list or
	// system mailboxes, which would not read the answer or would answer it.
	if local == "mailer-daemon" || local == "listserv" || local == "majordomo" ||
		strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-request") ||
		strings.Contains(strings.NewReplacer("-", "", "_", "", ".", "").Replace(local), "noreply") ||
		strings.Contains(strings.NewReplacer("-", "", "_", "", ".", "").Replace(local), "donotreply") {
		return refuse("a list, system or no-reply mailbox")
	}
	return addr, nil
}

// plainAddress reports whether a is local@domain with a dot-atom local
// part (RFC 5322 section 3.4.1; no quoted string) and a domain of labels
// (no address literal).
func plainAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return false
	}
	local, domain := a[:at], a[at+1:]
	for _, part := range strings.Split(local, ".") {
		if part == "" || strings.ContainsFunc(part, func(r rune) bool { return r < 0x80 && !isAtext(byte(r)) }) {
			return false
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.ContainsFunc(label, func(r rune) bool {
			return r < 0x80 && !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			return false
		}
	}
	return true
}

// isAtext is RFC 5322 section 3.2.3's atext, ASCII part.
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validMsgID accepts an id-left "@" id-right of printable ASCII without
// the characters that would end or break a msg-id (RFC 5322 section 3.6.4).
func validMsgID(id string) bool {
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || len(id) > maxMsgIDLen {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return r <= ' ' || r > '~' || r == '<' || r == '>' || r == '"' || r == '\\' || r == '(' || r == ')' || r == ','
	})
}

// stableMessageID is the Message-ID of one acknowledgement at the desk's
// domain: the same on every attempt to send it, so that an
// acknowledgement sent again after a crash (sent, but not yet recorded)
// is one mail in the reporter's client, not two. It carries the case
// reference, so that a reply to the ack can be routed to its case by
// In-Reply-To alone; the rest is a digest of the ack's own row, unique
// across acks.
func stableMessageID(a cases.Ack, domain string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "notme ack\x00%d\x00%d\x00%d\x00%s", a.ID, a.CreatedAt.UnixNano(), a.MailID, a.ToAddr))
	return "ack." + a.CaseRef + "." + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]) + "@" + domain
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
