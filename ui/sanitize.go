package ui

import (
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// mailHTMLPolicy keeps the text and layout of a mail's HTML and nothing
// that acts or loads: no scripts, styles, forms, frames, images or media,
// and no attribute that holds a URL, so links stay as their words and no
// remote host learns that the mail was opened. It is stricter than
// bluemonday's UGCPolicy, which keeps href and img src.
var mailHTMLPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"a", "abbr", "address", "b", "bdi", "big", "blockquote", "br", "caption", "center", "cite", "code",
		"col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6",
		"hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike",
		"strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var",
	)
	p.AllowAttrs("lang", "dir", "title").Globally()
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("align").Matching(bluemonday.CellAlign).OnElements("td", "th", "tr", "p", "div", "table")
	// "a" without href is kept as plain inline text; bluemonday drops an
	// element with no attributes unless told otherwise.
	p.AllowNoAttrs().OnElements("a", "span", "font", "div")
	p.AddSpaceWhenStrippingTag(true)
	return p
})

// sanitizeMailHTML is the one place a mail's HTML is made safe to show,
// wrapped in a minimal document that says its charset.
func sanitizeMailHTML(html string) []byte {
	body := mailHTMLPolicy().Sanitize(html)
	return []byte("<!doctype html><html><head><meta charset=\"utf-8\"><title>Mail HTML part</title></head><body>" + body + "</body></html>")
}
