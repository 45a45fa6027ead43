package cases

import (
	"regexp"
	"strings"

	"notme/cases/sealed"
)

// Found is what ScanText finds in pasted or quoted text.
type Found struct {
	Tokens     []string // sealed tokens from "not me" links and minted Message-IDs
	MessageIDs []string // Message-IDs, without angle brackets, in order of appearance
}

var (
	linkTokenRE = regexp.MustCompile(`/r/([A-Za-z0-9_-]{16,512})`)
	messageIDRE = regexp.MustCompile(`<([^<>\s@]{1,900}@[^<>\s@]{1,255})>`)
)

// ScanText finds "not me" link tokens and Message-IDs in text a reporter
// pasted: headers, a forwarded mail, a link. It is a scan, not a MIME
// parser; mail goes through inbox's parser.
func ScanText(text string) Found {
	var f Found
	seen := map[string]bool{}
	for _, m := range linkTokenRE.FindAllStringSubmatch(text, 50) {
		if sealed.LooksLikeToken(m[1]) && !seen[m[1]] {
			seen[m[1]] = true
			f.Tokens = append(f.Tokens, m[1])
		}
	}
	for _, m := range messageIDRE.FindAllStringSubmatch(text, 50) {
		id := strings.TrimSpace(m[1])
		if seen[id] {
			continue
		}
		seen[id] = true
		if tok := TokenFromMessageID(id); tok != "" && !seen[tok] {
			seen[tok] = true
			f.Tokens = append(f.Tokens, tok)
		}
		f.MessageIDs = append(f.MessageIDs, id)
	}
	return f
}
