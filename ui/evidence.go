package ui

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// MailView is a stored mail as the evidence viewer shows it. ui may not
// read MIME: Options.ViewMail builds it (app wires inbox/mailparse.View).
type MailView struct {
	Headers     []MailHeader
	Text        string
	HTML        string // unsanitized; the viewer sanitizes it once, when it renders the mail
	Attachments []MailAttachment
	Forwarded   *ForwardedMail
	Problems    []string
	// TextClipped, HTMLClipped: only the start of the body, up to
	// ViewLimits.MaxText, is in Text or HTML.
	TextClipped, HTMLClipped bool
}

// MailHeader is one decoded header field.
type MailHeader struct{ Name, Value string }

// MailAttachment is one attachment, its bytes decoded.
type MailAttachment struct {
	Name      string
	Type      string
	Data      []byte // nil unless ViewLimits.Keep names it
	Size      int    // decoded size
	Forwarded bool   // inside the forwarded original
}

// ForwardedMail is the original a reporter forwarded, attached or inline.
type ForwardedMail struct {
	Inline                   bool
	Headers                  []MailHeader
	Text                     string
	HTML                     string
	TextClipped, HTMLClipped bool
}

// evidencePage is the evidence viewer of one mail of a case.
type evidencePage struct {
	page
	Ref         string
	Mail        cases.MailMessage
	PurgedAt    *time.Time // set when retention removed the raw mail
	NoRaw       bool       // no raw bytes, and no purge either (an empty mail)
	Headers     []MailHeader
	Text        string
	HasHTML     bool
	Attachments []attachmentRow
	Forwarded   *ForwardedMail
	FwdHTML     bool
	Problems    []string
	// ShownKB is the viewer's cap in KB, said beside each body that was
	// longer (TextClipped, HTMLClipped, and the forwarded original's).
	ShownKB                  int
	TextClipped, HTMLClipped bool
	Base                     string // /cases/{ref}/mail/{id}, or /mail/{id} for Kept
	// Kept: the page was reached from /mail, where staff read any kept mail
	// before anyone opens a case from it; Ref is then the mail's case, if
	// it has one.
	Kept     bool
	OpenCase bool // the mail is no report and on no case: staff may open one from it
}

type attachmentRow struct {
	N         int
	Name      string
	Type      string
	Size      int
	Forwarded bool
}

// unmaskedHeaders carry Message-IDs, which look like addresses but are the
// evidence that matches a report to its account.
var unmaskedHeaders = map[string]bool{"Message-ID": true, "In-Reply-To": true, "References": true, "Resent-Message-ID": true}

// evidence reads the mail of the request's case for the viewer, without
// its raw bytes.
func (s *Server) evidence(c echo.Context) (cases.Evidence, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return cases.Evidence{}, cases.Errorf(cases.ENOTFOUND, "This case has no such mail.")
	}
	return s.svc.MailEvidence(c.Request().Context(), actor(c), sessionToken(c), c.Param("ref"), id)
}

// keptEvidence reads any kept mail by the request's id, for the viewer
// on /mail.
func (s *Server) keptEvidence(c echo.Context) (cases.Evidence, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return cases.Evidence{}, cases.Errorf(cases.ENOTFOUND, "No such mail.")
	}
	return s.svc.KeptMail(c.Request().Context(), actor(c), sessionToken(c), id)
}

// viewMail reads raw within l.
func (s *Server) viewMail(raw []byte, l ViewLimits) MailView {
	if s.opts.ViewMail == nil {
		v := MailView{Problems: []string{"no mail reader is configured: showing the raw mail"}}
		v.Text, v.TextClipped = string(raw[:min(len(raw), l.MaxText)]), len(raw) > l.MaxText
		return v
	}
	return s.opts.ViewMail(raw, l)
}

// rendered is the viewer's render of e's kept mail: from the cache, or
// read from the database and rendered in one of the viewer's slots.
func (s *Server) rendered(c echo.Context, e cases.Evidence) (*mailRender, error) {
	capped := s.opts.EvidenceViewMaxBytes
	k := viewKey{mail: e.Mail.ID, sha256: string(e.Mail.Sha256), maxText: capped}
	return s.views.get(c.Request().Context(), k, func() (*mailRender, error) {
		// Others may be waiting for this render: it finishes even if
		// the viewer who started it leaves.
		raw, err := s.svc.RawMail(context.WithoutCancel(c.Request().Context()), e)
		if err != nil {
			return nil, err
		}
		v := s.viewMail(raw, ViewLimits{MaxText: capped})
		r := &mailRender{headers: v.Headers, text: v.Text, textClipped: v.TextClipped, htmlClipped: v.HTMLClipped,
			attachments: v.Attachments, problems: v.Problems}
		if strings.TrimSpace(v.HTML) != "" {
			r.html = sanitizeMailHTML(v.HTML)
		}
		if f := v.Forwarded; f != nil {
			r.forwarded = &forwardRender{inline: f.Inline, headers: f.Headers, text: f.Text,
				textClipped: f.TextClipped, htmlClipped: f.HTMLClipped}
			if strings.TrimSpace(f.HTML) != "" {
				r.forwarded.html = sanitizeMailHTML(f.HTML)
			}
		}
		return r, nil
	})
}

