package ui

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/labstack/echo/v4"
)

// confirmField is the form field an action that cannot be undone must
// carry: the second, explicit button of its form sends it.
const confirmField = "confirm"

// confirmed reports whether the form carries confirm=yes.
func confirmed(c echo.Context) bool { return c.FormValue(confirmField) == "yes" }

// confirmPage is the answer to an action that cannot be undone sent
// without its confirmation: 400, saying so, with the same form to send
// again with confirm=yes, so it works without JavaScript and from any
// client.
type confirmPage struct {
	page
	What   string // "resolve case NM-…"
	Action string // where the form posts
	Back   string // where "cancel" goes
	Fields []confirmFieldValue
}

type confirmFieldValue struct{ Name, Value string }

// refuseUnconfirmed renders the confirmation page for the staff text
// whatKey with args (stored values named for people); back is the page
// to return to.
func (s *Server) refuseUnconfirmed(c echo.Context, whatKey string, args []any, back string) error {
	p := confirmPage{page: s.pageT(c, "confirm.title"), Action: c.Request().URL.Path, Back: back}
	named := make([]any, len(args)) // a containment action reads as its name
	for i, a := range args {
		named[i] = staffValue(p.Lang, a)
	}
	p.What = staffText(p.Lang, whatKey, named...)
	form, err := c.FormParams()
	if err != nil {
		form = url.Values{}
	}
	names := make([]string, 0, len(form))
	for n := range form {
		if n != csrfField && n != confirmField {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		for _, v := range form[n] {
			p.Fields = append(p.Fields, confirmFieldValue{Name: n, Value: v})
		}
	}
	return s.render(c, http.StatusBadRequest, "confirm", p)
}

// casePath is the page of the case a case action was posted to.
func casePath(c echo.Context) string { return "/cases/" + url.PathEscape(c.Param("ref")) }
