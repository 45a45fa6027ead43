package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page (the layout plus the page)
// and the content hashes of the static files.
type pages struct {
	sets   map[string]*template.Template
	hashes map[string]string // static file name → short content hash
}

// now is the desk's clock (on PostgreSQL the database's, so instances on
// hosts whose clocks differ show the same time left on a case).
func parsePages(now func() time.Time) (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}, hashes: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		p.hashes[strings.TrimPrefix(name, "static/")] = hex.EncodeToString(h[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash static files: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	// Each page is parsed once per language, with the language-bound
	// functions (T, v, timeLeft, eventLabel) of that language.
	for _, lang := range []string{langEN, langJA} {
		funcs := template.FuncMap{
			"static":   p.staticURL,
			"timeLeft": func(t time.Time) string { return timeLeftIn(lang, t.Sub(now())) },
			"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
			"overdue":  func(t time.Time) bool { return now().After(t) },
			"lower":    strings.ToLower,
			"next":     nextDeadline,
			// The one rule of cases.Case.Deadlines, at the desk's clock.
			"deadlines": func(c cases.Case) []cases.DeadlineStatus { return c.Deadlines(now()) },
			"nextDue": func(c cases.Case) *cases.DeadlineStatus {
				if d, ok := c.NextDeadlineAt(now()); ok {
					return &d
				}
				return nil
			},
			"dueText":   func(d cases.DeadlineStatus) string { return dueTextIn(lang, d) },
			"add1":      func(i int) int { return i + 1 },
			"matchedBy": func(r cases.Report) string { return matchedByIn(lang, r) },
			"isLead":    isLead,
			"tdate":     localDate,
			// T is the one message look-up of the pages (docs/i18n.md):
			// T "key" args… formats the catalog's text, choosing its plural
			// form by a first argument that is a count. v names a stored
			// value (a status, an action…) by its value.<stored value>
			// message, or shows it as stored when there is none.
			"T":     func(key string, args ...any) string { return staffText(lang, key, args...) },
			"v":     func(value any) string { return staffValue(lang, value) },
			"where": func(w string) string { return addressWhere(lang, w) },
			"kind":  func(k cases.Kind) string { return kindLabelOf(lang, k) },

			"irreversible": cases.LeadOnly,
			"eventLabel":   func(typ string) string { return eventLabelIn(lang, typ) },
			"event":        func(e cases.Event) string { return eventText(lang, e) },
			"eventLang":    func(e cases.Event) string { return eventLang(lang, e) },
			"reason":       func(e cases.Event) string { return escalationReasonText(lang, e) },
			"reasonLang":   func(e cases.Event) string { return reasonLang(lang, e) },
			"actor":        func(a string) string { return actorName(lang, a) },
			"auditAction":  func(a string) string { return auditAction(lang, a) },
			"auditDetail":  func(a cases.AuditEntry) string { return auditDetail(lang, a) },
			"subject":      auditSubject,

			"revealMinutes": func() int { return int(cases.RevealTTL / time.Minute) },
		}
		for _, n := range names {
			name := strings.TrimSuffix(path.Base(n), ".html")
			if name == "layout" {
				continue
			}
			t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
			if err != nil {
				return nil, fmt.Errorf("parse template %s: %w", name, err)
			}
			p.sets[lang+"/"+name] = t
		}
	}
	return p, nil
}

func (p *pages) staticURL(name string) string {
	return "/static/" + name + "?v=" + p.hashes[name]
}

// render executes a page into a buffer first, so a failing template never
// sends half a page.
func (s *Server) render(c echo.Context, status int, name string, data any) error {
	lang := langEN
	if l, ok := data.(interface{ language() string }); ok && l.language() == langJA {
		lang = langJA
	}
	t, ok := s.pages.sets[lang+"/"+name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// static serves embedded files; content-hashed URLs may be cached for good.
func (s *Server) static(c echo.Context) error {
	name := c.Param("*")
	b, err := staticFS.ReadFile("static/" + path.Clean("/" + name)[1:])
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if c.QueryParam("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	if name == "suggest.js" {
		// Companies' sign-up pages load the helper from their own origin.
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ct, b)
}

// page is what every template gets.
type page struct {
	Title string
	CSRF  string
	User  *cases.User
	Path  string
	Demo  bool // the demo's outbox exists and the viewer is an admin
	// Lang is en or ja, for <html lang> and every string of the page.
	Lang string
	// OtherLang is the language the switch offers, SwitchURL the page in it.
	OtherLang, SwitchURL string
	// Done confirms the action that redirected here (see doneCodes), "" if
	// none.
	Done string
}

func (p page) language() string { return p.Lang }

// page is the base of every page, in the language pageLang chooses; see
// stafftext.go for how a staff member's choice persists.
func (s *Server) page(c echo.Context, title string) page {
	p := page{Title: title, CSRF: csrfToken(c), User: currentUser(c), Path: c.Request().URL.Path, Demo: s.opts.Outbox != nil && currentUser(c) != nil && currentUser(c).Role == cases.RoleAdmin}
	p.Lang = s.pageLang(c)
	p.OtherLang, p.SwitchURL = otherLang(p.Lang), switchURL(c, otherLang(p.Lang))
	if p.User != nil || p.Path == "/login" {
		s.keepStaffLang(c, p.Lang)
		setLang(c, p.Lang)
	}
	if code := c.QueryParam("done"); p.User != nil && doneCodes[code] {
		p.Done = staffText(p.Lang, "done."+code)
	}
	return p
}

// matchedByIn says in plain words how a report was matched; a way of
// matching the catalog does not name (from an older release) falls back
// to the match and the way, named as values.
func matchedByIn(lang string, r cases.Report) string {
	if texts.has(lang, "rep.by."+r.MatchedBy) {
		return staffText(lang, "rep.by."+r.MatchedBy)
	}
	return staffText(lang, "rep.match", staffValue(lang, r.Match), staffValue(lang, r.MatchedBy))
}

// dueTextIn says where a deadline stands, in lang: met, or the time left
// or overdue.
func dueTextIn(lang string, d cases.DeadlineStatus) string {
	if d.State == cases.DeadlineMet {
		return staffText(lang, "met")
	}
	return timeLeftIn(lang, d.Left)
}

// pageT is page with its title from the staff catalog.
func (s *Server) pageT(c echo.Context, titleKey string, args ...any) page {
	p := s.page(c, "")
	p.Title = staffText(p.Lang, titleKey, args...)
	return p
}

type errorPage struct {
	page
	Message string
	// Next, when set, is a link to what the reader can do now.
	Next, NextText string
	Status         int
}

// timeLeftIn says how long d is (negative: overdue by) in words read at
// a glance, in lang.
func timeLeftIn(lang string, d time.Duration) string {
	over := d < 0
	if over {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = staffText(lang, "time.underminute")
	case d < time.Hour:
		s = staffText(lang, "time.min", int(d.Minutes()))
	case d < 48*time.Hour:
		s = staffText(lang, "time.hmin", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = staffText(lang, "time.days", int(d.Hours()/24))
	}
	if over {
		return staffText(lang, "time.overdue", s)
	}
	return staffText(lang, "time.left", s)
}
