package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// The retention worker purges at start and then at each tick of its
// interval, with the desk's clock moved by hand, and stops with its context.
func TestEvidencePurgerRounds(t *testing.T) {
	ctx := context.Background()
	svc, clock, cfg := clockedService(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	in, err := svc.IngestMail(ctx, []cases.InboundMail{{Raw: []byte("evidence"), Parsed: cases.ParsedMail{
		Class: cases.ClassUnrelated, MessageID: "<u1@example.org>", From: "z@example.org"}}})
	if err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}

	type round struct {
		n   int
		err error
	}
	rounds := make(chan round, 1)
	waits := make(chan time.Duration, 1)
	tick := make(chan time.Time)
	p := &evidencePurger{svc: svc, keep: cfg.Retention.Evidence.D(), every: cfg.Retention.Interval.D(), log: discardLogger(),
		after:  func(d time.Duration) <-chan time.Time { waits <- d; return tick },
		purged: func(n int, err error) { rounds <- round{n, err} }}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	if r := <-rounds; r.n != 0 || r.err != nil {
		t.Fatalf("round at start = %+v, want nothing purged", r)
	}
	if d := <-waits; d != 24*time.Hour {
		t.Fatalf("Run waits %v between rounds, want retention.interval 24h", d)
	}
	clock.Advance(91 * 24 * time.Hour)
	tick <- clock.Now()
	if r := <-rounds; r.n != 1 || r.err != nil {
		t.Fatalf("round after 91 days = %+v, want the one mail purged", r)
	}
	<-waits
	list, err := svc.MailList(ctx, cases.Actor{User: &cases.User{SecurityTrained: true}}, cases.MailFilter{})
	if err != nil || len(list) != 1 || list[0].ID != in[0].MailID || list[0].PurgedAt == nil {
		t.Fatalf("MailList() = %+v, %v; want the mail, purged", list, err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run() after cancel = %v, want nil", err)
	}
}

// A purged mail's bytes are gone from the database file, not merely
// unlinked: SQLite zeroes freed space (secure_delete).
func TestPurgedEvidenceLeavesNoBytesInTheFile(t *testing.T) {
	sqliteOnly(t, "secure_delete and the database file are SQLite's")
	ctx := context.Background()
	dir := t.TempDir()
	a := openTestApp(t, dir)
	defer a.Close()
	marker := "EVIDENCE-" + strings.Repeat("Z", 64) + "-hanako.yamada@example.net"
	raw := []byte("Subject: hi\r\n\r\n" + strings.Repeat(marker+"\r\n", 3))
	if _, err := a.Service.IngestMail(ctx, []cases.InboundMail{{Raw: raw, Parsed: cases.ParsedMail{
		Class: cases.ClassUnrelated, MessageID: "<u1@example.org>", From: "z@example.org"}}}); err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}
	checkpoint := func() {
		t.Helper()
		if err := a.DB.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
			t.Fatalf("wal_checkpoint = %v", err)
		}
	}
	inFiles := func() bool {
		t.Helper()
		for _, name := range []string{"notme.db", "notme.db-wal"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(marker)) {
				return true
			}
		}
		return false
	}
	checkpoint()
	if !inFiles() {
		t.Fatalf("the mail's bytes are not in the database before the purge; the test looks in the wrong place")
	}
	if n, err := a.Service.PurgeEvidence(ctx, time.Nanosecond, 0); err != nil || n != 1 {
		t.Fatalf("PurgeEvidence() = %d, %v; want 1", n, err)
	}
	checkpoint()
	if inFiles() {
		t.Errorf("after the purge and a checkpoint, the mail's bytes are still in the database file")
	}
}