// viewerBusy is the calm answer when every render slot stayed taken:
// nothing is lost, try again in a few seconds.
func (s *Server) viewerBusy(c echo.Context, e cases.Evidence) error {
	s.log.Warn("evidence viewer busy", "mail_id", e.Mail.ID)
	c.Response().Header().Set("Retry-After", viewRetryAfter)
	lang := s.pageLang(c)
	return s.renderError(c, http.StatusServiceUnavailable, staffText(lang, "ev.busy.title"), staffText(lang, "ev.busy.body", viewRetryAfter))
}

func maskHeaders(e cases.Evidence, hs []MailHeader) []MailHeader {
	out := make([]MailHeader, len(hs))
	for i, h := range hs {
		out[i] = h
		if !unmaskedHeaders[h.Name] {
			out[i].Value = e.Mask(h.Value)
		}
	}
	return out
}

// mailEvidence is GET /cases/{ref}/mail/{id}: the evidence viewer.
func (s *Server) mailEvidence(c echo.Context) error {
	e, err := s.evidence(c)
	if err != nil {
		return err
	}
	base := "/cases/" + e.Case.Ref + "/mail/" + strconv.FormatInt(e.Mail.ID, 10)
	p := evidencePage{page: s.pageT(c, "ev.title", e.Mail.ID, e.Case.Ref), Ref: e.Case.Ref, Mail: e.Mail, Base: base}
	return s.showEvidence(c, e, p)
}

// keptMail is GET /mail/{id}: the evidence viewer for any kept mail, so
// that staff can read a mail before deciding to open a case from it.
func (s *Server) keptMail(c echo.Context) error {
	e, err := s.keptEvidence(c)
	if err != nil {
		return err
	}
	p := evidencePage{page: s.pageT(c, "ev.title.kept", e.Mail.ID), Ref: e.Case.Ref, Mail: e.Mail,
		Base: "/mail/" + strconv.FormatInt(e.Mail.ID, 10), Kept: true,
		OpenCase: e.Mail.Disposition == cases.DispositionIgnored && e.Mail.CaseID == nil}
	return s.showEvidence(c, e, p)
}

// showEvidence renders the viewer of one mail, its parts masked.
func (s *Server) showEvidence(c echo.Context, e cases.Evidence, p evidencePage) error {
	if e.Purged() {
		s.views.forget(e.Mail.ID)
		p.PurgedAt, p.NoRaw = e.Mail.PurgedAt, e.Mail.PurgedAt == nil
	} else {
		v, err := s.rendered(c, e)
		if errors.Is(err, errViewsBusy) {
			return s.viewerBusy(c, e)
		}
		if err != nil {
			return err
		}
		p.Headers, p.Text, p.HasHTML, p.Problems = maskHeaders(e, v.headers), e.Mask(v.text), len(v.html) > 0, v.problems
		p.ShownKB, p.TextClipped, p.HTMLClipped = s.opts.EvidenceViewMaxBytes>>10, v.textClipped, v.htmlClipped
		for i, a := range v.attachments {
			p.Attachments = append(p.Attachments, attachmentRow{N: i + 1, Name: displayName(a.Name, i+1), Type: a.Type, Size: a.Size, Forwarded: a.Forwarded})
		}
		if f := v.forwarded; f != nil {
			p.Forwarded = &ForwardedMail{Inline: f.inline, Headers: maskHeaders(e, f.headers), Text: e.Mask(f.text),
				TextClipped: f.textClipped, HTMLClipped: f.htmlClipped}
			p.FwdHTML = len(f.html) > 0
		}
	}
	// The HTML part is shown in a sandboxed frame from this site: the one
	// thing this page's policy adds to the strict default.
	h := c.Response().Header()
	h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; frame-src 'self'")
	return s.render(c, http.StatusOK, "evidence", p)
}

// mailHTMLCSP is the Content-Security-Policy of a sanitized HTML part.
// Sanitizing left no script, style, image, link or form; the policy makes
// sure nothing could load or run even if it had: nothing is fetched
// (default-src 'none'; no style-src, as the sanitizer keeps no styles), the
// document is sandboxed without scripts, forms or same-origin, and only
// this site may frame it.
const mailHTMLCSP = "default-src 'none'; sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// mailEvidenceHTML is GET /cases/{ref}/mail/{id}/html (?part=forwarded for
// the forwarded original's): the HTML part, sanitized, for the viewer's
// sandboxed frame.
func (s *Server) mailEvidenceHTML(c echo.Context) error {
	e, err := s.evidence(c)
	return s.evidenceHTML(c, e, err)
}

