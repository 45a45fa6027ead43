package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// statusOf maps a domain error code to its HTTP status: the one place
// where that happens.
func statusOf(code cases.Code) int {
	switch code {
	case cases.EINVALID:
		return http.StatusUnprocessableEntity
	case cases.ENOTFOUND:
		return http.StatusNotFound
	case cases.ECONFLICT:
		return http.StatusConflict
	case cases.EFORBIDDEN:
		return http.StatusForbidden
	case cases.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case cases.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// unavailableRetry is the Retry-After of a 503 for storage that cannot
// take writes (cases.EUNAVAILABLE): a full disk needs an operator, so
// asking again in seconds only adds load; two minutes is about when a
// reporter told "in a few minutes" comes back, and a sending system that
// honours the header retries no sooner.
const unavailableRetry = 2 * time.Minute

// retryLater sets Retry-After (RFC 9110 section 10.2.3) on a 503 that
// has none.
func retryLater(c echo.Context, status int) {
	if status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(unavailableRetry/time.Second)))
	}
}

type apiError struct {
	Error string `json:"error"`
}

// handleError answers every error: JSON on the API, a page elsewhere, and
// never a stack trace or an internal message.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side."
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		msg = http.StatusText(status)
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
	default:
		code := cases.ErrorCode(err)
		status = statusOf(code)
		msg = cases.ErrorMessage(err)
		if !strings.HasPrefix(c.Request().URL.Path, "/api/") {
			msg = domainError(s.pageLang(c), err)
		}
	}
	retryLater(c, status)
	// observe logs the request, with err when status is 5xx: one line.
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || c.Path() == "/api/v1/messages/batch" {
		_ = c.JSON(status, apiError{Error: msg})
		return
	}
	_ = s.errorPage(c, status, msg)
}

func (s *Server) renderError(c echo.Context, status int, title, msg string) error {
	s.staffOnError(c)
	return s.render(c, status, "error", errorPage{page: s.page(c, title), Message: msg, Status: status})
}

// errorPage answers with the error page in the reader's language. msg is
// a domain message (English, for staff; the common ones in Japanese, see
// the catalogs) shown for 401, 403 and 409; every other status gets
// the catalog's calm text, which says what happens next.
func (s *Server) errorPage(c echo.Context, status int, msg string) error {
	key := map[int]string{
		http.StatusNotFound:              "err.404",
		http.StatusForbidden:             "err.403",
		http.StatusUnauthorized:          "err.401",
		http.StatusMethodNotAllowed:      "err.405",
		http.StatusRequestEntityTooLarge: "err.413",
		http.StatusTooManyRequests:       "err.429",
	}[status]
	// A staff member's page keeps the console's navigation and help.
	s.staffOnError(c)
	switch {
	case status == http.StatusServiceUnavailable && currentUser(c) != nil:
		key = "err.503.staff"
	case status == http.StatusServiceUnavailable && (c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead):
		// A page that could not be read: what was sent before is safe.
		key = "err.503.get"
	case status == http.StatusServiceUnavailable:
		// Nothing was saved: a reporter must not read that the report
		// is safe with us (err.500 says so when a reference was shown).
		key = "err.503"
	case status >= 500:
		key = "err.500"
	case key == "":
		key = "err.other"
	}
	p := s.reporterPage(c, key+".title")
	ep := errorPage{page: p, Message: domainMessage(p.Lang, msg), Status: status}
	switch status {
	case http.StatusForbidden, http.StatusUnauthorized, http.StatusConflict, http.StatusUnprocessableEntity:
		if msg == "" {
			ep.Message = tr(p.Lang, "err.other.body")
		}
	default:
		ep.Message = tr(p.Lang, key+".body")
	}
	if status == http.StatusRequestEntityTooLarge && c.Path() == "/report" {
		ep.Next, ep.NextText = "/report?lang="+p.Lang, tr(p.Lang, "report.again")
	}
	if key == "err.503" {
		switch c.Path() {
		case "/report":
			ep.Next, ep.NextText = "/report?lang="+p.Lang, tr(p.Lang, "err.503.again")
		case "/r/:token":
			ep.Next, ep.NextText = "/r/"+url.PathEscape(c.Param("token"))+"?lang="+p.Lang, tr(p.Lang, "err.503.again")
		}
	}
	return s.render(c, status, "error", ep)
}

func slogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400 && status != http.StatusNotFound:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// localPath keeps a redirect target on this site: a path, never a scheme,
// host or protocol-relative URL. Browsers read a backslash as a slash and
// drop tabs and line breaks (WHATWG URL), so "/\\evil" and "/\t/evil" are
// "//evil" to them: no control character or backslash is let through.
func localPath(next string) string {
	bad := func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, bad) {
		return "/queue"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/queue"
	}
	return next
}
