package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// sessionExpired answers a request whose session cookie no longer names a
// live session: the cookie goes, and the login page says why and brings
// the staff member back where they were.
func (s *Server) sessionExpired(c echo.Context) error {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, "/login?expired=1&next="+urlQueryEscape(returnPath(c.Request())))
}

// returnPath is the page to come back to after logging in again: the page
// itself for a GET; for a form, the page it was on (the case for a case
// action), because the form's POST cannot be replayed by a redirect.
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return localPath(r.URL.RequestURI())
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/cases/"); ok {
		if ref, _, _ := strings.Cut(rest, "/"); ref != "" {
			return localPath("/cases/" + ref)
		}
	}
	return "/queue"
}

// staffOnError finds the staff member behind an error page that no
// staff route answered (an unknown path), so that a 404 keeps the console's
// navigation and search. Best effort: a failed look-up leaves the public
// error page.
func (s *Server) staffOnError(c echo.Context) {
	if currentUser(c) != nil || strings.HasPrefix(c.Request().URL.Path, "/api/") {
		return
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return
	}
	if u, err := s.svc.UserBySession(c.Request().Context(), ck.Value); err == nil {
		c.Set(ctxUser, &u)
	}
}

type sessionsPage struct {
	page
	Sessions []sessionRow
}

// sessionRow is one session in the reader's words.
type sessionRow struct {
	ID                       int64
	Started, LastSeen, Until string
	Browser, Client, HowIn   string
	Current                  bool
}

// accountSessions is GET /account/sessions: the staff member's own
// sessions, each of which they can end.
func (s *Server) accountSessions(c echo.Context) error {
	list, err := s.svc.Sessions(c.Request().Context(), actor(c), sessionToken(c))
	if err != nil {
		return err
	}
	p := sessionsPage{page: s.pageT(c, "sessions.title")}
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	for _, x := range list {
		r := sessionRow{ID: x.ID, Started: stamp(x.CreatedAt), LastSeen: stamp(x.LastSeenAt), Until: stamp(x.ExpiresAt),
			Browser: x.UserAgent, Client: x.Client, HowIn: staffText(p.Lang, "sessions.method."+x.AuthMethod), Current: x.Current}
		if r.Browser == "" {
			r.Browser = staffText(p.Lang, "sessions.unknown")
		}
		if r.Client == "" {
			r.Client = staffText(p.Lang, "sessions.unknown")
		}
		p.Sessions = append(p.Sessions, r)
	}
	return s.render(c, http.StatusOK, "sessions", p)
}

// accountEndSession is POST /account/sessions/{id}/end. Ending the
// session in use signs out.
func (s *Server) accountEndSession(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	list, err := s.svc.Sessions(c.Request().Context(), actor(c), sessionToken(c))
	if err != nil {
		return err
	}
	if err := s.svc.EndSession(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	for _, x := range list {
		if x.ID == id && x.Current {
			c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
				HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
			return c.Redirect(http.StatusSeeOther, "/login")
		}
	}
	return c.Redirect(http.StatusSeeOther, "/account/sessions")
}

// adminEndSessions is POST /admin/users/{id}/sessions/end: every
// session of a staff member ends (audited).
func (s *Server) adminEndSessions(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if _, err := s.svc.EndUserSessions(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}

// adminDisabled is POST /admin/users/{id}/disabled: disable (ending the
// person's sessions) or enable a staff member (audited).
func (s *Server) adminDisabled(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	disabled, err := strconv.ParseBool(c.FormValue("disabled"))
	if err != nil {
		return cases.Errorf(cases.EINVALID, "disabled must be true or false")
	}
	if _, err := s.svc.SetDisabled(c.Request().Context(), actor(c), id, disabled); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}

// signInClient is who signs in, as their list of sessions shows it: the
// client's address (as the rate limits count it) and browser.
func signInClient(c echo.Context) cases.ClientInfo {
	return cases.ClientInfo{Addr: clientKey(c), UserAgent: browserName(c.Request().UserAgent())}
}

// browserName is the short name of a browser a person recognises on their
// list of sessions ("Firefox on Linux"), not the whole User-Agent, which
// says more about the machine than the list needs.
func browserName(ua string) string {
	has := func(s string) bool { return strings.Contains(ua, s) }
	browser := ""
	switch {
	case has("Edg/"):
		browser = "Edge"
	case has("Firefox/"):
		browser = "Firefox"
	case has("Chrome/") || has("Chromium/") || has("HeadlessChrome/"):
		browser = "Chrome"
	case has("Safari/"):
		browser = "Safari"
	}
	os := ""
	switch {
	case has("Android"):
		os = "Android"
	case has("iPhone") || has("iPad"):
		os = "iOS"
	case has("Windows"):
		os = "Windows"
	case has("Mac OS X") || has("Macintosh"):
		os = "macOS"
	case has("Linux") || has("X11"):
		os = "Linux"
	}
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	}
	return os
}
