package acksend

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// catalogText is the desk's mail to a reporter in one language. The texts say
// only what the desk did with the report: nothing about the account holder
// (name, account, kind of mail) ever goes into them, and nothing asks the
// reporter who they are.
type catalogText struct {
	lang     string // Content-Language (RFC 3282)
	refLabel string
	// received acknowledges a report mail; outcome tells that its case is done.
	received, outcome textBody
}

// textBody is one text: subject is the whole Subject but for the case
// reference, fixed words that never quote the report (the sender chose its
// subject, and could have chosen a phishing lure for the desk to mail to
// whoever they named); intro comes before the case reference, status
// before the status URL, rest after it; statusMissing replaces status and
// the URL when there is no URL to give.
type textBody struct {
	subject                            string
	intro, status, statusMissing, rest []string
}

// The words live in the message catalogs inbox/acksend/locales/en.json and
// ja.json, which a translator edits without reading Go (docs/i18n.md). A
// body is one message whose lines are separated by "\n": the Japanese
// lines are broken by hand at about 35 full-width characters, the
// convention of Japanese mail; the English ones at 72 columns. The URL
// stands on a line of its own so that clients link it, even in Japanese
// text where no space separates it from the words around it.

//go:embed locales/*.json
var locales embed.FS

var (
	english  = mustAckText(locales, "en")
	japanese = mustAckText(locales, "ja")
)

// mustAckText loads lang's acknowledgement texts; a catalog that does not
// parse or lacks a message stops the start, not a mail.
func mustAckText(fsys fs.FS, lang string) catalogText {
	t, err := loadText(fsys, lang)
	if err != nil {
		panic(fmt.Sprintf("inbox: acknowledgement catalog: %v", err))
	}
	return t
}

func loadText(fsys fs.FS, lang string) (catalogText, error) {
	path := "locales/" + lang + ".json"
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return catalogText{}, fmt.Errorf("reading %s: %w", path, err)
	}
	f, err := i18n.ParseMessageFileBytes(raw, path, nil)
	if err != nil {
		return catalogText{}, fmt.Errorf("parsing %s: %w", path, err)
	}
	msgs := map[string]string{}
	for _, m := range f.Messages {
		msgs[m.ID] = m.Other
	}
	var missing []string
	text := func(id string) string {
		s, ok := msgs[id]
		if !ok || s == "" {
			missing = append(missing, id)
		}
		return s
	}
	body := func(name string) textBody {
		lines := func(part string) []string { return strings.Split(text("ack."+name+"."+part), "\n") }
		return textBody{subject: text("ack." + name + ".subject"), intro: lines("intro"), status: lines("status"), statusMissing: lines("status_missing"), rest: lines("rest")}
	}
	t := catalogText{lang: lang, refLabel: text("ack.ref_label"),
		received: body("received"), outcome: body("outcome")}
	if len(missing) > 0 {
		return catalogText{}, fmt.Errorf("%s lacks %s", path, strings.Join(missing, ", "))
	}
	return t, nil
}

// textFor picks the reporter's language: Japanese for "ja" (and "ja-JP"),
// English otherwise.
func textFor(lang string) catalogText {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == "ja" || strings.HasPrefix(l, "ja-") || strings.HasPrefix(l, "ja_") {
		return japanese
	}
	return english
}

// render writes the text with CRLF line ends, the canonical form of
// text/plain (RFC 2046 section 4.1.1) that base64 must carry as is.
func (t catalogText) render(b textBody, caseRef, statusURL string) string {
	var sb strings.Builder
	lines := func(ls ...string) {
		for _, l := range ls {
			sb.WriteString(l)
			sb.WriteString("\r\n")
		}
	}
	lines(b.intro...)
	lines("", t.refLabel+caseRef, "")
	if statusURL != "" {
		lines(b.status...)
		lines(statusURL)
	} else {
		lines(b.statusMissing...)
	}
	lines("")
	lines(b.rest...)
	return sb.String()
}
