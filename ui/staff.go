package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

type loginPage struct {
	page
	Next  string
	Email string
	Error string
	// Expired: the session ran out; the staff member logs in again and
	// returns to Next.
	Expired bool
	// Invited: the staff member just set a password on an invitation.
	Invited bool
	// SSO names the single sign-on provider ("" = none); Password shows
	// the password form, BreakGlass says it is for the break-glass admin
	// only.
	SSO                  string
	Password, BreakGlass bool
	// Passkeys offers a passwordless sign-in with a passkey (passkey.go):
	// for those who may sign in with a password.
	Passkeys bool
}

// loginPageOf is the login page's frame: which ways to sign in it offers.
func (s *Server) loginPageOf(c echo.Context, next string) loginPage {
	p := loginPage{page: s.pageT(c, "login.title"), Next: next}
	pol := s.svc.SessionPolicy()
	p.Password = s.oidc == nil || pol.PasswordLogin != cases.PasswordLoginOff
	p.BreakGlass = s.oidc != nil && pol.PasswordLogin == cases.PasswordLoginBreakGlass
	p.Passkeys = p.Password && s.passkeysUsable()
	if s.oidc != nil {
		p.SSO = s.oidc.cfg.Name
	}
	return p
}

type casePage struct {
	page
	Detail cases.CaseDetail
	Kind   cases.Kind
	Mine   bool // assigned to the viewer
	// Assignable: whom a lead may assign the case to (leads only).
	Assignable  []cases.User
	Addresses   []cases.CaseAddress // masked unless this session revealed one
	Containment containmentView
	// Next is the one next sensible step, shown first as the primary
	// button (see nextStep); "" when there is none to suggest.
	Next string
	// MailReport numbers each of Detail.Mail by its report's position on
	// the case (1, 2…), 0 for mail that filed no report here.
	MailReport []int
	// IsLead: the viewer may hold an account or a recipient on dismissal.
	IsLead bool
	// Exposure: what the wrong person received (leads and admins only).
	Exposure *exposureView
}

// Next steps of the case page.
const (
	stepTake    = "take"    // nobody works it: take it
	stepConfirm = "confirm" // probable match: confirm it
	stepRequest = "request" // exact match, nothing requested: request containment
	stepMore    = "more"    // worse evidence since containment: request more
	stepContain = "contain" // containment requested: mark contained
	stepResolve = "resolve" // contained: resolve
	stepTriage  = "triage"  // unmatched: read, then dismiss or note (no button)
)

// nextStep is the one action that most moves an open case on, for the
// viewer: taking it while nobody works it, then, in order, confirming a
// probable match, requesting containment on an exact match with nothing
// requested, requesting more after worse evidence reopened a contained
// case, marking it contained once something was requested, and
// resolving a contained case; mine is true when the viewer works the case
// or is a lead. "Mark contained" is never first on a case
// where nothing was asked of the account system.
func nextStep(d cases.CaseDetail, cv containmentView, mine bool) string {
	c := d.Case
	switch {
	case !c.Status.Open():
		return ""
	case d.Assignee == nil:
		return stepTake
	case !mine:
		return "" // someone else works it (leads, who direct the tier, see the step)
	case c.Status == cases.StatusContained:
		return stepResolve
	case cv.CanConfirm:
		return stepConfirm
	case c.Match == cases.MatchExact && len(cv.Actions) == 0 && len(cv.Requestable) > 0:
		return stepRequest
	case d.NewEvidence != nil:
		// Even with nothing left this viewer may request, the step says
		// what the evidence calls for (a lead locks the account).
		return stepMore
	case len(cv.Actions) > 0:
		return stepContain
	}
	return stepTriage
}

// mailReports numbers the case's mail by the position of the report each
// filed, so the page never shows database ids beside a list numbered 1, 2.
func mailReports(d cases.CaseDetail) []int {
	pos := map[int64]int{}
	for i, r := range d.Reports {
		pos[r.ID] = i + 1
	}
	out := make([]int, len(d.Mail))
	for i, m := range d.Mail {
		if m.ReportID != nil {
			out[i] = pos[*m.ReportID]
		}
	}
	return out
}

type adminPage struct {
	page
	Users []cases.User
	Audit []cases.AuditEntry
	// AuditRows are Audit in the reader's words.
	AuditRows   []auditRow
	Invitations []cases.Invitation
	Form        addStaffForm
	Invited     *invited // the invitation just made, shown this once
}

