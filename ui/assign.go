package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// caseAssign is POST /cases/{ref}/assign: a lead gives the case to a
// trained staff member, or moves it to another.
func (s *Server) caseAssign(c echo.Context) error {
	id, err := strconv.ParseInt(c.FormValue("user_id"), 10, 64)
	if err != nil {
		return cases.Errorf(cases.EINVALID, "Choose whom to assign the case to.")
	}
	got, err := s.svc.Assign(c.Request().Context(), actor(c), c.Param("ref"), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "assigned", ""))
}

// caseAssessment is POST /cases/{ref}/assessment: a lead records whether
// the case is a notifiable personal-data breach.
func (s *Server) caseAssessment(c echo.Context) error {
	got, err := s.svc.RecordAssessment(c.Request().Context(), actor(c), c.Param("ref"),
		c.FormValue("outcome"), c.FormValue("reason"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "assessed", ""))
}

// nextDeadline is the case's nearest unmet deadline for templates, nil when
// every deadline is met.
func nextDeadline(c cases.Case) *cases.Deadline {
	if d, ok := c.NextDeadline(); ok {
		return &d
	}
	return nil
}

// isLead reports whether the user directs the tier (assigns, assesses).
func isLead(u *cases.User) bool {
	return u != nil && (u.Role == cases.RoleLead || u.Role == cases.RoleAdmin)
}
