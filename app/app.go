// Package app wires the desk together: configuration, the database, the
// domain service, the web server, background work and the demo. The
// command line lives here too, so that cmd/notme stays a few lines.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"notme/cases"
	"notme/cases/sealed"
	"notme/inbox"
	"notme/internal/loopback"
	"notme/ui"
)

// App is one running desk: its configuration, storage, domain and web face.
type App struct {
	Config   Config
	Log      *slog.Logger
	DB       *Database
	Service  *cases.Service
	Server   *ui.Server
	Pipeline *inbox.Pipeline
	// instance names this process among the desks sharing the database
	// (the holder of a mailbox lease).
	instance string
	// draining is set on shutdown while http.drain runs: /readyz fails so
	// the load balancer moves clicks elsewhere, and they are still served.
	draining *atomic.Bool
	// opsLn is the operations listener once ListenOps has bound it.
	opsLn net.Listener
}

// NewLogger returns the desk's logger as configured.
func NewLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Option adjusts the web server's options; the demo adds its outbox.
type Option func(*ui.Options)

// Open opens the database (migrating it), loads the token keys and builds
// the service and the web server.
func Open(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (*App, error) {
	// At every start, the demo's too: a desk whose browsers drop its
	// cookies fails every form.
	if w := cookieWarning(cfg); w != "" {
		log.Warn(w, "public_url", cfg.PublicURL())
	}
	secrets, err := cfg.TokenSecrets()
	if err != nil {
		return nil, err
	}
	keys := make([]sealed.Key, len(secrets))
	for i, s := range secrets {
		keys[i] = sealed.Key{ID: s.ID, Secret: s.Key}
	}
	sealer, err := sealed.NewSealer(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("token keys: %w", err)
	}
	db, err := OpenDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	var now func() time.Time
	if db.Clock != nil {
		now = db.Clock.Now
	}
	instance := cases.NewInstanceID()
	// A nil interface when the check is off, never a nil *Checker in one.
	var mailServers cases.MailServers
	if cfg.Guard.MXCheck {
		mx, err := cfg.mxChecker()
		if err != nil {
			db.Close()
			return nil, err
		}
		mailServers = mx
	}
	svc, err := cases.NewService(cases.Options{
		Instance:             instance,
		Now:                  now,
		Store:                db.Store,
		Sealer:               sealer,
		Kinds:                cfg.kinds(),
		ContainBy:            cfg.containBy(),
		PublicURL:            cfg.PublicURL(),
		MessageIDDomain:      cfg.MessageIDDomain(),
		NoteMaxChars:         cfg.Reports.NoteMaxChars,
		ReopenWindow:         cfg.Reports.ReopenWindow.D(),
		NoTakeoverEscalation: !cfg.Escalation.PossibleTakeover,
		Acks:                 cases.AckOptions{Window: cfg.Mail.AckWindow.D(), DomainPerHour: cfg.Mail.AckDomainPerHour},
		Webhooks:             cfg.webhookOptions(),
		Logger:               log,
		SLA:                  cfg.slaOptions(),
		Escalation:           cfg.escalationRules(),
		LoginThrottle: cases.LoginThrottle{FailuresBeforeDelay: cfg.Auth.LoginFailuresBeforeDelay,
			FirstDelay: cfg.Auth.LoginFirstDelay.D(), MaxDelay: cfg.Auth.LoginMaxDelay.D()},
		Triage: cases.TriageOptions{PerClientHour: cfg.Reports.TriageCasesPerClientHour,
			Burst: cfg.Reports.TriageBurst, BurstWindow: cfg.Reports.TriageBurstWindow.D()},
		Sessions:    cfg.sessionPolicy(),
		MailServers: mailServers,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	draining := new(atomic.Bool)
	var opsAllow []*net.IPNet
	for _, p := range cfg.HTTP.OpsAllow {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("http.ops_allow: %w", err)
		}
		opsAllow = append(opsAllow, n)
	}
	var proxies []*net.IPNet
	for _, p := range cfg.HTTP.TrustedProxies {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("http.trusted_proxies: %w", err)
		}
		proxies = append(proxies, n)
	}
	// One probe write per 2 s at most, however often /readyz is scraped.
	writes := cases.NewWriteCheck(db.Store, 2*time.Second, 3*time.Second)
	uo := ui.Options{
		Service:        svc,
		Logger:         log,
		PublicURL:      cfg.PublicURL(),
		SecureCookies:  !cfg.HTTP.InsecureCookies,
		SessionTTL:     cfg.HTTP.SessionTTL.D(),
		TrustedProxies: proxies,
		OpsAllow:       opsAllow,
		ReportRate:     ui.Rate{PerMinute: cfg.HTTP.ReportRate.PerMinute, Burst: cfg.HTTP.ReportRate.Burst},
		LoginRate:      ui.Rate{PerMinute: cfg.HTTP.LoginRate.PerMinute, Burst: cfg.HTTP.LoginRate.Burst},
		GuardRate:      ui.Rate(cfg.Guard.Rate),
		SuggestRate:    ui.Rate(cfg.Guard.SuggestRate),
		SuggestOrigins: cfg.Guard.SuggestOrigins,
		// One SQLite file has one desk process; PostgreSQL may have several.
		SharedRateLimits:  db.Driver == "postgres",
		MaxBatchBytes:     cfg.HTTP.MaxBatchBytes,
		DefaultLang:       cfg.HTTP.DefaultLanguage,
		ScanMail:          reportScanner(parserOptions(cfg)),
		MailboxStaleAfter: cfg.Mail.StaleAfter.D(),
		ViewMail:          viewMail(parserOptions(cfg)),
		Company:           cfg.Desk.Company,
		CompanyJA:         cfg.Desk.CompanyJA,
		ReportAddress:     cfg.Mail.ReportAddress,
		Contact: ui.Contact{URL: cfg.Desk.Contact.URL, Phone: cfg.Desk.Contact.Phone,
			Hours: cfg.Desk.Contact.Hours, HoursJA: cfg.Desk.Contact.HoursJA},
		SameBrowserWindow: cfg.Reports.SameBrowserWindow.D(),
		Ready: func(r *http.Request) error {
			if draining.Load() {
				return errors.New("draining: this instance is shutting down")
			}
			if err := svc.Ping(r.Context()); err != nil {
				return err
			}
			ok, err := db.Store.SchemaCurrent(r.Context())
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("schema is not current")
			}
			// Reachable is not enough: with the disk full every filing
			// fails, so the load balancer should send clicks elsewhere.
			if err := writes.Err(r.Context()); err != nil {
				return fmt.Errorf("the database takes no writes: %w", err)
			}
			return nil
		},
	}
	uo.EvidenceViewMaxBytes, uo.EvidenceMaxConcurrentViews, uo.EvidenceViewWait =
		cfg.Evidence.ViewMaxBytes, cfg.Evidence.MaxConcurrentViews, cfg.Evidence.ViewWait.D()
	if cfg.Auth.OIDC.Enabled() {
		o := cfg.uiOIDC()
		uo.OIDC = &o
	}
	for _, o := range opts {
		o(&uo)
	}
	srv, err := ui.New(uo)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: db, Service: svc, Server: srv, instance: instance, draining: draining}
	a.Pipeline = newPipeline(cfg, a)
	return a, nil
}