// loginPage is GET /login.
func (s *Server) loginPage(c echo.Context) error {
	p := s.loginPageOf(c, localPath(c.QueryParam("next")))
	p.Expired, p.Invited = c.QueryParam("expired") != "", c.QueryParam("invited") != ""
	return s.render(c, http.StatusOK, "login", p)
}

// login is POST /login. The account's own throttle comes after the
// per-client rate limit (routes.go): a locked account is refused whatever
// the password, with words that say neither whether the password was right
// nor whether the account exists.
func (s *Server) login(c echo.Context) error {
	email, next := c.FormValue("email"), localPath(c.FormValue("next"))
	in, err := s.svc.LoginFromClient(c.Request().Context(), email, c.FormValue("password"),
		signInClient(c), s.opts.SessionTTL)
	refused := func(status int, msg string) error {
		p := s.loginPageOf(c, next)
		p.Email, p.Error = email, msg
		return s.render(c, status, "login", p)
	}
	if lock, ok := cases.IsLoginLocked(err); ok {
		wait := max(lock.Until.Sub(s.svc.Now()), time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return refused(http.StatusTooManyRequests, staffText(s.pageLang(c), "login.locked", lockedUntilText(lock.Until)))
	}
	if errors.Is(err, cases.ErrPasswordLoginOff) {
		return refused(http.StatusForbidden, staffText(s.pageLang(c), "login.passwordoff"))
	}
	if cases.ErrorCode(err) == cases.EUNAUTHORIZED {
		return refused(http.StatusUnauthorized, staffText(s.pageLang(c), "login.wrong"))
	}
	if err != nil {
		return err
	}
	if in.SecondFactor {
		// Not signed in yet: the code comes first (secondfactor.go).
		c.SetCookie(s.pendingCookieOf(in.Token, int(10*time.Minute/time.Second)))
		return c.Redirect(http.StatusSeeOther, secondFactorPath+"?next="+url.QueryEscape(next))
	}
	s.setSessionCookie(c, in.Token)
	if in.Failed > 0 {
		// The owner reads what happened before going on; the counts are
		// the session's own (SessionLoginNotice), not the URL's.
		return c.Redirect(http.StatusSeeOther, "/login/notice?next="+url.QueryEscape(next))
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// setSessionCookie starts a signed-in session in the browser. A new
// session has a new form token (csrfOfSession); the cookie token, which
// the sign-in used, is replaced too, so none known before the sign-in is
// good after it.
func (s *Server) setSessionCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(s.opts.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	s.replaceCSRFCookie(c, newCSRFToken())
}

// lockedUntilText is when a locked account takes sign-ins again, rounded
// up to the minute so that trying at the time shown is never too early.
func lockedUntilText(until time.Time) string {
	if r := until.Truncate(time.Minute); r.Before(until) {
		until = r.Add(time.Minute)
	}
	return until.UTC().Format("2006-01-02 15:04 UTC")
}

type loginNoticePage struct {
	page
	Message string
	Next    string
}

// loginNotice is GET /login/notice: the failed sign-ins to the account
// before this session, told once the owner is in; without any it goes on.
func (s *Server) loginNotice(c echo.Context) error {
	next := localPath(c.QueryParam("next"))
	var n cases.LoginNotice
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if n, err = s.svc.SessionLoginNotice(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	if n.Failed == 0 {
		return c.Redirect(http.StatusSeeOther, next)
	}
	p := s.pageT(c, "login.notice.title")
	msg := staffText(p.Lang, "login.notice.body", n.Failed, n.FailedFrom)
	if n.FailedFrom <= 1 {
		msg = staffText(p.Lang, "login.notice.body1", n.Failed)
	}
	return s.render(c, http.StatusOK, "loginnotice", loginNoticePage{page: p, Next: next, Message: msg})
}

// logout is POST /logout.
func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.svc.Logout(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/login")
}

// casePage is GET /cases/{ref}: the case, its reports and timeline.
func (s *Server) casePage(c echo.Context) error {
	d, err := s.svc.CaseByRef(c.Request().Context(), actor(c), c.Param("ref"))
	if err != nil {
		return err
	}
	k, _ := s.svc.Kind(d.Case.Kind)
	u := currentUser(c)
	mine := d.Case.AssigneeID != nil && u != nil && *d.Case.AssigneeID == u.ID
	addrs, err := s.svc.CaseAddresses(c.Request().Context(), actor(c), sessionToken(c), d.Case.Ref)
	if err != nil {
		return err
	}
	cv, err := s.containmentOf(c, d)
	if err != nil {
		return err
	}
	p := casePage{page: s.pageT(c, "case.title", d.Case.Ref), Detail: d, Kind: k, Mine: mine, Addresses: addrs, Containment: cv,
		Next: nextStep(d, cv, mine || isLead(u)), MailReport: mailReports(d), IsLead: isLead(u)}
	if isLead(u) {
		if p.Exposure, err = s.exposureOf(c, p.Lang, d.Case.Ref); err != nil {
			return err
		}
	}
	if isLead(u) && d.Case.Status.Open() {
		if p.Assignable, err = s.svc.Assignable(c.Request().Context(), actor(c)); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "case", p)
}

// leads is GET /leads: escalations for security leads, and mailboxes
// that have not been read for too long.
func (s *Server) leads(c echo.Context) error {
	yes := true
	ctx := c.Request().Context()
	list, err := s.svc.Queue(ctx, actor(c), cases.QueueFilter{Escalated: &yes})
	if err != nil {
		return err
	}
	mbs, err := s.svc.Mailboxes(ctx)
	if err != nil {
		return err
	}
	p := leadsPage{page: s.pageT(c, "leads.title"), Cases: list}
	if p.Alerts, err = s.svc.LeadAlerts(ctx, actor(c)); err != nil {
		return err
	}
	if p.Dashboard, err = s.dashboard(c, p.Lang); err != nil {
		return err
	}
	now := s.svc.Now()
	for _, m := range mbs {
		if s.mailboxStale(m, now) {
			p.Stale = append(p.Stale, m)
		}
	}
	// A domain cluster is usually a typo domain: the lead says which
	// domain was meant, starting from the guard's own guess.
	typos, err := s.svc.TypoDomains(ctx, actor(c))
	if err != nil {
		return err
	}
	p.TypoOf, p.TypoGuess = map[string]string{}, map[string]string{}
	for _, t := range typos {
		p.TypoOf[t.Domain] = t.Intended
	}
	for _, cl := range p.Dashboard.DomainClusters {
		if guess, ok, err := s.svc.SuggestDomain(ctx, cl.Key); err != nil {
			return err
		} else if ok {
			p.TypoGuess[cl.Key] = guess
		}
	}
	return s.render(c, http.StatusOK, "leads", p)
}

// leadsTypoDomain is POST /leads/typo-domains: a lead confirms the domain
// a cluster's typo domain meant, and the address guard suggests it.
func (s *Server) leadsTypoDomain(c echo.Context) error {
	if _, err := s.svc.ConfirmTypoDomain(c.Request().Context(), actor(c), c.FormValue("domain"), c.FormValue("intended")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/leads?done=typo_domain#clusters")
}

type leadsPage struct {
	page
	Cases     []cases.QueueCase
	Stale     []cases.Mailbox
	Alerts    cases.LeadAlerts
	Dashboard dashboardView
	// TypoOf holds the typo domains leads confirmed, with the domain
	// meant; TypoGuess the guard's guess for a cluster's domain.
	TypoOf, TypoGuess map[string]string
}

// admin is GET /admin: the staff list, the form to add staff, and the
// audit log.
func (s *Server) admin(c echo.Context) error {
	return s.renderAdmin(c, http.StatusOK, adminPage{})
}

// renderAdmin fills p (whose form and new invitation the caller may have
// set) and renders /admin.
func (s *Server) renderAdmin(c echo.Context, status int, p adminPage) error {
	users, err := s.svc.Users(c.Request().Context())
	if err != nil {
		return err
	}
	audit, err := s.svc.AuditLog(c.Request().Context(), actor(c), 100)
	if err != nil {
		return err
	}
	p.page, p.Users, p.Audit = s.pageT(c, "admin.title"), users, audit
	if err := s.adminView(c, &p); err != nil {
		return err
	}
	return s.render(c, status, "admin", p)
}

// adminTrained is POST /admin/users/{id}/trained: grant or remove the
// security-trained flag (audited).
func (s *Server) adminTrained(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	trained, err := strconv.ParseBool(c.FormValue("trained"))
	if err != nil {
		return cases.Errorf(cases.EINVALID, "trained must be true or false")
	}
	if _, err := s.svc.SetSecurityTrained(c.Request().Context(), actor(c), id, trained); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}
