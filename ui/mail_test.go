package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"notme/app"
	"notme/cases"
)

// TestMailPageAndHealth: staff see mail that did not become a report with
// its reason, can open a case from it, and see each mailbox's health on
// the console, /readyz, /metrics (on the operations listener) and, when stale, on the leads' dashboard.
func TestMailPageAndHealth(t *testing.T) {
	d := newDesk(t, func(c *app.Config) {})
	ctx := context.Background()
	svc := d.app.Service
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)

	got, err := svc.IngestMail(ctx, []cases.InboundMail{
		{Raw: []byte("x"), Parsed: cases.ParsedMail{Class: cases.ClassAutoReply, From: "ooo@example.org", Subject: "Out of office", Auto: "auto-submitted: auto-replied"}},
		{Raw: []byte("y"), Parsed: cases.ParsedMail{Class: cases.ClassUnrelated, From: "who@example.org", Subject: "Hello there"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordMailboxRound(ctx, "reports", cases.MailboxRound{UIDValidity: 1, LastUID: 9, Waiting: 3}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordMailboxRound(ctx, "broken", cases.MailboxRound{Err: errors.New("LOGIN failed: authentication failed")}); err != nil {
		t.Fatal(err)
	}

	d.browser(t).get(t, "/mail").wantStatus(t, http.StatusSeeOther)
	d.login(t, "parcel@desk.example").get(t, "/mail").wantStatus(t, http.StatusForbidden)

	agent := d.login(t, "agent@desk.example")
	r := agent.get(t, "/mail")
	r.wantStatus(t, http.StatusOK)
	for _, want := range []string{"Out of office", "auto-reply", "Hello there", "unrelated", "reports", "LOGIN failed", "never"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("%s lacks %q", r.call, want)
		}
	}
	r = agent.get(t, "/mail?reason=unrelated")
	if strings.Contains(r.body, "Out of office") || !strings.Contains(r.body, "Hello there") {
		t.Errorf("%s does not filter by reason", r.call)
	}

	// Open a case from the unrelated mail.
	path := "/mail/" + itoa(got[1].MailID) + "/case"
	r = agent.post(t, path, url.Values{"_csrf": {agent.csrf(t, "/mail")}})
	r.wantStatus(t, http.StatusSeeOther)
	if !strings.HasPrefix(r.location(), "/cases/NM-") {
		t.Fatalf("%s: Location = %q, want the new case", r.call, r.location())
	}
	if c := agent.get(t, r.location()); !strings.Contains(c.body, "w***@example.org") || strings.Contains(c.body, "who@example.org") || !strings.Contains(c.body, "Opened by hand") {
		t.Errorf("%s does not show the mail (its sender masked) and the reason it was opened", c.call)
	}
	if r := agent.get(t, "/mail"); strings.Contains(r.body, "Hello there") {
		t.Errorf("%s still lists the mail that became a case", r.call)
	}

	_, held, err := svc.TakeMailboxLease(ctx, "reports", "desk-1/42/ab", time.Hour)
	if err != nil || !held {
		t.Fatalf("TakeMailboxLease() = %v, %v; want held", held, err)
	}
	r = d.opsGet(t, "/readyz")
	if r.status != http.StatusOK || !strings.Contains(r.body, "mailbox reports: ok") || !strings.Contains(r.body, "3 waiting; polled by instance desk-1/42/ab") ||
		!strings.Contains(r.body, "mailbox broken: ") || !strings.Contains(r.body, "polled by no instance") {
		t.Errorf("%s = %d %q; want ready with each mailbox's health and who polls it", r.call, r.status, r.body)
	}
	r = d.opsGet(t, "/metrics")
	for _, want := range []string{`notme_mailbox_up{mailbox="reports"} 1`, `notme_mailbox_up{mailbox="broken"} 0`, `notme_mailbox_waiting{mailbox="reports"} 3`,
		`notme_mailbox_lease_until_timestamp_seconds{instance="desk-1/42/ab",mailbox="reports"} `} {
		if !strings.Contains(r.body, want) {
			t.Errorf("%s lacks %s", r.call, want)
		}
	}
}

// TestStaleMailboxAlertsLeads: a mailbox with no successful fetch for
// longer than mail.stale_after is shown to leads; a fresh failure is not.
func TestStaleMailboxAlertsLeads(t *testing.T) {
	for _, tc := range []struct {
		staleAfter time.Duration
		alert      bool
	}{
		{15 * time.Minute, false},
		{time.Microsecond, true}, // any request comes later than that
	} {
		d := newDesk(t, func(c *app.Config) { c.Mail.StaleAfter = app.Duration(tc.staleAfter) })
		d.addUser(t, "lead@desk.example", cases.RoleLead, true)
		lead := d.login(t, "lead@desk.example")
		if r := lead.get(t, "/leads"); strings.Contains(r.body, "Mailboxes not read") {
			t.Fatalf("%s alerts with no mailbox at all", r.call)
		}
		if err := d.app.Service.RecordMailboxRound(context.Background(), "reports", cases.MailboxRound{Err: errors.New("connection refused")}); err != nil {
			t.Fatal(err)
		}
		r := lead.get(t, "/leads")
		if got := strings.Contains(r.body, "Mailboxes not read") && strings.Contains(r.body, "connection refused"); got != tc.alert {
			t.Errorf("stale_after %v: %s alerts = %v, want %v", tc.staleAfter, r.call, got, tc.alert)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
