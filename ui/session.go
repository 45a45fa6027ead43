package ui

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// sessionExpired answers a request whose session cookie no longer names a
// live session: the cookie goes, and the login page says why and brings
// the staff member back where they were.
func (s *Server) sessionExpired(c echo.Context) error {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/login?expired=1&next="+urlQueryEscape(returnPath(c.Request())))
}

// returnPath is the page to come back to after logging in again: the page
// itself for a GET; for a form, the page it was on (the case for a case
// action), because the form's POST cannot be replayed by a redirect.
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return localPath(r.URL.RequestURI())
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/cases/"); ok {
		if ref, _, _ := strings.Cut(rest, "/"); ref != "" {
			return localPath("/cases/" + ref)
		}
	}
	return "/queue"
}

// staffOnError finds the staff member behind an error page that no
// staff route answered (an unknown path), so that a 404 keeps the console's
// navigation and search. Best effort: a failed look-up leaves the public
// error page.
func (s *Server) staffOnError(c echo.Context) {
	if currentUser(c) != nil || strings.HasPrefix(c.Request().URL.Path, "/api/") {
		return
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return
	}
	if u, err := s.svc.UserBySession(c.Request().Context(), ck.Value); err == nil {
		c.Set(ctxUser, &u)
	}
}
