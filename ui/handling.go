package ui

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// doneCodes are the confirmations an action's redirect may ask for with
// ?done=CODE; the page shows the catalog's "done.CODE" message. A code not
// here shows nothing, so a crafted link cannot put words on a page.
var doneCodes = map[string]bool{
	"note": true, "taken": true, "assigned": true, "escalated": true, "deescalated": true,
	"contained": true, "resolved": true, "dismissed": true, "containment": true,
	"confirmed": true, "assessed": true, "retried": true, "ack_sent": true, "typo_domain": true,
	"suppression_added": true, "suppression_kept": true, "suppression_removed": true,
}

// doneURL is the case page confirming the action code, at fragment frag
// ("" or "#section"): POST, then redirect, then a GET that says it worked.
func doneURL(ref, code, frag string) string {
	return "/cases/" + url.PathEscape(ref) + "?done=" + code + frag
}

// takeNext is POST /queue/take: the most urgent unassigned case becomes
// the agent's.
func (s *Server) takeNext(c echo.Context) error {
	got, err := s.svc.TakeNext(c.Request().Context(), actor(c))
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		return c.Redirect(http.StatusSeeOther, "/queue?empty=1")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "taken", ""))
}

// caseTake is POST /cases/{ref}/take.
func (s *Server) caseTake(c echo.Context) error {
	got, err := s.svc.Take(c.Request().Context(), actor(c), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "taken", ""))
}

// caseNote is POST /cases/{ref}/note: an internal note.
func (s *Server) caseNote(c echo.Context) error {
	got, err := s.svc.AddNote(c.Request().Context(), actor(c), c.Param("ref"), c.FormValue("note"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "note", "#timeline"))
}

// caseStatus is POST /cases/{ref}/status: contain, resolve or dismiss.
// Resolving and dismissing cannot be undone: they need confirm=yes.
func (s *Server) caseStatus(c echo.Context) error {
	to := cases.Status(c.FormValue("status"))
	if (to == cases.StatusResolved || to == cases.StatusDismissed) && !confirmed(c) {
		key := map[cases.Status]string{cases.StatusResolved: "confirm.resolve", cases.StatusDismissed: "confirm.dismiss"}[to]
		return s.refuseUnconfirmed(c, key, []any{c.Param("ref")}, casePath(c))
	}
	var got cases.Case
	var err error
	if to == cases.StatusDismissed {
		got, err = s.svc.Dismiss(c.Request().Context(), actor(c), c.Param("ref"), c.FormValue("reason"), c.FormValue("hold"))
	} else {
		got, err = s.svc.SetStatus(c.Request().Context(), actor(c), c.Param("ref"), to, c.FormValue("reason"))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, string(got.Status), ""))
}

// caseEscalate is POST /cases/{ref}/escalate: to the leads, with a reason.
func (s *Server) caseEscalate(c echo.Context) error {
	got, err := s.svc.Escalate(c.Request().Context(), actor(c), c.Param("ref"), c.FormValue("reason"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "escalated", ""))
}

// caseDeescalate is POST /cases/{ref}/deescalate: leads only, with a reason.
func (s *Server) caseDeescalate(c echo.Context) error {
	if !confirmed(c) {
		return s.refuseUnconfirmed(c, "confirm.deescalate", []any{c.Param("ref")}, casePath(c))
	}
	got, err := s.svc.Deescalate(c.Request().Context(), actor(c), c.Param("ref"), c.FormValue("reason"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "deescalated", ""))
}
