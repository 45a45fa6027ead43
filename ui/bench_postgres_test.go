package ui_test

// The benchmarks of bench_test.go on PostgreSQL: with NOTME_TEST_POSTGRES
// set, BenchmarkLedgerBatch and BenchmarkLinkPost run on a copy of a
// PostgreSQL template database holding the same generated ledger (written
// with COPY, then VACUUM ANALYZE), and BenchmarkRawPostgresBatch is the
// baseline beside them. NOTME_BENCH_LEDGER_ROWS makes the ledger smaller
// or larger (default benchLedgerRows). Each run gets a fresh database made
// from the template (CREATE DATABASE … TEMPLATE, a file copy); the
// template is dropped by the next benchmark process, as the SQLite one is.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"notme/app"
	"notme/app/testdb"
)

var (
	benchPGOnce sync.Once
	benchPGName string // template database
	benchPGDir  string // its data dir: token.key
	benchPGErr  error
	benchPGRuns int
)

// benchLedgerSize is the pre-filled ledger's size on PostgreSQL.
func benchLedgerSize() int {
	if n, err := strconv.Atoi(os.Getenv("NOTME_BENCH_LEDGER_ROWS")); err == nil && n > 0 {
		return n
	}
	return benchLedgerRows
}

// benchPGURL is the cluster's base URL with the database name replaced.
func benchPGURL(name string) string {
	u, _ := url.Parse(os.Getenv(testdb.Env))
	u.Path = "/" + name
	return u.String()
}

func benchPGAdmin(f func(db *sql.DB) error) error {
	db, err := sql.Open("pgx", os.Getenv(testdb.Env))
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db)
}

// benchPostgresTemplate builds the template database once per process.
func benchPostgresTemplate(b *testing.B) (name, dir string) {
	b.Helper()
	benchPGOnce.Do(func() {
		sweepBenchTemplates()
		sweepBenchPostgres()
		benchPGName = fmt.Sprintf("notme_bench_%d", os.Getpid())
		benchPGDir, benchPGErr = os.MkdirTemp("", fmt.Sprintf("notme-bench-%d-pg-", os.Getpid()))
		if benchPGErr != nil {
			return
		}
		start := time.Now()
		var info string
		info, benchPGErr = buildBenchPostgres(benchPGName, benchPGDir, benchLedgerSize())
		b.Logf("pre-filled a PostgreSQL ledger of %d messages in %v; %s", benchLedgerSize(), time.Since(start).Round(time.Millisecond), info)
	})
	if benchPGErr != nil {
		b.Fatalf("build the PostgreSQL template: %v", benchPGErr)
	}
	return benchPGName, benchPGDir
}

// sweepBenchPostgres drops the template databases of benchmark processes
// that have ended.
func sweepBenchPostgres() {
	_ = benchPGAdmin(func(db *sql.DB) error {
		rows, err := db.Query(`SELECT datname FROM pg_database WHERE datname LIKE 'notme\_bench\_%'`)
		if err != nil {
			return err
		}
		var stale []string
		for rows.Next() {
			var name string
			if rows.Scan(&name) != nil {
				continue
			}
			pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, "notme_bench_"), "_", 2)[0])
			if err == nil && pid != os.Getpid() && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
				stale = append(stale, name)
			}
		}
		rows.Close()
		for _, name := range stale {
			db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		}
		return nil
	})
}

func buildBenchPostgres(name, dir string, n int) (string, error) {
	ctx := context.Background()
	if err := benchPGAdmin(func(db *sql.DB) error {
		_, err := db.Exec(`CREATE DATABASE ` + name)
		return err
	}); err != nil {
		return "", fmt.Errorf("create the template database: %w", err)
	}
	cfg := app.Defaults()
	cfg.DataDir = dir
	cfg.Database.URL = app.Secret(benchPGURL(name))
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler)) // migrates, makes the token key
	if err != nil {
		return "", err
	}
	if err := a.Close(); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, benchPGURL(name))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	now := time.Now().UTC()
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"ledger_messages"},
		[]string{"message_id", "account_ref", "recipient", "kind", "subject", "sent_at", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			args := appendRowArgs(make([]any, 0, 7), benchRowAt("p", i), now)
			i++
			return args, nil
		}))
	if err != nil {
		return "", fmt.Errorf("COPY the ledger: %w", err)
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return "", err
	}
	var total, heap int64
	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('ledger_messages'), pg_table_size('ledger_messages')`).
		Scan(&total, &heap); err != nil {
		return "", err
	}
	return fmt.Sprintf("ledger_messages %d MB (table %d MB, indexes %d MB): %d bytes a row with its indexes",
		total>>20, heap>>20, (total-heap)>>20, total/int64(max(n, 1))), nil
}

// benchPostgresCopy makes a database from the template for one run and
// returns its data dir (holding the token key) and URL.
func benchPostgresCopy(b *testing.B) (string, string) {
	b.Helper()
	tmpl, tmplDir := benchPostgresTemplate(b)
	benchPGRuns++
	name := fmt.Sprintf("%s_run%d", tmpl, benchPGRuns)
	err := benchPGAdmin(func(db *sql.DB) error {
		_, err := db.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + tmpl + ` STRATEGY FILE_COPY`)
		return err
	})
	if err != nil {
		b.Fatalf("CREATE DATABASE %s TEMPLATE %s = %v", name, tmpl, err)
	}
	b.Cleanup(func() {
		if err := benchPGAdmin(func(db *sql.DB) error {
			_, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			return err
		}); err != nil {
			b.Errorf("DROP DATABASE %s = %v", name, err)
		}
	})
	dir := b.TempDir()
	if err := copyFile(filepath.Join(tmplDir, "token.key"), filepath.Join(dir, "token.key")); err != nil {
		b.Fatalf("copy token.key: %v", err)
	}
	// A checkpoint now, so that the run does not pay for writing back the copy.
	if err := benchPGAdmin(func(db *sql.DB) error { _, err := db.Exec(`CHECKPOINT`); return err }); err != nil {
		b.Fatalf("CHECKPOINT = %v", err)
	}
	return dir, benchPGURL(name)
}

// BenchmarkRawPostgresBatch is the PostgreSQL baseline: the same rows as
// BenchmarkLedgerBatch, inserted with database/sql (pgx) and a prepared
// multi-row INSERT, benchRawTxRows rows per transaction, on a copy of the
// same ledger.
func BenchmarkRawPostgresBatch(b *testing.B) {
	if !testdb.Postgres() {
		b.Skip("set NOTME_TEST_POSTGRES to benchmark PostgreSQL")
	}
	_, u := benchPostgresCopy(b)
	db, err := sql.Open("pgx", u)
	if err != nil {
		b.Fatalf("sql.Open() = %v", err)
	}
	defer db.Close()
	rawBatch(b, db, dollarPlaceholders(rawInsertSQL(benchRawTxRows)))
}

// benchCounts counts the reports and cases in the desk's database.
func benchCounts(b *testing.B, a *app.App) (reports, opened int) {
	b.Helper()
	driver, dsn := "sqlite3", "file:"+filepath.Join(a.Config.DataDir, "notme.db")+"?mode=ro"
	if testdb.Postgres() {
		driver, dsn = "pgx", string(a.Config.Database.URL)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatalf("open the database: %v", err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT (SELECT COUNT(*) FROM reports), (SELECT COUNT(*) FROM cases)").Scan(&reports, &opened); err != nil {
		b.Fatalf("count reports and cases: %v", err)
	}
	return reports, opened
}
