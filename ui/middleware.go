package ui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"notme/cases"
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
// carry link and status tokens.
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
		level := slogLevel(status)
		s.log.Log(c.Request().Context(), level, "http request", "method", c.Request().Method, "route", route,
			"status", status, "duration_ms", elapsed.Milliseconds())
		return nil
	}
}

// csrf guards every form: the browser's Sec-Fetch-Site where it sends one,
// a double-submit token otherwise. A refusal is a page, not a bare status.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + csrfField,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieSecure:   s.opts.SecureCookies,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteStrictMode,
		CookieMaxAge:   12 * 3600,
		// Echo refuses a cross-site POST with a bare error of its own before
		// the token is looked at; answer it with the same page as a bad
		// token. same-site (a sibling host) falls back to the token.
		AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
			if c.Request().Header.Get(echo.HeaderSecFetchSite) == "same-site" {
				return false, nil
			}
			if err := s.csrfRefused(c); err != nil {
				return false, err
			}
			return false, errAnswered
		},
		ErrorHandler: func(err error, c echo.Context) error { return s.csrfRefused(c) },
	})
}

// errAnswered stops a middleware chain whose answer is already written;
// handleError leaves a committed response alone.
var errAnswered = errors.New("answered already")

func (s *Server) csrfRefused(c echo.Context) error {
	p := s.reporterPage(c, "err.csrf.title")
	return s.render(c, http.StatusForbidden, "error", errorPage{page: p, Message: tr(p.Lang, "err.csrf.body")})
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return t
}

// rateLimit allows r per client address; over it, deny answers. With
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
		Store: store,
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
// the login page.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err != nil {
			return redirectToLogin(c)
		}
		u, err := s.svc.UserBySession(c.Request().Context(), ck.Value)
		if cases.ErrorCode(err) == cases.EUNAUTHORIZED {
			return s.sessionExpired(c)
		}
		if err != nil {
			return err
		}
		c.Set(ctxUser, &u)
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
