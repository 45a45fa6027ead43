package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The demo's sign-up form: a company's form as it would use the desk. It
// asks the address guard before "sending" and shows the answer, and its
// email field carries the public "did you mean …?" helper. Only the demo
// serves it (s.opts.Outbox is the demo's SMTP sink).

type demoSignupPage struct {
	page
	Email, Account, Kind string
	Kinds                []cases.Kind
	Answer               *cases.GuardAnswer
}

// demoGuard is the company's sign-up system in the demo: a key that may
// only ask the guard.
var demoGuard = cases.Actor{APIKey: &cases.APIKey{Name: "demo-signup", Scopes: string(cases.ScopeAddressesCheck)}}

func (s *Server) demoSignup(c echo.Context) error {
	if s.opts.Outbox == nil {
		return echo.ErrNotFound
	}
	// The helper's script asks /api/v1/suggest from this page.
	c.Response().Header().Set("Content-Security-Policy", connectSelfCSP)
	p := demoSignupPage{page: s.pageT(c, "signup.title"), Kinds: s.svc.Kinds(), Account: "ACC-1001", Kind: "password_reset"}
	if c.Request().Method == http.MethodPost {
		p.Email, p.Account, p.Kind = c.FormValue("email"), c.FormValue("account"), c.FormValue("kind")
		ans, err := s.svc.CheckAddress(c.Request().Context(), demoGuard,
			cases.GuardInput{Address: p.Email, AccountRef: p.Account, Kind: p.Kind})
		if err != nil {
			return err
		}
		p.Answer = &ans
	}
	return s.render(c, http.StatusOK, "demo_signup", p)
}
