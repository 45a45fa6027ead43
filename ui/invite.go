package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// Admins add staff on /admin by invitation (see cases/invitation.go for
// why not a password): the link is shown once, on the answer to the form,
// and the invited person sets their own password at /invite/{token}.

// addStaffForm is what an admin typed, kept when the form is refused.
type addStaffForm struct {
	Email   string
	Role    string
	Trained bool
	Error   string
}

// invited is the invitation just made: its link appears on this one page.
type invited struct {
	Email, Role, URL string
	Expires          string
}

// auditRow is one audit entry in the reader's language.
type auditRow struct {
	At                              string
	Actor, Action, Subject, Details string
}

// adminView fills the parts of /admin beyond the staff list.
func (s *Server) adminView(c echo.Context, p *adminPage) error {
	ctx := c.Request().Context()
	var err error
	if p.Invitations, err = s.svc.PendingInvitations(ctx); err != nil {
		return err
	}
	for _, e := range p.Audit {
		p.AuditRows = append(p.AuditRows, auditRowOf(p.Lang, e))
	}
	if p.Form.Role == "" {
		// Security-trained stays unticked: it is a claim an admin makes
		// on purpose, not by leaving a default.
		p.Form.Role = string(cases.RoleAgent)
	}
	return nil
}

// auditRowOf words an audit entry: its action, and the details invitations
// record as key=value codes.
func auditRowOf(lang string, e cases.AuditEntry) auditRow {
	r := auditRow{At: e.At.UTC().Format("2006-01-02 15:04 UTC"), Actor: actorName(lang, e.Actor),
		Action: auditAction(lang, e.Action), Subject: auditSubject(e.Subject)}
	var parts []string
	for _, f := range strings.Fields(e.Detail) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "role":
			parts = append(parts, staffText(lang, "admin.audit.role", staffValue(lang, v)))
		case "security_trained":
			yes := map[bool]string{true: "yes", false: "no"}[v == "true"]
			parts = append(parts, staffText(lang, "admin.audit.trained", staffText(lang, yes)))
		case "invited_by":
			parts = append(parts, staffText(lang, "admin.audit.invitedby", v))
		}
	}
	r.Details = strings.Join(parts, staffText(lang, "sep"))
	if len(parts) == 0 && len(e.Args) > 0 {
		r.Details = auditDetail(lang, e)
	}
	return r
}

// adminAddUser is POST /admin/users: invite a staff member. The answer is
// the admin page itself (not a redirect), because it is the only place the
// link is ever shown; the page is no-store like every page.
func (s *Server) adminAddUser(c echo.Context) error {
	form := addStaffForm{Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role"), Trained: c.FormValue("trained") != ""}
	inv, token, err := s.svc.InviteUser(c.Request().Context(), actor(c), form.Email, cases.Role(form.Role), form.Trained)
	lang := s.pageLang(c)
	switch {
	case errors.Is(err, cases.ErrNotAnAddress):
		form.Error = staffText(lang, "admin.add.bademail")
	case errors.Is(err, cases.ErrUnknownRole):
		form.Error = staffText(lang, "admin.add.badrole")
	case errors.Is(err, cases.ErrUserExists):
		form.Error = staffText(lang, "admin.add.exists", strings.ToLower(form.Email))
	case err != nil:
		return err
	}
	status, p := http.StatusOK, adminPage{Form: form}
	if form.Error != "" {
		status = http.StatusUnprocessableEntity
	} else {
		p.Form = addStaffForm{}
		p.Invited = &invited{Email: inv.Email, Role: staffValue(lang, string(inv.Role)), URL: s.publicURL + "/invite/" + token,
			Expires: inv.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")}
	}
	return s.renderAdmin(c, status, p)
}

type invitePage struct {
	page
	Email, Role string
	MinLen      int
	Error       string
}

// invitePage is GET /invite/{token}: the invited person chooses a
// password. A dead link gets one answer whatever the reason.
func (s *Server) invitePage(c echo.Context) error {
	inv, err := s.svc.InvitationByToken(c.Request().Context(), c.Param("token"))
	if errors.Is(err, cases.ErrInvitationInvalid) {
		return s.inviteInvalid(c)
	}
	if err != nil {
		return err
	}
	return s.renderInvite(c, http.StatusOK, inv, "")
}

// inviteAccept is POST /invite/{token}: set the password, make the user,
// and send them to log in.
func (s *Server) inviteAccept(c echo.Context) error {
	ctx, token := c.Request().Context(), c.Param("token")
	inv, err := s.svc.InvitationByToken(ctx, token)
	if errors.Is(err, cases.ErrInvitationInvalid) {
		return s.inviteInvalid(c)
	}
	if err != nil {
		return err
	}
	lang := s.pageLang(c)
	password := c.FormValue("password")
	if password != c.FormValue("password2") {
		return s.renderInvite(c, http.StatusUnprocessableEntity, inv, staffText(lang, "invite.mismatch"))
	}
	_, err = s.svc.AcceptInvitation(ctx, token, password)
	switch {
	case errors.Is(err, cases.ErrPasswordShort):
		return s.renderInvite(c, http.StatusUnprocessableEntity, inv, staffText(lang, "invite.short", cases.MinPasswordLen))
	case errors.Is(err, cases.ErrInvitationInvalid), errors.Is(err, cases.ErrUserExists):
		return s.inviteInvalid(c)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login?invited=1")
}

func (s *Server) renderInvite(c echo.Context, status int, inv cases.Invitation, msg string) error {
	p := invitePage{page: s.pageT(c, "invite.title"), Email: inv.Email, MinLen: cases.MinPasswordLen, Error: msg}
	p.Role = staffValue(p.Lang, string(inv.Role))
	return s.render(c, status, "invite", p)
}

func (s *Server) inviteInvalid(c echo.Context) error {
	p := s.pageT(c, "invite.invalid.title")
	return s.render(c, http.StatusNotFound, "error", errorPage{page: p, Message: staffText(p.Lang, "invite.invalid")})
}
