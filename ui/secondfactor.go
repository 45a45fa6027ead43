package ui

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// pendingCookie carries a password sign-in that waits for its second
// factor (cases.CompleteSecondFactor) to the one page that takes it.
const (
	pendingCookie     = "notme_pending"
	secondFactorPath  = "/login/2fa"
	accountFactorPath = "/account/2fa"
)

func (s *Server) pendingCookieOf(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: pendingCookie, Value: value, Path: secondFactorPath, MaxAge: maxAge,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode}
}

type secondFactorLoginPage struct {
	page
	Next  string
	Error string
	// Passkey: the person has one to use here; TOTP: an app.
	Passkey, TOTP bool
}

// secondFactorLoginPageOf is the second page, offering the person's
// factors (recovery codes always).
func (s *Server) secondFactorLoginPageOf(c echo.Context, next string) secondFactorLoginPage {
	p := secondFactorLoginPage{page: s.pageT(c, "2fa.login.title"), Next: next, TOTP: true}
	if f, err := s.svc.PendingSignInFactors(c.Request().Context(), pendingOf(c)); err == nil {
		p.Passkey, p.TOTP = f.Passkey && s.passkeysUsable(), f.TOTP
	}
	return p
}

// loginSecondFactor is GET /login/2fa: the code after the password.
func (s *Server) loginSecondFactor(c echo.Context) error {
	if ck, err := c.Cookie(pendingCookie); err != nil || ck.Value == "" {
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(localPath(c.QueryParam("next"))))
	}
	return s.render(c, http.StatusOK, "login2fa", s.secondFactorLoginPageOf(c, localPath(c.QueryParam("next"))))
}

// loginSecondFactorSubmit is POST /login/2fa: a code from the app, or a
// recovery code, opens the session; the pending sign-in ends.
func (s *Server) loginSecondFactorSubmit(c echo.Context) error {
	next := localPath(c.FormValue("next"))
	pending := ""
	if ck, err := c.Cookie(pendingCookie); err == nil {
		pending = ck.Value
	}
	in, err := s.svc.CompleteSecondFactor(c.Request().Context(), pending, c.FormValue("code"),
		signInClient(c), s.opts.SessionTTL)
	lang := s.pageLang(c)
	refused := func(status int, msg string) error {
		p := s.secondFactorLoginPageOf(c, next)
		p.Error = msg
		return s.render(c, status, "login2fa", p)
	}
	if lock, ok := cases.IsLoginLocked(err); ok {
		wait := max(lock.Until.Sub(s.svc.Now()), time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return refused(http.StatusTooManyRequests, staffText(lang, "login.locked", lockedUntilText(lock.Until)))
	}
	if errors.Is(err, cases.ErrWrongCode) {
		return refused(http.StatusUnauthorized, staffText(lang, "2fa.wrong"))
	}
	if cases.ErrorCode(err) == cases.EUNAUTHORIZED {
		c.SetCookie(s.pendingCookieOf("", -1))
		p := s.loginPageOf(c, next)
		p.Error = staffText(lang, "2fa.login.expired")
		return s.render(c, http.StatusUnauthorized, "login", p)
	}
	if err != nil {
		return err
	}
	c.SetCookie(s.pendingCookieOf("", -1))
	s.setSessionCookie(c, in.Token)
	switch {
	case in.UsedRecovery:
		// The person is told at once how many codes are left.
		return c.Redirect(http.StatusSeeOther, accountFactorPath+"?recovery=used&next="+url.QueryEscape(next))
	case in.Failed > 0:
		return c.Redirect(http.StatusSeeOther, "/login/notice?next="+url.QueryEscape(next))
	}
	return c.Redirect(http.StatusSeeOther, next)
}

type accountFactorPage struct {
	page
	Status cases.SecondFactorStatus
	// While adding an app: its QR code, the secret to type in (in groups
	// of four), and the otpauth URI.
	QR           template.URL
	Secret, URI  string
	Error        string
	RecoveryUsed bool
	// Codes are the recovery codes, shown once, right after enrolment.
	Codes []string
	Next  string
	// PasskeysOn: auth.passkeys; Passkeys are the person's, in their
	// words; PasskeyAdded: one was just added.
	PasskeysOn   bool
	Passkeys     []passkeyListRow
	PasskeyAdded bool
	// CodesRenewed: Codes are new ones made on request, not an app's.
	CodesRenewed bool
}

// passkeyListRow is one of a person's passkeys on their page.
type passkeyListRow struct {
	ID                     int64
	Name, Created, LastUse string
}

// accountSecondFactor is GET /account/2fa: the person's second factor;
// without one, the page to add an authenticator app. A person whose role
// requires one is sent here from every other staff page (requireUser).
func (s *Server) accountSecondFactor(c echo.Context) error {
	return s.renderAccountFactor(c, http.StatusOK, "")
}

func (s *Server) renderAccountFactor(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	st, err := s.svc.SecondFactor(ctx, actor(c))
	if err != nil {
		return err
	}
	p := accountFactorPage{page: s.pageT(c, "2fa.title"), Status: st, Error: errMsg,
		RecoveryUsed: c.QueryParam("recovery") == "used", Next: localPath(c.QueryParam("next")),
		PasskeysOn: s.passkeysUsable(), PasskeyAdded: c.QueryParam("passkey") == "added"}
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	for _, k := range st.Passkeys {
		r := passkeyListRow{ID: k.ID, Name: k.Name, Created: stamp(k.CreatedAt), LastUse: staffText(p.Lang, "passkey.neverused")}
		if k.LastUsedAt != nil {
			r.LastUse = staffText(p.Lang, "passkey.lastused", stamp(*k.LastUsedAt))
		}
		p.Passkeys = append(p.Passkeys, r)
	}
	if !st.TOTP {
		e, err := s.svc.StartTOTP(ctx, actor(c))
		if err != nil {
			return err
		}
		p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG))
		p.Secret, p.URI = groupsOf4(e.Secret), e.URI
	}
	return s.render(c, status, "account2fa", p)
}

