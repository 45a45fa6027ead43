package ui

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The staff console speaks English and Japanese too. Its words live here,
// apart from the reporter catalog, and templates reach them with
// {{T "key" args…}} (a fmt format) and {{v value}} (a stored value such as
// a status, named for people). Dates stay in UTC for staff in both
// languages, labelled so, because cases, logs and the account system all
// count in UTC. Messages of domain errors from cases stay English: they are
// written for staff, and a staff member reading Japanese still recognises
// the few that appear (a wrong form field, a forbidden action).
//
// The choice persists in a lang cookie rather than in users: the switch is
// a link with ?lang=, which works without JavaScript and on the login page
// before anyone is known, and a cookie needs no migration. It holds only
// "en" or "ja", so it is neither secret nor personal; SameSite=Lax lets it
// ride along when a staff member follows a link to a case from mail.
const langCookie = "lang"

// staffText formats the staff message key in lang with args (fmt verbs);
// an integer first argument chooses the plural form.
func staffText(lang, key string, args ...any) string {
	var count any
	if len(args) > 0 {
		switch args[0].(type) {
		case int, int64:
			count = args[0]
		}
	}
	s := texts.text(lang, key, count)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// staffValue names a stored value for people in lang.
func staffValue(lang string, value any) string {
	s := fmt.Sprint(value)
	if !texts.has(lang, "value."+s) {
		return s
	}
	return texts.text(lang, "value."+s, nil)
}

// keepStaffLang remembers a staff member's ?lang= choice in the lang
// cookie, so every later page follows it without a query string.
func (s *Server) keepStaffLang(c echo.Context, lang string) {
	if q := c.QueryParam("lang"); q != langJA && q != langEN {
		return
	}
	if ck, err := c.Cookie(langCookie); err == nil && ck.Value == lang {
		return
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int(365 * 24 * time.Hour / time.Second),
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// switchURL is this page in lang: the same path and query (a queue's
// filters stay), lang replaced; the login page's next only if it is local.
func switchURL(c echo.Context, lang string) string {
	q := c.Request().URL.Query()
	if n := q.Get("next"); n != "" {
		q.Set("next", localPath(n))
	}
	q.Set("lang", lang)
	q.Del("done") // the confirmation was said once; switching language does not repeat it
	return c.Request().URL.Path + "?" + q.Encode()
}

// domainError is the message of a domain error in lang: its format read
// from the catalog (keyed by the English format) with its arguments, a
// stored value among them named in lang; else its English message. An
// internal error says nothing of itself.
func domainError(lang string, err error) string {
	var e *cases.Error
	if !errors.As(err, &e) || e.Format == "" || !texts.has(lang, e.Format) {
		return domainMessage(lang, cases.ErrorMessage(err))
	}
	args := make([]any, len(e.Args))
	for i, a := range e.Args {
		if v := reflect.ValueOf(a); v.Kind() == reflect.String && texts.has(lang, "value."+v.String()) {
			a = staffValue(lang, v.String())
		}
		args[i] = a
	}
	return fmt.Sprintf(texts.text(lang, e.Format, nil), args...)
}

// domainMessage is a message of cases in lang where the catalog has it
// (keyed by its English text), else as written.
func domainMessage(lang, msg string) string {
	if !texts.has(lang, msg) {
		return msg
	}
	return texts.text(lang, msg, nil)
}

// kindLabelOf names a message kind for staff reading lang.
func kindLabelOf(lang string, k cases.Kind) string {
	if lang == langJA && k.LabelJA != "" {
		return k.LabelJA
	}
	return k.Label
}

// addressWhereJA reads the places cases.CaseAddresses names ("reporter
// of report 12", …) in Japanese.
var addressWhereJA = []struct {
	re *regexp.Regexp
	ja string
}{
	{regexp.MustCompile(`^reporter of report (\d+)$`), "報告${1}の報告者"},
	{regexp.MustCompile(`^recipient of the mail in report (\d+)$`), "報告${1}のメールの宛先"},
	{regexp.MustCompile(`^sender of mail (\d+)$`), "メール${1}の送信元"},
	{regexp.MustCompile(`^recipient of received notice (\d+)$`), "受付通知${1}の宛先"},
	{regexp.MustCompile(`^recipient of outcome notice (\d+)$`), "結果通知${1}の宛先"},
}

// addressWhere names where an address appears, in lang.
func addressWhere(lang, where string) string {
	if lang != langJA {
		return where
	}
	for _, w := range addressWhereJA {
		if w.re.MatchString(where) {
			return w.re.ReplaceAllString(where, w.ja)
		}
	}
	return where
}

// eventLabelIn names an event type in lang; English for one not listed.
func eventLabelIn(lang, typ string) string {
	if texts.has(lang, "label."+typ) {
		return texts.text(lang, "label."+typ, nil)
	}
	if strings.TrimSpace(typ) == "" {
		return staffText(lang, "label.event")
	}
	if lang == langJA {
		return staffText(lang, "label.event") + "（" + typ + "）"
	}
	w := strings.ReplaceAll(typ, "_", " ")
	return strings.ToUpper(w[:1]) + w[1:]
}
