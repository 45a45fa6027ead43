package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"notme/cases"
	"notme/internal/loopback"
)

const (
	sessionCookie = "notme_session"
	csrfCookie    = "notme_csrf"
	csrfField     = "_csrf"
	ctxUser       = "user"
	ctxAPIKey     = "api_key"
)

// securityHeaders sets the strict headers every answer carries. No page
// needs inline script or style, and none may be framed; the referrer policy
// keeps link and status tokens out of other sites' logs.
func securityHeaders(publicURL string) echo.MiddlewareFunc {
	hsts := strings.HasPrefix(publicURL, "https://")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
				h.Set("Cache-Control", "no-store")
			}
			return next(c)
		}
	}
}

// observe logs each request by its route pattern, never its path: paths
// carry link and status tokens. It is the only place a request's failure
// is logged: a 5xx line carries the error, the error handlers log nothing.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unknown"
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		s.metrics.observe(c.Request().Method, route, status, elapsed)
		attrs := []any{"method", c.Request().Method, "route", route, "status", status, "duration_ms", elapsed.Milliseconds()}
		if err != nil && status >= 500 {
			attrs = append(attrs, "err", err)
		}
		s.log.Log(c.Request().Context(), slogLevel(status), "http request", attrs...)
		return nil
	}
}

// csrf guards every form. Where the browser sends Sec-Fetch-Site, it
// decides: same-origin and direct navigation pass, cross-site is refused,
// and same-site (a sibling host, which can plant cookies on ours) falls
// back to the token. The token comes only from the form body or the
// X-CSRF-Token header, never the query string (which leaks into logs and
// history). For staff with a session it is derived from the session
// (csrfOfSession), so a cookie planted by another host cannot stand in for
// it, and it changes at every login; a visitor without a session gets the
// cookie double-submit. A refusal is a page, not a bare status.
func (s *Server) csrf() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			safe := req.Method == http.MethodGet || req.Method == http.MethodHead ||
				req.Method == http.MethodOptions || req.Method == http.MethodTrace
			if site := req.Header.Get(echo.HeaderSecFetchSite); site != "" && site != "same-site" {
				if !safe && site != "same-origin" && site != "none" {
					return s.csrfRefused(c)
				}
				// The page's forms carry a placeholder the same browser
				// will send back with the same header.
				c.Set(middleware.DefaultCSRFConfig.ContextKey, middleware.CSRFUsingSecFetchSite)
				return next(c)
			}
			cookie := ""
			if ck, err := c.Cookie(s.csrfCookieName()); err == nil && len(ck.Value) == csrfTokenLen {
				cookie = ck.Value
			}
			session := ""
			if ck, err := c.Cookie(sessionCookie); err == nil {
				session = ck.Value
			}
			if !safe {
				got := req.Header.Get(csrfHeader)
				if got == "" {
					got = req.PostFormValue(csrfField)
				}
				want := cookie
				if session != "" {
					want = csrfOfSession(session)
				}
				if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
					if cookie == "" && session == "" && s.cookiesLostOverHTTP(c) {
						return s.csrfRefusedPlainHTTP(c)
					}
					return s.csrfRefused(c)
				}
			}
			if cookie == "" {
				cookie = newCSRFToken()
			}
			c.SetCookie(s.csrfCookieOf(cookie))
			token := cookie
			if session != "" {
				token = csrfOfSession(session)
			}
			c.Set(middleware.DefaultCSRFConfig.ContextKey, token)
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
			return next(c)
		}
	}
}

// csrfHeader carries the token for a script's request instead of the form.
const csrfHeader = "X-CSRF-Token"

// csrfTokenLen is the length of a cookie token: 32 random bytes, base64url.
const csrfTokenLen = 43

func newCSRFToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfOfSession is the form token of a staff session: an HMAC keyed by the
// session's secret, so only a holder of the (HttpOnly) session cookie, or
// a page the desk rendered for it, knows it, and a new login gives a new
// one. It reveals nothing of the session itself.
func csrfOfSession(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("notme csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfCookieName is __Host- prefixed where the desk is served over HTTPS
// with Secure cookies: the browser then refuses the cookie from any other
// host or over plain HTTP, so a sibling host cannot plant one.
func (s *Server) csrfCookieName() string {
	if s.opts.SecureCookies && strings.HasPrefix(s.publicURL, "https://") {
		return "__Host-" + csrfCookie
	}
	return csrfCookie
}

func (s *Server) csrfCookieOf(token string) *http.Cookie {
	return &http.Cookie{Name: s.csrfCookieName(), Value: token, Path: "/", MaxAge: 12 * 3600,
		Secure: s.opts.SecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// replaceCSRFCookie sets the CSRF cookie to token in place of the one
// the middleware set on this answer, so that it carries one, not two.
func (s *Server) replaceCSRFCookie(c echo.Context, token string) {
	h := c.Response().Header()
	prefix := s.csrfCookieName() + "="
	kept := h.Values(echo.HeaderSetCookie)[:0:0]
	for _, v := range h.Values(echo.HeaderSetCookie) {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	h[echo.HeaderSetCookie] = kept
	c.SetCookie(s.csrfCookieOf(token))
}

// cookiesLostOverHTTP tells a request that came over plain HTTP to a host
// other than this computer while the desk's cookies are Secure: the
// browser never keeps them there, so no form can work, whatever its age.
func (s *Server) cookiesLostOverHTTP(c echo.Context) bool {
	if !s.opts.SecureCookies || c.Scheme() != "http" {
		return false
	}
	return !loopback.SecureContext(c.Request().Host)
}

func (s *Server) csrfRefused(c echo.Context) error {
	p := s.reporterPage(c, "err.csrf.title")
	return s.render(c, http.StatusForbidden, "error", errorPage{page: p, Message: tr(p.Lang, "err.csrf.body")})
}

// csrfRefusedPlainHTTP says what is wrong when the browser could not keep
// the CSRF cookie because the desk was opened over plain HTTP.
func (s *Server) csrfRefusedPlainHTTP(c echo.Context) error {
	p := s.reporterPage(c, "err.csrf.http.title")
	return s.render(c, http.StatusForbidden, "error", errorPage{page: p, Message: tr(p.Lang, "err.csrf.http.body")})
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return t
}

// rateLimit allows r per client (clientKey: an IPv4 address, an IPv6
// /64); over it, deny answers. With
// SharedRateLimits the counters are in the database, shared by every
// instance; scope keeps each limit's apart.
func (s *Server) rateLimit(scope string, r Rate, deny func(echo.Context) error) echo.MiddlewareFunc {
	var store middleware.RateLimiterStore = middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(r.PerMinute / 60),
		Burst:     r.Burst,
		ExpiresIn: 10 * time.Minute,
	})
	if s.opts.SharedRateLimits {
		store = newSharedRateStore(s.svc, s.log, scope, r)
	}
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return clientKey(c), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "60")
			return deny(c)
		},
		ErrorHandler: func(c echo.Context, _ error) error { return deny(c) },
	})
}

func (s *Server) tooMany(c echo.Context) error {
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		return c.JSON(http.StatusTooManyRequests, apiError{Error: "too many requests; retry later"})
	}
	return s.errorPage(c, http.StatusTooManyRequests, "")
}

func (s *Server) tooManyLogins(c echo.Context) error {
	lang := s.pageLang(c)
	return s.renderError(c, http.StatusTooManyRequests, staffText(lang, "login.toomany.title"), staffText(lang, "login.toomany.body"))
}

// requireUser lets staff with a live session through and sends others to
// the login page; a person whose role needs a second factor they lack
// goes to enrol before anything else.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err != nil {
			return redirectToLogin(c)
		}
		st, err := s.svc.StaffSessionOf(c.Request().Context(), ck.Value)
		if cases.ErrorCode(err) == cases.EUNAUTHORIZED {
			return s.sessionExpired(c)
		}
		if err != nil {
			return err
		}
		c.Set(ctxUser, &st.User)
		if st.MustEnrol && !strings.HasPrefix(c.Request().URL.Path, accountFactorPath) {
			return c.Redirect(http.StatusSeeOther, accountFactorPath)
		}
		return next(c)
	}
}

func redirectToLogin(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/login?next="+urlQueryEscape(returnPath(c.Request())))
}

// requireRole refuses staff whose role is not among roles.
func requireRole(roles ...cases.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := currentUser(c)
			for _, r := range roles {
				if u != nil && u.Role == r {
					return next(c)
				}
			}
			return cases.Errorf(cases.EFORBIDDEN, "This page is for %s only.", rolesText(roles))
		}
	}
}

func rolesText(roles []cases.Role) string {
	var n []string
	for _, r := range roles {
		n = append(n, string(r)+"s")
	}
	return strings.Join(n, " and ")
}

func currentUser(c echo.Context) *cases.User {
	u, _ := c.Get(ctxUser).(*cases.User)
	return u
}

func actor(c echo.Context) cases.Actor {
	if k, ok := c.Get(ctxAPIKey).(*cases.APIKey); ok {
		return cases.Actor{APIKey: k}
	}
	return cases.Actor{User: currentUser(c)}
}

// requireScope checks the bearer API key: none or a wrong one is 401, one
// without the scope 403.
func (s *Server) requireScope(scope cases.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			auth := c.Request().Header.Get(echo.HeaderAuthorization)
			key, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="notme"`)
				return cases.Errorf(cases.EUNAUTHORIZED, "an API key is required: Authorization: Bearer nmk_…")
			}
			k, err := s.svc.APIKeyByKey(c.Request().Context(), strings.TrimSpace(key))
			if err != nil {
				if cases.ErrorCode(err) == cases.EUNAUTHORIZED {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="notme", error="invalid_token"`)
				}
				return err
			}
			if !k.HasScope(scope) {
				return cases.Errorf(cases.EFORBIDDEN, "this API key lacks the %s scope", scope)
			}
			c.Set(ctxAPIKey, &k)
			return next(c)
		}
	}
}

// recoverConfig turns a panic into an error handed back to observe, which
// answers it through the error handler and logs it once, with the request.
var recoverConfig = middleware.RecoverConfig{DisablePrintStack: true, DisableErrorHandler: true}