// groupsOf4 spaces a base32 secret for typing, as apps accept it.
func groupsOf4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// accountSecondFactorConfirm is POST /account/2fa: a code from the app
// confirms it. The answer shows the recovery codes, once, instead of
// redirecting: they are never stored where a later GET could read them.
// The session moves to a new id (cases.ConfirmTOTP).
func (s *Server) accountSecondFactorConfirm(c echo.Context) error {
	conf, err := s.svc.ConfirmTOTP(c.Request().Context(), actor(c), sessionToken(c), c.FormValue("password"), c.FormValue("code"))
	if msg, ok := s.factorChangeRefused(c, err); ok {
		return s.renderAccountFactor(c, http.StatusUnprocessableEntity, msg)
	}
	if err != nil {
		return err
	}
	s.setSessionCookie(c, conf.Token)
	p := accountFactorPage{page: s.pageT(c, "2fa.title"), Codes: conf.RecoveryCodes, Next: "/queue"}
	p.Status.TOTP, p.Status.RecoveryLeft = true, len(conf.RecoveryCodes)
	p.CSRF = csrfOfSession(conf.Token)
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "account2fa", p)
}

// accountSecondFactorRemove is POST /account/2fa/remove: the person
// removes their app, with their password and a code from it or a
// recovery code.
func (s *Server) accountSecondFactorRemove(c echo.Context) error {
	err := s.svc.RemoveTOTP(c.Request().Context(), actor(c), c.FormValue("password"), c.FormValue("code"))
	if msg, ok := s.factorChangeRefused(c, err); ok {
		return s.renderAccountFactor(c, http.StatusUnprocessableEntity, msg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, accountFactorPath)
}

// accountRecoveryCodes is POST /account/2fa/recovery: new recovery
// codes, after the password, shown once in the answer as at enrolment.
func (s *Server) accountRecoveryCodes(c echo.Context) error {
	codes, err := s.svc.NewRecoveryCodes(c.Request().Context(), actor(c), c.FormValue("password"))
	if msg, ok := s.factorChangeRefused(c, err); ok {
		return s.renderAccountFactor(c, http.StatusUnprocessableEntity, msg)
	}
	if err != nil {
		return err
	}
	p := accountFactorPage{page: s.pageT(c, "2fa.title"), Codes: codes, CodesRenewed: true, Next: accountFactorPath}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "account2fa", p)
}

// adminResetSecondFactor is POST /admin/users/{id}/2fa/reset: a lost
// phone; the person's app and recovery codes go and their sessions end.
func (s *Server) adminResetSecondFactor(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.svc.ResetSecondFactor(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}
