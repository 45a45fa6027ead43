package mask

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Address hides an email address the way the console shows it by
// default: the first character of the local part and the whole domain,
// "t***@example.com". A one-character local part is hidden whole, as is
// anything that is not an address, so the mask never gives the address
// away; characters are runes, so Japanese local parts and IDN domains mask
// cleanly. The domain stays: leads need it to spot typo domains.
func Address(addr string) string {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return ""
	}
	at := strings.LastIndexByte(addr, '@') // a quoted local part may hold "@"
	if at < 0 {
		return "***"
	}
	local, domain := addr[:at], addr[at+1:]
	first, size := utf8.DecodeRuneInString(local)
	if first == utf8.RuneError || size == len(local) || !maskable(first) {
		return "***@" + domain
	}
	return string(first) + "***@" + domain
}

// maskable: a first character worth showing; a quote, a dot or a
// control character only tells what kind of address it is.
func maskable(r rune) bool {
	return r > ' ' && r != '"' && r != '.' && r != 0x7f && !strings.ContainsRune("\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff", r)
}

// addressInText finds things that look like email addresses in free text
// (an SMTP error, a bounce's summary).
var addressInText = regexp.MustCompile(`[\p{L}\p{N}._%+\-!#$&'*/=?^{|}~]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+`)

// Text masks every address in free text.
func Text(s string) string { return TextExcept(s, nil) }

// TextExcept masks every address in free text except those keep (if not
// nil) reports true for: the ones a person was allowed to see.
func TextExcept(s string, keep func(addr string) bool) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addressInText.ReplaceAllStringFunc(s, func(a string) string {
		if keep != nil && keep(a) {
			return a
		}
		return Address(a)
	})
}
