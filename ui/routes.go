package ui

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the one table of every route the desk answers.
func (s *Server) routes() {
	e := s.echo
	// observe is outermost so that it logs and counts panics too.
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(recoverConfig))
	e.Use(securityHeaders(s.publicURL))

	// The process answers, and nothing more: /readyz and /metrics are on
	// the operations listener (opsRoutes).
	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	e.GET("/static/*", s.static)
	e.GET("/favicon.ico", s.favicon)

	// Middleware is given per route, not with Group.Use: a group's
	// middleware also wraps its not-found handler, which would send an
	// unknown path to the login page instead of a 404.
	page := []echo.MiddlewareFunc{middleware.BodyLimit("1M"), s.csrf()}
	with := func(extra ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
		return append(append([]echo.MiddlewareFunc{}, page...), extra...)
	}
	reportLimit := s.rateLimit("report", s.opts.ReportRate, s.tooMany)
	// limited puts a rate limit before the body limit and the CSRF check,
	// which reads the form: a client over its limit is answered 429
	// without the desk reading its body.
	limited := func(limit echo.MiddlewareFunc, rest ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
		return append([]echo.MiddlewareFunc{limit}, rest...)
	}

	// Public pages: forms carry a CSRF token; bodies are small.
	e.GET("/", s.home, with()...)
	e.GET("/r/:token", s.linkPage, with()...)
	e.POST("/r/:token", s.linkReport, limited(reportLimit, page...)...)
	e.GET("/report", s.reportPage, with()...)
	// An uploaded .eml needs a larger body than the other forms.
	e.POST("/report", s.reportSubmit, limited(reportLimit, middleware.BodyLimit(reportBodyLimit), s.csrf())...)
	e.GET("/s/:token", s.statusPage, with()...)

	// Staff console.
	// The pages with passkey.js carry passkeyPage's policy.
	e.GET("/login", s.loginPage, with(passkeyPage)...)
	e.POST("/login", s.login, limited(s.rateLimit("login", s.opts.LoginRate, s.tooManyLogins), with(passkeyPage)...)...)
	e.GET("/login/notice", s.loginNotice, with(s.requireUser)...)
	// Single sign-on: each leg rate-limited like the password form, on a
	// count of its own, so that one sign-in costs one attempt, not two.
	e.GET("/login/oidc", s.oidcStart, limited(s.rateLimit("oidc", s.opts.LoginRate, s.tooManyLogins), page...)...)
	e.GET(oidcCallbackPath, s.oidcCallback, limited(s.rateLimit("oidc-callback", s.opts.LoginRate, s.tooManyLogins), page...)...)
	e.GET(secondFactorPath, s.loginSecondFactor, with(passkeyPage)...)
	secondFactorLimit := s.rateLimit("login2fa", s.opts.LoginRate, s.tooManyLogins)
	e.POST(secondFactorPath, s.loginSecondFactorSubmit, limited(secondFactorLimit, with(passkeyPage)...)...)
	// Passkeys (passkey.go): JSON for passkey.js; both halves of each
	// ceremony rate-limited like the forms they stand beside.
	e.POST(secondFactorPath+"/passkey/begin", s.loginPasskeyBegin, limited(secondFactorLimit, page...)...)
	e.POST(secondFactorPath+"/passkey/finish", s.loginPasskeyFinish, limited(secondFactorLimit, page...)...)
	passkeyLimit := s.rateLimit("passkey", s.opts.LoginRate, s.tooManyLogins)
	e.POST("/login/passkey/begin", s.passkeySignInBegin, limited(passkeyLimit, page...)...)
	e.POST("/login/passkey/finish", s.passkeySignInFinish, limited(passkeyLimit, page...)...)
	e.GET(accountFactorPath, s.accountSecondFactor, with(s.requireUser, passkeyPage)...)
	e.POST(accountFactorPath, s.accountSecondFactorConfirm, with(s.requireUser, passkeyPage)...)
	e.POST(accountFactorPath+"/remove", s.accountSecondFactorRemove, with(s.requireUser, passkeyPage)...)
	e.POST(accountFactorPath+"/recovery", s.accountRecoveryCodes, with(s.requireUser, passkeyPage)...)
	e.POST(accountFactorPath+"/passkey/begin", s.passkeyRegisterBegin, with(s.requireUser)...)
	e.POST(accountFactorPath+"/passkey/finish", s.passkeyRegisterFinish, with(s.requireUser)...)
	e.POST(accountFactorPath+"/passkey/:id/remove", s.accountPasskeyRemove, with(s.requireUser, passkeyPage)...)
	e.GET("/account/sessions", s.accountSessions, with(s.requireUser)...)
	e.POST("/account/sessions/:id/end", s.accountEndSession, with(s.requireUser)...)
	e.POST("/logout", s.logout, with()...)
	e.GET("/queue", s.queue, with(s.requireUser)...)
	e.POST("/queue/take", s.takeNext, with(s.requireUser)...)
	e.GET("/cases/:ref", s.casePage, with(s.requireUser)...)
	e.POST("/cases/:ref/take", s.caseTake, with(s.requireUser)...)
	e.POST("/cases/:ref/note", s.caseNote, with(s.requireUser)...)
	e.POST("/cases/:ref/status", s.caseStatus, with(s.requireUser)...)
	e.POST("/cases/:ref/escalate", s.caseEscalate, with(s.requireUser)...)
	e.POST("/cases/:ref/deescalate", s.caseDeescalate, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/cases/:ref/assign", s.caseAssign, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/cases/:ref/assessment", s.caseAssessment, with(s.requireUser, requireRole("lead", "admin"))...)
	// What the wrong person received, for the regulator's report (audited).
	e.GET("/cases/:ref/exposure.json", s.caseExposureJSON, with(s.requireUser, requireRole("lead", "admin"))...)
	e.GET("/cases/:ref/exposure.csv", s.caseExposureCSV, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/cases/:ref/reveal", s.caseReveal, with(s.requireUser)...)
	e.POST("/cases/:ref/confirm-match", s.caseConfirmMatch, with(s.requireUser)...)
	e.POST("/cases/:ref/containment", s.caseContainment, with(s.requireUser)...)
	e.POST("/cases/:ref/deliveries/:id/retry", s.caseRetryDelivery, with(s.requireUser)...)
	e.POST("/cases/:ref/acks/:id/send", s.caseSendHeldAck, with(s.requireUser)...)
	e.GET("/cases/:ref/mail/:id", s.mailEvidence, with(s.requireUser)...)
	e.GET("/cases/:ref/mail/:id/html", s.mailEvidenceHTML, with(s.requireUser)...)
	e.GET("/cases/:ref/mail/:id/attachments/:n", s.mailAttachment, with(s.requireUser)...)
	e.GET("/mail", s.mailList, with(s.requireUser)...)
	e.POST("/mail/:id/case", s.mailOpenCase, with(s.requireUser)...)
	e.GET("/mail/:id", s.keptMail, with(s.requireUser)...)
	e.GET("/mail/:id/html", s.keptMailHTML, with(s.requireUser)...)
	e.GET("/mail/:id/attachments/:n", s.keptMailAttachment, with(s.requireUser)...)
	// Full addresses and private status links: admins only, even in the demo.
	e.GET("/demo/outbox", s.outbox, with(s.requireUser, requireRole("admin"))...)
	// A company's sign-up form, as it would ask the address guard.
	e.GET("/demo/signup", s.demoSignup, page...)
	e.POST("/demo/signup", s.demoSignup, page...)
	e.GET("/leads", s.leads, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/leads/typo-domains", s.leadsTypoDomain, with(s.requireUser, requireRole("lead", "admin"))...)
	e.GET("/leads/suppressions", s.leadsSuppressions, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/leads/suppressions", s.leadsAddSuppression, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/leads/suppressions/:id/remove", s.leadsRemoveSuppression, with(s.requireUser, requireRole("lead", "admin"))...)
	e.GET("/leads/suppressions/export", s.leadsExportSuppressions, with(s.requireUser, requireRole("lead", "admin"))...)
	e.GET("/admin", s.admin, with(s.requireUser, requireRole("admin"))...)
	// The audit log: leads read it too (docs/admin.md).
	e.GET("/admin/audit", s.adminAudit, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/admin/audit/export", s.adminAuditExport, with(s.requireUser, requireRole("lead", "admin"))...)
	e.POST("/admin/users/:id/trained", s.adminTrained, with(s.requireUser, requireRole("admin"))...)
	e.POST("/admin/users/:id/disabled", s.adminDisabled, with(s.requireUser, requireRole("admin"))...)
	e.POST("/admin/users/:id/sessions/end", s.adminEndSessions, with(s.requireUser, requireRole("admin"))...)
	e.POST("/admin/users/:id/2fa/reset", s.adminResetSecondFactor, with(s.requireUser, requireRole("admin"))...)
	e.POST("/admin/users", s.adminAddUser, with(s.requireUser, requireRole("admin"))...)
	e.GET("/invite/:token", s.invitePage, with()...)
	e.POST("/invite/:token", s.inviteAccept, limited(s.rateLimit("invite", s.opts.LoginRate, s.tooManyLogins), page...)...)

	// API: bearer keys with scopes; no cookies, so no CSRF.
	small := middleware.BodyLimit("1M")
	e.POST("/api/v1/messages", s.apiRegisterMessage, small, s.requireScope("messages:write"))
	e.POST("/api/v1/mint", s.apiMint, small, s.requireScope("mint"))
	e.POST("/api/v1/reports", s.apiFileReport, small, s.requireScope("reports:write"))
	e.GET("/api/v1/cases", s.apiCases, s.requireScope("cases:read"))
	e.GET("/api/v1/cases/:ref", s.apiCase, s.requireScope("cases:read"))
	e.POST("/api/v1/cases/:ref/containment", s.apiContainment, small, s.requireScope("cases:write"))
	// Before the next mail goes out (docs/address-guard.md).
	e.POST("/api/v1/addresses/check", s.apiCheckAddress, small, s.rateLimit("guard", s.opts.GuardRate, s.tooMany), s.requireScope("addresses:check"))
	e.GET("/api/v1/suppressions", s.apiSuppressions, s.requireScope("suppressions:read"))
	e.POST("/api/v1/suppressions", s.apiAddSuppression, small, s.requireScope("suppressions:write"))
	e.DELETE("/api/v1/suppressions/:id", s.apiRemoveSuppression, s.requireScope("suppressions:write"))
	// For a SIEM: a page at a time, or streamed as JSON lines.
	e.GET("/api/v1/audit", s.apiAudit, s.requireScope("audit:read"))
	// The public helper: typo suggestions only, for anyone, from the
	// configured origins' pages too.
	suggest := []echo.MiddlewareFunc{suggestCORS(s.opts.SuggestOrigins), s.rateLimit("suggest", s.opts.SuggestRate, s.tooMany)}
	e.GET("/api/v1/suggest", s.publicSuggest, suggest...)
	e.OPTIONS("/api/v1/suggest", s.publicSuggest, suggest...)
	// The batch streams its own, larger body.
	// The server's read timeout would cut a large batch off: a client with
	// a valid key gets longer.
	e.POST("/api/v1/messages/batch", s.apiRegisterBatch, s.requireScope("messages:write"), readFor(batchReadTimeout))
}

// opsRoutes is the table of the operations listener (Ops): no session,
// no forms, only clients from the allowed networks.
func (s *Server) opsRoutes() {
	e := s.ops
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(recoverConfig))
	e.Use(securityHeaders(s.publicURL))
	e.Use(s.opsAllowed(s.opts.OpsAllow))
	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.HEAD("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler))
}

// batchReadTimeout bounds the upload of one ledger batch.
const batchReadTimeout = 30 * time.Minute

// readFor moves the connection's read deadline to d from now, for a route
// whose body may take longer than http.read_timeout.
func readFor(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Not every writer supports it (httptest's recorder); the
			// server's own deadline then stays.
			_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Now().Add(d))
			return next(c)
		}
	}
}
