package ui

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The report form without a link is two steps on one route, POST /report:
// step one reads the pasted or uploaded mail and shows what the desk found;
// step two files the report.
//
// Between the steps the page carries the candidates found (sealed tokens
// and Message-IDs, at most 20 of each, each at most 1,000 bytes), not the
// mail: the mail is someone else's and may hold their name and address,
// and nothing in it is needed once the candidates are known. So no
// unfiled mail is kept on the server (no draft table, no clean-up, nothing
// left behind by a reporter who walks away), and the second POST stays
// small. A reporter could edit the hidden fields, but they could as well
// paste other text in step one: both steps are equally untrusted, and
// step two runs the full matching ladder itself.

const (
	// maxPasted bounds the pasted text; headers fit many times over.
	maxPasted = 256 << 10
	// maxUpload bounds an uploaded .eml; the route's body limit is a little
	// larger, so a file just over it gets the form back with a message.
	maxUpload       = 5 << 20
	reportBodyLimit = "6M"
	maxCandidates   = 20
	maxCandidateLen = 1000
)

type reportPage struct {
	page
	Text  string
	Error string
}

type reportCheckPage struct {
	page
	Tokens     []string
	MessageIDs []string
	Submission string // names this one form: sent twice, it files once
	Note       string
	Error      string
	// The ticks, as on the link page.
	OpenedLink, SetPassword, NeverSignedUp bool
	// SwitchLang is the language the switch button offers: on this step
	// the switch is a button of the form, so the form goes along.
	SwitchLang string
}

// reportPage is GET /report: step one, paste the mail or upload it.
func (s *Server) reportPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "report", reportPage{page: s.reporterPage(c, "report.title")})
}

// reportSubmit is POST /report: step one (check) unless the form says
// step=send.
func (s *Server) reportSubmit(c echo.Context) error {
	if c.FormValue("step") == "send" {
		if l := c.FormValue("switch_lang"); l != "" {
			return s.reportSwitch(c, l)
		}
		return s.reportSend(c)
	}
	return s.reportCheck(c)
}

// reportCheck reads the mail and shows, without filing anything, what the
// text itself holds (its Message-IDs, how many report links) with the
// button that files. It never says whether the desk knows the mail or when
// it was sent: anyone can paste a guessed Message-ID here, and the page
// would be an oracle for the ledger (issue 12). The ledger is looked up
// when the report is filed, and staff see the result.
func (s *Server) reportCheck(c echo.Context) error {
	p := s.reporterPage(c, "report.title")
	text := c.FormValue("text")
	if len(text) > maxPasted {
		text = text[:maxPasted]
	}
	again := func(status int, key string) error {
		return s.render(c, status, "report", reportPage{page: p, Text: text, Error: tr(p.Lang, key)})
	}
	upload, err := readUpload(c)
	switch {
	case errors.Is(err, errTooBig):
		return again(http.StatusRequestEntityTooLarge, "report.toobig")
	case err != nil:
		return again(http.StatusUnprocessableEntity, "report.badfile")
	}
	raw := text
	if upload != "" {
		raw = upload + "\n" + text
	}
	if strings.TrimSpace(raw) == "" {
		return again(http.StatusUnprocessableEntity, "report.empty")
	}
	found := s.scan(raw)
	s.keepBrowserSecret(c)
	return s.renderCheck(c, http.StatusOK, p, reportCheckPage{
		Tokens: capped(found.Tokens), MessageIDs: capped(found.MessageIDs), Submission: newSubmission(),
	})
}

// renderCheck shows step two: what was found, and the form that files.
// The header's language link would drop the form, so this page offers a
// button of the form instead (see reportSwitch).
func (s *Server) renderCheck(c echo.Context, status int, p page, cp reportCheckPage) error {
	p.Title = tr(p.Lang, "report.preview")
	cp.SwitchLang, p.OtherLang = p.OtherLang, ""
	cp.page = p
	return s.render(c, status, "report_check", cp)
}

// reportSwitch is step two's language button: the same step again in the
// other language, with everything the reporter entered, filing nothing.
func (s *Server) reportSwitch(c echo.Context, lang string) error {
	if lang != langEN && lang != langJA {
		lang = s.pageLang(c)
	}
	c.Request().Form.Set("lang", lang)
	p := s.reporterPage(c, "report.title")
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	return s.renderCheck(c, http.StatusOK, p, stepTwoForm(c, form))
}

// stepTwoForm reads step two's form back, to show it again.
func stepTwoForm(c echo.Context, form map[string][]string) reportCheckPage {
	return reportCheckPage{
		Tokens: capped(form["token"]), MessageIDs: capped(form["mid"]), Submission: formSubmission(c),
		Note: c.FormValue("note"), OpenedLink: c.FormValue("opened_link") != "",
		SetPassword: c.FormValue("set_password") != "", NeverSignedUp: c.FormValue("never_signed_up") != "",
	}
}

// reportSend files the report from the candidates step one found.
func (s *Server) reportSend(c echo.Context) error {
	p := s.reporterPage(c, "report.title")
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	in := cases.ReportInput{
		Channel:       cases.ChannelForm,
		Tokens:        capped(form["token"]),
		MessageIDs:    capped(form["mid"]),
		OpenedLink:    c.FormValue("opened_link") != "",
		SetPassword:   c.FormValue("set_password") != "",
		NeverSignedUp: c.FormValue("never_signed_up") != "",
		Note:          c.FormValue("note"),
		Client:        reportClient(c),
	}
	in.Submission = withContent(submission(c, "/report"), in)
	filed, err := s.svc.FileReport(c.Request().Context(), in)
	if cases.ErrorCode(err) == cases.EINVALID {
		cp := stepTwoForm(c, form)
		cp.Error = tr(p.Lang, "form.note")
		return s.renderCheck(c, http.StatusUnprocessableEntity, p, cp)
	}
	if err != nil {
		return err
	}
	if !filed.Again {
		s.metrics.reported(filed)
	}
	return s.filedRedirect(c, p.Lang, filed.StatusToken)
}

// scan finds the candidates for the original: the mail parser's first,
// strongest first, then whatever the text scan adds (pasted headers of the
// original itself, whose own Message-ID the parser rightly skips).
func (s *Server) scan(raw string) cases.Found {
	text := cases.ScanText(raw)
	if s.opts.ScanMail == nil {
		return text
	}
	f := s.opts.ScanMail([]byte(raw))
	return cases.Found{Tokens: union(f.Tokens, text.Tokens), MessageIDs: union(f.MessageIDs, text.MessageIDs)}
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range append(append([]string{}, a...), b...) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

var errTooBig = errors.New("upload too big")

// readUpload returns the uploaded .eml as text, "" when none was chosen.
func readUpload(c echo.Context) (string, error) {
	fh, err := c.FormFile("eml")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if fh.Size > maxUpload {
		return "", errTooBig
	}
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxUpload {
		return "", errTooBig
	}
	return string(b), nil
}

// capped keeps at most maxCandidates values, each at most maxCandidateLen
// bytes: no longer value is a token or a Message-ID.
func capped(vs []string) []string {
	var out []string
	for _, v := range vs {
		if len(out) == maxCandidates {
			break
		}
		if v = strings.TrimSpace(v); v != "" && len(v) <= maxCandidateLen {
			out = append(out, v)
		}
	}
	return out
}
