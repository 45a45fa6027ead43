package ui

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

type linkPage struct {
	page
	Token         string
	Submission    string // names this one form: sent twice, it files once
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
}

// reporterPage is the base of every reporter page: the language chosen by
// pageLang, the title in it, and the switch to the other language.
func (s *Server) reporterPage(c echo.Context, titleKey string) page {
	lang := s.pageLang(c)
	setLang(c, lang)
	p := s.page(c, tr(lang, titleKey))
	p.Lang, p.OtherLang, p.SwitchURL = lang, otherLang(lang), "?lang="+otherLang(lang)
	return p
}

// filedRedirect sends a reporter to their status page after a POST. The
// language goes along only when it is not what the status page would pick
// by itself, so the usual address stays short.
func (s *Server) filedRedirect(c echo.Context, lang, statusToken string) error {
	loc := "/s/" + statusToken + "?filed=1"
	if lang != s.chosenLang(c) {
		loc += "&lang=" + lang
	}
	return c.Redirect(http.StatusSeeOther, loc)
}

// home is GET /: what this desk is, for someone who arrives without a link.
func (s *Server) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", s.reporterPage(c, "home.title"))
}

// linkPage is GET /r/{token}: the "not me" page. It changes nothing and
// looks the same for every token, real or not: mail scanners fetch links,
// and a prober must not learn whether a token is real.
func (s *Server) linkPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "link", linkPage{page: s.reporterPage(c, "link.title"), Token: c.Param("token"),
		Submission: newSubmission()})
}

// newSubmission names one rendering of a report form.
func newSubmission() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// submission is the name under which a report form's POST is filed: the
// form's own name with the browser's CSRF token and the link, so the same
// POST sent again (a double click, a retry on another instance) files once,
// while nobody else holding the form's name reaches its status page. ""
// when the form carries none (an old page).
func submission(c echo.Context, link string) string {
	name := c.FormValue("submission")
	if name == "" || len(name) > 64 {
		return ""
	}
	return name + "\x00" + csrfToken(c) + "\x00" + link
}

// formSubmission keeps a form's name when it is shown again unfiled.
func formSubmission(c echo.Context) string {
	if name := c.FormValue("submission"); name != "" && len(name) <= 64 {
		return name
	}
	return newSubmission()
}

// linkReport is POST /r/{token}: files the report and sends the reporter to
// their private status page. A forged or unknown token is filed too, as an
// unmatched report that staff triage: the reporter is never told the link
// "did not work", because nothing they did was wrong.
func (s *Server) linkReport(c echo.Context) error {
	in := cases.ReportInput{
		Channel:       cases.ChannelLink,
		Token:         c.Param("token"),
		OpenedLink:    c.FormValue("opened_link") != "",
		SetPassword:   c.FormValue("set_password") != "",
		NeverSignedUp: c.FormValue("never_signed_up") != "",
		Note:          c.FormValue("note"),
		Submission:    submission(c, c.Param("token")),
	}
	p := s.reporterPage(c, "link.title")
	filed, err := s.svc.FileReport(c.Request().Context(), in)
	if cases.ErrorCode(err) == cases.EINVALID {
		// The only thing a reporter can get wrong here is the note's length.
		return s.render(c, http.StatusUnprocessableEntity, "link", linkPage{
			page: p, Token: in.Token, Submission: formSubmission(c), Error: tr(p.Lang, "form.note"),
			Note: in.Note, OpenedLink: in.OpenedLink, SetPassword: in.SetPassword, NeverSignedUp: in.NeverSignedUp,
		})
	}
	if err != nil {
		return err
	}
	if !filed.Again {
		s.metrics.reported(filed)
	}
	return s.filedRedirect(c, p.Lang, filed.StatusToken)
}

// statusPage is GET /s/{status-token}: the reporter's private status, in
// Japanese or English (?lang=, else Accept-Language, else the default).
func (s *Server) statusPage(c echo.Context) error {
	token := c.Param("token")
	c.Response().Header().Set("Cache-Control", "no-store")
	st, err := s.svc.StatusByToken(c.Request().Context(), token)
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		p := s.reporterPage(c, "status.404.title")
		return s.render(c, http.StatusNotFound, "error", errorPage{page: p, Message: tr(p.Lang, "status.404.body")})
	}
	if err != nil {
		return err
	}
	p := s.reporterPage(c, "status.title")
	p.Title += " " + st.CaseRef
	return s.render(c, http.StatusOK, "status", statusPage{
		page: p, Status: st, Filed: c.QueryParam("filed") != "",
		StatusURL: s.publicURL + "/s/" + token,
	})
}
