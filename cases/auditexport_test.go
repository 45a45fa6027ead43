package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// seedAudit writes n entries a second apart from the desk's clock on,
// alternating two actions, in one insert, and moves the clock past them.
func seedAudit(t *testing.T, d *testDesk, n int) []AuditEntry {
	t.Helper()
	start := d.clock.Now()
	es := make([]AuditEntry, n)
	for i := range es {
		action := AuditRevealAddress
		if i%2 == 1 {
			action = AuditDownloadAttachment
		}
		es[i] = AuditEntry{At: start.Add(time.Duration(i) * time.Second), Actor: fmt.Sprintf("user:staff%d@desk.example", i%3),
			Action: action, Subject: fmt.Sprintf("case:NM-%d", i), Args: Args{"n": fmt.Sprint(i)}}
	}
	if err := d.store.w.CreateInBatches(&es, 500).Error; err != nil {
		t.Fatalf("insert %d audit entries: %v", n, err)
	}
	d.clock.Advance(time.Duration(n)*time.Second + time.Minute)
	return es
}

func TestAuditSincePagesInIDOrder(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	es := seedAudit(t, d, 25)
	since := es[5].At // the sixth entry on

	var got []int64
	after := int64(0)
	for pages := 0; ; pages++ {
		page, err := d.AuditSince(ctx, leadActor(), since, after, 7)
		if err != nil {
			t.Fatalf("AuditSince(after %d) = %v", after, err)
		}
		if len(page) > 7 || pages > 10 {
			t.Fatalf("AuditSince(limit 7) gave %d entries on page %d", len(page), pages)
		}
		for _, e := range page {
			got = append(got, e.ID)
		}
		if len(page) < 7 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(got) != 20 {
		t.Fatalf("AuditSince paged %d entries since the sixth, want 20: %v", len(got), got)
	}
	for i, id := range got {
		if id != es[5+i].ID {
			t.Fatalf("entry %d of the pages has id %d, want %d (id order, nothing skipped): %v", i, id, es[5+i].ID, got)
		}
	}

	// Until, action and actor narrow it; newest first for the console.
	page, err := d.AuditPage(ctx, leadActor(), AuditFilter{Since: since, Until: es[15].At, Action: AuditRevealAddress})
	if err != nil || len(page) != 5 || page[0].ID != es[6].ID {
		t.Fatalf("AuditPage(reveals in [6th, 16th)) = %d entries starting %v, %v; want 5 from id %d", len(page), page, err, es[6].ID)
	}
	newest, err := d.AuditNewest(ctx, leadActor(), AuditFilter{Actor: "user:staff0@desk.example", BeforeID: es[24].ID, Limit: 2})
	if err != nil || len(newest) != 2 || newest[0].ID != es[21].ID || newest[1].ID != es[18].ID {
		t.Fatalf("AuditNewest(staff0, before the last, 2) = %v, %v; want ids %d, %d", newest, err, es[21].ID, es[18].ID)
	}
}

func TestAuditReadersAndBadFilters(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	seedAudit(t, d, 3)
	admin := Actor{User: &User{ID: 1, Email: "admin@desk.example", Role: RoleAdmin}}
	disabledLead := Actor{User: &User{ID: 3, Email: "gone@desk.example", Role: RoleLead, Disabled: true}}
	siem := Actor{APIKey: &APIKey{Name: "siem", Scopes: "audit:read"}}
	crm := Actor{APIKey: &APIKey{Name: "crm", Scopes: "cases:read cases:write"}}
	for _, tc := range []struct {
		name string
		a    Actor
		ok   bool
	}{
		{"admin", admin, true}, {"lead", leadActor(), true}, {"key with audit:read", siem, true},
		{"trained agent", agent(4, true), false}, {"disabled lead", disabledLead, false},
		{"key without audit:read", crm, false}, {"anonymous", Actor{}, false},
	} {
		_, err := d.AuditSince(ctx, tc.a, time.Time{}, 0, 10)
		if tc.ok && err != nil || !tc.ok && ErrorCode(err) != EFORBIDDEN {
			t.Errorf("AuditSince by %s = %v, want allowed %v", tc.name, err, tc.ok)
		}
		_, err = d.ExportAudit(ctx, tc.a, AuditFilter{}, func(AuditEntry) error { return nil })
		if tc.ok && err != nil || !tc.ok && ErrorCode(err) != EFORBIDDEN {
			t.Errorf("ExportAudit by %s = %v, want allowed %v", tc.name, err, tc.ok)
		}
	}
	now := d.clock.Now()
	for _, f := range []AuditFilter{{Limit: AuditPageMax + 1}, {AfterID: -1}, {Since: now, Until: now}, {Action: "drop_table"}} {
		if _, err := d.AuditPage(ctx, admin, f); ErrorCode(err) != EINVALID {
			t.Errorf("AuditPage(%+v) = %v, want invalid", f, err)
		}
	}
}

// A reader resuming after the last id it saw must not pass an entry whose
// transaction commits late: a settled page stops AuditSettle before now.
func TestAuditSettledLeavesTheNewest(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	es := seedAudit(t, d, 2)
	// Now is half a second past the first entry's settling; the second
	// was written a second after the first.
	d.clock.Advance(es[0].At.Add(AuditSettle + 500*time.Millisecond).Sub(d.clock.Now()))
	page, err := d.AuditPage(ctx, leadActor(), AuditFilter{Settled: true})
	if err != nil || len(page) != 1 || page[0].ID != es[0].ID {
		t.Fatalf("AuditPage(settled) = %v, %v; want only the entry older than %v", page, err, AuditSettle)
	}
	d.clock.Advance(AuditSettle)
	if page, err = d.AuditPage(ctx, leadActor(), AuditFilter{Settled: true, AfterID: es[0].ID}); err != nil || len(page) != 1 {
		t.Fatalf("AuditPage(settled, later) = %v, %v; want the second entry once settled", page, err)
	}
}

func TestExportAuditStreamsEveryPageAndIsAudited(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	es := seedAudit(t, d, AuditPageMax+3)
	var got []AuditJSON
	n, err := d.ExportAudit(ctx, leadActor(), AuditFilter{Since: es[1].At}, func(e AuditEntry) error {
		got = append(got, e.JSON())
		return nil
	})
	// The lead's export is recorded before it reads, so it is its own last line.
	if err != nil || n != AuditPageMax+3 || len(got) != n {
		t.Fatalf("ExportAudit = %d, %v; want %d entries (every page)", n, err, AuditPageMax+3)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("export line %d has id %d after %d; want id order", i, got[i].ID, got[i-1].ID)
		}
	}
	last := got[len(got)-1]
	if last.Action != AuditExported || last.Actor != "user:lead@desk.example.com" || last.Args["since"] != es[1].At.Format(time.RFC3339) || last.Args["how"] != "web" {
		t.Fatalf("last exported entry = %+v, want the lead's own export, since %s", last, es[1].At.Format(time.RFC3339))
	}

	// The SIEM form: stable names, RFC 3339 UTC, args always an object.
	b, err := json.Marshal(AuditEntry{ID: 7, At: time.Date(2026, 12, 1, 9, 30, 0, 0, time.FixedZone("JST", 9*3600)),
		Actor: "sso", Action: AuditSSORole, Subject: "user:a@b.example"}.JSON())
	want := `{"id":7,"at":"2026-12-01T00:30:00Z","actor":"sso","action":"sso_role_change","subject":"user:a@b.example","detail":"","args":{}}`
	if err != nil || string(b) != want {
		t.Errorf("AuditEntry.JSON() = %s, %v; want %s", b, err, want)
	}

	// The command line's export is recorded too, as the command line's.
	if _, err := d.ExportAuditCLI(ctx, AuditFilter{Since: d.clock.Now()}, func(AuditEntry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	log, err := d.AuditNewest(ctx, leadActor(), AuditFilter{Action: AuditExported})
	if err != nil || len(log) != 2 || log[0].Actor != ActorCLI || log[0].Args["how"] != "cli" {
		t.Fatalf("exports on record = %+v, %v; want the command line's, then the lead's", log, err)
	}
	// A key's reads are not: a SIEM's polling would fill the log.
	siem := Actor{APIKey: &APIKey{Name: "siem", Scopes: "audit:read"}}
	if _, err := d.ExportAudit(ctx, siem, AuditFilter{}, func(AuditEntry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.AuditNewest(ctx, leadActor(), AuditFilter{Action: AuditExported}); len(again) != 2 {
		t.Errorf("exports on record after a key's export = %d, want still 2", len(again))
	}
}
