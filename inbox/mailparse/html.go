package mailparse

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

const maxHrefs = 2000

// htmlToText returns the readable text of an HTML part, with scripts,
// styles and the title dropped and block elements on their own lines, and
// the href of every link (a not-me link often hides behind "click here").
func htmlToText(s string) (string, []string) {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) / 2)
	var hrefs []string
	skip := atom.Atom(0)
	newline := func() {
		str := b.String()
		if len(str) > 0 && str[len(str)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String()), hrefs
		case html.TextToken:
			if skip == 0 {
				writeCollapsed(&b, z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Title, atom.Template:
				if tt == html.StartTagToken {
					skip = a
				}
			case atom.Br:
				b.WriteByte('\n')
			case atom.P, atom.Div, atom.Tr, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Blockquote, atom.Table, atom.Ul, atom.Ol, atom.Hr, atom.Pre, atom.Dt, atom.Dd, atom.Section,
				atom.Article, atom.Header, atom.Footer, atom.Body:
				newline()
			case atom.Td, atom.Th:
				b.WriteByte(' ')
			}
			if a == atom.A && hasAttr {
				for {
					k, v, more := z.TagAttr()
					if string(k) == "href" && len(hrefs) < maxHrefs {
						hrefs = append(hrefs, string(v))
					}
					if !more {
						break
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == skip {
				skip = 0
				continue
			}
			switch a {
			case atom.P, atom.Div, atom.Tr, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Blockquote, atom.Table, atom.Ul, atom.Ol, atom.Pre, atom.Dt, atom.Dd, atom.Section,
				atom.Article, atom.Header, atom.Footer:
				newline()
			}
		}
	}
}

// writeCollapsed writes text with runs of white space (and no-break
// spaces) as one space, as a browser shows it.
func writeCollapsed(b *strings.Builder, t []byte) {
	str := b.String()
	atLineStart := len(str) == 0 || str[len(str)-1] == '\n'
	space := false
	isSpace := func(i int) int { // the white space's length at t[i], or 0
		switch t[i] {
		case ' ', '\t', '\n', '\r', '\f':
			return 1
		case 0xc2:
			if i+1 < len(t) && t[i+1] == 0xa0 {
				return 2
			}
		}
		return 0
	}
	for i := 0; i < len(t); {
		if n := isSpace(i); n > 0 {
			space = true
			i += n
			continue
		}
		j := i + 1
		for j < len(t) && isSpace(j) == 0 {
			j++
		}
		if space && !atLineStart {
			b.WriteByte(' ')
		}
		b.Write(t[i:j])
		space, atLineStart = false, false
		i = j
	}
	if space && !atLineStart {
		b.WriteByte(' ')
	}
}

// tidyText trims lines and keeps at most one blank line in a row.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}

// htmlCharset decodes an HTML part whose MIME header names no charset, by
// its <meta charset> or as best it can.
func htmlCharset(b []byte) string {
	head := b
	if len(head) > 4096 {
		head = head[:4096]
	}
	lh := bytes.ToLower(head)
	if i := bytes.Index(lh, []byte("charset=")); i >= 0 {
		rest := lh[i+len("charset="):]
		rest = bytes.TrimLeft(rest, "\"' ")
		e := 0
		for e < len(rest) && (isTokenChar(rest[e]) || rest[e] == '.' || rest[e] == ':') {
			e++
		}
		if cs := string(rest[:e]); cs != "" {
			return decodeCharsetString(cs, b)
		}
	}
	return bestEffort(b)
}

func isUTF8(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0x1b) < 0 }
