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

// TestOutboxAdminsOnly: the demo's outbox shows full addresses and
// private status links, so it is an admin's page, and only admins see its
// link.
func TestOutboxAdminsOnly(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	cfg := app.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.PublicURL = "https://" + srv.Listener.Addr().String()
	cfg.HTTP.LoginRate = app.RateConfig{PerMinute: 1e6, Burst: 1e6}
	cfg.Auth.SecondFactorRoles = nil // an admin signs in with a password at once
	mails := []ui.OutboxMail{{At: time.Now(), From: "desk@desk.example", To: []string{"reporter@private.example"},
		Raw: "To: reporter@private.example\r\n\r\nhttps://desk.example/s/secret", Subject: "ack", Text: "https://desk.example/s/secret"}}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), func(o *ui.Options) {
		o.Outbox = func() []ui.OutboxMail { return mails }
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
	d.addUser(t, "parcel-desk@desk.example", cases.RoleAgent, false)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "admin@desk.example", cases.RoleAdmin, true)

	for _, who := range []string{"parcel-desk@desk.example", "agent@desk.example", "lead@desk.example"} {
		b := d.login(t, who)
		r := b.get(t, "/demo/outbox")
		r.wantStatus(t, http.StatusForbidden)
		if strings.Contains(r.body, "reporter@private.example") || strings.Contains(r.body, "/s/secret") {
			t.Errorf("%s as %s shows the outbox's addresses or links", r.call, who)
		}
		if q := b.get(t, "/queue"); strings.Contains(q.body, `href="/demo/outbox"`) {
			t.Errorf("%s as %s links to the outbox", q.call, who)
		}
	}
	b := d.login(t, "admin@desk.example")
	r := b.get(t, "/demo/outbox")
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(r.body, "reporter@private.example") {
		t.Errorf("%s as the admin lacks the outbox's mail:\n%s", r.call, clip(r.body))
	}
	if q := b.get(t, "/queue"); !strings.Contains(q.body, `href="/demo/outbox"`) {
		t.Errorf("%s as the admin has no link to the outbox", q.call)
	}
}
