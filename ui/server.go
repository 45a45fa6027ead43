// Package ui is the desk's web face: the public reporter pages, the staff
// console, the JSON API and the ops endpoints, on Echo. Every Echo import of
// the project stays inside this package.
package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"notme/cases"
)

// Rate is a token-bucket limit per client address.
type Rate struct {
	PerMinute float64
	Burst     int
}

// Options configures a Server.
type Options struct {
	Service *cases.Service
	Logger  *slog.Logger
	// PublicURL is the desk's base URL as reporters see it.
	PublicURL string
	// SecureCookies marks every cookie Secure; off only for plain-HTTP
	// set-ups that are not on localhost.
	SecureCookies bool
	SessionTTL    time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	ReportRate     Rate
	LoginRate      Rate
	// GuardRate limits the address guard per client address: a sending
	// system asks it on every sign-up. SuggestRate limits the public
	// "did you mean …?" helper, which SuggestOrigins' pages may call from
	// the browser (CORS); none: only the desk's own pages.
	GuardRate      Rate
	SuggestRate    Rate
	SuggestOrigins []string
	// SharedRateLimits keeps the rate limits' counters in the database,
	// for several instances on one database; else in memory.
	SharedRateLimits bool
	MaxBatchBytes    int64
	// DefaultLang (en or ja) is the language of every page when neither
	// ?lang=, the staff's lang cookie nor Accept-Language chooses one.
	// Default en.
	DefaultLang string
	// ScanMail, when set, finds the candidates for the original in a mail
	// pasted or uploaded to /report with the full mail parser (MIME parts,
	// attachments, charsets); its finds come before the plain text scan's.
	ScanMail func(raw []byte) cases.Found
	// Registry receives the HTTP and report metrics; nil makes a new one.
	Registry *prometheus.Registry
	// MailboxStaleAfter: a mailbox with no successful fetch for this long
	// is alerted to leads. Default 15 minutes.
	MailboxStaleAfter time.Duration
	// OIDC turns on single sign-on (oidc.go); nil keeps password sign-in
	// only. Who may still use a password is the Service's SessionPolicy.
	OIDC *OIDC
	// Outbox, in the demo only, lists what the SMTP sink received.
	Outbox func() []OutboxMail
	// ViewMail reads a stored mail for the evidence viewer within the
	// limits; ui reads no MIME itself. nil shows the raw mail as text.
	ViewMail func(raw []byte, l ViewLimits) MailView
	// EvidenceViewMaxBytes caps each text or HTML body the evidence
	// viewer shows (default 256 KB, at most 1 MB); the page says when a
	// body was longer. Downloads are never cut.
	EvidenceViewMaxBytes int
	// EvidenceMaxConcurrentViews bounds the evidence viewer's renders and
	// downloads that hold a raw mail at once (default 2); one more waits
	// EvidenceViewWait (default 5 s), then gets a 503 page with
	// Retry-After.
	EvidenceMaxConcurrentViews int
	EvidenceViewWait           time.Duration
	// EvidenceViewCacheBytes bounds the cache of rendered views (default
	// 32 MB).
	EvidenceViewCacheBytes int64
	// Company names the sender of the account mail on the link page, in
	// English and Japanese ("" = Company); "" says "an email from us".
	Company, CompanyJA string
	// ReportAddress is the mailbox the home page offers for forwards; ""
	// says nothing about mail.
	ReportAddress string
	// Contact is the status page's contact line; zero shows none.
	Contact Contact
	// SameBrowserWindow: the same browser back on the same link within it
	// gets its first form again, so a second press files nothing new.
	// 0 turns this off.
	SameBrowserWindow time.Duration
	// Ready reports whether the desk can take work (database reachable,
	// schema current); /readyz calls it.
	Ready func(r *http.Request) error
	// OpsAllow are the networks whose clients the operations handler
	// (Ops: /readyz, /metrics) answers, judged by the connection's own
	// address, never X-Forwarded-For; nil answers loopback only.
	OpsAllow []*net.IPNet
}

// Contact is how a reporter may reach the company: a web form, a phone
// number and the hours it is answered, each optional.
type Contact struct {
	URL, Phone, Hours, HoursJA string
}

// Server is the HTTP handler of the desk.
type Server struct {
	echo      *echo.Echo
	ops       *echo.Echo
	svc       *cases.Service
	log       *slog.Logger
	pages     *pages
	publicURL string
	// rp is the desk as a WebAuthn relying party, made once; rpErr says
	// why there is none (passkeys off, no domain name).
	rp      *webauthn.WebAuthn
	rpErr   error
	opts    Options
	metrics *metrics
	views   *mailViews  // the evidence viewer's renders
	oidc    *oidcClient // nil: no single sign-on
}

