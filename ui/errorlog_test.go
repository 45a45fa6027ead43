package ui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"notme/app"
	"notme/cases"
	"notme/ui"
)

// records is a slog.Handler that hands every record to a channel, so a
// test can wait for a log line instead of sleeping.
type records chan slog.Record

func (records) Enabled(context.Context, slog.Level) bool { return true }
func (r records) Handle(_ context.Context, rec slog.Record) error {
	r <- rec.Clone()
	return nil
}
func (r records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r records) WithGroup(string) slog.Handler      { return r }

// TestServerErrorLoggedOnce: a request that fails with a 500 (here a
// panic in the page's handler) leaves one error line, the request's own,
// and that line carries the error.
func TestServerErrorLoggedOnce(t *testing.T) {
	logs := make(records, 1000)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	cfg := app.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.PublicURL = "https://" + srv.Listener.Addr().String()
	cfg.HTTP.LoginRate = app.RateConfig{PerMinute: 1e6, Burst: 1e6}
	cfg.Auth.SecondFactorRoles = nil // an admin signs in with a password at once
	a, err := app.Open(context.Background(), cfg, slog.New(logs), func(o *ui.Options) {
		o.Outbox = func() []ui.OutboxMail { panic("outbox broke") }
	})
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	srv.Config.Handler = a.Server
	srv.StartTLS()
	t.Cleanup(srv.Close)
	d := &desk{app: a, srv: srv, url: cfg.HTTP.PublicURL, cfg: cfg}
	d.addUser(t, "admin@desk.example", cases.RoleAdmin, true)
	b := d.login(t, "admin@desk.example")

	b.get(t, "/demo/outbox").wantStatus(t, http.StatusInternalServerError)

	var errorLines []string
	timeout := time.After(10 * time.Second)
	for {
		var rec slog.Record
		select {
		case rec = <-logs:
		case <-timeout:
			t.Fatalf("no request line for /demo/outbox within 10 s; error lines so far: %q", errorLines)
		}
		attrs := map[string]string{}
		rec.Attrs(func(at slog.Attr) bool {
			attrs[at.Key] = at.Value.String()
			return true
		})
		if rec.Level >= slog.LevelError {
			errorLines = append(errorLines, rec.Message+" "+attrs["route"]+" "+attrs["err"])
		}
		if rec.Message != "http request" || attrs["route"] != "/demo/outbox" {
			continue
		}
		if attrs["status"] != "500" || !strings.Contains(attrs["err"], "outbox broke") {
			t.Errorf("request line for GET /demo/outbox has status %q, err %q; want 500 and the panic", attrs["status"], attrs["err"])
		}
		break
	}
	if len(errorLines) != 1 {
		t.Errorf("GET /demo/outbox that panicked logged %d error lines, want 1: %q", len(errorLines), errorLines)
	}
}
