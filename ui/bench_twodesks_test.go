package ui_test

// The PostgreSQL benchmarks with two instances: two whole desks (app.Open
// + Run: each its own listener, workers and pool) on one copy of the
// template database, the load spread over both. In one process, as
// inbox's TestTwoDesksOnePostgres: on this 2-core machine the two desks,
// the clients and the server share the same cores whether in one process
// or three, so these show correctness under shared load and the database
// as the bound, not CPU scaling.
//
//	NOTME_TEST_POSTGRES=postgres://… go test -run XXX -bench TwoDesks -benchtime 5000x ./ui

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"notme/app"
	"notme/app/testdb"
)

// benchTwoDesks starts two desks on one fresh copy of the template and
// returns the first (for minting and counting) and both base URLs.
func benchTwoDesks(b *testing.B) (*app.App, []string) {
	b.Helper()
	if !testdb.Postgres() {
		b.Skipf("set %s to benchmark two desks on one PostgreSQL", testdb.Env)
	}
	dir, u := benchPostgresCopy(b)
	var first *app.App
	var bases []string
	for i := range 2 {
		cfg := app.Defaults()
		// Both need the same token key; data_dir itself is per instance.
		cfg.DataDir = b.TempDir()
		if err := copyFile(filepath.Join(dir, "token.key"), filepath.Join(cfg.DataDir, "token.key")); err != nil {
			b.Fatalf("copy token.key: %v", err)
		}
		cfg.Database.URL = app.Secret(u)
		cfg.HTTP.InsecureCookies = true
		// Each desk its own operations listener: the default port fits one.
		cfg.HTTP.OpsAddr = "127.0.0.1:0"
		cfg.HTTP.ReportRate = app.RateConfig{PerMinute: 1e9, Burst: 1e9}
		cfg.Log.Level = "error"
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatalf("net.Listen() = %v", err)
		}
		base := "http://" + ln.Addr().String()
		cfg.HTTP.PublicURL = base
		a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			ln.Close()
			b.Fatalf("app.Open(desk %d) = %v", i, err)
		}
		b.Cleanup(func() {
			if err := a.Close(); err != nil {
				b.Errorf("App.Close(desk %d) = %v", i, err)
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- a.Run(ctx, ln) }()
		b.Cleanup(func() {
			cancel()
			select {
			case err := <-ran:
				if err != nil {
					b.Errorf("Run(desk %d) = %v after cancel, want nil", i, err)
				}
			case <-time.After(60 * time.Second):
				b.Errorf("Run(desk %d) did not return within 60s of cancel", i)
			}
		})
		if first == nil {
			first = a
		}
		bases = append(bases, base)
	}
	return first, bases
}

// BenchmarkLedgerBatchTwoDesks is BenchmarkLedgerBatch with one client per
// desk, each posting the next op's batch; every row must land once.
func BenchmarkLedgerBatchTwoDesks(b *testing.B) {
	a, bases := benchTwoDesks(b)
	benchLedgerBatch(b, a, bases)
	db, err := sql.Open("pgx", string(a.Config.Database.URL))
	if err != nil {
		b.Fatalf("open the database: %v", err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ledger_messages`).Scan(&rows); err != nil {
		b.Fatalf("count ledger_messages: %v", err)
	}
	if want := benchLedgerSize() + b.N*benchBatchRows; rows != want {
		b.Fatalf("%d batches through two desks left %d ledger rows, want %d", b.N, rows, want)
	}
}

// BenchmarkLinkPostTwoDesks is BenchmarkLinkPost with the requests of every
// client alternating between the two desks (1 and 8 clients in total);
// the CSRF cookie comes from the first and is good on both.
func BenchmarkLinkPostTwoDesks(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			a, bases := benchTwoDesks(b)
			benchLinkPostOn(b, clients, a, bases)
		})
	}
}
