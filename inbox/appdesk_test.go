package inbox_test

import (
	"context"
	"log/slog"
	"testing"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
)

// ackDeskFrom is the desk's own address in these tests.
const ackDeskFrom = "notme@desk.example.com"

// ackDesk is the whole desk on a temporary database of the test's own
// (SQLite, or PostgreSQL with NOTME_TEST_POSTGRES), with a reader of its
// cases.
type ackDesk struct {
	*app.App
	reader cases.Actor
}

func openAckDesk(t *testing.T) *ackDesk {
	t.Helper()
	ctx := context.Background()
	cfg := app.Defaults()
	cfg.DataDir = t.TempDir()
	if testdb.Postgres() {
		cfg.Database.URL = app.Secret(testdb.NewPostgres(t))
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("app.Open = %v", err)
	}
	t.Cleanup(func() { a.Close() })
	_, key, err := a.Service.AddAPIKey(ctx, "inbox tests", []cases.Scope{cases.ScopeCasesRead})
	if err != nil {
		t.Fatalf("AddAPIKey = %v", err)
	}
	return &ackDesk{App: a, reader: cases.Actor{APIKey: &key}}
}

func (d *ackDesk) ingest(t *testing.T, mails ...cases.InboundMail) []cases.Ingested {
	t.Helper()
	got, err := d.Service.IngestMail(context.Background(), mails)
	if err != nil {
		t.Fatalf("IngestMail(%d mails) = %v", len(mails), err)
	}
	return got
}
