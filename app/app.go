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
	"notme/inbox"
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

// Open opens the database (migrating it), loads the token keys and builds
// the service and the web server.
// Option adjusts the web server's options; the demo adds its outbox.
type Option func(*ui.Options)

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
	keys := make([]cases.TokenKey, len(secrets))
	for i, s := range secrets {
		keys[i] = cases.TokenKey{ID: s.ID, Secret: s.Key}
	}
	sealer, err := cases.NewSealer(keys, nil)
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
	svc, err := cases.NewService(cases.Options{
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
		Triage: cases.TriageOptions{PerClientHour: cfg.Reports.TriageCasesPerClientHour,
			Burst: cfg.Reports.TriageBurst, BurstWindow: cfg.Reports.TriageBurstWindow.D()},
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	draining := new(atomic.Bool)
	var proxies []*net.IPNet
	for _, p := range cfg.HTTP.TrustedProxies {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("http.trusted_proxies: %w", err)
		}
		proxies = append(proxies, n)
	}
	uo := ui.Options{
		Service:        svc,
		Logger:         log,
		PublicURL:      cfg.PublicURL(),
		SecureCookies:  !cfg.HTTP.InsecureCookies,
		SessionTTL:     cfg.HTTP.SessionTTL.D(),
		TrustedProxies: proxies,
		ReportRate:     ui.Rate{PerMinute: cfg.HTTP.ReportRate.PerMinute, Burst: cfg.HTTP.ReportRate.Burst},
		LoginRate:      ui.Rate{PerMinute: cfg.HTTP.LoginRate.PerMinute, Burst: cfg.HTTP.LoginRate.Burst},
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
			return nil
		},
	}
	for _, o := range opts {
		o(&uo)
	}
	srv, err := ui.New(uo)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: db, Service: svc, Server: srv, instance: inbox.InstanceID(), draining: draining}
	a.Pipeline = newPipeline(cfg, a)
	return a, nil
}

// Instance names this process among the desk instances sharing the
// database: the holder shown for a mailbox lease.
func (a *App) Instance() string { return a.instance }

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Serve answers HTTP on ln until ctx is done, then stops taking new
// connections and lets requests in flight finish within the shutdown
// timeout.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           a.Server,
		ReadHeaderTimeout: a.Config.HTTP.ReadHeaderTimeout.D(),
		ReadTimeout:       a.Config.HTTP.ReadTimeout.D(),
		IdleTimeout:       a.Config.HTTP.IdleTimeout.D(),
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.HTTP.ShutdownTimeout.D())
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
