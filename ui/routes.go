package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the one table of every route the desk answers.
func (s *Server) routes() {
	e := s.echo
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	e.Use(s.observe)
	e.Use(securityHeaders(s.publicURL))

	// Ops.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler))
	e.GET("/static/*", s.static)

	// Pages: forms carry a CSRF token; bodies are small.
	web := e.Group("", middleware.BodyLimit("1M"), s.csrf())
	reportLimit := rateLimit(s.opts.ReportRate, s.tooMany)
	web.GET("/", s.home)
	web.GET("/r/:token", s.linkPage)
	web.POST("/r/:token", s.linkReport, reportLimit)
	web.GET("/report", s.reportPage)
	web.POST("/report", s.reportSubmit, reportLimit)
	web.GET("/s/:token", s.statusPage)

	web.GET("/login", s.loginPage)
	web.POST("/login", s.login, rateLimit(s.opts.LoginRate, s.tooMany))
	web.POST("/logout", s.logout)
	staff := web.Group("", s.requireUser)
	staff.GET("/queue", s.queue)
	staff.GET("/cases/:ref", s.casePage)
	staff.GET("/leads", s.leads, requireRole("lead", "admin"))
	staff.GET("/admin", s.admin, requireRole("admin"))

	// API: bearer keys with scopes; no cookies, so no CSRF.
	api := e.Group("/api/v1", middleware.BodyLimit("1M"))
	api.POST("/messages", s.apiRegisterMessage, s.requireScope("messages:write"))
	api.POST("/mint", s.apiMint, s.requireScope("mint"))
	api.POST("/reports", s.apiFileReport, s.requireScope("reports:write"))
	api.GET("/cases", s.apiCases, s.requireScope("cases:read"))
	api.GET("/cases/:ref", s.apiCase, s.requireScope("cases:read"))
	// The batch streams its own, larger body.
	e.POST("/api/v1/messages/batch", s.apiRegisterBatch, s.requireScope("messages:write"))

	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
	_ = http.MethodGet
}
