package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

type mailPage struct {
	page
	Mail      []cases.MailMessage
	Reason    string
	Counts    map[string]int
	Reasons   []string
	Mailboxes []cases.Mailbox
}

var mailReasons = []string{cases.ReasonAutoReply, cases.ReasonBounce, cases.ReasonLoop, cases.ReasonDuplicate,
	cases.ReasonUnparsable, cases.ReasonTooLarge, cases.ReasonUnrelated}

// mailList is GET /mail: mail that did not become a report, each with its
// reason, and the health of the polled mailboxes.
func (s *Server) mailList(c echo.Context) error {
	ctx := c.Request().Context()
	p := mailPage{page: s.pageT(c, "mail.title"), Reason: c.QueryParam("reason"), Reasons: mailReasons}
	var err error
	if p.Mail, err = s.svc.MailList(ctx, actor(c), cases.MailFilter{Reason: p.Reason}); err != nil {
		return err
	}
	if p.Counts, err = s.svc.MailReasonCounts(ctx, actor(c)); err != nil {
		return err
	}
	if p.Mailboxes, err = s.svc.Mailboxes(ctx); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "mail", p)
}

// mailOpenCase is POST /mail/{id}/case: staff decide that a kept mail is a
// report after all.
func (s *Server) mailOpenCase(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	f, err := s.svc.OpenCaseFromMail(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+f.CaseRef)
}
