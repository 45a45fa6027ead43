package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// favicon is GET /favicon.ico. Browsers ask for it on every page whatever
// the layout's <link rel="icon"> says (and older ones only look there), so
// it is answered rather than left as a 404 in every log; its address has no
// content hash, so it is cached for a day, not for good.
func (s *Server) favicon(c echo.Context) error {
	b, err := staticFS.ReadFile("static/favicon.ico")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/x-icon", b)
}
