package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// caseSendHeldAck is POST /cases/{ref}/acks/{id}/send: a person sends an
// acknowledgement the desk held back (issue 12, backscatter), having
// judged the reporter is who they say. cases checks who may and which
// holds may go, and audits it.
func (s *Server) caseSendHeldAck(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	got, err := s.svc.SendHeldAck(c.Request().Context(), actor(c), c.Param("ref"), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "ack_sent", "#acks"))
}