// Instance names this process among the desk instances sharing the
// database: the holder shown for a mailbox lease.
func (a *App) Instance() string { return a.instance }

// Close releases the database, and the operations listener if it was
// bound but never served.
func (a *App) Close() error {
	if a.opsLn != nil {
		_ = a.opsLn.Close() // already closed once served
	}
	return a.DB.Close()
}

// ListenOps binds the operations listener on http.ops_addr ("" binds
// none); Serve and Run then serve /readyz and /metrics on it. Binding
// before serving lets the caller read OpsAddr, and a port taken fails the
// start rather than the first scrape.
func (a *App) ListenOps() error {
	if a.opsLn != nil || a.Config.HTTP.OpsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.Config.HTTP.OpsAddr)
	if err != nil {
		return fmt.Errorf("http.ops_addr: listen on %s: %w", a.Config.HTTP.OpsAddr, err)
	}
	a.opsLn = ln
	if len(a.Config.HTTP.OpsAllow) == 0 && !loopback.HostPort(ln.Addr().String()) {
		a.Log.Warn("the operations listener is reachable from other hosts but answers loopback clients only: "+
			"name the load balancer's and monitoring's networks in http.ops_allow", "ops_addr", ln.Addr().String())
	}
	return nil
}

// OpsAddr is the bound address of the operations listener, "" when there
// is none (http.ops_addr empty, or ListenOps not called yet).
func (a *App) OpsAddr() string {
	if a.opsLn == nil {
		return ""
	}
	return a.opsLn.Addr().String()
}

// Serve answers HTTP on ln, and on the operations listener (bound here
// unless ListenOps did already), until ctx is done; then both stop taking
// new connections and let requests in flight finish within the shutdown
// timeout.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if err := a.ListenOps(); err != nil {
		ln.Close()
		return err
	}
	servers := []*http.Server{a.httpServer(a.Server)}
	lns := []net.Listener{ln}
	if a.opsLn != nil {
		// The same timeouts: a slow client of the operations listener
		// costs a connection for the same bounded time.
		servers = append(servers, a.httpServer(a.Server.Ops()))
		lns = append(lns, a.opsLn)
	}
	errc := make(chan error, len(servers))
	for i, hs := range servers {
		go func() { errc <- hs.Serve(lns[i]) }()
	}
	running := len(servers)
	var failed error
	select {
	case err := <-errc:
		running--
		failed = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		a.Log.Info("shutting down: finishing requests in flight")
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.HTTP.ShutdownTimeout.D())
	defer cancel()
	var errs []error
	for _, hs := range servers {
		if err := hs.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("graceful shutdown: %w", err))
		}
	}
	for range running {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if failed != nil {
		return failed
	}
	return errors.Join(errs...)
}

// httpServer serves h with the configured timeouts.
func (a *App) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: a.Config.HTTP.ReadHeaderTimeout.D(),
		ReadTimeout:       a.Config.HTTP.ReadTimeout.D(),
		IdleTimeout:       a.Config.HTTP.IdleTimeout.D(),
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
}

func (c Config) kinds() []cases.Kind {
	var out []cases.Kind
	for _, name := range sortedKeys(c.Kinds) {
		k := c.Kinds[name]
		label := k.Label
		if label == "" {
			label = name
		}
		out = append(out, cases.Kind{Name: name, Label: label, LabelJA: k.LabelJA, Severity: cases.Severity(k.Severity),
			Credential: k.Credential, PersonalData: k.PersonalData, Actions: k.Actions})
	}
	return out
}

func (c Config) containBy() map[cases.Severity]time.Duration {
	out := map[cases.Severity]time.Duration{}
	for sev, d := range c.SLA.ContainBy {
		out[cases.Severity(strings.ToLower(sev))] = d.D()
	}
	return out
}
