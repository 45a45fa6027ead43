package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"notme/cases"
)

type linkPage struct {
	page
	Heading       string // names the sending company when one is configured
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
	// CopyURL is this page with ?copy=1, where the address stands in a
	// field to copy by hand; Copy says this is that page.
	CopyURL string
	Copy    bool
	Contact Contact
	Hours   string       // Contact's hours in the page's language
	TelURL  template.URL // tel: of Contact.Phone, digits only
}

type homePage struct {
	page
	ReportAddress string
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
	return s.render(c, http.StatusOK, "home", homePage{page: s.reporterPage(c, "home.title"), ReportAddress: s.opts.ReportAddress})
}

// linkPage is GET /r/{token}: the "not me" page. It changes nothing and
// looks the same for every token, real or not: mail scanners fetch links,
// and a prober must not learn whether a token is real.
func (s *Server) linkPage(c echo.Context) error {
	p := s.reporterPage(c, "link.title")
	s.keepBrowserSecret(c)
	return s.render(c, http.StatusOK, "link", linkPage{page: p, Heading: s.linkHeading(p.Lang), Token: c.Param("token"),
		Submission: s.sameBrowserSubmission(c, c.Param("token"))})
}

// linkHeading is the link page's question, naming the company whose mail
// it is when the desk is configured with one. It is the desk's name, not
// the link's: the page stays the same for every token.
func (s *Server) linkHeading(lang string) string {
	name := s.opts.Company
	if lang == langJA && s.opts.CompanyJA != "" {
		name = s.opts.CompanyJA
	}
	if name == "" {
		return tr(lang, "link.title")
	}
	return fmt.Sprintf(tr(lang, "link.title.company"), name)
}

// formCookie keeps, for Options.SameBrowserWindow, the name of the last
// "not me" form this browser was shown, tied to its link by a hash: the
// same browser back on the same link (Back, a reload) is shown the same
// form, and the same form files once (see submission). One constant name
// and path for every link, so that the page's answer looks the same for
// every token, real or not.
const formCookie = "notme_form"

// sameBrowserSubmission names the form of GET /r/{token}: the name this
// browser was given for this link within the window, else a new one. The
// cookie's expiry stays that of the first visit, so the window does not
// grow by visiting again.
func (s *Server) sameBrowserSubmission(c echo.Context, link string) string {
	w := s.opts.SameBrowserWindow
	if w <= 0 {
		return newSubmission()
	}
	sum := sha256.Sum256([]byte("notme form\x00" + link))
	tag := base64.RawURLEncoding.EncodeToString(sum[:12])
	now := s.svc.Now()
	name, issued := newSubmission(), now
	if ck, err := c.Cookie(formCookie); err == nil {
		parts := strings.Split(ck.Value, ".")
		if len(parts) == 3 && parts[0] == tag && len(parts[1]) <= 64 && parts[1] != "" {
			if at, err := strconv.ParseInt(parts[2], 10, 64); err == nil && now.Sub(time.Unix(at, 0)) < w && !time.Unix(at, 0).After(now) {
				name, issued = parts[1], time.Unix(at, 0)
			}
		}
	}
	c.SetCookie(&http.Cookie{
		Name: formCookie, Value: tag + "." + name + "." + strconv.FormatInt(issued.Unix(), 10),
		Path: "/r/", Expires: issued.Add(w), HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	return name
}

// newSubmission names one rendering of a report form.
func newSubmission() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// submission is the name under which a report form's POST is filed: the
// form's own name with the browser's CSRF cookie and the link, so the same
// POST sent again (a double click, a retry on another instance) files once,
// while nobody else holding the form's name reaches its status page. ""
// (a report of its own under a fresh name) when the form carries none (an
// old page) or the browser holds no CSRF cookie: a form's name alone is
// something a stranger can learn and send.
func submission(c echo.Context, link string) string {
	name := c.FormValue("submission")
	secret := browserSecret(c)
	if name == "" || len(name) > 64 || secret == "" {
		return ""
	}
	return name + "\x00" + secret + "\x00" + link
}

// browserCookie holds a secret of this browser's own for browsers that
// never get a CSRF cookie (those sending Sec-Fetch-Site pass without one),
// so that their form sent twice still files once. Lax, not Strict: a
// link opened from a mail is a cross-site navigation, and must not be
// answered with a new secret that replaces the one the browser holds.
const browserCookie = "notme_browser"

// keepBrowserSecret gives a browser that has none a secret of its own,
// before it is shown a form whose name submission uses.
func (s *Server) keepBrowserSecret(c echo.Context) {
	if browserSecret(c) != "" {
		return
	}
	c.SetCookie(&http.Cookie{
		Name: browserCookie, Value: newSubmission(), Path: "/", MaxAge: 12 * 3600,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// browserSecret is the CSRF cookie this browser holds, else its own
// browserCookie, "" when it holds neither. A browser that sends Sec-Fetch-Site passes the CSRF check without
// one, and Echo then gives every such request the same stand-in token, so
// the token from the context is no secret on that path; the cookie, when
// the browser has one, still is (HttpOnly, SameSite=Strict: no other site
// reads or sends it).
func browserSecret(c echo.Context) string {
	if t := csrfToken(c); t != "" && t != middleware.CSRFUsingSecFetchSite {
		return t
	}
	for _, name := range []string{csrfCookie, "__Host-" + csrfCookie, browserCookie} {
		if ck, err := c.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

// withContent makes what the reporter said part of a submission's name:
// the same form sent again as it was (a double click, a retry, Back and
// the button again) files once, but sent again with a new tick or note
// it is new evidence, filed as a report of its own on the same case,
// never dropped for looking like a repeat.
func withContent(submission string, in cases.ReportInput) string {
	if submission == "" {
		return ""
	}
	return fmt.Sprintf("%s\x00%t%t%t\x00%s", submission, in.OpenedLink, in.SetPassword, in.NeverSignedUp, in.Note)
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
		Client:        reportClient(c),
	}
	in.Submission = withContent(submission(c, c.Param("token")), in)
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
	sp := statusPage{
		page: p, Status: st, Filed: c.QueryParam("filed") != "",
		StatusURL: s.publicURL + "/s/" + token, CopyURL: "/s/" + token + "?copy=1&lang=" + p.Lang, Copy: c.QueryParam("copy") != "",
		Contact: s.opts.Contact, Hours: s.opts.Contact.Hours,
	}
	if p.Lang == langJA && s.opts.Contact.HoursJA != "" {
		sp.Hours = s.opts.Contact.HoursJA
	}
	if sp.Hours != "" {
		sp.Hours = fmt.Sprintf(tr(p.Lang, "contact.hours"), sp.Hours)
	}
	if tel := telDigits(s.opts.Contact.Phone); tel != "" {
		// Only digits and a leading +: safe as a URL (RFC 3966).
		sp.TelURL = template.URL("tel:" + tel)
	}
	return s.render(c, http.StatusOK, "status", sp)
}

// telDigits keeps the digits of a phone number, and a leading +.
func telDigits(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// reportClient is the key that bounds the triage cases one client can
// open with forged links (cases/triage.go): the rate limits' client, so an
// IPv6 client is its /64.
func reportClient(c echo.Context) string { return clientKey(c) }