// keptMailHTML is GET /mail/{id}/html (?part=forwarded): mailEvidenceHTML
// for the viewer on /mail.
func (s *Server) keptMailHTML(c echo.Context) error {
	e, err := s.keptEvidence(c)
	return s.evidenceHTML(c, e, err)
}

// evidenceHTML serves a mail's HTML part, sanitized and sandboxed.
func (s *Server) evidenceHTML(c echo.Context, e cases.Evidence, err error) error {
	if err != nil {
		return err
	}
	if e.Purged() {
		s.views.forget(e.Mail.ID)
		return purged(e)
	}
	v, err := s.rendered(c, e)
	if errors.Is(err, errViewsBusy) {
		return s.viewerBusy(c, e)
	}
	if err != nil {
		return err
	}
	html := v.html
	if c.QueryParam("part") == "forwarded" {
		html = nil
		if v.forwarded != nil {
			html = v.forwarded.html
		}
	}
	if len(html) == 0 {
		return cases.Errorf(cases.ENOTFOUND, "This mail has no HTML part.")
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", mailHTMLCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	// Masking after sanitizing only turns address characters into "***": it
	// cannot make markup.
	return c.HTMLBlob(http.StatusOK, []byte(e.Mask(string(html))))
}

// mailAttachment is GET /cases/{ref}/mail/{id}/attachments/{n}: one
// attachment as a download, written to the audit log first.
func (s *Server) mailAttachment(c echo.Context) error {
	e, err := s.evidence(c)
	return s.evidenceAttachment(c, e, err, func(name, typ string, size int) error {
		return s.svc.RecordAttachmentDownload(c.Request().Context(), actor(c), e.Case.Ref, e.Mail.ID, name, typ, size)
	})
}

// keptMailAttachment is GET /mail/{id}/attachments/{n}: mailAttachment
// for the viewer on /mail, audited all the same.
func (s *Server) keptMailAttachment(c echo.Context) error {
	e, err := s.keptEvidence(c)
	return s.evidenceAttachment(c, e, err, func(name, typ string, size int) error {
		return s.svc.RecordKeptMailDownload(c.Request().Context(), actor(c), e.Mail.ID, name, typ, size)
	})
}

// evidenceAttachment serves one attachment as a download once audit has
// recorded it. The raw mail is read once and walked keeping only that
// attachment's bytes, whole, in one of the viewer's slots, which it holds
// until the download is written: a download holds one raw mail, never the
// whole mail decoded.
func (s *Server) evidenceAttachment(c echo.Context, e cases.Evidence, err error, audit func(name, typ string, size int) error) error {
	if err != nil {
		return err
	}
	if e.Purged() {
		s.views.forget(e.Mail.ID)
		return purged(e)
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return cases.Errorf(cases.ENOTFOUND, "This mail has no such attachment.")
	}
	if err := s.views.acquire(c.Request().Context()); errors.Is(err, errViewsBusy) {
		return s.viewerBusy(c, e)
	} else if err != nil {
		return err
	}
	defer s.views.release()
	raw, err := s.svc.RawMail(c.Request().Context(), e)
	if err != nil {
		return err
	}
	v := s.viewMail(raw, ViewLimits{MaxText: 1, Keep: n})
	if n > len(v.Attachments) {
		return cases.Errorf(cases.ENOTFOUND, "This mail has no such attachment.")
	}
	a := v.Attachments[n-1]
	name := downloadName(a.Name, n)
	if err := audit(name, a.Type, len(a.Data)); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Blob(http.StatusOK, downloadType(a.Type), a.Data)
}

// purged is the answer for the parts of a mail whose raw bytes are gone.
func purged(e cases.Evidence) error {
	if e.Mail.PurgedAt == nil {
		return cases.Errorf(cases.ENOTFOUND, "The raw mail is not kept.")
	}
	return cases.Errorf(cases.ENOTFOUND, "The raw mail was purged on %s.", e.Mail.PurgedAt.UTC().Format("2006-01-02"))
}

// passiveTypes are the media types a browser only displays: anything else
// (HTML, SVG, XML, scripts, mail) is served as bytes to save.
var passiveTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "application/zip": true, "text/plain": true, "text/csv": true,
}

func downloadType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if passiveTypes[t] {
		return t
	}
	return "application/octet-stream"
}

// downloadName is a file name safe to offer: no directories, no control
// or bidi-override characters (an "exe.pdf" trick), never empty.
func downloadName(name string, n int) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" || name == "/" {
		return "attachment-" + strconv.Itoa(n) + ".bin"
	}
	return name
}

func displayName(name string, n int) string {
	if strings.TrimSpace(name) == "" {
		return "(no name) attachment " + strconv.Itoa(n)
	}
	return downloadName(name, n)
}
