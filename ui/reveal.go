package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// sessionToken is the staff session cookie's value, which binds a revealed
// address to the session that asked for it.
func sessionToken(c echo.Context) string {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return ck.Value
}

// caseReveal is POST /cases/{ref}/reveal: shows one masked address of the
// case to this session for a few minutes, with a reason that goes to the
// audit log. The address never travels in a URL: the case page reads it
// from the reveal on the next GET.
func (s *Server) caseReveal(c echo.Context) error {
	ref := c.Param("ref")
	if err := s.svc.RevealAddress(c.Request().Context(), actor(c), sessionToken(c), ref, c.FormValue("field"), c.FormValue("reason")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+ref+"#addresses")
}
