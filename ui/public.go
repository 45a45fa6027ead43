package ui

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

type linkPage struct {
	page
	Token         string
	Error         string
	Note          string
	OpenedLink    bool
	SetPassword   bool
	NeverSignedUp bool
}

type statusPage struct {
	page
	Status    cases.ReporterStatus
	Filed     bool
	StatusURL string
	OtherLang string // the language switch's target
}

type reportPage struct {
	page
	Text  string
	Note  string
	Error string
}

// home is GET /: what this desk is, for someone who arrives without a link.
func (s *Server) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", s.page(c, "Report an email that was not meant for you"))
}

// linkPage is GET /r/{token}: the "not me" page. It changes nothing and
// looks the same for every token, real or not: mail scanners fetch links,
// and a prober must not learn whether a token is real.
func (s *Server) linkPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "link", linkPage{page: s.page(c, "This email was not meant for you?"), Token: c.Param("token")})
}

// linkReport is POST /r/{token}: files the report and sends the reporter to
// their private status page.
func (s *Server) linkReport(c echo.Context) error {
	in := cases.ReportInput{
		Channel:       cases.ChannelLink,
		Token:         c.Param("token"),
		OpenedLink:    c.FormValue("opened_link") != "",
		SetPassword:   c.FormValue("set_password") != "",
		NeverSignedUp: c.FormValue("never_signed_up") != "",
		Note:          c.FormValue("note"),
	}
	filed, err := s.svc.FileReport(c.Request().Context(), in)
	if cases.ErrorCode(err) == cases.EINVALID {
		return s.render(c, http.StatusUnprocessableEntity, "link", linkPage{
			page: s.page(c, "This email was not meant for you?"), Token: in.Token, Error: cases.ErrorMessage(err),
			Note: in.Note, OpenedLink: in.OpenedLink, SetPassword: in.SetPassword, NeverSignedUp: in.NeverSignedUp,
		})
	}
	if err != nil {
		return err
	}
	s.metrics.reported(filed)
	return c.Redirect(http.StatusSeeOther, "/s/"+filed.StatusToken+"?filed=1")
}

// statusPage is GET /s/{status-token}: the reporter's private status, in
// Japanese or English (?lang=, else Accept-Language).
func (s *Server) statusPage(c echo.Context) error {
	token := c.Param("token")
	lang := pageLang(c)
	setLang(c, lang)
	c.Response().Header().Set("Cache-Control", "no-store")
	st, err := s.svc.StatusByToken(c.Request().Context(), token)
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		p := s.page(c, tr(lang, "status.404.title"))
		p.Lang = lang
		return s.render(c, http.StatusNotFound, "error", errorPage{page: p, Message: tr(lang, "status.404.body")})
	}
	if err != nil {
		return err
	}
	p := s.page(c, tr(lang, "status.title")+" "+st.CaseRef)
	p.Lang = lang
	return s.render(c, http.StatusOK, "status", statusPage{
		page: p, Status: st, Filed: c.QueryParam("filed") != "",
		StatusURL: s.publicURL + "/s/" + token, OtherLang: otherLang(lang),
	})
}

// reportPage is GET /report: a report without a link, from pasted headers.
func (s *Server) reportPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "report", reportPage{page: s.page(c, "Report an email that was not meant for you")})
}

// maxPasted bounds the pasted text; headers fit many times over.
const maxPasted = 256 << 10

// reportSubmit is POST /report.
func (s *Server) reportSubmit(c echo.Context) error {
	text := c.FormValue("text")
	if len(text) > maxPasted {
		text = text[:maxPasted]
	}
	if strings.TrimSpace(text) == "" {
		return s.render(c, http.StatusUnprocessableEntity, "report", reportPage{
			page:  s.page(c, "Report an email that was not meant for you"),
			Error: "Please paste the email's headers or its whole text, so we can find which account it belongs to.",
		})
	}
	found := cases.ScanText(text)
	in := cases.ReportInput{
		Channel:    cases.ChannelForm,
		MessageIDs: found.MessageIDs,
		Note:       c.FormValue("note"),
	}
	if len(found.Tokens) > 0 {
		in.Token = found.Tokens[0]
	}
	filed, err := s.svc.FileReport(c.Request().Context(), in)
	if cases.ErrorCode(err) == cases.EINVALID {
		return s.render(c, http.StatusUnprocessableEntity, "report", reportPage{
			page: s.page(c, "Report an email that was not meant for you"), Text: text, Note: in.Note, Error: cases.ErrorMessage(err),
		})
	}
	if err != nil {
		return err
	}
	s.metrics.reported(filed)
	return c.Redirect(http.StatusSeeOther, "/s/"+filed.StatusToken+"?filed=1")
}