// Default rates of Options (a Rate is copied, never shared).
var (
	DefaultReportRate  = Rate{PerMinute: 20, Burst: 10}
	DefaultLoginRate   = Rate{PerMinute: 10, Burst: 5}
	DefaultGuardRate   = Rate{PerMinute: 6000, Burst: 600}
	DefaultSuggestRate = Rate{PerMinute: 60, Burst: 30}
)

// Defaults of Options; app's configuration asks these.
const (
	DefaultSessionTTL        = 12 * time.Hour
	DefaultMaxBatchBytes     = 512 << 20
	DefaultMailboxStaleAfter = 15 * time.Minute
)

// New builds the server: templates are parsed here, so a broken template
// fails the start, not a request.
func New(o Options) (*Server, error) {
	if o.Service == nil {
		return nil, errors.New("ui: Service is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := url.Parse(o.PublicURL); err != nil || o.PublicURL == "" {
		return nil, fmt.Errorf("ui: public URL %q: bad URL", o.PublicURL)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.ReportRate.PerMinute <= 0 {
		o.ReportRate = DefaultReportRate
	}
	if o.LoginRate.PerMinute <= 0 {
		o.LoginRate = DefaultLoginRate
	}
	if o.GuardRate.PerMinute <= 0 {
		o.GuardRate = DefaultGuardRate
	}
	if o.SuggestRate.PerMinute <= 0 {
		o.SuggestRate = DefaultSuggestRate
	}
	if o.MailboxStaleAfter <= 0 {
		o.MailboxStaleAfter = DefaultMailboxStaleAfter
	}
	switch {
	case o.EvidenceViewMaxBytes <= 0:
		o.EvidenceViewMaxBytes = DefaultEvidenceViewMaxBytes
	case o.EvidenceViewMaxBytes > MaxEvidenceViewMaxBytes:
		o.EvidenceViewMaxBytes = MaxEvidenceViewMaxBytes
	}
	if o.EvidenceMaxConcurrentViews <= 0 {
		o.EvidenceMaxConcurrentViews = DefaultEvidenceMaxConcurrentViews
	}
	if o.EvidenceViewWait <= 0 {
		o.EvidenceViewWait = DefaultEvidenceViewWait
	}
	if o.EvidenceViewCacheBytes <= 0 {
		o.EvidenceViewCacheBytes = defaultViewCacheBytes
	}
	if o.DefaultLang != langJA {
		o.DefaultLang = langEN
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	p, err := parsePages(o.Service.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		echo:      echo.New(),
		ops:       echo.New(),
		svc:       o.Service,
		log:       o.Logger,
		pages:     p,
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		opts:      o,
		views:     newMailViews(o.EvidenceMaxConcurrentViews, o.EvidenceViewWait, o.EvidenceViewCacheBytes),
	}
	s.rp, s.rpErr = newPasskeyRP(o.Service.PasskeysEnabled(), s.publicURL)
	if s.metrics, err = newMetrics(o.Registry, s.mailboxCollector(), s.webhookCollector(), s.deadlineCollector(), s.heldAckCollector()); err != nil {
		return nil, err
	}
	if o.OIDC != nil {
		s.oidc = newOIDCClient(*o.OIDC, s.publicURL, o.Logger)
		// What an admin registers at the provider, said once at start.
		o.Logger.Info("single sign-on through OpenID Connect", "provider", o.OIDC.Name, "issuer", o.OIDC.Issuer,
			"redirect_uri", s.oidc.redirect, "password_login", string(o.Service.SessionPolicy().PasswordLogin))
	}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.echo.IPExtractor = ipExtractor(o.TrustedProxies)
	s.ops.HideBanner = true
	s.ops.HidePort = true
	s.ops.HTTPErrorHandler = s.handleOpsError
	s.ops.IPExtractor = echo.ExtractIPDirect()
	s.routes()
	s.opsRoutes()
	return s, nil
}

// ServeHTTP makes Server an http.Handler: the public listener's.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Ops is the handler of the operations listener: /healthz, /readyz and
// /metrics, for the desk's own load balancer and monitoring. Metrics would
// tell a stranger whether a token is real (the exact-match counter rises)
// and name mailboxes, instances and queue depths, so they are never on the
// public listener; this handler answers only clients in OpsAllow.
func (s *Server) Ops() http.Handler { return s.ops }

// ipExtractor believes X-Forwarded-For only from trusted proxies.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	var opts []echo.TrustOption
	opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
